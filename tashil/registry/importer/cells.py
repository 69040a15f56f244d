"""Rows and cells as a reader yields them, column letters, and the problems
that stop a read: every reader holds the file to its Limits (limits.py), and
more rows or columns, or a longer cell, than allowed is a FileProblem naming
the limit, never a silent cut."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .limits import Limits, number

# Reading stops after this many consecutive empty rows.
MAX_EMPTY_RUN = 1000


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says why and what to do."""

    def __init__(self, message, *, row=None, column=None):
        self.message, self.row, self.column = str(message), row, column
        super().__init__(self.message)


@dataclass
class Cell:
    """A cell the importer must refuse: a formula or an Excel error value."""

    column: int
    kind: str  # "formula" or "error"
    text: str


@dataclass
class RawRow:
    number: int
    values: list
    bad_cells: list = field(default_factory=list)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_LETTER_INDEX: dict[str, int] = {}


def column_index(letters: str) -> int:
    index = _LETTER_INDEX.get(letters)
    if index is None:
        index = 0
        for ch in letters:
            index = index * 26 + (ord(ch) - 64)
        index -= 1
        _LETTER_INDEX[letters] = index
    return index


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def too_many_columns(count: int, limits: Limits, row: int) -> FileProblem:
    return FileProblem(
        _(
            "Row %(row)s has data in %(n)s columns; at most %(limit)s columns can be imported. "
            "Delete the columns that are not needed and upload the file again."
        )
        % {"row": number(row), "n": number(count), "limit": number(limits.columns)},
        row=row,
    )


def too_long(length: int, limits: Limits, row: int | None, column: int | None) -> FileProblem:
    if row is None:
        message = _(
            "The workbook holds a text of %(n)s characters; a cell may hold at most %(limit)s."
        ) % {"n": number(length), "limit": number(limits.cell_chars)}
    else:
        message = _(
            "Row %(row)s, column %(column)s holds %(n)s characters; a cell may hold at most "
            "%(limit)s."
        ) % {
            "row": number(row),
            "column": column_letter(column or 0),
            "n": number(length),
            "limit": number(limits.cell_chars),
        }
    return FileProblem(message, row=row, column=column)


def too_many_rows(limits: Limits, row: int) -> FileProblem:
    return FileProblem(
        _("The file has more than %(limit)s rows. Split it into smaller files.")
        % {"limit": number(limits.rows)},
        row=row,
    )
