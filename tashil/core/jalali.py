"""Jalali (Solar Hijri) dates: display, parsing and periods.

Dates are stored Gregorian (datetimes in UTC) and shown and entered in Jalali
in Asia/Tehran. Periods (month, quarter, half-year, year) are Jalali."""

import datetime as dt
import re
from dataclasses import dataclass

import jdatetime
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .text import to_ascii_digits, to_persian_digits

MONTHS_FA = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
]
MONTHS_EN = [
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
]
WEEKDAYS_FA = [
    "دوشنبه",
    "سه‌شنبه",
    "چهارشنبه",
    "پنجشنبه",
    "جمعه",
    "شنبه",
    "یکشنبه",
]  # Python weekday order
WEEKDAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _is_fa(lang: str | None) -> bool:
    return (lang or get_language() or "fa").startswith("fa")


def to_jalali(value: dt.date) -> jdatetime.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return jdatetime.date.fromgregorian(date=value)


def to_gregorian(year: int, month: int, day: int) -> dt.date:
    return jdatetime.date(year, month, day).togregorian()


def is_leap(year: int) -> bool:
    return jdatetime.date(year, 1, 1).isleap()


def month_name(month: int, lang: str | None = None) -> str:
    return (MONTHS_FA if _is_fa(lang) else MONTHS_EN)[month - 1]


def format_date(value, style: str = "long", lang: str | None = None) -> str:
    """'۲۴ تیر ۱۳۹۷' (long), '۱۳۹۷/۰۴/۲۴' (short); Latin digits in English."""
    if value in (None, ""):
        return ""
    j = to_jalali(value)
    if style == "short":
        text = f"{j.year:04d}/{j.month:02d}/{j.day:02d}"
    elif style == "weekday":
        names = WEEKDAYS_FA if _is_fa(lang) else WEEKDAYS_EN
        text = f"{names[j.togregorian().weekday()]} {j.day} {month_name(j.month, lang)} {j.year}"
    else:
        text = f"{j.day} {month_name(j.month, lang)} {j.year}"
    return to_persian_digits(text) if _is_fa(lang) else text


def format_datetime(value: dt.datetime, lang: str | None = None) -> str:
    if value in (None, ""):
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    text = f"{format_date(local.date(), 'short', 'en')} {local:%H:%M}"
    return to_persian_digits(text) if _is_fa(lang) else text


_DATE_RE = re.compile(r"^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*$")


def parse_date(text: str) -> dt.date:
    """Parse a Jalali 'YYYY/MM/DD' (any digits, / - or . separators) into a
    Gregorian date. Raises ValueError with a user-facing message."""
    match = _DATE_RE.match(to_ascii_digits(text or ""))
    if not match:
        raise ValueError(_("Enter a Jalali date as YYYY/MM/DD, for example 1403/01/15."))
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        raise ValueError(_("The month must be between 1 and 12."))
    max_day = 31 if month <= 6 else 30 if month <= 11 else (30 if is_leap(year) else 29)
    if not 1 <= day <= max_day:
        raise ValueError(
            _("Month %(month)s of %(year)s has %(days)s days.")
            % {"month": month_name(month), "year": year, "days": max_day}
        )
    return to_gregorian(year, month, day)


# --- Periods ---------------------------------------------------------------

PERIOD_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
PERIOD_LABELS = {
    "month": _("month"),
    "quarter": _("quarter"),
    "half": _("half-year"),
    "year": _("year"),
}


@dataclass(frozen=True, order=True)
class Period:
    """A Jalali period: kind is month, quarter, half or year; index is 1-based
    within the year (month 1–12, quarter 1–4, half 1–2, year 1)."""

    kind: str
    year: int
    index: int = 1

    def __post_init__(self):
        if self.kind not in PERIOD_MONTHS:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if not 1 <= self.index <= 12 // PERIOD_MONTHS[self.kind]:
            raise ValueError(f"index {self.index} out of range for {self.kind}")

    @property
    def first_month(self) -> int:
        return (self.index - 1) * PERIOD_MONTHS[self.kind] + 1

    @property
    def last_month(self) -> int:
        return self.first_month + PERIOD_MONTHS[self.kind] - 1

    @property
    def start(self) -> dt.date:
        return to_gregorian(self.year, self.first_month, 1)

    @property
    def end(self) -> dt.date:
        """The last day of the period (inclusive)."""
        return self.next().start - dt.timedelta(days=1)

    def next(self) -> "Period":
        count = 12 // PERIOD_MONTHS[self.kind]
        return (
            Period(self.kind, self.year + 1, 1)
            if self.index == count
            else Period(self.kind, self.year, self.index + 1)
        )

    def previous(self) -> "Period":
        count = 12 // PERIOD_MONTHS[self.kind]
        return (
            Period(self.kind, self.year - 1, count)
            if self.index == 1
            else Period(self.kind, self.year, self.index - 1)
        )

    def contains(self, value: dt.date) -> bool:
        return self.start <= value <= self.end

    def label(self, lang: str | None = None) -> str:
        fa = _is_fa(lang)
        if self.kind == "month":
            text = f"{month_name(self.index, lang)} {self.year}"
        elif self.kind == "quarter":
            text = f"{'فصل' if fa else 'Q'}{' ' if fa else ''}{self.index} {self.year}"
        elif self.kind == "half":
            text = (
                f"نیمه {'اول' if self.index == 1 else 'دوم'} {self.year}"
                if fa
                else f"H{self.index} {self.year}"
            )
        else:
            text = f"{'سال ' if fa else ''}{self.year}"
        return to_persian_digits(text) if fa else text

    def __str__(self):
        return self.label()


def period_of(value: dt.date, kind: str) -> Period:
    j = to_jalali(value)
    return Period(kind, j.year, (j.month - 1) // PERIOD_MONTHS[kind] + 1)


def today() -> dt.date:
    return timezone.localdate()


def age_on(today_j, birth_date: dt.date | None, birth_year: int | None) -> int | None:
    """Age in whole years; from the Jalali birth year alone when that is all we know."""
    if birth_date:
        born = to_jalali(birth_date)
        return today_j.year - born.year - ((today_j.month, today_j.day) < (born.month, born.day))
    if birth_year:
        return today_j.year - birth_year
    return None
