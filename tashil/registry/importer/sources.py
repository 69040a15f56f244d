"""Reading uploaded spreadsheets: what kind of file it is, its encoding, the
sheet, the header row, and the data rows as a stream.

Nothing here loads a whole file: a 50 MB workbook or a million-line CSV is
read row by row, and reading stops after MAX_EMPTY_RUN empty rows in a row,
so a sheet whose formatting runs to row 1,048,576 costs nothing.

XLSX: the workbook's parts (sheet list, shared strings, styles) are read by
openpyxl; the sheet itself is parsed here with the C XML parser, which is
several times faster than openpyxl's per-cell objects and sees formulas,
error values and merged ranges in the same pass.

Every reader holds the file to its Limits (limits.py): more rows or columns
than allowed, or a cell longer than allowed, is a FileProblem naming the
limit, never a silent cut.
"""

import codecs
import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from tashil.core.text import join_words

from .cells import (
    MAX_EMPTY_RUN,
    FileProblem,
    RawRow,
    too_long,
    too_many_columns,
    too_many_rows,
)
from .limits import Limits
from .xlsx import XlsxSource

# The header is looked for among the first rows that have something in them.
HEADER_SEARCH_ROWS = 20
SNIFF_BYTES = 64 * 1024


# --- What kind of file is it? ----------------------------------------------------------


def sniff(path) -> str:
    """'xlsx' or 'csv', or FileProblem saying what the file is instead."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if not head or not head.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise FileProblem(_("The file is empty."))
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                mimetype = b""
                if "mimetype" in names:
                    with archive.open("mimetype") as member:
                        mimetype = member.read(80)
        except (zipfile.BadZipFile, OSError, KeyError):
            raise FileProblem(
                _(
                    "The file is damaged: it looks like an Excel workbook but cannot be opened. "
                    "Open it in Excel and save it again as .xlsx."
                )
            ) from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if b"opendocument.spreadsheet" in mimetype:
            raise FileProblem(
                _(
                    "This is an OpenDocument spreadsheet (.ods). Save it as Excel workbook (.xlsx) "
                    "or CSV and upload that."
                )
            )
        if "word/document.xml" in names:
            raise FileProblem(
                _(
                    "This is a Word document, not a spreadsheet. Upload an Excel (.xlsx) or CSV file."
                )
            )
        raise FileProblem(
            _(
                "This is a compressed (zip) file, not a spreadsheet. Upload an Excel (.xlsx) or "
                "CSV file."
            )
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(
            _(
                "This is an old Excel 97-2003 file (.xls). Open it in Excel and save it as Excel "
                "workbook (.xlsx), then upload that."
            )
        )
    if head.startswith(b"%PDF"):
        raise FileProblem(
            _("This is a PDF document, not a spreadsheet. Upload an Excel (.xlsx) or CSV file.")
        )
    if head[:3] in (b"\xff\xd8\xff",) or head.startswith((b"\x89PNG", b"GIF8", b"RIFF")):
        raise FileProblem(
            _("This is a picture, not a spreadsheet. Upload an Excel (.xlsx) or CSV file.")
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    if b"\x00" in head or _control_ratio(head) > 0.02:
        raise FileProblem(_("This file is not a spreadsheet. Upload an Excel (.xlsx) or CSV file."))
    return "csv"


def _control_ratio(data: bytes) -> float:
    control = sum(1 for b in data if b < 32 and b not in (9, 10, 13))
    return control / max(len(data), 1)


# --- CSV ------------------------------------------------------------------------------


def detect_encoding(path) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or else Windows-1256,
    the Arabic code page older Persian Excel saves CSV in.

    The whole file is checked, since one Windows-1256 byte deep in a file
    that began in plain ASCII would otherwise break the import halfway."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1256"
    return "utf-8"


DELIMITERS = [",", ";", "\t", "|", "\u060c"]


def detect_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:30] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        pass
    # The delimiter that appears the same number of times on most lines.
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        counts = [line.count(delimiter) for line in lines]
        if not counts[0]:
            continue
        score = sum(1 for c in counts if c == counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


class CsvSource:
    file_format = "csv"

    def __init__(
        self,
        path,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        limits: Limits | None = None,
    ):
        self.path = path
        self.limits = limits or Limits.from_settings()
        self.encoding = encoding or detect_encoding(path)
        if delimiter is None:
            with open(path, encoding=self.encoding, errors="replace", newline="") as f:
                delimiter = detect_delimiter(f.read(SNIFF_BYTES))
        self.delimiter = delimiter
        self.sheet = ""
        self.sheets: list[str] = []
        self.merged: list[str] = []
        self.stopped_at: int | None = None

    def rows(self, *, max_columns: int | None = None) -> Iterator[RawRow]:
        """Non-empty records, numbered as a spreadsheet program would show them."""
        self.stopped_at = None
        limits = self.limits
        last_filled = 0
        number = 0
        with open(self.path, encoding=self.encoding, newline="") as f:
            reader = csv.reader(f, delimiter=self.delimiter)
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if "field limit" in str(exc):
                        raise too_long(csv.field_size_limit(), limits, number + 1, None) from None
                    raise FileProblem(
                        _(
                            "Row %(row)s cannot be read as CSV (%(reason)s). Check the file is a spreadsheet "
                            "saved as CSV."
                        )
                        % {"row": number + 1, "reason": exc},
                        row=number + 1,
                    ) from None
                except UnicodeDecodeError:
                    raise FileProblem(
                        _(
                            "Row %(row)s has characters in an unknown encoding. Save the file as "
                            "“CSV UTF-8” and upload it again."
                        )
                        % {"row": number + 1},
                        row=number + 1,
                    ) from None
                number += 1
                if len(record) > limits.columns:
                    filled = max((i for i, v in enumerate(record) if v.strip()), default=-1) + 1
                    if filled > limits.columns:
                        raise too_many_columns(filled, limits, number)
                for index, value in enumerate(record):
                    if len(value) > limits.cell_chars:
                        raise too_long(len(value), limits, number, index)
                if max_columns is not None:
                    record = record[:max_columns]
                if not any(v.strip() for v in record):
                    if number - last_filled > MAX_EMPTY_RUN:
                        self.stopped_at = last_filled
                        return
                    continue
                if number > limits.rows:
                    raise too_many_rows(limits, number)
                last_filled = number
                yield RawRow(number, [v if v.strip() else None for v in record])


def open_source(
    path,
    *,
    file_format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    limits: Limits | None = None,
):
    file_format = file_format or sniff(path)
    if file_format == "xlsx":
        return XlsxSource(path, sheet=sheet or None, limits=limits)
    return CsvSource(path, encoding=encoding or None, delimiter=delimiter or None, limits=limits)


# --- The header row -------------------------------------------------------------------


@dataclass
class Header:
    row: int
    columns: list[str]


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def find_header(source, *, score) -> Header:
    """The header is the row among the first ones whose cells best match known
    column names (`score(cells) -> int`); a title row above it is skipped. With
    no match at all, the first row with two or more filled cells."""
    candidates = []
    for raw in source.rows():
        candidates.append(raw)
        if len(candidates) >= HEADER_SEARCH_ROWS:
            break
    if not candidates:
        where = (
            _("The sheet “%(sheet)s”") % {"sheet": source.sheet} if source.sheet else _("The file")
        )
        others = [s for s in source.sheets if s != source.sheet]
        message = _("%(where)s has no rows.") % {"where": where}
        if others:
            message += " " + _(
                "The workbook also has these sheets: %(names)s. Choose the one with the data."
            ) % {"names": join_words(f"“{s}”" for s in others)}
        raise FileProblem(message)
    best, best_score = None, 0
    for raw in candidates:
        s = score([cell_text(v) for v in raw.values])
        if s > best_score:
            best, best_score = raw, s
    if best is None:
        best = next(
            (raw for raw in candidates if sum(1 for v in raw.values if v is not None) >= 2),
            candidates[0],
        )
    columns = [cell_text(v) for v in best.values]
    while columns and not columns[-1]:
        columns.pop()
    return Header(row=best.number, columns=columns)
