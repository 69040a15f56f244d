import datetime as dt

import pytest
from django.utils import translation

from tashil.core import jalali
from tashil.core.jalali import Period, format_date, format_datetime, is_leap, parse_date, period_of

FIRST_OPENING = dt.date(2018, 7, 15)  # Zoviyeh and Malashieh offices


def test_24_tir_1397_is_15_july_2018_a_sunday():
    assert jalali.to_gregorian(1397, 4, 24) == FIRST_OPENING
    assert FIRST_OPENING.weekday() == 6
    j = jalali.to_jalali(FIRST_OPENING)
    assert (j.year, j.month, j.day) == (1397, 4, 24)
    assert format_date(FIRST_OPENING, "weekday", "fa") == "یکشنبه ۲۴ تیر ۱۳۹۷"
    assert format_date(FIRST_OPENING, "weekday", "en") == "Sunday 24 Tir 1397"


def test_leap_years_and_the_30th_of_esfand():
    assert is_leap(1403)
    assert not is_leap(1402)
    assert parse_date("1403/12/30") == dt.date(2025, 3, 20)
    with pytest.raises(ValueError):
        parse_date("1402/12/30")
    assert parse_date("1402/12/29") == dt.date(2024, 3, 19)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (Period("month", 1403, 1), dt.date(2024, 3, 20), dt.date(2024, 4, 19)),
        # Esfand of a leap year has 30 days, of a common year 29.
        (Period("month", 1403, 12), dt.date(2025, 2, 19), dt.date(2025, 3, 20)),
        (Period("month", 1402, 12), dt.date(2024, 2, 20), dt.date(2024, 3, 19)),
        (Period("month", 1403, 6), dt.date(2024, 8, 22), dt.date(2024, 9, 21)),
        (Period("quarter", 1403, 1), dt.date(2024, 3, 20), dt.date(2024, 6, 20)),
        (Period("quarter", 1403, 4), dt.date(2024, 12, 21), dt.date(2025, 3, 20)),
        (Period("half", 1403, 1), dt.date(2024, 3, 20), dt.date(2024, 9, 21)),
        (Period("half", 1403, 2), dt.date(2024, 9, 22), dt.date(2025, 3, 20)),
        (Period("year", 1403), dt.date(2024, 3, 20), dt.date(2025, 3, 20)),
        (Period("year", 1404), dt.date(2025, 3, 21), dt.date(2026, 3, 20)),
    ],
)
def test_period_boundaries(period, start, end):
    assert period.start == start
    assert period.end == end
    assert period.contains(start) and period.contains(end)
    assert not period.contains(start - dt.timedelta(days=1))
    assert not period.contains(end + dt.timedelta(days=1))
    assert period.next().start == end + dt.timedelta(days=1)


def test_period_of_each_kind():
    last_day_of_1403 = dt.date(2025, 3, 20)
    assert period_of(last_day_of_1403, "month") == Period("month", 1403, 12)
    assert period_of(last_day_of_1403, "quarter") == Period("quarter", 1403, 4)
    assert period_of(last_day_of_1403, "half") == Period("half", 1403, 2)
    assert period_of(last_day_of_1403, "year") == Period("year", 1403)
    nowruz = dt.date(2025, 3, 21)
    assert period_of(nowruz, "month") == Period("month", 1404, 1)
    assert period_of(nowruz, "half") == Period("half", 1404, 1)
    assert period_of(dt.date(2024, 9, 22), "half") == Period("half", 1403, 2)


def test_period_navigation_wraps_years():
    assert Period("quarter", 1403, 4).next() == Period("quarter", 1404, 1)
    assert Period("month", 1404, 1).previous() == Period("month", 1403, 12)
    assert Period("half", 1403, 1).previous() == Period("half", 1402, 2)


@pytest.mark.parametrize(
    ("kind", "index"), [("quarter", 5), ("month", 0), ("half", 3), ("week", 1)]
)
def test_period_rejects_bad_kind_or_index(kind, index):
    with pytest.raises(ValueError):
        Period(kind, 1403, index)


def test_period_labels():
    assert Period("month", 1403, 12).label("fa") == "اسفند ۱۴۰۳"
    assert Period("month", 1403, 12).label("en") == "Esfand 1403"
    assert Period("quarter", 1403, 2).label("en") == "Q2 1403"
    assert Period("half", 1403, 2).label("fa") == "نیمه دوم ۱۴۰۳"


def test_format_date_persian_digits_in_fa_and_latin_in_en():
    assert format_date(FIRST_OPENING, lang="fa") == "۲۴ تیر ۱۳۹۷"
    assert format_date(FIRST_OPENING, "short", "fa") == "۱۳۹۷/۰۴/۲۴"
    assert format_date(FIRST_OPENING, lang="en") == "24 Tir 1397"
    assert format_date(FIRST_OPENING, "short", "en") == "1397/04/24"
    with translation.override("en"):
        assert format_date(FIRST_OPENING, "short") == "1397/04/24"
    with translation.override("fa"):
        assert format_date(FIRST_OPENING, "short") == "۱۳۹۷/۰۴/۲۴"
    assert format_date(None) == ""


def test_format_datetime_shows_tehran_time():
    # 21:00 UTC on 20 March 2025 is 00:30 on 1 Farvardin 1404 in Tehran.
    moment = dt.datetime(2025, 3, 20, 21, 0, tzinfo=dt.UTC)
    assert format_datetime(moment, "en") == "1404/01/01 00:30"
    assert format_datetime(moment, "fa") == "۱۴۰۴/۰۱/۰۱ ۰۰:۳۰"
    assert jalali.to_jalali(moment).month == 1


@pytest.mark.parametrize(
    "text",
    [
        "۱۳۹۷/۰۴/۲۴",
        "١٣٩٧/٠٤/٢٤",
        "1397/04/24",
        "1397/4/24",
        "1397-04-24",
        "1397.04.24",
        " ۱۳۹۷ / ۴ / ۲۴ ",
    ],
)
def test_parse_date_accepts_any_digits_and_separators(text):
    assert parse_date(text) == FIRST_OPENING


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a Jalali date as YYYY/MM/DD, for example 1403/01/15."),
        ("tomorrow", "Enter a Jalali date as YYYY/MM/DD, for example 1403/01/15."),
        ("24/04/1397", "Enter a Jalali date as YYYY/MM/DD, for example 1403/01/15."),
        ("1403/13/01", "The month must be between 1 and 12."),
        ("1403/00/10", "The month must be between 1 and 12."),
        ("1403/07/31", "Month Mehr of 1403 has 30 days."),
        ("1402/12/30", "Month Esfand of 1402 has 29 days."),
        ("1403/01/00", "Month Farvardin of 1403 has 31 days."),
    ],
)
def test_parse_date_bad_input_messages(text, message):
    with translation.override("en"):
        with pytest.raises(ValueError) as error:
            parse_date(text)
        assert str(error.value) == message
