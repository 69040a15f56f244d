from django.urls import path, re_path

from .errors import not_found
from .main import api


def _without_login_redirect(patterns):
    """The API answers unauthenticated calls itself with a JSON 401, so the
    site-wide LoginRequiredMiddleware must not redirect them to the login page."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            _without_login_redirect(pattern.url_patterns)
        else:
            pattern.callback.login_required = False
    return patterns


urlpatterns = [
    path("", api.urls),
    # Last: a URL no operation matches (a referral id that is not a number).
    re_path(r"", not_found),
]
_without_login_redirect(urlpatterns)
