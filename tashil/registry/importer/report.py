"""What an import found: counts, the first errors for the preview page, and
the error file (the refused rows with their original columns, the row number
in the original file and an "errors" column, ready to be corrected and
imported again)."""

import tempfile

from django.core.files import File
from django.utils.translation import gettext as _

from tashil.core.exports import XlsxWriter

from .validation import describe

FIRST_ERRORS = 200


class Report:
    def __init__(self, *, columns: list[str], rtl: bool = True):
        self.columns = columns
        self.rtl = rtl
        self.total = 0
        self.error_rows = 0
        self.first_errors: list[dict] = []
        self.by_column: dict[str, int] = {}
        self._writer = None
        self._file = None

    def row_read(self):
        self.total += 1

    def add(self, number: int, values: list, problems: list):
        """A refused row: `problems` is [(column index or None, message)]."""
        self.error_rows += 1
        texts = []
        for column, message in problems:
            where = describe(self.columns, column)
            label = where or _("whole row")
            self.by_column[label] = self.by_column.get(label, 0) + 1
            if len(self.first_errors) < FIRST_ERRORS:
                self.first_errors.append({"row": number, "column": where, "message": message})
            texts.append(f"{where}: {message}" if where else message)
        self._write(number, values, " | ".join(texts))

    @property
    def valid_rows(self) -> int:
        return self.total - self.error_rows

    # -- the error file --

    def _write(self, number, values, text):
        if self._writer is None:
            self._file = tempfile.TemporaryFile()
            self._writer = XlsxWriter(self._file, sheet_name=_("Rows with errors"), rtl=self.rtl)
            self._writer.writerow([*self.columns, _("Row in the original file"), _("errors")])
        width = len(self.columns)
        cells = list(values[:width]) + [None] * (width - len(values[:width]))
        self._writer.writerow([*cells, number, text])

    def save_to(self, batch) -> None:
        if batch.error_file:
            batch.error_file.delete(save=False)
        if self._writer is None:
            return
        self._writer.close()
        self._file.seek(0)
        batch.error_file.save(f"{batch.pk}-errors.xlsx", File(self._file), save=False)
        self._file.close()
        self._writer = self._file = None

    def discard(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self._file.close()
        self._writer = self._file = None
