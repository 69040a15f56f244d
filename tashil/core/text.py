"""Persian text normalisation.

`normalize` cleans text for storage and display; `search_key` turns it into a
key for matching, so that the same words match whether typed with Arabic or
Persian letters, Persian/Arabic/ASCII digits, with or without ZWNJ.

Python's `\\d` and `str.isdigit` accept Persian digits, so always normalise
before validating numbers.
"""

import re
import unicodedata

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
ZWNJ = "\u200c"

_TO_ASCII_DIGITS = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN_DIGITS = str.maketrans("0123456789" + ARABIC_DIGITS, PERSIAN_DIGITS * 2)

# Letters: Arabic forms → Persian ones.
_LETTERS = {
    "ي": "ی",
    "ى": "ی",
    "ئ": "ی",  # in search keys only, see below
    "ك": "ک",
    "ة": "ه",
    "ۀ": "ه",
    "أ": "ا",
    "إ": "ا",
    "ٱ": "ا",
    "ؤ": "و",
}
# Characters that carry no meaning for matching: diacritics (harakat), tatweel,
# and invisible marks other than ZWNJ.
_DROP = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0653\u0654\u0655\u0670\u0640\u200e\u200f\u200b\ufeff"

# Explicit directional formatting (Unicode's bidi algorithm, UAX #9): the
# embeddings and overrides LRE, RLE, PDF, LRO, RLO (U+202A-U+202E) and the
# isolates LRI, RLI, FSI, PDI (U+2066-U+2069). They open a scope that runs on
# into whatever is shown next to the text (a title in a list, a tracking code,
# an Open311 field), and an override can make text read backwards. Persian
# with English or digits in it displays right without them, so stored text
# drops them all rather than balancing them: even a balanced RLO...PDF pair
# reverses what is inside it. The marks LRM and RLM (U+200E, U+200F) have no
# scope; `normalize` drops them too, with the other invisible characters.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI_TABLE = str.maketrans(dict.fromkeys(BIDI_CONTROLS))

# `normalize` keeps hamza forms (they are correct spelling) and only unifies
# Arabic ي/ى/ك, digits, and removes diacritics and tatweel.
_NORMALIZE_TABLE = str.maketrans(
    {"ي": "ی", "ى": "ی", "ك": "ک", **{c: None for c in _DROP + BIDI_CONTROLS}}
    | dict(zip(PERSIAN_DIGITS + ARABIC_DIGITS, "0123456789" * 2, strict=True))
)
_SEARCH_TABLE = str.maketrans(
    {**_LETTERS, **{c: None for c in _DROP + BIDI_CONTROLS}, ZWNJ: None}
    | dict(zip(PERSIAN_DIGITS + ARABIC_DIGITS, "0123456789" * 2, strict=True))
)
_SPACES = re.compile(r"\s+")
# Punctuation that separates words in search keys (Persian and Latin).
_PUNCT = re.compile(
    r"[\u060c\u061b\u061f\u066a-\u066c\u06d4«»!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+"
)


def to_ascii_digits(value: str) -> str:
    return value.translate(_TO_ASCII_DIGITS)


def to_persian_digits(value) -> str:
    return str(value).translate(_TO_PERSIAN_DIGITS)


def strip_bidi_controls(value: str | None) -> str:
    """The text without direction embeddings, overrides or isolates: for
    stored text that keeps its line breaks and so does not go through
    `normalize` (notes, addresses, descriptions of areas and zones)."""
    if not value:
        return ""
    return str(value).translate(_BIDI_TABLE)


def normalize(value: str | None) -> str:
    """Clean user text for storage: unify letters and digits, drop diacritics,
    tatweel and direction controls, tidy ZWNJ and whitespace. Keeps the text
    readable."""
    if not value:
        return ""
    text = unicodedata.normalize("NFC", str(value)).translate(_NORMALIZE_TABLE)
    # A ZWNJ next to a space, or doubled, is a typing slip.
    text = re.sub(f"{ZWNJ}+", ZWNJ, text)
    text = re.sub(f" ?{ZWNJ} ?", lambda m: " " if " " in m.group(0) else ZWNJ, text)
    return _SPACES.sub(" ", text).strip()


def search_key(value: str | None) -> str:
    """A matching key: lower-case, Persian letters, ASCII digits, no ZWNJ,
    diacritics or punctuation, single spaces."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).translate(_SEARCH_TABLE).lower()
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def search_terms(query: str | None) -> list[str]:
    """Split a user's query into normalised terms for `icontains` matching."""
    return [t for t in search_key(query).split(" ") if t]


def join_words(items) -> str:
    """Items joined with the comma of the active language: «، » in Persian,
    ", " in English."""
    from django.utils.translation import get_language

    separator = "، " if (get_language() or "fa").startswith("fa") else ", "
    return separator.join(str(item) for item in items)
