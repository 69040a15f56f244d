import math

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from tashil.core.forms import StyledForm

from . import throttle, two_factor


def wait_message(seconds: int) -> forms.ValidationError:
    if seconds < 120:
        return forms.ValidationError(
            _("Too many failed attempts. Wait %(seconds)s seconds and try again."),
            code="throttled",
            params={"seconds": seconds},
        )
    return forms.ValidationError(
        _("Too many failed attempts. Wait %(minutes)s minutes and try again."),
        code="throttled",
        params={"minutes": math.ceil(seconds / 60)},
    )


class ThrottledAuthenticationForm(AuthenticationForm):
    """The password step. Refused tries are neither checked nor counted."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username or password is wrong. Both are case-sensitive."),
    }

    def clean(self):
        username = self.data.get("username", "")
        ip = throttle.client_ip(self.request) if self.request else None
        wait = throttle.seconds_to_wait(username, ip)
        if wait:
            raise wait_message(wait)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(username, ip)
            raise
        throttle.clear(username, ip)
        return cleaned


class CodeForm(StyledForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_("The six digits your app shows, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "dir": "ltr",
                "autocapitalize": "none",
                "autofocus": True,
            }
        ),
    )


class TwoFactorLoginForm(CodeForm):
    """The second step of login, for `user`, throttled like the password."""

    def __init__(self, *args, user, request, **kwargs):
        self.user = user
        self.request = request
        self.device = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        ip = throttle.client_ip(self.request)
        wait = throttle.seconds_to_wait(self.user.username, ip, throttle.CODE)
        if wait:
            raise wait_message(wait)
        code = cleaned.get("code")
        if code is None:
            return cleaned
        self.device = two_factor.verify(self.user, code)
        if self.device is None:
            throttle.record_failure(self.user.username, ip, throttle.CODE)
            raise forms.ValidationError(
                _("The code is not right, or it was already used."), code="invalid_code"
            )
        throttle.clear(self.user.username, ip, throttle.CODE)
        return cleaned


class SetupConfirmForm(CodeForm):
    pass


class ProvinceSecurityForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=_("Everyone working in this province must use two-factor login"), required=False
    )
