import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from tashil.core import calendar
from tashil.core.calendar import (
    add_working_days,
    is_working_day,
    non_working_days,
    sync_holidays,
    weekend_days,
    working_days_between,
)
from tashil.core.management.commands.sync_holidays import gregorian_years_of
from tashil.core.models import Closure, Holiday, WeekendRule
from tashil.system import calendar as calendar_services
from tests.factories import AreaFactory, Role, user_with_role

D = dt.date
THU, FRI, SAT = 3, 4, 5


@pytest.fixture
def province(db):
    return AreaFactory()


@pytest.fixture
def other_province(db):
    return AreaFactory()


def _naive_add(start, n, province):
    """Day-by-day reference, one lookup per day, to check the windowed version."""
    day = start if n == 0 else start + dt.timedelta(days=1)
    found = 0
    while True:
        if is_working_day(day, province):
            found += 1
            if found == max(n, 1):
                return day
        day += dt.timedelta(days=1)


# --- Weekend -------------------------------------------------------------------


@pytest.mark.django_db
def test_default_weekend_is_thursday_and_friday():
    assert weekend_days(D(2025, 5, 5)) == {THU, FRI}
    week = non_working_days(D(2025, 5, 3), D(2025, 5, 9))  # Saturday to Friday
    assert week == {D(2025, 5, 8), D(2025, 5, 9)}
    assert all(d.weekday() in (THU, FRI) for d in week)


@pytest.mark.django_db
def test_default_weekend_comes_from_settings(settings):
    settings.DEFAULT_WEEKEND_DAYS = [FRI]
    assert weekend_days(D(2025, 5, 5)) == {FRI}
    assert is_working_day(D(2025, 5, 8))  # a Thursday


@pytest.mark.django_db
def test_latest_national_rule_in_force_applies():
    WeekendRule.objects.create(valid_from=D(2020, 1, 1), weekdays=[FRI])
    WeekendRule.objects.create(valid_from=D(2024, 6, 1), weekdays=[THU, FRI, SAT])
    assert weekend_days(D(2019, 12, 31)) == {THU, FRI}  # before any rule: the default
    assert weekend_days(D(2020, 1, 1)) == {FRI}
    assert weekend_days(D(2024, 5, 31)) == {FRI}
    assert weekend_days(D(2024, 6, 1)) == {THU, FRI, SAT}


def test_province_rule_overrides_national_rule(province, other_province):
    WeekendRule.objects.create(valid_from=D(2020, 1, 1), weekdays=[FRI])
    WeekendRule.objects.create(province=province, valid_from=D(2023, 7, 1), weekdays=[THU, FRI])
    assert weekend_days(D(2023, 8, 1), province) == {THU, FRI}
    assert weekend_days(D(2023, 8, 1), province.pk) == {THU, FRI}
    assert weekend_days(D(2023, 8, 1), other_province) == {FRI}
    assert weekend_days(D(2023, 8, 1)) == {FRI}
    # Before the province's rule starts, the national one holds there too.
    assert weekend_days(D(2023, 6, 30), province) == {FRI}


def test_weekend_rule_change_inside_a_range(province):
    WeekendRule.objects.create(valid_from=D(2025, 1, 1), weekdays=[FRI])
    WeekendRule.objects.create(province=province, valid_from=D(2025, 5, 10), weekdays=[THU, FRI])
    # 1–16 May 2025: Thursday 8 May is still working, Thursday 15 May is not.
    off = non_working_days(D(2025, 5, 1), D(2025, 5, 16), province)
    assert off == {D(2025, 5, 2), D(2025, 5, 9), D(2025, 5, 15), D(2025, 5, 16)}


# --- Holidays and working-day arithmetic ---------------------------------------


@pytest.mark.django_db
def test_add_working_days_across_nowruz_1404():
    start = D(2025, 3, 18)  # Tuesday 28 Esfand 1403
    assert add_working_days(start, 1) == D(2025, 3, 19)  # no holidays loaded yet

    result = sync_holidays([2025])
    assert result.created > 20

    # Wed 19 Mar oil nationalisation, Thu 20 last day of 1403 (and weekend),
    # Fri 21 – Mon 24 Nowruz: the first working day of 1404 is Tue 25 Mar.
    assert not any(is_working_day(D(2025, 3, day)) for day in range(19, 25))
    assert add_working_days(start, 1) == D(2025, 3, 25)
    assert add_working_days(start, 2) == D(2025, 3, 26)
    assert add_working_days(start, 3) == D(2025, 3, 29)  # after the weekend
    # Mon 31 Mar – Wed 2 Apr: Eid al-Fitr, its holiday, Nature's Day.
    assert add_working_days(start, 5) == D(2025, 4, 5)  # 16 Farvardin 1404
    assert working_days_between(start, D(2025, 4, 5)) == 5
    assert working_days_between(D(2025, 4, 5), start) == -5


@pytest.mark.django_db
def test_add_working_days_with_zero_and_negative_n():
    assert add_working_days(D(2025, 5, 5), 0) == D(2025, 5, 5)  # a Monday
    assert add_working_days(D(2025, 5, 8), 0) == D(2025, 5, 10)  # Thursday → Saturday
    assert add_working_days(D(2025, 5, 8), 1) == D(2025, 5, 10)
    # A start on a non-working day is not counted.
    assert add_working_days(D(2025, 5, 9), 2) == D(2025, 5, 11)
    with pytest.raises(ValueError):
        add_working_days(D(2025, 5, 5), -1)


def test_add_working_days_across_a_closure(province, other_province):
    Closure.objects.create(
        province=province, start_date=D(2025, 7, 20), end_date=D(2025, 7, 22), reason="گرما"
    )
    start = D(2025, 7, 19)  # Saturday
    assert add_working_days(start, 3, other_province) == D(2025, 7, 22)
    assert add_working_days(start, 3) == D(2025, 7, 22)
    # Sun–Tue closed: Wed 23 (1), Thu–Fri weekend, Sat 26 (2), Sun 27 (3).
    assert add_working_days(start, 3, province) == D(2025, 7, 27)
    assert working_days_between(start, D(2025, 7, 27), province) == 3
    assert working_days_between(start, D(2025, 7, 27), other_province) == 6


def test_closure_partly_outside_the_range(province):
    Closure.objects.create(
        province=province, start_date=D(2025, 7, 1), end_date=D(2025, 7, 31), reason="برق"
    )
    assert non_working_days(D(2025, 7, 30), D(2025, 8, 2), province) == {
        D(2025, 7, 30),
        D(2025, 7, 31),
        D(2025, 8, 1),  # 31 Jul is a Thursday, 1 Aug a Friday
    }


@pytest.mark.django_db
def test_inactive_holiday_is_a_working_day():
    Holiday.objects.create(date=D(2025, 5, 5), name_fa="آزمایشی", name_en="Test", is_active=False)
    assert is_working_day(D(2025, 5, 5))
    Holiday.objects.update(is_active=True)
    assert not is_working_day(D(2025, 5, 5))


@pytest.mark.django_db
def test_working_days_between_same_day_and_round_trip():
    start = D(2025, 5, 5)
    assert working_days_between(start, start) == 0
    for n in range(1, 25):
        assert working_days_between(start, add_working_days(start, n)) == n


def test_long_sla_is_a_few_queries_and_matches_day_by_day(province, django_assert_max_num_queries):
    sync_holidays([2025, 2026])
    WeekendRule.objects.create(province=province, valid_from=D(2025, 9, 1), weekdays=[FRI])
    Closure.objects.create(
        province=province, start_date=D(2025, 8, 3), end_date=D(2025, 8, 6), reason="گرد و غبار"
    )
    start = D(2025, 6, 15)
    with django_assert_max_num_queries(3):
        due = add_working_days(start, 200, province)
    assert due == _naive_add(start, 200, province)
    with django_assert_max_num_queries(3):
        assert working_days_between(start, due, province) == 200


def test_window_grows_when_the_first_one_is_not_enough(province, django_assert_max_num_queries):
    # A month-long closure makes the first window too short.
    Closure.objects.create(
        province=province, start_date=D(2025, 5, 1), end_date=D(2025, 6, 30), reason="کرونا"
    )
    with django_assert_max_num_queries(6):
        due = add_working_days(D(2025, 4, 30), 3, province)
    assert due == D(2025, 7, 5)  # Tue 1 Jul, Wed 2 Jul, Sat 5 Jul


@pytest.mark.django_db
def test_every_day_off_gives_up_instead_of_looping():
    WeekendRule.objects.create(valid_from=D(2020, 1, 1), weekdays=list(range(7)))
    with pytest.raises(ValueError):
        add_working_days(D(2025, 1, 1), 1)


# --- Syncing official holidays ---------------------------------------------------


@pytest.mark.django_db
def test_sync_stores_both_names_paired_correctly():
    sync_holidays([2025, 2026])
    nowruz = Holiday.objects.get(date=D(2025, 3, 21))
    assert (nowruz.name_fa, nowruz.name_en) == ("جشن نوروز", "Nowruz")
    assert nowruz.original_date == nowruz.date
    assert nowruz.source == Holiday.Source.PACKAGE
    # Two holidays share 22 March 2025.
    assert set(Holiday.objects.filter(date=D(2025, 3, 22)).values_list("name_en", flat=True)) == {
        "Martyrdom of Imam Ali",
        "Nowruz Holiday",
    }
    # On 21 March 2026 Nowruz and Eid al-Fitr coincide; the package sorts each
    # language's names alphabetically, so they do not line up by position.
    pairs = set(Holiday.objects.filter(date=D(2026, 3, 21)).values_list("name_en", "name_fa"))
    assert pairs == {("Nowruz", "جشن نوروز"), ("Eid al-Fitr", "عید سعید فطر")}


@pytest.mark.django_db
def test_sync_is_idempotent():
    first = sync_holidays([2025])
    rows = list(Holiday.objects.order_by("pk").values_list("pk", "date", "name_fa", "name_en"))
    second = sync_holidays([2025])
    assert first.created == len(rows) > 0
    assert (second.created, second.updated, second.removed) == (0, 0, 0)
    assert (
        list(Holiday.objects.order_by("pk").values_list("pk", "date", "name_fa", "name_en")) == rows
    )


@pytest.mark.django_db
def test_lunar_holidays_from_2027_are_estimated_without_a_marker_in_the_name():
    sync_holidays([2026, 2027])
    assert not Holiday.objects.filter(date__year=2026, is_estimated=True).exists()
    eid_2027 = Holiday.objects.get(original_date__year=2027, name_en="Eid al-Fitr")
    assert eid_2027.is_estimated
    assert eid_2027.name_fa == "عید سعید فطر"
    nowruz_2027 = Holiday.objects.get(date=D(2027, 3, 21))
    assert not nowruz_2027.is_estimated  # solar dates are fixed
    assert Holiday.objects.filter(date__year=2027, is_estimated=True).count() >= 15
    for name_fa, name_en in Holiday.objects.values_list("name_fa", "name_en"):
        assert "estimated" not in name_en
        assert "تخمینی" not in name_fa


@pytest.mark.django_db
def test_resync_never_undoes_an_administrators_correction():
    sync_holidays([2027])
    admin = user_with_role(Role.NATIONAL_ADMIN)
    eid = Holiday.objects.get(original_date__year=2027, name_en="Eid al-Fitr")
    estimated_date = eid.date
    calendar_services.holiday_correct(
        holiday=eid, new_date=estimated_date + dt.timedelta(days=1), acting_user=admin
    )
    count = Holiday.objects.count()

    result = sync_holidays([2027])

    eid.refresh_from_db()
    assert eid.date == estimated_date + dt.timedelta(days=1)
    assert eid.original_date == estimated_date
    assert eid.source == Holiday.Source.ADMIN and not eid.is_estimated
    assert Holiday.objects.count() == count
    assert not Holiday.objects.filter(date=estimated_date, name_en="Eid al-Fitr").exists()
    assert result.kept_corrections == 1
    assert (result.created, result.removed) == (0, 0)


@pytest.mark.django_db
def test_newer_package_confirming_a_corrected_date_adds_no_duplicate(monkeypatch):
    sync_holidays([2027])
    admin = user_with_role(Role.NATIONAL_ADMIN)
    eid = Holiday.objects.get(original_date__year=2027, name_en="Eid al-Fitr")
    real_date = eid.date - dt.timedelta(days=1)
    calendar_services.holiday_correct(holiday=eid, new_date=real_date, acting_user=admin)

    # A later package release confirms the date the administrator entered.
    confirmed = [
        calendar.PackageHoliday(real_date, h.name_fa, h.name_en, False)
        if h.name_en == "Eid al-Fitr"
        else h
        for h in calendar.package_holidays([2027])
    ]
    monkeypatch.setattr(calendar, "package_holidays", lambda years: confirmed)
    sync_holidays([2027])

    assert list(Holiday.objects.filter(name_en="Eid al-Fitr").values_list("pk", "date")) == [
        (eid.pk, real_date)
    ]


@pytest.mark.django_db
def test_sync_refreshes_and_prunes_package_rows_but_not_admin_rows():
    sync_holidays([2025])
    nowruz = Holiday.objects.get(date=D(2025, 3, 21))
    Holiday.objects.filter(pk=nowruz.pk).update(name_fa="نام قدیمی")
    # Rows for dates the package no longer lists (an older estimate).
    stale = Holiday.objects.create(
        date=D(2025, 5, 5), original_date=D(2025, 5, 5), name_fa="کهنه", name_en="Stale"
    )
    manual = Holiday.objects.create(
        date=D(2025, 5, 6),
        original_date=D(2025, 5, 6),
        name_fa="دستی",
        name_en="Manual",
        source=Holiday.Source.ADMIN,
    )
    other_year = Holiday.objects.create(
        date=D(2024, 5, 5), original_date=D(2024, 5, 5), name_fa="دیگر", name_en="Other"
    )

    result = sync_holidays([2025])

    assert (result.updated, result.removed) == (1, 1)
    nowruz.refresh_from_db()
    assert nowruz.name_fa == "جشن نوروز"
    assert not Holiday.objects.filter(pk=stale.pk).exists()
    assert Holiday.objects.filter(pk=manual.pk).exists()
    assert Holiday.objects.filter(pk=other_year.pk).exists()  # outside the synced years


def test_gregorian_years_of_jalali_years():
    assert gregorian_years_of(1403, 1403) == [2024, 2025]
    assert gregorian_years_of(1397, 1410) == list(range(2018, 2033))


@pytest.mark.django_db
def test_command_syncs_jalali_years(capsys):
    call_command("sync_holidays", "--from", "1403", "--to", "1403")
    years = set(Holiday.objects.values_list("date__year", flat=True))
    assert years == {2024, 2025}
    assert "added" in capsys.readouterr().out


@pytest.mark.django_db
def test_command_syncs_gregorian_years():
    call_command("sync_holidays", "--gregorian", "--from", "2026", "--to", "2026")
    assert set(Holiday.objects.values_list("date__year", flat=True)) == {2026}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args", [["--from", "1405", "--to", "1403"], ["--from", "2025", "--to", "2026"]]
)
def test_command_rejects_bad_ranges(args):
    with pytest.raises(CommandError):
        call_command("sync_holidays", *args)
    assert not Holiday.objects.exists()
