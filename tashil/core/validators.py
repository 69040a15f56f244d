"""Identity numbers: the Iranian national code and mobile numbers.

Each `normalize_*` function returns the one stored form of a value typed in
any of the ways people write it, or raises ValidationError. The `validate_*`
wrappers are for model field `validators=`."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .text import to_ascii_digits

# Separators people type inside numbers: spaces (incl. no-break and thin ones),
# dashes of every width, dots, slashes and parentheses.
_SEPARATORS = re.compile(r"[\s\u00a0\u200c\u200f\u200e\u2009\-\u2010-\u2015\u0640./()]+")
_DIGITS = re.compile(r"[0-9]+")
_MOBILE_CHARS = re.compile(r"\+?[0-9]+")

NATIONAL_CODE_LENGTH_MESSAGE = _("A national code has 10 digits.")
NATIONAL_CODE_INVALID_MESSAGE = _(
    "This national code is not valid. Check the digits and try again."
)
MOBILE_INVALID_MESSAGE = _("Enter a mobile number such as 0912 345 6789.")
MOBILE_NOT_IRANIAN_MESSAGE = _("Enter an Iranian mobile number such as 0912 345 6789.")
MOBILE_LANDLINE_MESSAGE = _(
    "This is a landline number. Enter a mobile number such as 0912 345 6789."
)


def _compact(value) -> str:
    return _SEPARATORS.sub("", to_ascii_digits("" if value is None else str(value)))


def national_code_checksum_ok(code: str) -> bool:
    """The check digit rule for a 10-digit code (all-same-digit codes pass it)."""
    digits = [int(c) for c in code]
    remainder = sum(d * (10 - i) for i, d in enumerate(digits[:9])) % 11
    check = remainder if remainder < 2 else 11 - remainder
    return digits[9] == check


def normalize_national_code(value) -> str:
    """The 10-digit national code, ASCII digits, or ValidationError.

    Codes of people born before the 10-digit format were issued with leading
    zeros that spreadsheets and older systems often drop, so 8 or 9 digits are
    padded back."""
    code = _compact(value)
    if not _DIGITS.fullmatch(code) or not 8 <= len(code) <= 10:
        raise ValidationError(NATIONAL_CODE_LENGTH_MESSAGE, code="invalid_national_code")
    code = code.zfill(10)
    # 1111111111 and its kind satisfy the checksum but are never issued; they
    # are what people type to get past a required field.
    if len(set(code)) == 1 or not national_code_checksum_ok(code):
        raise ValidationError(NATIONAL_CODE_INVALID_MESSAGE, code="invalid_national_code")
    return code


def validate_national_code(value) -> None:
    normalize_national_code(value)


def normalize_mobile(value) -> str:
    """An Iranian mobile number in E.164 (+989xxxxxxxxx), or ValidationError.

    Accepts 0912…, +98 912…, 0098 912…, 912… with any digits and separators."""
    text = _compact(value)
    # phonenumbers reads letters as keypad digits (vanity numbers); here they
    # are typing mistakes.
    if not _MOBILE_CHARS.fullmatch(text):
        raise ValidationError(MOBILE_INVALID_MESSAGE, code="invalid_mobile")
    try:
        number = phonenumbers.parse(text, "IR")
    except phonenumbers.NumberParseException:
        raise ValidationError(MOBILE_INVALID_MESSAGE, code="invalid_mobile") from None
    if number.country_code != 98:
        raise ValidationError(MOBILE_NOT_IRANIAN_MESSAGE, code="invalid_mobile")
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(MOBILE_INVALID_MESSAGE, code="invalid_mobile")
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        # SMS is how residents hear back about their demands; a landline
        # cannot receive it.
        raise ValidationError(MOBILE_LANDLINE_MESSAGE, code="invalid_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_mobile(value) -> None:
    normalize_mobile(value)


def format_mobile_display(e164) -> str:
    """'+989123456789' → '0912 345 6789'. Anything that does not parse is
    returned unchanged, so a form can redisplay what the user typed."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(_compact(e164), "IR")
    except phonenumbers.NumberParseException:
        return str(e164)
    if not phonenumbers.is_valid_number(number):
        return str(e164)
    if number.country_code != 98:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
