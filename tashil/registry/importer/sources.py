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
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError, iterparse

from django.utils.translation import gettext as _

from tashil.core.text import join_words

from .limits import Limits, number

# Reading stops after this many consecutive empty rows.
MAX_EMPTY_RUN = 1000
# The header is looked for among the first rows that have something in them.
HEADER_SEARCH_ROWS = 20
SNIFF_BYTES = 64 * 1024


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


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


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


# --- XLSX -----------------------------------------------------------------------------

_MERGE_RE = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")


class XlsxSource:
    file_format = "xlsx"

    def __init__(self, path, *, sheet: str | None = None, limits: Limits | None = None):
        import openpyxl

        self.path = path
        self.limits = limits or Limits.from_settings()
        self.encoding = ""
        self.delimiter = ""
        self.stopped_at: int | None = None
        self._handle = open(path, "rb")
        try:
            self.book = openpyxl.load_workbook(
                self._handle, read_only=True, data_only=False, keep_links=False
            )
        except MemoryError:
            self._handle.close()
            raise
        except Exception:
            self._handle.close()
            raise FileProblem(
                _(
                    "The Excel file is damaged and cannot be opened. Open it in Excel, save it "
                    "again as .xlsx and upload it."
                )
            ) from None
        self.sheets = [ws.title for ws in self.book.worksheets if hasattr(ws, "_worksheet_path")]
        if not self.sheets:
            self.close()
            raise FileProblem(_("The workbook has no sheet with data."))
        if sheet:
            if sheet not in self.sheets:
                names = join_words(f"“{name}”" for name in self.sheets)
                self.close()
                raise FileProblem(
                    _("The workbook has no sheet named “%(sheet)s”. Its sheets are: %(names)s.")
                    % {"sheet": sheet, "names": names}
                )
            self.sheet = sheet
        else:
            self.sheet = self.sheets[0]
        ws = self.book[self.sheet]
        self._sheet_path = ws._worksheet_path
        self._shared = ws._shared_strings
        self._epoch = self.book.epoch
        self._date_styles = set(getattr(self.book, "_date_formats", ()) or ())
        self._timedelta_styles = set(getattr(self.book, "_timedelta_formats", ()) or ())
        self.merged = self._merged_ranges()

    def check_shared_strings(self) -> None:
        """Every shared string within the cell limit (they are all in memory
        already; their total size was bounded before they were read)."""
        limit = self.limits.cell_chars
        for text in self._shared:
            if text is not None and len(text) > limit:
                raise too_long(len(text), self.limits, None, None)

    def close(self):
        try:
            self.book.close()
        except Exception:  # noqa: BLE001 - closing a half-opened workbook
            pass
        self._handle.close()

    def _open_sheet(self):
        return self.book._archive.open(self._sheet_path)

    def _merged_ranges(self) -> list[str]:
        """Merged ranges of the sheet. Read-only openpyxl does not report them,
        so the sheet's XML is scanned for <mergeCell> as a byte stream."""
        found = []
        tail = b""
        with self._open_sheet() as src:
            while chunk := src.read(1 << 20):
                data = tail + chunk
                found.extend(m.group(1).decode() for m in _MERGE_RE.finditer(data))
                # An element split between two reads is found whole in the next
                # one; one seen twice is dropped below.
                tail = data[-300:]
        return list(dict.fromkeys(found))

    def rows(self, *, max_columns: int | None = None) -> Iterator[RawRow]:
        from openpyxl.utils.datetime import from_excel

        self.stopped_at = None
        limits = self.limits
        max_cells, max_chars = limits.columns, limits.cell_chars
        shared = self._shared
        date_styles, timedelta_styles, epoch = (
            self._date_styles,
            self._timedelta_styles,
            self._epoch,
        )
        last_filled = 0
        number = 0
        sheet_data = None
        ns = None
        ROW = C = V = F = IS = T = SHEETDATA = None
        try:
            with self._open_sheet() as src:
                for event, el in iterparse(src, events=("start", "end")):
                    if event == "start":
                        if ns is None:
                            # The main namespace differs between transitional and strict files.
                            ns = el.tag[: el.tag.index("}") + 1] if el.tag.startswith("{") else ""
                            ROW, C, V, F, IS, T, SHEETDATA = (
                                ns + t for t in ("row", "c", "v", "f", "is", "t", "sheetData")
                            )
                        elif el.tag == SHEETDATA:
                            sheet_data = el
                        continue
                    if el.tag != ROW:
                        continue
                    r = el.get("r")
                    number = int(r) if r else number + 1
                    widest = -1
                    values: list = []
                    bad: list[Cell] = []
                    col = -1
                    for c in el:
                        if c.tag != C:
                            continue
                        ref = c.get("r")
                        col = column_index(ref.rstrip("0123456789")) if ref else col + 1
                        if col >= max_cells and (len(c) or c.get("t") == "inlineStr"):
                            widest = max(widest, col)
                            continue
                        if max_columns is not None and col >= max_columns:
                            continue
                        kind = c.get("t", "n")
                        formula = c.find(F)
                        if formula is not None:
                            bad.append(Cell(col, "formula", "=" + (formula.text or "")))
                            value = c.findtext(V) or None
                        elif kind == "inlineStr":
                            node = c.find(IS)
                            value = (
                                "".join(t.text or "" for t in node.iter(T))
                                if node is not None
                                else None
                            )
                        else:
                            value = c.findtext(V)
                            if value is not None and value != "":
                                if kind == "s":
                                    value = shared[int(value)]
                                elif kind == "n":
                                    value = (
                                        float(value)
                                        if any(ch in value for ch in ".eE")
                                        else int(value)
                                    )
                                    style = c.get("s")
                                    if style and int(style) in date_styles:
                                        try:
                                            value = from_excel(
                                                value,
                                                epoch,
                                                timedelta=int(style) in timedelta_styles,
                                            )
                                        except (OverflowError, ValueError):
                                            bad.append(Cell(col, "error", "#VALUE!"))
                                            value = None
                                elif kind == "b":
                                    value = value == "1"
                                elif kind == "e":
                                    bad.append(Cell(col, "error", value))
                                    value = None
                                elif kind == "d":
                                    from openpyxl.utils.datetime import from_ISO8601

                                    value = from_ISO8601(value)
                            else:
                                value = None
                        if isinstance(value, str) and len(value) > max_chars:
                            raise too_long(len(value), limits, number, col)
                        if value is not None or col < len(values):
                            while len(values) < col:
                                values.append(None)
                            if col == len(values):
                                values.append(value)
                            else:
                                values[col] = value
                    if sheet_data is not None:
                        sheet_data.clear()
                    else:
                        el.clear()
                    if widest >= max_cells:
                        raise too_many_columns(widest + 1, limits, number)
                    if not bad and all(_is_empty(v) for v in values):
                        if number - last_filled > MAX_EMPTY_RUN:
                            self.stopped_at = last_filled
                            return
                        continue
                    if number - last_filled > MAX_EMPTY_RUN and last_filled:
                        self.stopped_at = last_filled
                        return
                    if number > limits.rows:
                        raise too_many_rows(limits, number)
                    last_filled = number
                    yield RawRow(number, [None if _is_empty(v) else v for v in values], bad)
        except (
            ParseError,
            zipfile.BadZipFile,
            KeyError,
            IndexError,
            ValueError,
            EOFError,
            OSError,
        ):
            raise FileProblem(
                _(
                    "The sheet “%(sheet)s” is damaged after row %(row)s. Open the file in Excel, save it again "
                    "as .xlsx and upload it."
                )
                % {"sheet": self.sheet, "row": number},
                row=number,
            ) from None


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
