"""Files and helpers shared by the import tests (imported by them; this
module holds no tests of its own)."""

import csv
import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from tashil.geo import lookup
from tashil.registry.importer import engine, services
from tashil.registry.models import ImportBatch

HEADER = [
    "شناسه خانوار",
    "نام",
    "نام خانوادگی",
    "کد ملی",
    "نسبت با سرپرست",
    "جنسیت",
    "تاریخ تولد",
    "موبایل",
    "نوع مسکن",
    "وضعیت تصرف",
    "آب",
    "برق",
    "بیمه درمانی",
    "وضعیت اشتغال",
    "نشانی",
]


def code(prefix: str) -> str:
    """A valid national code from nine digits (the check digit is computed)."""
    digits = [int(c) for c in prefix]
    remainder = sum(d * (10 - i) for i, d in enumerate(digits)) % 11
    return prefix + str(remainder if remainder < 2 else 11 - remainder)


def person(
    hh="H1",
    first="مریم",
    last="احمدی",
    national=None,
    relation="سرپرست",
    sex="زن",
    birth="1360/05/12",
    mobile="",
    dwelling="خانه",
    tenure="مالک",
    water="رسمی",
    power="رسمی",
    insurance="سلامت",
    employment="شاغل",
    address="کوچه ۱۲",
):
    return [
        hh,
        first,
        last,
        national or "",
        relation,
        sex,
        birth,
        mobile,
        dwelling,
        tenure,
        water,
        power,
        insurance,
        employment,
        address,
    ]


def family(n=1, *, start=0, members=3):
    """`n` households of `members` people each, every person with a national code."""
    rows = []
    for i in range(start, start + n):
        hh = f"H{i:04d}"
        rows.append(
            person(
                hh,
                "زهرا",
                f"کریمی{i}",
                code(f"1{i:04d}0000"),
                "سرپرست",
                "زن",
                "1355/02/10",
                "09121234567",
            )
        )
        for j in range(1, members):
            rows.append(
                person(
                    hh,
                    f"فرزند{j}",
                    f"کریمی{i}",
                    code(f"2{i:04d}{j:04d}"),
                    "فرزند",
                    "مرد" if j % 2 else "زن",
                    f"{1385 + j}/01/0{j}",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "ندارد",
                    "محصل",
                )
            )
    return rows


def write_csv(path: Path, rows, *, header=HEADER, encoding="utf-8-sig", delimiter=","):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue()
    if encoding == "cp1256":
        # What older Persian Excel writes: Arabic ي, Latin digits (the code page
        # has no Persian ی or Persian digits).
        text = text.replace("ی", "ي").translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(
    path: Path,
    rows,
    *,
    header=HEADER,
    sheet="خانوارها",
    title=None,
    merged=(),
    formulas=(),
    extra_sheets=(),
):
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet
    if title:
        ws.append([title])
    if header is not None:
        ws.append(header)
    for row in rows:
        ws.append(row)
    for ref in merged:
        ws.merge_cells(ref)
    for ref, formula in formulas:
        ws[ref] = formula
    for name in extra_sheets:
        book.create_sheet(name)
    book.save(path)
    return path


def upload_file(path: Path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes())


class Importer:
    def __init__(self, network, tmp_path, on_commit):
        self.on_commit = on_commit
        self.n = network
        self.tmp = tmp_path
        self.user = network.users["facilitator"]
        self.office = network.office

    def csv(self, rows, name="file.csv", **kw):
        return write_csv(self.tmp / name, rows, **kw)

    def xlsx(self, rows, name="file.xlsx", **kw):
        return write_xlsx(self.tmp / name, rows, **kw)

    def call(self, service, **kwargs):
        """A service whose task is queued on commit: the tests' transaction
        never commits, so the callbacks are run here."""
        with self.on_commit(execute=True):
            return service(**kwargs)

    def upload(self, path, *, user=None, sheet="", name=None):
        """Upload, then read the file as the worker does (in a child process).
        A file the reading refuses raises ValidationError with the reason, as
        one the upload itself refuses does; the batch is then kept, failed."""
        batch = self.call(
            services.import_upload,
            acting_user=user or self.user,
            office=self.office,
            upload=upload_file(path, name),
            sheet=sheet,
        )
        batch.refresh_from_db()
        if services.inspection_failed(batch):
            raise ValidationError({"file": batch.failure})
        assert batch.status == ImportBatch.Status.UPLOADED, batch.status
        return batch

    def check(self, path, **kw) -> ImportBatch:
        """Upload and map (as suggested): the preview runs with the immediate backend."""
        batch = self.upload(path, **kw)
        self.call(
            services.import_set_mapping,
            acting_user=self.user,
            batch=batch,
            mapping={int(k): v for k, v in batch.mapping.items()},
        )
        batch.refresh_from_db()
        return batch

    def commit(self, batch, mode=ImportBatch.Mode.VALID_ROWS) -> ImportBatch:
        self.call(services.import_commit, acting_user=self.user, batch=batch, mode=mode)
        batch.refresh_from_db()
        return batch

    def run(self, rows, *, kind="csv", mode=ImportBatch.Mode.VALID_ROWS, **kw) -> ImportBatch:
        path = self.csv(rows, **kw) if kind == "csv" else self.xlsx(rows, **kw)
        batch = self.check(path)
        assert batch.status == ImportBatch.Status.VALIDATED, batch.failure
        if batch.valid_rows:
            batch = self.commit(batch, mode=mode)
        return batch


@pytest.fixture
def english():
    """Messages are asserted in English; the Persian ones come from the
    translation catalogue, which the tests for Persian check separately."""
    with translation.override("en"):
        yield


@pytest.fixture
def imp(network, tmp_path, settings, django_capture_on_commit_callbacks, english):
    settings.MEDIA_ROOT = tmp_path / "media"
    lookup.invalidate()
    yield Importer(network, tmp_path, django_capture_on_commit_callbacks)
    lookup.invalidate()


def messages_of(batch) -> list[str]:
    return [f"{e['row']}|{e['column']}|{e['message']}" for e in batch.errors]


__all__ = [
    "HEADER",
    "Importer",
    "code",
    "engine",
    "english",
    "family",
    "imp",
    "messages_of",
    "person",
    "upload_file",
    "write_csv",
    "write_xlsx",
]
