"""The one reader of tracking codes and public ids."""

import pytest

from tashil.demands.tracking import display_code, parse_code, parse_public_id, search_prefix


@pytest.mark.parametrize(
    "raw",
    [
        "ACDE3479",
        "acde3479",
        "ACDE-3479",
        " acde - 3479 ",
        "ACDE 3479",
        "ACDE-۳۴۷۹",  # Persian digits
        "ACDE-٣٤٧٩",  # Arabic-Indic digits
        "AC\u200cDE\t34\n79",
    ],
)
def test_a_code_as_typed_or_printed(raw):
    assert parse_code(raw) == "ACDE3479"


@pytest.mark.parametrize(
    "raw",
    [None, "", "   ", "ACDE347", "ACDE34799", "ACDE-3470", "OIL5-3479", "PACDE34797", "آب-۱۲۳۴"],
)
def test_what_cannot_be_a_code(raw):
    assert parse_code(raw) is None


def test_public_ids():
    assert parse_public_id("pacd-e347-97") == "PACDE34797"
    assert parse_public_id("PACDE۳۴۷۹۷") == "PACDE34797"
    assert parse_public_id("ACDE3479") is None  # a tracking code is not a public id
    assert parse_public_id("XACDE34797") is None
    assert parse_public_id("PACDE3479") is None
    assert parse_public_id(None) is None


def test_search_prefixes_only_forgive_spaces_and_dashes():
    assert search_prefix("acde-۳۴") == "ACDE34"
    assert search_prefix("ACD") is None
    assert search_prefix("ACDE.3479") is None
    assert search_prefix("آب") is None
    assert search_prefix("PACDE34797") == "PACDE34797"


def test_display():
    assert display_code("ACDE3479") == "ACDE-3479"
    assert parse_code(display_code("ACDE3479")) == "ACDE3479"
