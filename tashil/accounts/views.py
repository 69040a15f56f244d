from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator

from .forms import ThrottledAuthenticationForm
from .models import Role
from .scopes import scope_of


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
    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"
