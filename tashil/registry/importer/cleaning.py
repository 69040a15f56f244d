"""Turning one spreadsheet cell into a stored value, with the same rules the
registry's services apply to a form (national code and mobile through the
core validators, Jalali dates through core.jalali, choices, lengths, dates
not in the future), or a message saying what is wrong with the cell.

A cell's value may come as text (CSV, or text in Excel), a number, a bool or
a datetime (an Excel date cell). Cleaners remember the answer for values
they have seen: choice words, dates and names repeat thousands of times in a
large file, so this keeps the per-row cost low.
"""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tashil.core import jalali
from tashil.core.text import join_words, normalize, to_ascii_digits
from tashil.core.validators import (
    national_code_checksum_ok,
    normalize_mobile,
    normalize_national_code,
)

from .fields import choice_words, header_key
from .fieldspec import FieldSpec

EARLIEST_BIRTH_YEAR = 1280  # Jalali, about 1901: the registry's services use the same bound.
# A four-digit year from here on is Gregorian: Jalali years are about 621 lower.
GREGORIAN_FROM = 1700
MEMO_LIMIT = 20_000

_DATE_YMD = re.compile(r"^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*$")
_DATE_DMY = re.compile(r"^\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{2,4})\s*$")
_DATE_COMPACT = re.compile(r"^\s*(1[2-4]\d{2})(\d{2})(\d{2})\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")
_SHORT_YEAR = re.compile(r"^\s*(\d{2})\s*$")
_DECIMAL_MARKS = str.maketrans({"\u066b": ".", ",": ".", "\u060c": "."})
_MOBILE_SHAPES = re.compile(r"^(?:0|\+98|0098)?(9\d{9})$")


class CellError(Exception):
    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)


def as_text(value) -> str:
    """The cell as normalised text (digits ASCII, Arabic ي/ك Persian, spaces tidied)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return jalali.format_date(value, "short", lang="en")
    return normalize(str(value))


def this_jalali_year() -> int:
    return jalali.to_jalali(jalali.today()).year


class Bounds:
    """Today and the earliest birth date, worked out once per import rather
    than once per cell."""

    def __init__(self, today: dt.date | None = None):
        self.today = today or jalali.today()
        self.earliest_birth = jalali.to_gregorian(EARLIEST_BIRTH_YEAR, 1, 1)
        self.this_year = jalali.to_jalali(self.today).year


def _future_or_early(value: dt.date, *, birth: bool, bounds: Bounds) -> None:
    if value > bounds.today:
        raise CellError(_("This date is in the future."))
    if birth and value < bounds.earliest_birth:
        raise CellError(_("This birth date is too early."))


def _gregorian_hint(year: int, month: int, day: int) -> str:
    try:
        converted = jalali.format_date(dt.date(year, month, day), "short", lang="en")
    except ValueError:
        return _(
            "“%(value)s” looks like a Gregorian date. Write dates in the Jalali calendar, for example "
            "1365/04/12."
        ) % {"value": f"{year}/{month:02d}/{day:02d}"}
    return _(
        "“%(value)s” looks like a Gregorian date. Write dates in the Jalali calendar: this one is "
        "%(jalali)s."
    ) % {"value": f"{year}/{month:02d}/{day:02d}", "jalali": converted}


def parse_date_cell(value, *, birth: bool, bounds: Bounds | None = None):
    """A Gregorian date, or ("year", jalali_year) when only a year was written.

    Text dates must be Jalali: a text date with a Gregorian year is refused with
    its Jalali equivalent, since a column with both calendars is a column
    nobody can trust. A real Excel date cell is Gregorian by definition (Excel
    has no Jalali calendar) and is converted."""
    bounds = bounds or Bounds()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        _future_or_early(value, birth=birth, bounds=bounds)
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = to_ascii_digits(as_text(value))
    if not text:
        return None
    match = _YEAR.match(text)
    if match:
        if not birth:
            raise CellError(_("Write the whole date, for example 1402/07/15."))
        return ("year", parse_year_text(text, bounds=bounds))
    match = _DATE_COMPACT.match(text)
    if match:
        text = "/".join(match.groups())
    match = _DATE_YMD.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        if year >= GREGORIAN_FROM:
            raise CellError(_gregorian_hint(year, month, day))
        try:
            date = jalali.parse_date(text)
        except ValueError as exc:
            raise CellError(exc.args[0]) from None
        _future_or_early(date, birth=birth, bounds=bounds)
        return date
    match = _DATE_DMY.match(text)
    if match:
        day, month, year = match.groups()
        if len(year) == 4:
            if int(year) >= GREGORIAN_FROM:
                raise CellError(_gregorian_hint(int(year), int(month), int(day)))
            raise CellError(
                _("Write the year first: %(value)s.")
                % {"value": f"{year}/{int(month):02d}/{int(day):02d}"}
            )
        raise CellError(_("Write the year in full, with the year first, for example 1365/04/12."))
    raise CellError(
        _("“%(value)s” is not a date. Write a Jalali date such as 1365/04/12.")
        % {"value": text[:40]}
    )


def parse_year_text(text: str, *, bounds: Bounds | None = None) -> int:
    text = to_ascii_digits(text).strip()
    if _SHORT_YEAR.match(text):
        raise CellError(_("Write the year with four digits, for example 1365."))
    match = _YEAR.match(text)
    if not match:
        raise CellError(
            _("“%(value)s” is not a year. Write a Jalali year such as 1365.") % {"value": text[:40]}
        )
    year = int(match.group(1))
    last = bounds.this_year if bounds else this_jalali_year()
    if year >= GREGORIAN_FROM:
        raise CellError(
            _(
                "%(value)s looks like a Gregorian year. Write the Jalali year: %(jalali)s or %(next)s."
            )
            % {"value": year, "jalali": year - 622, "next": year - 621}
        )
    if not EARLIEST_BIRTH_YEAR <= year <= last:
        raise CellError(
            _("Enter a Jalali year between %(first)s and %(last)s.")
            % {"first": EARLIEST_BIRTH_YEAR, "last": last}
        )
    return year


def _float(value, what) -> float:
    if isinstance(value, bool):
        raise CellError(_("This is not a number."))
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.isascii():
        try:
            return float(value)
        except ValueError:
            pass
    text = to_ascii_digits(as_text(value)).translate(_DECIMAL_MARKS).replace(" ", "")
    try:
        return float(text)
    except ValueError:
        raise CellError(_("“%(value)s” is not a number.") % {"value": text[:40]}) from None


def _plain_text(value) -> str:
    """as_text, with a short cut for the cells a spreadsheet hands over most:
    text, and whole numbers (read as floats) whose digits are the code."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else as_text(value)


def clean_national_code(value) -> str:
    """normalize_national_code, with a short cut for the common ten plain digits."""
    text = _plain_text(value).strip()
    if len(text) in (8, 9, 10) and text.isascii() and text.isdigit():
        code = text.zfill(10)
        if len(set(code)) > 1 and national_code_checksum_ok(code):
            return code
    try:
        return normalize_national_code(text)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from None


class MobileCleaner:
    """normalize_mobile, remembered per number prefix.

    Whether a number is an Iranian mobile depends on its first digits only;
    each prefix is decided by the real validator on two numbers (lowest and
    highest suffix), and only when both agree is the answer reused for the
    prefix. Anything else goes to the validator itself."""

    def __init__(self):
        self.prefixes: dict[str, str | None] = {}

    def __call__(self, value) -> str:
        text = _plain_text(value)
        compact = text.strip()
        match = _MOBILE_SHAPES.match(compact) if compact.isascii() else None
        if match:
            national = match.group(1)
            prefix = national[:5]
            verdict = self.prefixes.get(prefix, "unknown")
            if verdict == "unknown":
                verdict = self._decide(prefix)
                self.prefixes[prefix] = verdict
            if verdict == "ok":
                return "+98" + national
        try:
            return normalize_mobile(text)
        except ValidationError as exc:
            raise CellError(exc.messages[0]) from None

    @staticmethod
    def _decide(prefix: str) -> str | None:
        results = []
        for suffix in ("00000", "99999"):
            number = "0" + prefix + suffix
            try:
                results.append(normalize_mobile(number) == "+98" + prefix + suffix)
            except ValidationError:
                results.append(False)
        return "ok" if all(results) else None


class FieldCleaner:
    """Cleans the cells of one mapped column."""

    def __init__(self, spec: FieldSpec, *, context=None, bounds: Bounds | None = None):
        self.bounds = bounds or Bounds()
        self.spec = spec
        self.key = spec.key
        self.kind = spec.kind
        self.max_length = spec.max_length
        self.context = context
        self.memo: dict = {}
        # Dates repeat less than words but still a lot: ~30,000 days cover everyone alive.
        self.memo_limit = 50_000 if spec.kind == "date" else MEMO_LIMIT
        self.uses_memo = spec.kind not in ("national_code", "mobile", "latitude", "longitude")
        self.words = choice_words(spec) if spec.kind in ("choice", "bool") else None
        self.mobile = MobileCleaner() if spec.kind == "mobile" else None

    def __call__(self, value):
        """The cleaned value, None for an empty cell, or CellError."""
        if value is None:
            return None
        if not self.uses_memo:
            return self._clean(value)
        try:
            cached = self.memo[value]
        except (KeyError, TypeError):
            pass
        else:
            if isinstance(cached, CellError):
                raise cached
            return cached
        try:
            result = self._clean(value)
        except CellError as exc:
            result = exc
        if len(self.memo) < self.memo_limit:
            try:
                self.memo[value] = result
            except TypeError:
                pass
        if isinstance(result, CellError):
            raise result
        return result

    def _clean(self, value):
        kind = self.kind
        if kind in ("text", "name", "external_id"):
            text = as_text(value)
            if kind == "external_id":
                text = to_ascii_digits(text)
            if not text:
                return None
            if self.max_length and len(text) > self.max_length:
                raise CellError(
                    _("At most %(max)s characters (this has %(length)s).")
                    % {"max": self.max_length, "length": len(text)}
                )
            return text
        if kind == "choice" or kind == "bool":
            if kind == "bool" and isinstance(value, bool):
                return value
            text = as_text(value)
            if not text:
                return None
            found = self.words.get(header_key(text))
            if found is None:
                if kind == "bool":
                    raise CellError(_("“%(value)s” is not yes or no.") % {"value": text[:40]})
                labels = join_words(label for _value, label in self.spec.choices.choices)
                raise CellError(
                    _("“%(value)s” is not one of: %(choices)s.")
                    % {"value": text[:40], "choices": labels}
                )
            return found
        if kind == "national_code":
            text = value if not isinstance(value, str) else value.strip()
            if text == "":
                return None
            return clean_national_code(value)
        if kind == "mobile":
            if isinstance(value, str) and not value.strip():
                return None
            return self.mobile(value)
        if kind == "date":
            return parse_date_cell(value, birth=self.key == "birth_date", bounds=self.bounds)
        if kind == "year":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, dt.date):
                raise CellError(_("Write the birth year alone, for example 1365."))
            return parse_year_text(as_text(value), bounds=self.bounds)
        if kind == "latitude" or kind == "longitude":
            number = _float(value, kind)
            limit = 90 if kind == "latitude" else 180
            if not -limit <= number <= limit:
                raise CellError(_("These are not valid coordinates."))
            return number
        if kind == "area":
            return self.context.area_for_text(as_text(value))
        raise AssertionError(kind)
