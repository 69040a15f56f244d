import pytest
from django.utils import translation

from tashil.core.text import (
    BIDI_CONTROLS,
    normalize,
    search_key,
    search_terms,
    strip_bidi_controls,
    to_ascii_digits,
    to_persian_digits,
)

ZWNJ = "\u200c"


@pytest.mark.parametrize(
    ("arabic", "persian"),
    [
        ("علي", "علی"),  # Arabic yeh
        ("مصطفى", "مصطفی"),  # alef maksura
        ("كوي مدرس", "کوی مدرس"),  # Arabic kaf and yeh together
    ],
)
def test_search_key_unifies_arabic_and_persian_letters(arabic, persian):
    assert arabic != persian
    assert search_key(arabic) == search_key(persian)
    assert "ي" not in search_key(arabic) and "ك" not in search_key(arabic)


@pytest.mark.parametrize("digits", ["۱۴۰۳", "١٤٠٣", "1403"])
def test_search_key_turns_persian_and_arabic_digits_into_ascii(digits):
    assert search_key(digits) == "1403"


def test_search_key_ignores_zwnj():
    assert search_key(f"می{ZWNJ}روم") == search_key("میروم") == "میروم"


def test_search_key_drops_diacritics_and_tatweel():
    assert search_key("مُحَمَّد") == "محمد"
    assert search_key("مـــحمد") == "محمد"


def test_search_key_lowercases_and_drops_punctuation():
    assert search_key("  Ahvaz,   ZOVIYEH! ") == "ahvaz zoviyeh"
    assert search_key("کوی مدرس، دزفول") == "کوی مدرس دزفول"


def test_search_key_of_nothing_is_empty():
    assert search_key(None) == ""
    assert search_key("") == ""


def test_search_terms_split_a_query_into_normalised_words():
    assert search_terms("كوي  مدرس، ۲") == ["کوی", "مدرس", "2"]


def test_normalize_unifies_letters_and_digits_but_keeps_zwnj():
    assert normalize(f"علي  مي{ZWNJ}رود ۱۲") == f"علی می{ZWNJ}رود 12"


def test_normalize_keeps_hamza_spelling():
    # Correct spelling; only search keys fold it.
    assert normalize("مسئول") == "مسئول"
    assert search_key("مسئول") != "مسئول"


def test_normalize_tidies_zwnj_slips():
    assert normalize(f"می{ZWNJ}{ZWNJ}روم") == f"می{ZWNJ}روم"
    assert normalize(f"می {ZWNJ}روم") == "می روم"


def test_normalize_drops_diacritics_and_tatweel_and_collapses_spaces():
    assert normalize("  مُحَمَّد   رضـــا \n") == "محمد رضا"
    assert normalize(None) == ""


def test_digit_conversion_both_ways():
    assert to_ascii_digits("۱۴۰۳/٠٤/15") == "1403/04/15"
    assert to_persian_digits(1403) == "۱۴۰۳"
    assert to_persian_digits("٤5") == "۴۵"


def test_fa_digits_filter_changes_text_and_leaves_markup_alone():
    from django.template import Context, Template
    from django.utils.functional import lazy
    from django.utils.safestring import SafeData, mark_safe

    from tashil.core.templatetags.tashil import fa_digits

    rules = mark_safe('<ul><li data-n="8">at least 8 characters &#x27;x&#x27;</li></ul>')
    with translation.override("fa"):
        assert fa_digits("at most 4000, got 5000") == "at most ۴۰۰۰, got ۵۰۰۰"
        # Codes keep their digits.
        assert fa_digits("کدی مانند ACDE-3479. در ۱۲ ردیف") == "کدی مانند ACDE-3479. در ۱۲ ردیف"
        assert fa_digits(12) == "۱۲"
        assert (
            fa_digits(rules) == '<ul><li data-n="8">at least ۸ characters &#x27;x&#x27;</li></ul>'
        )
        # Plain text is still escaped by the template after the digits change.
        html = Template("{{ v|fa_digits }}").render(Context({"v": "<b> 12 </b>"}))
        assert html == "&lt;b&gt; ۱۲ &lt;/b&gt;"
        assert Template("{{ v|fa_digits }}").render(Context({"v": rules})) == fa_digits(rules)
        # Lazy markup, as Django's password rules are, stays markup too.
        lazy_rules = lazy(lambda: rules, str)()
        assert Template("{{ v|fa_digits }}").render(Context({"v": lazy_rules})) == fa_digits(rules)
    with translation.override("en"):
        assert fa_digits("4000") == "4000" and fa_digits(rules) == rules
        assert isinstance(fa_digits(lazy(lambda: rules, str)()), SafeData)


RLO, PDF, RLI, PDI = "\u202e", "\u202c", "\u2067", "\u2069"


@pytest.mark.parametrize("control", list(BIDI_CONTROLS))
def test_normalize_drops_every_direction_embedding_override_and_isolate(control):
    assert normalize(f"کوچه{control} ۱۲") == "کوچه 12"


def test_normalize_drops_a_balanced_override_too():
    # A balanced pair still shows "gpj.exe" as "exe.jpg".
    assert normalize(f"photo{RLO}gpj{PDF}.exe") == "photogpj.exe"
    assert normalize(f"{RLI}مریم{PDI} احمدی") == "مریم احمدی"


def test_strip_bidi_controls_keeps_line_breaks_and_everything_else():
    text = f"خط اول{RLO}\nLine two \u200c ۱۲"
    assert strip_bidi_controls(text) == "خط اول\nLine two \u200c ۱۲"
    assert strip_bidi_controls(None) == ""


def test_search_key_ignores_direction_controls():
    assert search_key(f"کوی{RLO} علوی") == search_key("کوی علوی")
