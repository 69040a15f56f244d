"""Template filters available in every template (registered as a builtin)."""

import re

from django import template
from django.utils.safestring import SafeData, mark_safe
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


# In markup only text is changed, never tags, attributes or character references.
_MARKUP = re.compile(r"(<[^>]*>|&#?\w+;)")
# A word with Latin letters is a code (ACDE-3479, H0001, .xlsx): its digits stay.
_WORD = re.compile(r"\S+")
_LATIN = re.compile(r"[A-Za-z]")


def _persian_words(text: str) -> str:
    return _WORD.sub(
        lambda m: m.group(0) if _LATIN.search(m.group(0)) else to_persian_digits(m.group(0)), text
    )


@register.filter
def fa_digits(value):
    """Persian digits when the page is in Persian; unchanged otherwise. Safe
    markup (Django's password rules, for one) stays markup."""
    if value is None:
        return ""
    # str() first: a lazy text (Django's password rules) only shows whether
    # it is safe markup once evaluated.
    text = str(value)
    if not (get_language() or "fa").startswith("fa"):
        return text
    if isinstance(text, SafeData):
        parts = _MARKUP.split(text)
        # split() with a group puts the markup at the odd positions.
        return mark_safe(
            "".join(part if i % 2 else _persian_words(part) for i, part in enumerate(parts))
        )
    return _persian_words(text)


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
