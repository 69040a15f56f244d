"""Jalali parsing and periods at their edges: month lengths, the first of a
month, and a pattern that must match the whole input (see docs/benchmarks.md,
Mutation testing)."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from tashil.core import jalali
from tashil.core.jalali import (
    Period,
    format_date,
    format_datetime,
    month_name,
    parse_date,
    period_of,
)


@pytest.mark.parametrize(
    ("text", "gregorian"),
    [
        ("1403/01/01", dt.date(2024, 3, 20)),  # Nowruz 1403
        ("1404/01/01", dt.date(2025, 3, 21)),
        ("1403/06/31", dt.date(2024, 9, 21)),  # 31 Shahrivar
        ("1403/07/01", dt.date(2024, 9, 22)),
        ("1403/07/30", dt.date(2024, 10, 21)),
        ("1403/08/30", dt.date(2024, 11, 20)),
        ("1403/09/30", dt.date(2024, 12, 20)),
        ("1403/10/30", dt.date(2025, 1, 19)),
        ("1403/11/30", dt.date(2025, 2, 18)),
        ("1403/12/01", dt.date(2025, 2, 19)),
        # The 30th of Mehr to Bahman in a common year too (Esfand has 29 there).
        ("1402/07/30", dt.date(2023, 10, 22)),
        ("1402/11/30", dt.date(2024, 2, 19)),
        ("1403/12/30", dt.date(2025, 3, 20)),  # 1403 is a leap year
        ("1402/12/29", dt.date(2024, 3, 19)),
        ("1403/1/1", dt.date(2024, 3, 20)),
        ("0999/01/01", jalali.to_gregorian(999, 1, 1)),
    ],
)
def test_month_ends_and_the_first_of_a_month_parse(text, gregorian):
    assert parse_date(text) == gregorian


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("1403/06/32", 31),
        ("1403/07/31", 30),
        ("1403/08/31", 30),
        ("1403/09/31", 30),
        ("1403/10/31", 30),
        ("1403/11/31", 30),
        ("1403/12/31", 30),  # leap Esfand still ends on the 30th
        ("1402/12/30", 29),
        ("1404/12/30", 29),
        ("1403/01/00", 31),
        ("1403/12/00", 30),
    ],
)
def test_days_past_the_end_of_the_month_are_refused(text, days):
    with translation.override("en"):
        with pytest.raises(ValueError) as error:
            parse_date(text)
        assert str(error.value).endswith(f" has {days} days.")


@pytest.mark.parametrize(
    "text",
    [
        "1403/01/150",
        "1403/01/15x",
        "x1403/01/15",
        "11403/01/15",
        "1403/001/15",
        "1403/01/15/2",
        "403/01/15",
        "1403//01/15",
        "1403 01 15",
        "1403/01",
        None,
    ],
)
def test_the_whole_input_must_be_one_date(text):
    with translation.override("en"):
        with pytest.raises(ValueError) as error:
            parse_date(text)
        assert str(error.value) == "Enter a Jalali date as YYYY/MM/DD, for example 1403/01/15."


def test_month_limits_are_one_and_twelve():
    assert parse_date("1403/12/15") == dt.date(2025, 3, 5)
    with translation.override("en"):
        with pytest.raises(ValueError) as error:
            parse_date("1403/13/15")
        assert str(error.value) == "The month must be between 1 and 12."


def test_month_names_in_both_languages():
    assert month_name(1, "fa") == "فروردین"
    assert month_name(12, "fa") == "اسفند"
    assert month_name(1, "en") == "Farvardin"
    assert month_name(12, "en") == "Esfand"
    assert [month_name(m, "en") for m in range(1, 13)] == jalali.MONTHS_EN
    with translation.override("en"):
        assert month_name(6) == "Shahrivar"
    with translation.override("fa"):
        assert month_name(6) == "شهریور"


def test_the_language_defaults_to_the_active_one_then_persian():
    assert jalali._is_fa("fa")
    assert jalali._is_fa("fa-ir")
    assert not jalali._is_fa("en")
    with translation.override("en"):
        assert not jalali._is_fa(None)
    with translation.override(None):
        assert jalali._is_fa(None)


def test_format_date_styles():
    day = dt.date(2025, 3, 20)  # Thursday 30 Esfand 1403
    assert format_date(day, "short", "en") == "1403/12/30"
    assert format_date(day, "short", "fa") == "۱۴۰۳/۱۲/۳۰"
    assert format_date(day, "long", "en") == "30 Esfand 1403"
    assert format_date(day, lang="fa") == "۳۰ اسفند ۱۴۰۳"
    assert format_date(day, "weekday", "en") == "Thursday 30 Esfand 1403"
    assert format_date(dt.date(2024, 3, 20), "short", "en") == "1403/01/01"
    assert format_date(None) == ""
    assert format_date("") == ""


def test_a_datetime_is_dated_in_tehran():
    # 21:00 UTC on 19 March is already 20 March (Nowruz 1403) in Tehran.
    late = dt.datetime(2024, 3, 19, 21, 0, tzinfo=dt.UTC)
    assert jalali.to_jalali(late) == jalali.to_jalali(dt.date(2024, 3, 20))
    assert format_date(late, "short", "en") == "1403/01/01"
    naive = dt.datetime(2024, 3, 19, 23, 0)
    assert format_date(naive, "short", "en") == "1402/12/29"
    assert format_datetime(late, "en") == "1403/01/01 00:30"
    assert format_datetime(late, "fa") == "۱۴۰۳/۰۱/۰۱ ۰۰:۳۰"
    assert format_datetime(naive, "en") == "1402/12/29 23:00"
    assert format_datetime(None) == ""
    assert format_datetime("") == ""


def test_today_is_the_local_date():
    assert jalali.today() == timezone.localdate()


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        (Period("month", 1403, 7), 7, 7),
        (Period("quarter", 1403, 2), 4, 6),
        (Period("quarter", 1403, 3), 7, 9),
        (Period("half", 1403, 2), 7, 12),
        (Period("year", 1403), 1, 12),
    ],
)
def test_period_months(period, first, last):
    assert (period.first_month, period.last_month) == (first, last)


def test_period_navigation_inside_and_across_years():
    assert Period("month", 1403, 5).next() == Period("month", 1403, 6)
    assert Period("month", 1403, 5).previous() == Period("month", 1403, 4)
    assert Period("month", 1403, 12).next() == Period("month", 1404, 1)
    assert Period("month", 1403, 1).previous() == Period("month", 1402, 12)
    assert Period("quarter", 1403, 4).next() == Period("quarter", 1404, 1)
    assert Period("quarter", 1403, 1).previous() == Period("quarter", 1402, 4)
    assert Period("half", 1403, 1).previous() == Period("half", 1402, 2)
    assert Period("year", 1403).previous() == Period("year", 1402)
    assert Period("year", 1403).next() == Period("year", 1404)
    # The index stays a whole number: labels show "Q4", not "Q4.0".
    assert Period("quarter", 1403, 1).previous().label("en") == "Q4 1402"
    assert Period("month", 1403, 1).previous().label("en") == "Esfand 1402"
    assert Period("half", 1403, 2).next().label("en") == "H1 1404"


def test_period_index_limits():
    Period("month", 1403, 12)
    Period("quarter", 1403, 4)
    Period("half", 1403, 2)
    for kind, index in (("month", 13), ("quarter", 5), ("half", 3), ("year", 2), ("month", 0)):
        with pytest.raises(ValueError, match=f"^index {index} out of range for {kind}$"):
            Period(kind, 1403, index)
    with pytest.raises(ValueError, match="^unknown period kind 'week'$"):
        Period("week", 1403, 1)


def test_period_of_picks_the_right_quarter_and_half():
    mehr_1 = dt.date(2024, 9, 22)  # 1 Mehr 1403
    assert period_of(mehr_1, "month") == Period("month", 1403, 7)
    assert period_of(mehr_1, "quarter") == Period("quarter", 1403, 3)
    assert period_of(mehr_1, "half") == Period("half", 1403, 2)
    shahrivar_31 = dt.date(2024, 9, 21)
    assert period_of(shahrivar_31, "quarter") == Period("quarter", 1403, 2)
    assert period_of(shahrivar_31, "half") == Period("half", 1403, 1)


def test_period_labels_in_both_languages():
    assert Period("month", 1403, 7).label("en") == "Mehr 1403"
    assert Period("month", 1403, 7).label("fa") == "مهر ۱۴۰۳"
    assert Period("quarter", 1403, 2).label("en") == "Q2 1403"
    assert Period("quarter", 1403, 2).label("fa") == "فصل ۲ ۱۴۰۳"
    assert Period("half", 1403, 1).label("en") == "H1 1403"
    assert Period("half", 1403, 1).label("fa") == "نیمه اول ۱۴۰۳"
    assert Period("half", 1403, 2).label("fa") == "نیمه دوم ۱۴۰۳"
    assert Period("year", 1403).label("en") == "1403"
    assert Period("year", 1403).label("fa") == "سال ۱۴۰۳"
    with translation.override("en"):
        assert str(Period("quarter", 1403, 2)) == "Q2 1403"


def test_age_counts_whole_jalali_years():
    today = jalali.to_jalali(dt.date(2026, 11, 22))  # 1 Azar 1405
    born = jalali.to_gregorian
    assert jalali.age_on(today, born(1340, 9, 1), None) == 65  # birthday today
    assert jalali.age_on(today, born(1340, 9, 2), None) == 64  # tomorrow
    assert jalali.age_on(today, born(1340, 8, 30), None) == 65  # yesterday
    # A later month with an earlier day is still to come this year.
    assert jalali.age_on(today, born(1340, 10, 1), None) == 64
    assert jalali.age_on(today, born(1340, 1, 1), None) == 65
    # A date of birth outranks the year typed beside it.
    assert jalali.age_on(today, born(1340, 9, 2), 1300) == 64
    assert jalali.age_on(today, None, 1340) == 65
    assert jalali.age_on(today, None, 1405) == 0
    assert jalali.age_on(today, None, None) is None
    assert jalali.age_on(today, None, 0) is None
