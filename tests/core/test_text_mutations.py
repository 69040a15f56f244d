"""Every letter mapping, invisible mark and kind of space that normalisation
handles, one by one (see docs/benchmarks.md, Mutation testing)."""

import pytest
from django.utils import translation

from tashil.core.text import (
    ARABIC_DIGITS,
    PERSIAN_DIGITS,
    join_words,
    normalize,
    search_key,
    search_terms,
    to_ascii_digits,
    to_persian_digits,
)

ZWNJ = "\u200c"
LRM, RLM, ZWSP, BOM = "\u200e", "\u200f", "\u200b", "\ufeff"
NBSP, TAB = "\u00a0", "\t"


@pytest.mark.parametrize(
    ("arabic", "persian"),
    [
        ("ي", "ی"),  # Arabic yeh
        ("ى", "ی"),  # alef maksura
        ("ئ", "ی"),  # yeh with hamza
        ("ك", "ک"),  # Arabic kaf
        ("ة", "ه"),  # teh marbuta
        ("ۀ", "ه"),  # heh with yeh above
        ("أ", "ا"),  # alef with hamza above
        ("إ", "ا"),  # alef with hamza below
        ("ٱ", "ا"),  # alef wasla
        ("ؤ", "و"),  # waw with hamza
    ],
)
def test_each_arabic_letter_has_its_persian_search_form(arabic, persian):
    assert search_key(f"ب{arabic}ت") == f"ب{persian}ت"


def test_normalize_unifies_only_yeh_and_kaf():
    assert normalize("يىك") == "ییک"
    # Hamza forms, teh marbuta and heh with yeh are correct spelling.
    for kept in ("ئ", "ة", "ۀ", "أ", "إ", "ٱ", "ؤ"):
        assert normalize(f"ب{kept}ت") == f"ب{kept}ت"


@pytest.mark.parametrize(
    "mark",
    [
        LRM,
        RLM,
        ZWSP,
        BOM,
        "\u0640",  # tatweel
        "\u064b",  # fathatan
        "\u064c",  # dammatan
        "\u064d",  # kasratan
        "\u064e",  # fatha
        "\u064f",  # damma
        "\u0650",  # kasra
        "\u0651",  # shadda
        "\u0652",  # sukun
        "\u0670",  # superscript alef
    ],
)
def test_invisible_marks_and_diacritics_are_dropped(mark):
    assert normalize(f"{mark}علی{mark}رضا{mark}") == "علیرضا"
    assert search_key(f"{mark}علی{mark}رضا{mark}") == "علیرضا"


@pytest.mark.parametrize("mark", ["\u0653", "\u0654", "\u0655"])
def test_combining_hamza_and_madda_are_dropped_from_words_that_do_not_compose(mark):
    # After "ب" they cannot compose into one letter, so they are dropped.
    assert normalize(f"ب{mark}ت") == "بت"
    assert search_key(f"ب{mark}ت") == "بت"


@pytest.mark.parametrize("space", [TAB, NBSP, "\n", "\r\n", "  ", f" {TAB}{NBSP} "])
def test_tabs_and_non_breaking_spaces_become_one_space(space):
    assert normalize(f"{space}کوی{space}مدرس{space}") == "کوی مدرس"
    assert search_key(f"{space}کوی{space}مدرس{space}") == "کوی مدرس"
    assert search_terms(f"کوی{space}مدرس") == ["کوی", "مدرس"]


def test_normalize_keeps_zwnj_but_search_key_drops_it():
    word = f"می{ZWNJ}روم"
    assert normalize(word) == word
    assert search_key(word) == "میروم"
    assert normalize(f"می{ZWNJ}{ZWNJ}{ZWNJ}روم") == word


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        (f"می {ZWNJ}روم", "می روم"),
        (f"می{ZWNJ} روم", "می روم"),
        (f"می {ZWNJ} روم", "می روم"),
        (f"می{ZWNJ}{ZWNJ} روم", "می روم"),
        (f"{ZWNJ}می", f"{ZWNJ}می"),
    ],
)
def test_a_zwnj_beside_a_space_is_a_space(typed, clean):
    assert normalize(typed) == clean


def test_normalize_composes_letters_and_keeps_case():
    # "ا" + combining madda is the one letter "آ".
    assert normalize("\u0627\u0653ب") == "آب"
    assert normalize("Ahvaz") == "Ahvaz"
    assert normalize(12) == "12"
    assert normalize(0) == ""


def test_search_key_folds_compatibility_forms_and_case():
    # Presentation forms and full-width Latin fold to the plain letters.
    assert search_key("\ufef5") == search_key("لآ")
    assert search_key("ＡＢＣ") == "abc"
    assert search_key(1403) == "1403"


@pytest.mark.parametrize(
    "mark",
    ["،", "؛", "؟", "٪", "٫", "٬", "۔", "«", "»", "!", '"', "#", "$", "%", "&", "'", "(", ")"]
    + ["*", "+", ",", "-", ".", "/", ":", ";", "<", "=", ">", "?", "@", "[", "\\", "]", "^"]
    + ["_", "`", "{", "|", "}", "~"],
)
def test_every_punctuation_mark_separates_words(mark):
    assert search_key(f"کوی{mark}مدرس") == "کوی مدرس"
    assert search_key(f"کوی{mark}{mark} {mark}مدرس{mark}") == "کوی مدرس"


def test_digits_in_every_script():
    assert to_ascii_digits(PERSIAN_DIGITS) == "0123456789"
    assert to_ascii_digits(ARABIC_DIGITS) == "0123456789"
    assert to_persian_digits("0123456789") == PERSIAN_DIGITS
    assert to_persian_digits(ARABIC_DIGITS) == PERSIAN_DIGITS
    assert normalize(PERSIAN_DIGITS + ARABIC_DIGITS) == "0123456789" * 2
    assert search_key(PERSIAN_DIGITS + " " + ARABIC_DIGITS) == "0123456789 0123456789"


def test_search_terms_of_nothing():
    assert search_terms(None) == []
    assert search_terms(" ، ") == []


def test_join_words_uses_the_languages_comma():
    with translation.override("fa"):
        assert join_words(["آب", "برق", 3]) == "آب، برق، 3"
    with translation.override("en"):
        assert join_words(["water", "power"]) == "water, power"
    with translation.override(None):
        assert join_words(["آب", "برق"]) == "آب، برق"
