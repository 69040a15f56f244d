import datetime as dt

import pytest
from django import forms
from django.utils import translation

from tashil.core.forms import (
    JalaliDateField,
    JalaliDateInput,
    MobileField,
    NationalCodeField,
    PythonSelect,
    StyledForm,
)


class DateForm(forms.Form):
    day = JalaliDateField()
    until = JalaliDateField(required=False)


class PersonForm(forms.Form):
    mobile = MobileField(required=False)
    national_code = NationalCodeField()


FIRST_OPENING = dt.date(2018, 7, 15)


def _rendered_value(form, name):
    html = str(form[name])
    marker = 'value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.mark.parametrize("text", ["1397/04/24", "۱۳۹۷/۰۴/۲۴", "١٣٩٧/٠٤/٢٤", "1397-4-24"])
def test_jalali_date_field_cleans_to_a_gregorian_date(text):
    form = DateForm(data={"day": text})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == FIRST_OPENING
    assert form.cleaned_data["until"] is None


def test_jalali_date_field_round_trip_in_persian():
    with translation.override("fa"):
        shown = _rendered_value(DateForm(initial={"day": FIRST_OPENING}), "day")
        assert shown == "۱۳۹۷/۰۴/۲۴"
        form = DateForm(data={"day": shown})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["day"] == FIRST_OPENING


def test_jalali_date_field_round_trip_in_english():
    with translation.override("en"):
        shown = _rendered_value(DateForm(initial={"day": FIRST_OPENING}), "day")
        assert shown == "1397/04/24"
        assert DateForm(data={"day": shown}).is_valid()


def test_leap_day_round_trip():
    leap_day = dt.date(2025, 3, 20)  # 30 Esfand 1403
    with translation.override("en"):
        shown = _rendered_value(DateForm(initial={"day": leap_day}), "day")
        assert shown == "1403/12/30"
        form = DateForm(data={"day": shown})
        assert form.is_valid() and form.cleaned_data["day"] == leap_day


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1402/12/30", "Month Esfand of 1402 has 29 days."),
        ("1403/13/01", "The month must be between 1 and 12."),
        ("15/01/1403", "Enter a Jalali date as YYYY/MM/DD, for example 1403/01/15."),
        ("", "This field is required."),
    ],
)
def test_jalali_date_field_errors_name_the_problem(text, message):
    with translation.override("en"):
        form = DateForm(data={"day": text})
        assert not form.is_valid()
        assert form.errors["day"] == [message]


def test_invalid_input_is_shown_back_as_typed():
    form = DateForm(data={"day": "۱۴۰۲/۱۲/۳۰"})
    assert not form.is_valid()
    assert _rendered_value(form, "day") == "۱۴۰۲/۱۲/۳۰"


def test_jalali_date_input_attributes():
    with translation.override("fa"):
        html = JalaliDateInput().render("day", None)
    assert " data-jdp" in html
    assert 'inputmode="numeric"' in html
    assert 'autocomplete="off"' in html
    assert 'dir="ltr"' in html
    assert 'placeholder="۱۴۰۳/۰۱/۱۵"' in html
    with translation.override("en"):
        assert 'placeholder="1403/01/15"' in JalaliDateInput().render("day", None)
    assert 'placeholder="custom"' in JalaliDateInput(attrs={"placeholder": "custom"}).render(
        "day", None
    )


def test_mobile_and_national_code_fields_return_normalised_values():
    form = PersonForm(data={"mobile": "۰۹۱۲ ۳۴۵ ۶۷۸۹", "national_code": "۱۲۳۴۵۶۷۹"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"mobile": "+989123456789", "national_code": "0012345679"}


def test_optional_mobile_may_be_empty():
    form = PersonForm(data={"mobile": "  ", "national_code": "0012345679"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["mobile"] == ""


def test_mobile_and_national_code_errors():
    with translation.override("en"):
        form = PersonForm(data={"mobile": "021 3344 5566", "national_code": "0012345678"})
        assert not form.is_valid()
        assert "landline" in form.errors["mobile"][0]
        assert form.errors["national_code"] == [
            "This national code is not valid. Check the digits and try again."
        ]


def test_stored_mobile_is_shown_in_national_form():
    form = PersonForm(initial={"mobile": "+989123456789"})
    assert _rendered_value(form, "mobile") == "0912 345 6789"
    assert 'inputmode="tel"' in str(form["mobile"])


class ChoicesForm(StyledForm):
    plain = forms.ChoiceField(choices=[("", "—"), ("a", "<b>A & B</b>"), ("b", "ب")])
    grouped = forms.ChoiceField(
        choices=[("", "هیچ"), ("آب", [("1", "آب شرب"), ("2", "فاضلاب")]), ("3", "برق")],
        required=False,
    )
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")], required=False)


@pytest.mark.parametrize("data", [None, {"plain": "a", "grouped": "2"}, {"plain": "zz"}])
def test_selects_render_in_python_with_djangos_exact_markup(data):
    form = ChoicesForm(data)
    if data:
        form.is_valid()
    form.fields["plain"].widget.attrs["disabled"] = True
    form.fields["plain"].widget.attrs["data-hidden"] = False
    for name in ("plain", "grouped"):
        widget = form.fields[name].widget
        assert type(widget) is PythonSelect
        ours = str(form[name])
        widget.__class__ = forms.Select
        djangos = str(form[name])
        assert ours == "".join(line.strip() for line in djangos.splitlines())
    # Multiple selects keep Django's own widget.
    assert type(form.fields["many"].widget) is forms.SelectMultiple
    assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in str(form["plain"])
