"""Matching a file's headers to the import's fields (`columns.FIELDS`), and
the words accepted in choice cells."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from tashil.core.text import search_key

from .columns import FIELDS
from .fieldspec import NO_WORDS, YES_WORDS, FieldSpec

BY_KEY = {spec.key: spec for spec in FIELDS}
REQUIRED = tuple(spec.key for spec in FIELDS if spec.required)


def header_key(text) -> str:
    """How a header or a cell word is compared: search key, spaces removed."""
    return search_key(str(text or "")).replace(" ", "")


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for spec in FIELDS:
        names = [*spec.aliases, spec.key]
        for code, _lang in settings.LANGUAGES:
            with translation.override(code):
                names.append(str(spec.label))
        for name in names:
            table.setdefault(header_key(name), spec.key)
    return table


_ALIASES: dict[str, str] | None = None


def aliases() -> dict[str, str]:
    global _ALIASES
    if _ALIASES is None:
        _ALIASES = _alias_table()
    return _ALIASES


def field_for_header(text) -> str | None:
    return aliases().get(header_key(text))


def header_score(cells: list[str]) -> int:
    table = aliases()
    return sum(1 for cell in cells if cell and header_key(cell) in table)


def suggest_mapping(columns: list[str], saved: dict | None = None) -> dict[int, str]:
    """{column index: field key}: a saved mapping's choice for a header first,
    then the known names; each field is used once, by its first column."""
    mapping: dict[int, str] = {}
    used: set[str] = set()
    saved = saved or {}
    for index, header in enumerate(columns):
        key = header_key(header)
        if not key:
            continue
        choice = saved.get(key)
        if choice in BY_KEY and choice not in used:
            mapping[index] = choice
            used.add(choice)
    for index, header in enumerate(columns):
        if index in mapping or not header:
            continue
        choice = field_for_header(header)
        if choice and choice not in used:
            mapping[index] = choice
            used.add(choice)
    return mapping


def mapping_for_saving(columns: list[str], mapping: dict[int, str]) -> dict[str, str]:
    """A mapping keyed by header, so it fits other files with the same headers."""
    return {
        header_key(columns[i]): key
        for i, key in mapping.items()
        if i < len(columns) and header_key(columns[i])
    }


def choice_words(spec: FieldSpec) -> dict[str, str]:
    """Every accepted way of writing each choice of `spec`: the stored value,
    its label in each language, and the field's own words."""
    words: dict[str, str] = {}
    if spec.kind == "bool":
        for word in YES_WORDS:
            words[header_key(word)] = True
        for word in NO_WORDS:
            words[header_key(word)] = False
        for code, _lang in settings.LANGUAGES:
            with translation.override(code):
                words.setdefault(header_key(str(_("yes"))), True)
                words.setdefault(header_key(str(_("no"))), False)
        return words
    for value, label in spec.choices.choices:
        words[header_key(value)] = value
        for code, _lang in settings.LANGUAGES:
            with translation.override(code):
                words.setdefault(header_key(str(label)), value)
    for word, value in spec.words.items():
        words.setdefault(header_key(word), value)
    return words
