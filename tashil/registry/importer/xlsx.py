"""Reading XLSX: the workbook's parts (sheet list, shared strings, styles) are
read by openpyxl; the sheet itself is parsed here with the C XML parser,
which is several times faster than openpyxl's per-cell objects and sees
formulas, error values and merged ranges in the same pass."""

import re
import zipfile
from collections.abc import Iterator
from xml.etree.ElementTree import ParseError, iterparse

from django.utils.translation import gettext as _

from tashil.core.text import join_words

from .cells import (
    MAX_EMPTY_RUN,
    Cell,
    FileProblem,
    RawRow,
    column_index,
    is_empty,
    too_long,
    too_many_columns,
    too_many_rows,
)
from .limits import Limits

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
                    if not bad and all(is_empty(v) for v in values):
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
                    yield RawRow(number, [None if is_empty(v) else v for v in values], bad)
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
