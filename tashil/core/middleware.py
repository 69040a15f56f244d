from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

# Programs calling these say which language they want in Accept-Language.
_API_PREFIXES = ("/api/", "/open311/")


class PersianFirstLocaleMiddleware(LocaleMiddleware):
    """Pages are Persian unless the person chose English with the language
    switch (its cookie). A browser's Accept-Language is not that choice:
    many staff use phones and office PCs set to English, and the system is
    Persian first. API clients do choose with Accept-Language."""

    def process_request(self, request):
        if request.path_info.startswith(_API_PREFIXES):
            return super().process_request(request)
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
