import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from tashil.core.editing import save_form

from . import permissions, two_factor
from .forms import (
    CodeForm,
    ProvinceSecurityForm,
    SetupConfirmForm,
    ThrottledAuthenticationForm,
    TwoFactorLoginForm,
)
from .models import ProvinceSecurity, Role
from .scopes import scope_of

PENDING = "tashil_2fa_pending"
SETUP_SECRET = "tashil_2fa_secret"


def home(request):
    """Send each user to the page their work starts from."""
    scope = scope_of(request.user)
    if scope.has(Role.PROVINCE_MANAGER, Role.ANALYST):
        return redirect("offices:network")
    if scope.office_ids:
        # Office staff start from their demands; the office page is one click away.
        return redirect("demands:list")
    if scope.agency_ids:
        # A liaison's work is the referrals sent to their agency.
        return redirect("demands:referrals")
    return render(request, "accounts/no_role.html", status=403)


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    """The password step. An account with two-factor login goes on to the
    code step; only after it is the session signed in."""

    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.is_enabled(user):
            return super().form_valid(form)
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_redirect_url(),
        }
        return redirect("accounts:login_code")


def _pending_user(request):
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None, None
    if time.time() - pending.get("at", 0) > settings.TWO_FACTOR_PENDING_SECONDS:
        del request.session[PENDING]
        return None, None
    user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
    return user, pending


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request):
    """The code step: six digits from the app, or a recovery code."""
    user, pending = _pending_user(request)
    if user is None:
        messages.info(request, _("Log in again: the time for the code ran out."))
        return redirect("accounts:login")
    form = TwoFactorLoginForm(request.POST or None, user=user, request=request)
    if request.method == "POST" and form.is_valid():
        user.backend = pending["backend"]
        next_url = pending.get("next") or ""
        del request.session[PENDING]
        auth_login(request, user)
        otp_login(request, form.device)
        if isinstance(form.device, StaticDevice):
            left = two_factor.recovery_codes_left(user)
            messages.warning(
                request,
                _("You used a recovery code; %(count)s are left.") % {"count": left},
            )
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = ""
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/login_code.html", {"form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


# --- Two-factor login: one's own account only ------------------------------------------------


@never_cache
def two_factor_status(request):
    user = request.user
    context = {
        "enabled": two_factor.is_enabled(user),
        "required": two_factor.is_required(user),
        "codes_left": two_factor.recovery_codes_left(user),
    }
    return render(request, "accounts/two_factor.html", context)


def _show_codes(request, codes):
    response = render(request, "accounts/recovery_codes.html", {"codes": codes})
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Show a new key (QR code and text), confirm it with a code, then show
    the recovery codes once. The key lives in the session until confirmed."""
    user = request.user
    if two_factor.is_enabled(user):
        return redirect("accounts:two_factor")
    secret = request.session.get(SETUP_SECRET)
    if not secret or request.method == "GET" and "new" in request.GET:
        secret = request.session[SETUP_SECRET] = two_factor.new_secret()
    form = SetupConfirmForm(request.POST or None)

    def success(codes):
        del request.session[SETUP_SECRET]
        otp_login(request, two_factor.totp_device(user))
        messages.success(request, _("Two-factor login is on."))
        return _show_codes(request, codes)

    def page(edit):
        uri = two_factor.provisioning_uri(user, secret)
        context = {
            "form": edit.form,
            # SVG made by the qrcode library from the key alone: no user text in it.
            "qr_svg": mark_safe(two_factor.qr_svg(uri)),  # noqa: S308
            "secret": two_factor.secret_for_humans(secret),
            "required": two_factor.is_required(user),
        }
        return render(request, "accounts/two_factor_setup.html", context)

    return save_form(
        request,
        form,
        lambda data: two_factor.two_factor_enable(
            user=user, acting_user=user, secret=secret, code=data["code"]
        ),
        success=success,
        page=page,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """Replace the recovery codes with ten new ones (the old ones stop working)."""
    if not two_factor.is_enabled(request.user):
        return redirect("accounts:two_factor")
    if request.method == "POST":
        codes = two_factor.recovery_codes_regenerate(user=request.user, acting_user=request.user)
        messages.success(request, _("New recovery codes were made; the old ones no longer work."))
        return _show_codes(request, codes)
    return render(request, "accounts/recovery_codes_confirm.html")


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_disable(request):
    if not two_factor.is_enabled(request.user):
        return redirect("accounts:two_factor")
    form = CodeForm(request.POST or None)
    return save_form(
        request,
        form,
        lambda data: two_factor.two_factor_disable(
            user=request.user, acting_user=request.user, code=data["code"]
        ),
        message=_("Two-factor login is off."),
        success=lambda _result: redirect("accounts:two_factor"),
        page=lambda edit: render(
            request,
            "accounts/two_factor_disable.html",
            {"form": edit.form, "required": two_factor.is_required(request.user)},
        ),
    )


# --- The province rule -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def province_security(request):
    """Province managers (and national administrators) choose whether
    everyone working in the province must use two-factor login."""
    provinces = two_factor.provinces_managed_by(request.user)
    if not permissions.can_open_province_security(request.user) or not provinces.exists():
        raise PermissionDenied
    if request.method == "POST":
        province = get_object_or_404(provinces, code=request.POST.get("province", ""))
        form = ProvinceSecurityForm(request.POST)
        if form.is_valid():
            two_factor.province_two_factor_set(
                province=province,
                required=form.cleaned_data["require_two_factor"],
                acting_user=request.user,
            )
            messages.success(
                request, _("The login rule of %(province)s was saved.") % {"province": province}
            )
            return redirect(reverse("accounts:province_security"))
    required = set(
        ProvinceSecurity.objects.filter(
            province__in=provinces, require_two_factor=True
        ).values_list("province_id", flat=True)
    )
    rows = [(p, p.pk in required) for p in provinces]
    return render(request, "accounts/province_security.html", {"rows": rows})
