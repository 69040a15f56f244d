import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tashil.core.validators import (
    format_mobile_display,
    normalize_mobile,
    normalize_national_code,
    validate_mobile,
    validate_national_code,
)

# --- National code -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0012345679", "0012345679"),
        ("4498765435", "4498765435"),
        ("1273546891", "1273546891"),
        # Leading zeros dropped by spreadsheets come back.
        ("12345679", "0012345679"),
        ("123456789", "0123456789"),
        # Digits as people type them.
        ("۴۴۹۸۷۶۵۴۳۵", "4498765435"),
        ("٤٤٩٨٧٦٥٤٣٥", "4498765435"),
        ("449-876543-5", "4498765435"),
        (" 449 876 5435 ", "4498765435"),
        ("۱۲۳۴۵۶۷۹", "0012345679"),
    ],
)
def test_valid_national_codes_are_normalised(typed, stored):
    assert normalize_national_code(typed) == stored
    validate_national_code(typed)


def test_integer_input_with_dropped_zeros_is_padded():
    assert normalize_national_code(12345679) == "0012345679"


@pytest.mark.parametrize("code", ["0012345678", "4498765430", "1273546890", "123456788"])
def test_bad_check_digit_is_rejected(code):
    with pytest.raises(ValidationError) as error:
        normalize_national_code(code)
    assert error.value.code == "invalid_national_code"


@pytest.mark.parametrize("code", ["1111111111", "0000000000", "۵۵۵۵۵۵۵۵۵۵"])
def test_all_same_digit_codes_are_rejected_although_the_checksum_passes(code):
    with pytest.raises(ValidationError) as error:
        normalize_national_code(code)
    assert error.value.code == "invalid_national_code"


@pytest.mark.parametrize(
    "code", ["", None, "123455", "1234567", "12345678901", "44987654x5", "4498765435a"]
)
def test_wrong_length_or_letters_are_rejected(code):
    with pytest.raises(ValidationError) as error:
        normalize_national_code(code)
    assert error.value.code == "invalid_national_code"


def test_national_code_messages_are_translatable_and_clear():
    # Messages are lazy: they are read inside the override, as a view would.
    with translation.override("en"):
        with pytest.raises(ValidationError) as short:
            normalize_national_code("12345")
        assert short.value.messages == ["A national code has 10 digits."]
        with pytest.raises(ValidationError) as bad:
            validate_national_code("0012345678")
        assert bad.value.messages == [
            "This national code is not valid. Check the digits and try again."
        ]
    with pytest.raises(ValidationError) as persian:
        normalize_national_code("12345")
    assert persian.value.messages == ["کد ملی ۱۰ رقم دارد."]


# --- Mobile --------------------------------------------------------------------

E164 = "+989123456789"


@pytest.mark.parametrize(
    "typed",
    [
        "09123456789",
        "0912 345 6789",
        "0912-345-6789",
        "+989123456789",
        "+98 912 345 6789",
        "0098 912 345 6789",
        "00989123456789",
        "9123456789",
        "۰۹۱۲۳۴۵۶۷۸۹",
        "٠٩١٢ ٣٤٥ ٦٧٨٩",
        "+98 (912) 345-6789",
    ],
)
def test_mobile_forms_become_e164(typed):
    assert normalize_mobile(typed) == E164
    validate_mobile(typed)


def test_other_operators_are_accepted():
    assert normalize_mobile("0990 123 4567") == "+989901234567"
    assert normalize_mobile("0935-111-2233") == "+989351112233"


def test_landline_is_rejected_with_its_own_message():
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            normalize_mobile("021 3344 5566")
        assert error.value.code == "invalid_mobile"
        assert "landline" in error.value.messages[0]


def test_foreign_mobile_is_rejected():
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            normalize_mobile("+44 7911 123456")
        assert "Iranian" in error.value.messages[0]


@pytest.mark.parametrize(
    "typed", ["", None, "0912345678", "091234567890", "0912abc6789", "hello", "+"]
)
def test_invalid_mobiles_are_rejected(typed):
    with pytest.raises(ValidationError) as error:
        normalize_mobile(typed)
    assert error.value.code == "invalid_mobile"


def test_mobile_display_in_national_form():
    assert format_mobile_display(E164) == "0912 345 6789"
    assert format_mobile_display("") == ""
    assert format_mobile_display("not a number") == "not a number"
