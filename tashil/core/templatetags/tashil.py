"""Template filters available in every template (registered as a builtin)."""

from django import template
from django.utils.translation import get_language

from tashil.core import jalali
from tashil.core.text import to_persian_digits

register = template.Library()


@register.filter
def jdate(value, style="long"):
    """A date or datetime as a Jalali date: {{ office.opened_on|jdate }}."""
    return jalali.format_date(value, style)


@register.filter
def jdatetime(value):
    return jalali.format_datetime(value)


@register.filter
def fa_digits(value):
    """Persian digits when the page is in Persian; unchanged otherwise."""
    if value is None:
        return ""
    return to_persian_digits(value) if (get_language() or "fa").startswith("fa") else str(value)


@register.filter
def num(value):
    """A number with thousands separators, in the page's digits."""
    if value in (None, ""):
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    # Grouping by hand: Django's fa locale defines no thousands separator.
    text = f"{int(number):,}" if number == int(number) else f"{number:,.2f}"
    if (get_language() or "fa").startswith("fa"):
        return to_persian_digits(text.replace(",", "٬").replace(".", "٫"))
    return text
