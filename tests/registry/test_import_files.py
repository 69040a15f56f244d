"""Reading the files people actually have: encodings, delimiters, header
rows, Excel cell types, and every kind of file that is not a spreadsheet at
all. Each bad file gets a clear message and leaves nothing behind."""

# The shared fixtures are imported by name, which pyflakes reads as a redefinition.
# ruff: noqa: F811

import csv
import io
import zipfile
from xml.etree import ElementTree as ET

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from tashil.core.validators import normalize_mobile
from tashil.registry.importer import xlsx
from tashil.registry.importer.cleaning import MobileCleaner
from tashil.registry.importer.fields import field_for_header, suggest_mapping
from tashil.registry.importer.sources import (
    MAX_EMPTY_RUN,
    CsvSource,
    FileProblem,
    XlsxSource,
    detect_encoding,
    sniff,
)
from tashil.registry.models import Household, ImportBatch, Person

from .test_import_fixtures import HEADER, code, english, family, imp, person  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.django_db


# --- Encodings and delimiters -------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1256", "utf-16"])
def test_each_encoding_imports_the_same_persian_text(imp, encoding):
    rows = [person("H1", "علی", "كريمي", code("001234567"), address="كوچه ۱۲")]
    path = imp.csv(rows, name=f"{encoding}.csv", encoding=encoding)
    assert (
        detect_encoding(path)
        == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "cp1256": "cp1256", "utf-16": "utf-16"}[
            encoding
        ]
    )
    batch = imp.run(rows, name=f"{encoding}.csv", encoding=encoding)
    assert batch.status == ImportBatch.Status.COMMITTED, batch.errors
    p = Person.objects.get()
    # Arabic ي and ك become Persian ی and ک; nothing is mangled by the encoding.
    assert (p.first_name, p.last_name) == ("علی", "کریمی")
    assert Household.objects.get().address == "کوچه 12"


def test_cp1256_detected_even_when_the_first_megabyte_is_ascii(tmp_path):
    path = tmp_path / "late.csv"
    path.write_bytes(b"a,b\r\n" + b"1,2\r\n" * 300_000 + "محمد,رضا\r\n".encode("cp1256"))
    assert detect_encoding(path) == "cp1256"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_detected(imp, delimiter):
    batch = imp.run(family(2), name="d.csv", delimiter=delimiter)
    assert batch.committed_rows == 6


def test_persian_and_arabic_digits_are_read_as_numbers(imp):
    rows = [
        person(
            "ح۱", national="٠٠١٢٣٤٥٦٧٩".replace("٩", "9"), birth="۱۳۶۰/۰۵/۱۲", mobile="۰۹۱۲۱۲۳۴۵۶۷"
        )
    ]
    rows[0][3] = "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in code("001234567"))
    batch = imp.run(rows)
    assert batch.committed_rows == 1, batch.errors
    p = Person.objects.get()
    assert p.national_code == code("001234567")
    assert p.mobile == "+989121234567"
    assert p.birth_year == 1360
    assert Household.objects.get().external_id == "ح1"


# --- Header row, sheets ---------------------------------------------------------------


def test_a_title_row_above_the_header_is_skipped(imp):
    path = imp.xlsx(family(1), title="فهرست خانوارهای محله زویه - پاییز ۱۴۰۳")
    batch = imp.check(path)
    assert batch.header_row == 2
    assert batch.valid_rows == 3


def test_headers_match_with_arabic_letters_spaces_and_english():
    columns = ["كد ملي", "نام‌خانوادگی", "Relation", "household id", "تاريخ تولد", "something else"]
    mapping = suggest_mapping(columns)
    assert mapping == {
        0: "national_code",
        1: "last_name",
        2: "relation",
        3: "household_id",
        4: "birth_date",
    }
    assert field_for_header("  شماره  ملی ") == "national_code"


def test_a_saved_mapping_wins_over_the_known_names():
    from tashil.registry.importer.fields import header_key

    saved = {header_key("ستون ۳"): "mobile", header_key("نام"): "father_name"}
    mapping = suggest_mapping(["نام", "نام خانوادگی", "ستون ۳"], saved=saved)
    assert mapping == {0: "father_name", 1: "last_name", 2: "mobile"}


def test_the_chosen_sheet_is_read(imp):
    book = Workbook()
    book.active.title = "توضیحات"
    book.active.append(["این برگه فقط توضیح است"])
    data = book.create_sheet("داده")
    data.append(HEADER)
    for row in family(1):
        data.append(row)
    path = imp.tmp / "two.xlsx"
    book.save(path)
    batch = imp.check(path, sheet="داده")
    assert batch.sheet == "داده" and batch.valid_rows == 3


def test_a_wrong_sheet_name_lists_the_sheets(imp):
    path = imp.xlsx(family(1), extra_sheets=["دوم"])
    with pytest.raises(ValidationError) as error:
        imp.upload(path, sheet="سوم")
    text = str(error.value)
    assert "سوم" in text and "خانوارها" in text and "دوم" in text
    # Found when the worker read the file: the batch is kept as failed, with nothing to map.
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED and batch.columns == []
    assert not Person.objects.exists()


def test_an_empty_sheet_names_the_other_sheets(imp):
    book = Workbook()
    book.active.title = "خالی"
    other = book.create_sheet("اصلی")
    other.append(HEADER)
    path = imp.tmp / "empty-first.xlsx"
    book.save(path)
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "خالی" in str(error.value) and "اصلی" in str(error.value)


def test_a_missing_required_column_is_named(imp):
    header = [h for h in HEADER if h != "نسبت با سرپرست"]
    rows = [[v for i, v in enumerate(r) if HEADER[i] != "نسبت با سرپرست"] for r in family(1)]
    batch = imp.upload(imp.csv(rows, header=header))
    from tashil.registry.importer import services

    with pytest.raises(ValidationError) as error:
        services.import_set_mapping(
            acting_user=imp.user, batch=batch, mapping={int(k): v for k, v in batch.mapping.items()}
        )
    assert "Relation to head" in str(error.value) or "نسبت" in str(error.value)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UPLOADED
    assert Person.objects.count() == 0


def test_one_field_chosen_for_two_columns_is_refused(imp):
    batch = imp.upload(imp.csv(family(1)))
    from tashil.registry.importer import services

    mapping = {int(k): v for k, v in batch.mapping.items()}
    mapping[14] = "first_name"  # the address column
    with pytest.raises(ValidationError):
        services.import_set_mapping(acting_user=imp.user, batch=batch, mapping=mapping)


# --- Files that are not spreadsheets, or are broken ---------------------------------------


@pytest.mark.parametrize(
    "name, content, hint",
    [
        ("empty.csv", b"", "empty"),
        ("blank.xlsx", b"   \r\n\r\n", "empty"),
        (
            "report.xlsx",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
            "PDF",
        ),
        ("noise.xlsx", bytes(range(256)) * 40, "not a spreadsheet"),
        ("photo.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200, "picture"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "97-2003"),
        # Text reads as CSV, but not under a picture's name.
        ("photo.jpg", b"this is not an image\nhello\n", "named .jpg"),
    ],
)
def test_files_that_are_not_spreadsheets_are_refused_with_the_reason(imp, name, content, hint):
    path = imp.tmp / name
    path.write_bytes(content)
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert hint.lower() in str(error.value).lower()
    assert ImportBatch.objects.count() == 0


def test_a_zip_that_is_not_a_workbook(imp):
    path = imp.tmp / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "zip" in str(error.value).lower()


def test_a_truncated_workbook_is_refused(imp):
    good = imp.xlsx(family(3))
    broken = imp.tmp / "broken.xlsx"
    broken.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(ValidationError) as error:
        imp.upload(broken)
    assert "damaged" in str(error.value).lower()


def test_a_header_without_rows(imp):
    batch = imp.check(imp.csv([]))
    assert batch.status == ImportBatch.Status.VALIDATED
    assert batch.total_rows == 0 and batch.valid_rows == 0
    from tashil.registry.importer import services

    with pytest.raises(ValidationError):
        services.import_commit(acting_user=imp.user, batch=batch, mode="valid_rows")


def test_a_million_empty_rows_stop_reading_quickly_in_csv(imp):
    path = imp.tmp / "tail.csv"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(family(1))
    path.write_text(
        buf.getvalue()
        + ("," * (len(HEADER) - 1) + "\r\n") * 1_000_000
        + ",".join(family(1, start=5)[0]),
        encoding="utf-8",
    )
    source = CsvSource(path)
    rows = list(source.rows())
    assert len(rows) == 4  # header + 3 people: the row after the blank million is not reached
    assert source.stopped_at == 4
    batch = imp.check(path)
    assert batch.valid_rows == 3
    assert str(MAX_EMPTY_RUN) in batch.notice


def test_a_sheet_formatted_down_to_row_a_million_stops_quickly(imp, monkeypatch):
    """Rows with only formatting (what Excel writes after a column is styled) are empty rows."""
    path = imp.xlsx(family(1))
    # Re-write the sheet XML with a million styled, empty rows after the data.
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    empty = "".join(f'<row r="{n}"><c r="A{n}" s="0"/></row>' for n in range(6, 1_000_006))
    sheet = sheet.replace("</sheetData>", empty + "</sheetData>")
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    # Count the sheet's rows the parser hands over: reading ends a little after
    # MAX_EMPTY_RUN empty rows, long before the million.
    parsed = []

    def counting(source, events):
        for event, el in ET.iterparse(source, events=events):
            if event == "end" and el.tag.endswith("}row"):
                parsed.append(el.get("r"))
            yield event, el

    monkeypatch.setattr(xlsx, "iterparse", counting)
    source = XlsxSource(path)
    rows = list(source.rows())
    source.close()
    assert len(rows) == 4 and source.stopped_at == 4
    # The last row read is the first one past the run of MAX_EMPTY_RUN empty rows.
    assert int(parsed[-1]) == source.stopped_at + MAX_EMPTY_RUN + 1
    assert len(parsed) < 1100
    batch = imp.check(path)
    assert batch.valid_rows == 3 and batch.notice


# --- Excel cells ----------------------------------------------------------------------------


def test_numbers_dates_and_booleans_from_excel_cells(imp):
    import datetime as dt

    rows = family(1, members=2)
    rows[0][3] = int(code("001234567"))  # a national code typed as a number loses its zeros
    rows[0][6] = dt.datetime(1981, 8, 3)  # a real Excel date cell: Gregorian by definition
    rows[0][7] = 9121234567  # a mobile typed as a number
    batch = imp.run(rows, kind="xlsx")
    assert batch.committed_rows == 2, batch.errors
    head = Person.objects.get(memberships__relation="head")
    assert head.national_code == code("001234567")
    assert head.birth_date == dt.date(1981, 8, 3) and head.birth_year == 1360
    assert head.mobile == "+989121234567"


def test_formula_cells_are_refused_by_row_and_column(imp):
    path = imp.xlsx(family(2), formulas=[("D3", "=D2+1"), ("O5", '=CONCATENATE("کوچه ",1)')])
    batch = imp.check(path)
    assert batch.error_rows == 2
    by_row = {e["row"]: e for e in batch.errors}
    assert "(D)" in by_row[3]["column"] and "=D2+1" in by_row[3]["message"]
    assert "(O)" in by_row[5]["column"]


def test_merged_cells_are_refused_on_every_row_they_cover(imp):
    path = imp.xlsx(family(2), merged=["A2:A4"])
    batch = imp.check(path)
    rows = sorted({e["row"] for e in batch.errors})
    assert rows == [2, 3, 4]
    assert all("A2:A4" in e["message"] for e in batch.errors)
    assert batch.valid_rows == 3


def test_merged_cells_in_the_header_row_are_refused_at_upload(imp):
    path = imp.xlsx(family(1), merged=["B1:C1"])
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "B1:C1" in str(error.value)


def test_excel_error_values_are_refused(imp):
    path = imp.xlsx(family(1))
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    # Turn the second person's mobile cell into #N/A.
    import re

    sheet = re.sub(
        r'<c r="H3"[^>]*?(/>|>.*?</c>)', '<c r="H3" t="e"><v>#N/A</v></c>', sheet, count=1
    )
    if 'r="H3"' not in sheet:
        sheet = sheet.replace('<c r="I3"', '<c r="H3" t="e"><v>#N/A</v></c><c r="I3"', 1)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    batch = imp.check(path)
    assert [e["row"] for e in batch.errors] == [3]
    assert "#N/A" in batch.errors[0]["message"]


def test_sniff_tells_xlsx_from_csv(tmp_path):
    book = Workbook()
    book.save(tmp_path / "a.bin")
    (tmp_path / "b.bin").write_text("a,b\n1,2\n", encoding="utf-8")
    assert sniff(tmp_path / "a.bin") == "xlsx"
    assert sniff(tmp_path / "b.bin") == "csv"
    with pytest.raises(FileProblem):
        (tmp_path / "c.bin").write_bytes(b"")
        sniff(tmp_path / "c.bin")


def test_the_mobile_short_cut_agrees_with_the_validator():
    """The per-prefix memory of MobileCleaner must give exactly what
    normalize_mobile gives, for every prefix."""
    import random

    from django.core.exceptions import ValidationError as VE

    rnd = random.Random(7)
    cleaner = MobileCleaner()
    for prefix in range(9000, 10000):
        for _ in range(3):
            number = f"0{prefix}{rnd.randrange(100000):05d}0"[:11]
            try:
                expected = normalize_mobile(number)
            except VE:
                expected = None
            try:
                got = cleaner(number)
            except Exception:  # noqa: BLE001
                got = None
            assert got == expected, number


def test_messages_are_persian_for_a_persian_user(imp):
    """The batch keeps the uploader's language; the checking task writes its
    messages in it even though it runs in the background."""
    from django.utils import translation

    rows = family(1)
    rows[1][3] = "123"
    with translation.override("fa"):
        batch = imp.check(imp.csv(rows))
        assert batch.language == "fa"
    message = batch.errors[0]["message"]
    with translation.override("en"):
        from tashil.core.validators import NATIONAL_CODE_LENGTH_MESSAGE

        english_text = str(NATIONAL_CODE_LENGTH_MESSAGE)
    assert message != english_text
    assert any("\u0600" <= ch <= "\u06ff" for ch in message)
