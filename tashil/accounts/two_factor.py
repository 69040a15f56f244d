"""Two-factor login for staff: a TOTP app (django-otp's TOTPDevice) and ten
one-time recovery codes (a StaticDevice).

Who must use it:
- with `settings.TWO_FACTOR_REQUIRED_ROLES` (production: national
  administrators and province managers), anyone holding one of those roles;
- anyone with an active role in a province whose `ProvinceSecurity` requires it.
Everyone else may turn it on for their own account.

Every service here acts on the acting user's own account only; a national
administrator removes a lost device of someone else in the Django admin."""

import secrets
from base64 import b32encode
from binascii import unhexlify
from io import BytesIO

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from tashil.core import audit
from tashil.core.text import to_ascii_digits
from tashil.geo.models import Area

from .models import ProvinceSecurity, Role
from .permissions import can_set_province_security
from .scopes import scope_of

RECOVERY_CODE_COUNT = 10
PROVINCES_CACHE_KEY = "tashil:two-factor-provinces"
DEVICE_NAME = "tashil"


# --- Reads ----------------------------------------------------------------------------------


def totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_enabled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def required_by_role(user) -> bool:
    roles = set(settings.TWO_FACTOR_REQUIRED_ROLES)
    if not roles:
        return False
    scope = scope_of(user)
    if scope.is_national and Role.NATIONAL_ADMIN in roles:
        return True
    return bool(roles & set(scope.roles))


def provinces_requiring() -> frozenset:
    """Provinces that require two-factor login. Asked on every page, so it is
    cached for a minute and dropped when a rule changes (with a shared cache,
    at once in every process; with the per-process default, within a minute)."""

    def load():
        return frozenset(
            ProvinceSecurity.objects.filter(require_two_factor=True).values_list(
                "province_id", flat=True
            )
        )

    return cache.get_or_set(PROVINCES_CACHE_KEY, load, 60)


def forget_province_rules() -> None:
    cache.delete(PROVINCES_CACHE_KEY)


def required_by_province(user) -> bool:
    provinces = scope_of(user).province_ids
    return bool(provinces) and bool(provinces & provinces_requiring())


def is_required(user) -> bool:
    return required_by_role(user) or required_by_province(user)


def clean_code(raw) -> str:
    """What the person typed, with Persian or Arabic digits made ASCII and
    spaces and dashes dropped."""
    text = to_ascii_digits(str(raw or ""))
    return "".join(ch for ch in text if ch not in " -\u200c\u200f\u200e\t").lower()


def verify(user, raw_code) -> TOTPDevice | StaticDevice | None:
    """The device that accepts the code: the app's six digits, or one
    recovery code, which is used up."""
    code = clean_code(raw_code)
    if not code or len(code) > 32:
        return None
    with transaction.atomic():
        if code.isdigit() and len(code) == 6:
            device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)
            device = device.first()
            if device is not None and device.verify_token(code):
                return device
        static = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
        static = static.first()
        if static is not None and static.verify_token(code):
            return static
    return None


# --- Setting up ----------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh TOTP key (hex, as TOTPDevice stores it)."""
    return default_key()


def secret_for_humans(hex_key: str) -> str:
    """The key in base32, grouped in fours, for typing into an app."""
    text = b32encode(unhexlify(hex_key)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def provisioning_uri(user, hex_key: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return TOTPDevice(user=user, name=DEVICE_NAME, key=hex_key).config_url


def qr_svg(data: str) -> str:
    """The QR code as SVG markup made by the qrcode library (no user text)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    # Drop the XML declaration: the markup goes inside an HTML page.
    return svg[svg.index("<svg") :]


def _check_own(*, user, acting_user) -> None:
    if acting_user is None or user.pk != acting_user.pk or not acting_user.is_active:
        raise PermissionDenied(_("You can only change two-factor login on your own account."))


def _code_matches(hex_key: str, code: str) -> bool:
    if not (code.isdigit() and len(code) == 6):
        return False
    return TOTP(unhexlify(hex_key)).verify(int(code), tolerance=1)


def _new_recovery_codes(user) -> list[str]:
    """Replace the account's recovery codes with ten new ones."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        code = secrets.token_hex(5)  # ten hex characters
        device.token_set.create(token=code)
        codes.append(code)
    return codes


def two_factor_enable(*, user, acting_user, secret: str, code: str) -> list[str]:
    """Confirm the app with a code from it, and hand back ten recovery codes
    (shown once; only they are stored, unhashed as django-otp stores them)."""
    _check_own(user=user, acting_user=acting_user)
    code = clean_code(code)
    try:
        unhexlify(secret)
    except (ValueError, TypeError):
        raise ValidationError({"code": _("The setup expired. Start again.")}) from None
    if not _code_matches(secret, code):
        raise ValidationError(
            {"code": _("The code is not right. Check the clock of your phone and try again.")}
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice(user=user, name=DEVICE_NAME, key=secret, confirmed=True)
        device.full_clean()
        device.save()
        # The code just used cannot be used again to log in.
        device.verify_token(code)
        codes = _new_recovery_codes(user)
        audit.record(actor=acting_user, action="accounts.two_factor_enable", obj=user)
    return codes


def recovery_codes_regenerate(*, user, acting_user) -> list[str]:
    _check_own(user=user, acting_user=acting_user)
    if not is_enabled(user):
        raise ValidationError(_("Two-factor login is not on for this account."))
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit.record(actor=acting_user, action="accounts.recovery_codes_regenerate", obj=user)
    return codes


def two_factor_disable(*, user, acting_user, code: str) -> None:
    """Turn two-factor login off; a current code (or a recovery code) proves
    the person still holds it."""
    _check_own(user=user, acting_user=acting_user)
    if not is_enabled(user):
        raise ValidationError(_("Two-factor login is not on for this account."))
    if verify(user, code) is None:
        raise ValidationError({"code": _("The code is not right.")})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit.record(actor=acting_user, action="accounts.two_factor_disable", obj=user)


# --- Province rule ---------------------------------------------------------------------------


def provinces_managed_by(user):
    return Area.objects.provinces_managed_by(user).order_by("code")


def province_two_factor_set(*, province, required: bool, acting_user) -> ProvinceSecurity:
    """A province manager (or a national administrator) requires two-factor
    login of everyone working in the province, or stops requiring it."""
    if not can_set_province_security(acting_user, province):
        raise PermissionDenied(_("You do not manage this province."))
    with transaction.atomic():
        rule, _created = ProvinceSecurity.objects.select_for_update().get_or_create(
            province=province
        )
        before = rule.require_two_factor
        rule.require_two_factor = required
        rule.updated_by = acting_user
        rule.full_clean()
        rule.save(update_fields=["require_two_factor", "updated_by", "updated_at"])
        forget_province_rules()
        transaction.on_commit(forget_province_rules)
        if before != required:
            audit.record(
                actor=acting_user,
                action="accounts.province_two_factor",
                obj=rule,
                changes={"require_two_factor": [before, required]},
                province=province,
            )
    return rule
