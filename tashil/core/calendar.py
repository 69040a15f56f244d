"""The working calendar: weekends, official holidays and one-off closures.

Deadlines (referral SLAs, escalations) are counted in working days of the
province the work happens in. A day is non-working when it is:

- a weekend day under the WeekendRule in force on that date: the latest rule
  of the province if it has one in force, else the latest national rule, else
  settings.DEFAULT_WEEKEND_DAYS (Thursday and Friday);
- an active official Holiday (national);
- inside a Closure of the province (heat, dust, energy saving, mourning).

Every range query costs a fixed number of queries (weekend rules, holidays,
closures) whatever its length, so deadline jobs can run over many demands.
"""

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from .models import Closure, Holiday, WeekendRule

ONE_DAY = dt.timedelta(days=1)

# The `holidays` package only knows these two locales for Iran; any other
# value (even "fa" or "en") silently falls back to Persian names.
HOLIDAYS_LANG_FA = "fa_IR"
HOLIDAYS_LANG_EN = "en_US"

# A search for the next working day gives up after this many days without
# finding one, which only happens when the configuration makes every day
# non-working.
_MAX_SCAN_DAYS = 3660


def _province_id(province) -> int | None:
    if province is None:
        return None
    return getattr(province, "pk", province)


# --- Weekend -----------------------------------------------------------------


class _WeekendSchedule:
    """The weekend rules of one province (and the national ones) up to a date,
    answering "which weekdays are the weekend on day d?" without queries."""

    def __init__(self, province_id: int | None, until: dt.date):
        scope = Q(province__isnull=True)
        if province_id is not None:
            scope |= Q(province_id=province_id)
        rows = WeekendRule.objects.filter(scope, valid_from__lte=until).order_by("valid_from", "id")
        self._province: list[tuple[dt.date, frozenset[int]]] = []
        self._national: list[tuple[dt.date, frozenset[int]]] = []
        for rule_province, valid_from, weekdays in rows.values_list(
            "province_id", "valid_from", "weekdays"
        ):
            target = self._national if rule_province is None else self._province
            # Two rules from the same day: the later entry is the correction.
            if target and target[-1][0] == valid_from:
                target.pop()
            target.append((valid_from, frozenset(int(d) for d in weekdays or [])))
        self._default = frozenset(getattr(settings, "DEFAULT_WEEKEND_DAYS", [3, 4]))

    @staticmethod
    def _in_force(rules, day):
        index = bisect.bisect_right(rules, day, key=lambda rule: rule[0])
        return rules[index - 1][1] if index else None

    def on(self, day: dt.date) -> frozenset[int]:
        for rules in (self._province, self._national):
            weekdays = self._in_force(rules, day)
            if weekdays is not None:
                return weekdays
        return self._default


def weekend_days(on_date: dt.date, province=None) -> set[int]:
    """Python weekday numbers (Monday=0 … Friday=4) that are the weekend on
    `on_date` in `province` (an Area or its id; None for the national rule)."""
    return set(_WeekendSchedule(_province_id(province), on_date).on(on_date))


# --- Non-working days --------------------------------------------------------


def non_working_days(start: dt.date, end: dt.date, province=None) -> set[dt.date]:
    """Every non-working day in [start, end] (both included) for `province`.

    Three queries at most, whatever the length of the range. Without a
    province, closures (which are per province) are not counted."""
    if end < start:
        return set()
    province_id = _province_id(province)
    schedule = _WeekendSchedule(province_id, end)
    days: set[dt.date] = set()
    day = start
    while day <= end:
        if day.weekday() in schedule.on(day):
            days.add(day)
        day += ONE_DAY
    days.update(
        Holiday.objects.filter(is_active=True, date__range=(start, end)).values_list(
            "date", flat=True
        )
    )
    if province_id is not None:
        closures = Closure.objects.filter(
            province_id=province_id, start_date__lte=end, end_date__gte=start
        ).values_list("start_date", "end_date")
        for closure_start, closure_end in closures:
            day = max(closure_start, start)
            last = min(closure_end, end)
            while day <= last:
                days.add(day)
                day += ONE_DAY
    return days


def is_working_day(day: dt.date, province=None) -> bool:
    return day not in non_working_days(day, day, province)


def add_working_days(start: dt.date, n: int, province=None) -> dt.date:
    """The n-th working day after `start`.

    `start` itself is not counted, whether or not it is a working day: a
    demand referred on a Wednesday with n=1 is due on the next working day.
    n=0 means "the first working day from start on": start if it is a working
    day, else the next one. n must not be negative.

    Non-working days are loaded in windows sized for n, so even a 200-day SLA
    is one window (three queries) in the usual case."""
    if n < 0:
        raise ValueError("n must be zero or positive")
    wanted = max(n, 1)
    day = start if n == 0 else start + ONE_DAY
    # About five working days a week plus holidays: twice n is comfortably
    # enough for one window.
    window = max(31, 2 * n + 14)
    scanned = 0
    found = 0
    while scanned < _MAX_SCAN_DAYS + 2 * n:
        window_end = day + dt.timedelta(days=window - 1)
        off = non_working_days(day, window_end, province)
        while day <= window_end:
            if day not in off:
                found += 1
                if found == wanted:
                    return day
            day += ONE_DAY
            scanned += 1
        window *= 2
    raise ValueError("no working day found: check the weekend rules and closures")


def working_days_between(start: dt.date, end: dt.date, province=None) -> int:
    """The number of working days in (start, end]: start excluded, end
    included, so that working_days_between(d, add_working_days(d, n)) == n.

    When end is before start the result is negative: minus the working days
    in (end, start]. Overdue counts use this to say "3 working days late"."""
    if end == start:
        return 0
    if end < start:
        return -working_days_between(end, start, province)
    return (end - start).days - len(non_working_days(start + ONE_DAY, end, province))


# --- Official holidays from the `holidays` package -----------------------------


@dataclass(frozen=True)
class PackageHoliday:
    date: dt.date
    name_fa: str
    name_en: str
    is_estimated: bool


@dataclass
class HolidaySyncResult:
    created: int = 0
    updated: int = 0
    removed: int = 0
    # Package entries left alone because an administrator corrected them.
    kept_corrections: int = 0


def package_holidays(years: Iterable[int]) -> list[PackageHoliday]:
    """Iran's official holidays for the Gregorian `years`, as the `holidays`
    package gives them, with Persian and English names and the estimate flag.

    Lunar holidays the package has not confirmed (from 2027 on) carry an
    "(estimated)" / "(تخمینی)" suffix. The names are read without it and the
    flag comes from comparing with the labelled names, so the stored name
    never holds the marker."""
    import holidays

    years = sorted(set(years))
    if not years:
        return []

    def load(language, show_estimated):
        return holidays.country_holidays(
            "IR", years=years, language=language, islamic_show_estimated=show_estimated
        )

    fa_plain = load(HOLIDAYS_LANG_FA, False)
    fa_labelled = load(HOLIDAYS_LANG_FA, True)
    en_plain = load(HOLIDAYS_LANG_EN, False)

    result = []
    for day in sorted(fa_plain):
        fa_names = fa_plain.get_list(day)
        labelled = set(fa_labelled.get_list(day))
        en_names = en_plain.get_list(day)
        for name_fa in fa_names:
            # Names sharing a date are sorted alphabetically per language, so
            # the Persian and English lists do not line up by position; the
            # package's own translation pairs them.
            name_en = en_plain.tr(name_fa)
            if name_en not in en_names and len(fa_names) == len(en_names) == 1:
                name_en = en_names[0]
            result.append(
                PackageHoliday(
                    date=day,
                    name_fa=name_fa[:200],
                    name_en=name_en[:200],
                    is_estimated=name_fa not in labelled,
                )
            )
    return result


def sync_holidays(years: Iterable[int]) -> HolidaySyncResult:
    """Bring the Holiday table in line with the package for Gregorian `years`.

    Idempotent, keyed by (original_date, name_en). Rows an administrator
    corrected (source=admin) are never touched. Package rows get their names
    and estimate flag refreshed, and package rows the package no longer lists
    for those years are removed, so an estimate that a newer package version
    moves does not leave a phantom holiday behind."""
    years = sorted(set(years))
    result = HolidaySyncResult()
    if not years:
        return result
    fresh = package_holidays(years)
    year_set = set(years)
    with transaction.atomic():
        existing = {
            (h.original_date, h.name_en): h
            for h in Holiday.objects.select_for_update().filter(
                original_date__range=(dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31))
            )
            if h.original_date.year in year_set
        }
        corrected_to = {
            (h.date, h.name_en) for h in existing.values() if h.source == Holiday.Source.ADMIN
        }
        seen = set()
        to_create = []
        for item in fresh:
            key = (item.date, item.name_en)
            seen.add(key)
            row = existing.get(key)
            if row is None:
                # An administrator already moved an estimate to this date;
                # adding the package's row too would list the holiday twice.
                if key in corrected_to:
                    result.kept_corrections += 1
                    continue
                to_create.append(
                    Holiday(
                        date=item.date,
                        original_date=item.date,
                        name_fa=item.name_fa,
                        name_en=item.name_en,
                        is_estimated=item.is_estimated,
                        source=Holiday.Source.PACKAGE,
                    )
                )
            elif row.source == Holiday.Source.ADMIN:
                result.kept_corrections += 1
            elif row.name_fa != item.name_fa or row.is_estimated != item.is_estimated:
                row.name_fa, row.is_estimated = item.name_fa, item.is_estimated
                row.save(update_fields=["name_fa", "is_estimated"])
                result.updated += 1
        Holiday.objects.bulk_create(to_create)
        result.created = len(to_create)
        stale = [
            row.pk
            for key, row in existing.items()
            if key not in seen and row.source == Holiday.Source.PACKAGE
        ]
        if stale:
            Holiday.objects.filter(pk__in=stale).delete()
        result.removed = len(stale)
    return result
