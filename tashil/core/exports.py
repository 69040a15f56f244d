"""Spreadsheet writing shared by every export and import report.

`open_writer(format, stream)` gives a writer with `.writerow(values)` and
`.close()` for XLSX or CSV. The XLSX writer streams the sheet straight into
the zip file, a row at a time, so a 200,000-row export needs no more memory
than a 20-row one and is several times faster than building cells with
openpyxl. CSV gets a BOM, so Excel reads Persian text correctly.

Export jobs: an app registers an Exporter for a `kind` of ExportJob; the one
`run_export_job` task then builds any kind of job in the background, with the
owner's scope and language at the time it runs.
"""

import csv
import datetime as dt
import io
import logging
import re
import tempfile
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.core.files import File
from django.db import transaction
from django.tasks import task
from django.utils import timezone, translation

from .jalali import format_date, format_datetime
from .models import ExportJob

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
FORMATS = tuple(CONTENT_TYPES)

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text a spreadsheet program would run as a formula gets a leading
    apostrophe, so an exported cell can never execute."""
    if value and value[0] in _FORMULA_START:
        return "'" + value
    return value


def plain(value):
    """A cell value as written: dates in Jalali with Latin digits (what
    spreadsheet filters and sorts handle), booleans and numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return format_datetime(value, lang="en")
    if isinstance(value, dt.date):
        return format_date(value, "short", lang="en")
    return value


def _column_letters(n: int) -> list[str]:
    letters = []
    for index in range(n):
        name, i = "", index + 1
        while i:
            i, rem = divmod(i - 1, 26)
            name = chr(65 + rem) + name
        letters.append(name)
    return letters


_CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_RELS_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
# Style 0: normal; style 1: bold, for the header row.
_STYLES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    "</fill></fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


class XlsxWriter:
    """A one-sheet workbook written as it goes. The first row is the header
    (bold, frozen)."""

    def __init__(self, stream, *, sheet_name: str = "Sheet1", rtl: bool = True):
        self.zip = zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3)
        name = escape(re.sub(r"[\[\]:*?/\\]", " ", sheet_name)[:31] or "Sheet1", {'"': "&quot;"})
        self.zip.writestr("[Content_Types].xml", _CONTENT_TYPES_XML)
        self.zip.writestr("_rels/.rels", _RELS_XML)
        self.zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS_XML)
        self.zip.writestr("xl/styles.xml", _STYLES_XML)
        self.zip.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        self.sheet = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        direction = 'rightToLeft="1" ' if rtl else ""
        self.sheet.write(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetViews><sheetView {direction}workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            "<sheetData>".encode()
        )
        self.row = 0
        self.letters: list[str] = []
        self.buffer: list[str] = []

    def writerow(self, values) -> None:
        self.row += 1
        r = self.row
        if len(values) > len(self.letters):
            self.letters = _column_letters(len(values))
        style = ' s="1"' if r == 1 else ""
        parts = [f'<row r="{r}">']
        for letter, value in zip(self.letters, values, strict=False):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                parts.append(f'<c r="{letter}{r}" t="b"{style}><v>{int(value)}</v></c>')
            elif isinstance(value, int | float):
                parts.append(f'<c r="{letter}{r}"{style}><v>{value!r}</v></c>')
            else:
                text = plain(value)
                if not isinstance(text, str):
                    text = str(text)
                text = escape(_INVALID_XML.sub("", text))
                parts.append(
                    f'<c r="{letter}{r}" t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'
                )
        parts.append("</row>")
        self.buffer.append("".join(parts))
        if len(self.buffer) >= 500:
            self._drain()

    def _drain(self):
        self.sheet.write("".join(self.buffer).encode())
        self.buffer = []

    def close(self) -> None:
        self._drain()
        self.sheet.write(b"</sheetData></worksheet>")
        self.sheet.close()
        self.zip.close()


class CsvWriter:
    def __init__(self, stream):
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
        # The BOM tells Excel the file is UTF-8, so Persian reads correctly.
        self.text.write("\ufeff")
        self.csv = csv.writer(self.text)

    def writerow(self, values) -> None:
        row = []
        for value in values:
            value = plain(value)
            row.append(safe_text(value) if isinstance(value, str) else value)
        self.csv.writerow(row)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


def open_writer(file_format: str, stream, *, sheet_name: str = "Sheet1", rtl: bool | None = None):
    if file_format == "xlsx":
        return XlsxWriter(
            stream,
            sheet_name=sheet_name,
            rtl=translation.get_language_bidi() if rtl is None else rtl,
        )
    return CsvWriter(stream)


# --- Export jobs ----------------------------------------------------------------------------


@dataclass
class Exporter:
    """How to build one kind of export. `rows(user, params, progress)` yields
    the header first, then each row; it decides what the user may see."""

    kind: str
    rows: object
    filename: object
    sheet_name: object = "Sheet1"


_EXPORTERS: dict[str, Exporter] = {}


def register(exporter: Exporter) -> Exporter:
    _EXPORTERS[exporter.kind] = exporter
    return exporter


def exporter_for(kind: str) -> Exporter | None:
    """The exporter of `kind`. Kinds are named "<app>_<what>" and registered
    by tashil/<app>/exports.py, which a worker may not have imported yet."""
    if kind not in _EXPORTERS:
        from importlib import import_module

        try:
            import_module(f"tashil.{kind.split('_', 1)[0]}.exports")
        except ImportError:
            return None
    return _EXPORTERS.get(kind)


def write(
    exporter: Exporter, *, user, params: dict, file_format: str, stream, progress=None
) -> int:
    writer = open_writer(file_format, stream, sheet_name=str(exporter.sheet_name))
    count = -1
    for row in exporter.rows(user, params, progress):
        writer.writerow(row)
        count += 1
    writer.close()
    return max(count, 0)


@dataclass
class ExportResult:
    """Either the finished file (small sets) or the job building it."""

    content: bytes | None = None
    filename: str = ""
    content_type: str = ""
    job: object = None


def deliver(
    exporter: Exporter, *, user, params: dict, file_format: str, total: int, direct_limit: int
) -> ExportResult:
    """Up to `direct_limit` rows are written while the user waits; more go to
    a background job whose progress the user watches."""
    if total <= direct_limit:
        stream = io.BytesIO()
        write(exporter, user=user, params=params, file_format=file_format, stream=stream)
        return ExportResult(
            content=stream.getvalue(),
            filename=exporter.filename(file_format),
            content_type=CONTENT_TYPES[file_format],
        )
    job = start_job(
        owner=user, kind=exporter.kind, file_format=file_format, params=params, total=total
    )
    return ExportResult(job=job)


def download(job):
    """A finished job's file, named as its exporter names it; 404 until then."""
    from django.http import FileResponse, Http404

    if job.status != job.Status.DONE or not job.file:
        raise Http404
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=exporter_for(job.kind).filename(job.file_format),
        content_type=CONTENT_TYPES[job.file_format],
    )


def start_job(*, owner, kind: str, file_format: str, params: dict, total: int = 0):
    job = ExportJob.objects.create(
        owner=owner, kind=kind, file_format=file_format, params=params, total=total
    )
    transaction.on_commit(lambda: run_export_job.enqueue(job.pk))
    return job


@task()
def run_export_job(job_id: int) -> str:
    job = ExportJob.objects.select_related("owner").filter(pk=job_id).first()
    exporter = exporter_for(job.kind) if job is not None else None
    if exporter is None:
        return "skipped"
    claimed = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, done=0
    )
    if not claimed:
        return "skipped"
    user = job.owner
    try:
        with translation.override(getattr(user, "preferred_language", "") or "fa"):

            def progress(done, total=None):
                values = {"done": done}
                if total is not None:
                    values["total"] = total
                ExportJob.objects.filter(pk=job.pk).update(**values)

            with tempfile.TemporaryFile() as stream:
                write(
                    exporter,
                    user=user,
                    params=job.params,
                    file_format=job.file_format,
                    stream=stream,
                    progress=progress,
                )
                stream.seek(0)
                job.refresh_from_db()
                job.file.save(
                    f"{job.pk}-{exporter.filename(job.file_format)}", File(stream), save=False
                )
        job.status, job.finished_at = ExportJob.Status.DONE, timezone.now()
        job.save(update_fields=["file", "status", "finished_at"])
    except Exception as exc:
        logger.exception("export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        return "failed"
    return "done"
