"""Working-day arithmetic at its edges: the cases mutation testing showed the
other calendar tests would let through (see docs/benchmarks.md, Mutation
testing)."""

import datetime as dt

import pytest

from tashil.core import calendar
from tashil.core.calendar import (
    add_working_days,
    is_working_day,
    non_working_days,
    weekend_days,
    working_days_between,
)
from tashil.core.models import Closure, Holiday, WeekendRule
from tashil.system.calendar import weekend_rule_set
from tests.factories import AreaFactory

D = dt.date
MON, THU, FRI, SAT, SUN = 0, 3, 4, 5, 6

pytestmark = pytest.mark.django_db


@pytest.fixture
def province(db):
    return AreaFactory()


@pytest.fixture
def other_province(db):
    return AreaFactory()


def test_negative_counts_honour_the_provinces_closures(province, other_province):
    Closure.objects.create(
        province=province, start_date=D(2025, 7, 20), end_date=D(2025, 7, 22), reason="گرما"
    )
    start, due = D(2025, 7, 19), D(2025, 7, 27)
    # (19, 27]: Sun–Tue closed, Thu–Fri weekend: Wed 23, Sat 26, Sun 27.
    assert working_days_between(due, start, province) == -3
    assert working_days_between(due, start, province.pk) == -3
    assert working_days_between(due, start, other_province) == -6
    assert working_days_between(due, start) == -6


def test_a_province_rule_holds_against_a_later_national_rule(province, other_province):
    WeekendRule.objects.create(province=province, valid_from=D(2023, 7, 1), weekdays=[THU, FRI])
    WeekendRule.objects.create(valid_from=D(2024, 1, 1), weekdays=[FRI, SAT])
    assert weekend_days(D(2024, 2, 1), province) == {THU, FRI}
    assert weekend_days(D(2024, 2, 1), other_province) == {FRI, SAT}
    assert weekend_days(D(2024, 2, 1)) == {FRI, SAT}
    # Before the national rule starts, other provinces keep the default.
    assert weekend_days(D(2023, 12, 31), other_province) == {THU, FRI}
    # Saturday 3 Feb 2024 is a working day in the province only.
    assert is_working_day(D(2024, 2, 3), province)
    assert not is_working_day(D(2024, 2, 3), other_province)


def test_a_weekend_rule_change_inside_a_counted_range():
    WeekendRule.objects.create(valid_from=D(2025, 1, 1), weekdays=[FRI])
    WeekendRule.objects.create(valid_from=D(2025, 5, 10), weekdays=[THU, FRI])
    start, end = D(2025, 5, 1), D(2025, 5, 16)
    # Fri 2 and Fri 9 May under the first rule; Thu 15 and Fri 16 under the second.
    assert non_working_days(start, end) == {
        D(2025, 5, 2),
        D(2025, 5, 9),
        D(2025, 5, 15),
        D(2025, 5, 16),
    }
    assert working_days_between(start, end) == 11
    assert working_days_between(end, start) == -11
    # Thursday 8 May still counts, Thursday 15 May no longer does.
    assert add_working_days(start, 6) == D(2025, 5, 8)
    assert add_working_days(start, 11) == D(2025, 5, 14)
    assert add_working_days(start, 12) == D(2025, 5, 17)


def test_a_rule_starting_on_the_last_day_of_the_range_applies_to_it():
    WeekendRule.objects.create(valid_from=D(2025, 5, 5), weekdays=[MON])
    assert non_working_days(D(2025, 5, 1), D(2025, 5, 5)) == {
        D(2025, 5, 1),
        D(2025, 5, 2),
        D(2025, 5, 5),
    }


def test_monday_and_sunday_can_be_weekend_days(network):
    admin = network.users["national_admin"]
    rule = weekend_rule_set(
        province=None, valid_from=D(2025, 1, 1), weekdays=["۶", 0], acting_user=admin
    )
    assert rule.weekdays == [MON, SUN]
    assert weekend_days(D(2025, 5, 5)) == {MON, SUN}
    # Saturday 3 to Friday 9 May 2025: only Sunday 4 and Monday 5 are off.
    assert non_working_days(D(2025, 5, 3), D(2025, 5, 9)) == {D(2025, 5, 4), D(2025, 5, 5)}
    for bad in ([7], [-1], ["7"], ["x"], ["²"], [True], "56", None, [1.5], 5):
        with pytest.raises(Exception) as error:
            weekend_rule_set(
                province=None, valid_from=D(2025, 2, 1), weekdays=bad, acting_user=admin
            )
        assert "weekdays" in error.value.message_dict
    assert WeekendRule.objects.count() == 1


def test_the_later_of_two_rules_from_the_same_day_is_the_correction(province):
    WeekendRule.objects.create(valid_from=D(2025, 1, 1), weekdays=[FRI])
    WeekendRule.objects.create(valid_from=D(2025, 1, 1), weekdays=[SAT])
    WeekendRule.objects.create(province=province, valid_from=D(2025, 1, 1), weekdays=[MON])
    WeekendRule.objects.create(province=province, valid_from=D(2025, 1, 1), weekdays=[SUN])
    assert weekend_days(D(2025, 3, 1)) == {SAT}
    assert weekend_days(D(2025, 3, 1), province) == {SUN}


def test_a_rule_with_no_weekdays_means_no_weekend():
    WeekendRule.objects.create(valid_from=D(2025, 1, 1), weekdays=[])
    assert weekend_days(D(2025, 3, 1)) == set()
    assert non_working_days(D(2025, 5, 3), D(2025, 5, 9)) == set()


def test_without_the_setting_the_weekend_is_thursday_and_friday(settings):
    del settings.DEFAULT_WEEKEND_DAYS
    assert weekend_days(D(2025, 5, 5)) == {THU, FRI}


def test_an_empty_or_reversed_range_has_no_days(province):
    Closure.objects.create(
        province=province, start_date=D(2025, 7, 1), end_date=D(2025, 7, 31), reason="برق"
    )
    assert non_working_days(D(2025, 7, 10), D(2025, 7, 9), province) == set()
    assert non_working_days(D(2025, 5, 9), D(2025, 5, 8)) == set()


def test_closures_and_holidays_count_on_the_ends_of_the_range(province):
    Closure.objects.create(
        province=province, start_date=D(2025, 7, 20), end_date=D(2025, 7, 22), reason="گرما"
    )
    Holiday.objects.create(date=D(2025, 7, 27), name_fa="آزمایشی", name_en="Test")
    assert non_working_days(D(2025, 7, 22), D(2025, 7, 23), province) == {D(2025, 7, 22)}
    assert non_working_days(D(2025, 7, 19), D(2025, 7, 20), province) == {D(2025, 7, 20)}
    assert non_working_days(D(2025, 7, 20), D(2025, 7, 20), province) == {D(2025, 7, 20)}
    assert non_working_days(D(2025, 7, 23), D(2025, 7, 23), province) == set()
    assert non_working_days(D(2025, 7, 19), D(2025, 7, 19), province) == set()
    assert non_working_days(D(2025, 7, 27), D(2025, 7, 28)) == {D(2025, 7, 27)}
    assert non_working_days(D(2025, 7, 26), D(2025, 7, 27)) == {D(2025, 7, 27)}


def test_add_working_days_messages():
    with pytest.raises(ValueError, match="^n must be zero or positive$"):
        add_working_days(D(2025, 5, 5), -1)
    WeekendRule.objects.create(valid_from=D(2020, 1, 1), weekdays=list(range(7)))
    with pytest.raises(ValueError, match="^no working day found: check the weekend rules"):
        add_working_days(D(2025, 1, 1), 0)


def test_zero_days_from_a_working_day_is_that_day_and_one_is_the_next():
    monday = D(2025, 5, 5)
    assert add_working_days(monday, 0) == monday
    assert add_working_days(monday, 1) == D(2025, 5, 6)
    assert add_working_days(D(2025, 5, 7), 1) == D(2025, 5, 10)  # Wednesday → Saturday
    assert working_days_between(monday, D(2025, 5, 6)) == 1
    assert working_days_between(D(2025, 5, 6), monday) == -1


def test_province_may_be_given_as_an_id_or_none(province):
    assert calendar._province_id(None) is None
    assert calendar._province_id(province) == province.pk
    assert calendar._province_id(province.pk) == province.pk


def test_one_window_is_enough_for_a_month_of_working_days(province, django_assert_num_queries):
    # About 1.4 calendar days per working day: 2n + 14 days hold n working
    # days in one window (three queries) for every n up to two months, even
    # in a month as crowded with holidays as Nowruz.
    start = D(2025, 4, 26)  # a Saturday
    for day in (4, 5, 6, 10, 11, 12, 17, 18, 19):
        Holiday.objects.create(date=D(2025, 5, day), name_fa="تعطیل", name_en=f"Day off {day}")
    for n in range(1, 61):
        with django_assert_num_queries(3):
            due = add_working_days(start, n, province)
        assert working_days_between(start, due, province) == n


def test_a_long_closure_does_not_make_a_long_sla_give_up(province):
    start = D(2025, 4, 26)
    Closure.objects.create(
        province=province, start_date=start, end_date=start + dt.timedelta(2100), reason="بازسازی"
    )
    due = add_working_days(start, 1000, province)
    assert due > start + dt.timedelta(2100)
    assert working_days_between(start, due, province) == 1000


class _FakeCountryHolidays:
    """What `holidays.country_holidays` answers, per language and estimate flag."""

    def __init__(self, names_by_day, translations):
        self._names = names_by_day
        self._translations = translations

    def __iter__(self):
        return iter(self._names)

    def get_list(self, day):
        return list(self._names[day])

    def tr(self, name):
        return self._translations.get(name, name)


LONG_FA = "ج" * 250
LONG_EN = "L" * 250


def _fake_package(country, years, language, islamic_show_estimated):
    fa = {
        D(2030, 1, 5): ["الف"],
        D(2030, 2, 5): ["ب", "پ"],
        D(2030, 3, 5): [LONG_FA],
    }
    if language == calendar.HOLIDAYS_LANG_FA:
        if islamic_show_estimated:
            # "پ" is an estimate: its labelled name differs.
            return _FakeCountryHolidays({**fa, D(2030, 2, 5): ["ب", "پ (تخمینی)"]}, {})
        return _FakeCountryHolidays(fa, {})
    en = {
        D(2030, 1, 5): ["Alef"],
        D(2030, 2, 5): ["Be", "Pe"],
        D(2030, 3, 5): [LONG_EN],
    }
    # The package's own translation misses "الف" (a lone name: take the one
    # English name) and "پ" (two names: keep the translation, the lists do
    # not line up).
    return _FakeCountryHolidays(en, {"ب": "Be", "پ": "Pe day", LONG_FA: LONG_EN})


def test_package_names_are_paired_and_cut_to_the_column(monkeypatch):
    import holidays

    monkeypatch.setattr(holidays, "country_holidays", _fake_package)
    got = calendar.package_holidays([2030])
    assert got == [
        calendar.PackageHoliday(D(2030, 1, 5), "الف", "Alef", False),
        calendar.PackageHoliday(D(2030, 2, 5), "ب", "Be", False),
        calendar.PackageHoliday(D(2030, 2, 5), "پ", "Pe day", True),
        calendar.PackageHoliday(D(2030, 3, 5), LONG_FA[:200], LONG_EN[:200], False),
    ]


def test_sync_counts_every_correction_update_and_removal(monkeypatch):
    def package(day, name_en):
        return calendar.PackageHoliday(D(2030, *day), f"{name_en} fa", name_en, False)

    def row(day, name_en, source=Holiday.Source.PACKAGE, moved_to=None, name_fa=None):
        return Holiday.objects.create(
            date=D(2030, *(moved_to or day)),
            original_date=D(2030, *day),
            name_fa=name_fa or f"{name_en} fa",
            name_en=name_en,
            source=source,
        )

    # Two estimates an administrator moved, which the package now confirms.
    row((4, 1), "Moved one", Holiday.Source.ADMIN, moved_to=(4, 2))
    row((5, 1), "Moved two", Holiday.Source.ADMIN, moved_to=(5, 2))
    # Two rows an administrator corrected in place.
    row((6, 1), "Fixed one", Holiday.Source.ADMIN, name_fa="درست")
    row((6, 2), "Fixed two", Holiday.Source.ADMIN, name_fa="درست")
    # Two package rows whose names the package has since changed.
    row((7, 1), "Renamed one", name_fa="قدیمی")
    row((7, 2), "Renamed two", name_fa="قدیمی")
    # A package row the package no longer lists, on the first day of the year.
    phantom = row((1, 1), "Phantom")
    fresh = [
        package((4, 2), "Moved one"),
        package((5, 2), "Moved two"),
        package((6, 1), "Fixed one"),
        package((6, 2), "Fixed two"),
        package((7, 1), "Renamed one"),
        package((7, 2), "Renamed two"),
        package((8, 1), "New"),
    ]
    monkeypatch.setattr(calendar, "package_holidays", lambda years: fresh)

    result = calendar.sync_holidays([2030])

    assert (result.kept_corrections, result.updated, result.created, result.removed) == (
        4,
        2,
        1,
        1,
    )
    assert not Holiday.objects.filter(pk=phantom.pk).exists()
    new = Holiday.objects.get(name_en="New")
    assert (new.date, new.original_date, new.source) == (
        D(2030, 8, 1),
        D(2030, 8, 1),
        Holiday.Source.PACKAGE,
    )
    assert set(Holiday.objects.filter(name_fa="درست").values_list("name_en", flat=True)) == {
        "Fixed one",
        "Fixed two",
    }
    assert not Holiday.objects.filter(name_fa="قدیمی").exists()
    assert Holiday.objects.count() == 7


def test_the_search_goes_on_for_ten_years_of_days_off(province):
    # A closure of more than five years, and the next working day after it.
    start = D(2025, 4, 26)  # a Saturday
    Closure.objects.create(
        province=province, start_date=start, end_date=start + dt.timedelta(2000), reason="بازسازی"
    )
    due = add_working_days(start, 1, province)
    assert due == add_working_days(start + dt.timedelta(2000), 1)
    assert due - start <= dt.timedelta(2003)


def test_a_rule_entered_later_for_an_earlier_date_does_not_override_a_newer_one():
    WeekendRule.objects.create(valid_from=D(2025, 6, 1), weekdays=[SAT])
    # Entered afterwards, but older: it only governs the days before June.
    WeekendRule.objects.create(valid_from=D(2025, 1, 1), weekdays=[MON])
    assert weekend_days(D(2025, 7, 1)) == {SAT}
    assert weekend_days(D(2025, 3, 1)) == {MON}
    assert non_working_days(D(2025, 6, 2), D(2025, 6, 8)) == {D(2025, 6, 7)}  # a Saturday
