import re

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import add_never_cache_headers

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


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response that may carry personal
    data, so no browser or proxy keeps a copy: everything answered to a
    signed-in person (pages, API, downloads), to a machine client sending an
    API key, to any write, and the public pages listed in
    settings.NO_STORE_PATHS (a resident's tracking page). Static files never
    get here (WhiteNoise answers them first) and the public board, map and
    form stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.paths = [re.compile(pattern) for pattern in getattr(settings, "NO_STORE_PATHS", [])]

    def __call__(self, request):
        response = self.get_response(request)
        if self._private(request):
            add_never_cache_headers(response)
        return response

    def _private(self, request) -> bool:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            return True
        if "HTTP_X_API_KEY" in request.META or "api_key" in request.GET:
            return True
        if any(pattern.match(request.path_info) for pattern in self.paths):
            return True
        # Without a session cookie nobody is signed in; not reading the
        # session then keeps anonymous pages free of `Vary: Cookie`.
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return False
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated)
