from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from . import two_factor

# Pages a signed-in person who still has to set up two-factor login may open.
ALLOWED = {
    "accounts:login",
    "accounts:login_code",
    "accounts:logout",
    "accounts:two_factor_setup",
    "set_language",
}


class TwoFactorRequiredMiddleware:
    """Where two-factor login is required of a user (accounts.two_factor), a
    session opened without it reaches nothing but the setup page: without a
    device, every page sends them to set one up; with one, the session (opened
    before the rule) is closed and they log in again with their code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED:
            return None
        is_api = request.path.startswith("/api/")
        if not getattr(view_func, "login_required", True) and not is_api:
            return None  # public pages: the account plays no part there
        if user.is_verified() or not two_factor.is_required(user):
            return None
        if is_api:
            return JsonResponse(
                {
                    "code": "two_factor_required",
                    "message": _("Set up two-factor login on the website first."),
                    "field": None,
                },
                status=403,
            )
        if two_factor.is_enabled(user):
            logout(request)
            return redirect_to_login(request.get_full_path())
        return redirect("accounts:two_factor_setup")
