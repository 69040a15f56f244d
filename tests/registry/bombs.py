"""Hostile workbooks, written by hand with zipfile so that a test controls
every part: shared strings that unpack to hundreds of megabytes from a few,
cells of a mebibyte each, thousands of columns, and zip headers that lie."""

import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
MIB = 1 << 20


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _sheet(rows) -> str:
    """rows: lists of ("s", shared index) / ("t", inline text) / None."""
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{NS}">']
    out.append("<sheetData>")
    for r, row in enumerate(rows, start=1):
        out.append(f'<row r="{r}">')
        for c, cell in enumerate(row):
            if cell is None:
                continue
            kind, value = cell
            ref = f"{_column(c)}{r}"
            if kind == "s":
                out.append(f'<c r="{ref}" t="s"><v>{value}</v></c>')
            else:
                out.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out)


def _write_parts(archive: zipfile.ZipFile, sheet: str) -> None:
    archive.writestr("[Content_Types].xml", CONTENT_TYPES)
    archive.writestr("_rels/.rels", ROOT_RELS)
    archive.writestr("xl/workbook.xml", WORKBOOK)
    archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
    archive.writestr("xl/worksheets/sheet1.xml", sheet)


def _write_strings(archive: zipfile.ZipFile, strings) -> None:
    """strings: (count, iterator of str chunks making the <si> elements)."""
    count, chunks = strings
    with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
        out.write(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<sst xmlns="{NS}" count="{count}" uniqueCount="{count}">'.encode()
        )
        for chunk in chunks:
            out.write(chunk)
        out.write(b"</sst>")


def shared_strings_bomb(path: Path, *, megabytes: int = 400) -> Path:
    """A header row, then one cell whose shared string is `megabytes` MiB of
    one letter: a few hundred kilobytes on disk."""
    block = b"A" * MIB

    def chunks():
        yield b"<si><t>"
        for _ in range(megabytes):
            yield block
        yield b"</t></si>"

    header = [("t", name) for name in ("شناسه خانوار", "نام", "نام خانوادگی", "نسبت با سرپرست")]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        _write_parts(archive, _sheet([header, [("t", "H1"), ("s", 0)]]))
        _write_strings(archive, (1, chunks()))
    return path


def many_big_strings(path: Path, *, count: int = 1100, size: int = MIB) -> Path:
    """`count` different shared strings of `size` characters each, all used in
    the sheet: what kept the web process at 1.2 GB in the report."""

    def chunks():
        for i in range(count):
            text = (f"{i:06d}" + "x" * size)[:size]
            yield f"<si><t>{text}</t></si>".encode()

    header = [("t", name) for name in ("شناسه خانوار", "نام", "نام خانوادگی", "نسبت با سرپرست")]
    rows = [header] + [[("t", f"H{i}"), ("s", i)] for i in range(count)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        _write_parts(archive, _sheet(rows))
        _write_strings(archive, (count, chunks()))
    return path


def wide_sheet(path: Path, *, columns: int = 5000, rows: int = 3) -> Path:
    """A sheet with `columns` filled columns (inline strings, no shared strings)."""
    header = [("t", f"ستون {c}") for c in range(columns)]
    header[:4] = [("t", n) for n in ("شناسه خانوار", "نام", "نام خانوادگی", "نسبت با سرپرست")]
    body = [[("t", f"r{r}c{c}") for c in range(columns)] for r in range(rows)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _write_parts(archive, _sheet([header, *body]))
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{NS}" count="0" uniqueCount="0"/>',
        )
    return path


def long_cell(path: Path, *, chars: int = 100_000) -> Path:
    """An ordinary small workbook with one inline cell of `chars` characters."""
    header = [("t", n) for n in ("شناسه خانوار", "نام", "نام خانوادگی", "نسبت با سرپرست")]
    row = [("t", "H1"), ("t", "ب" * chars), ("t", "احمدی"), ("t", "سرپرست")]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _write_parts(archive, _sheet([header, row]))
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{NS}" count="0" uniqueCount="0"/>',
        )
    return path


def lie_about_sizes(path: Path, member: str, *, declared: int) -> Path:
    """Rewrite the zip's central directory (and local header) so that `member`
    claims to unpack to `declared` bytes, whatever it really holds."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    name = member.encode()
    # Central directory entry: signature PK\1\2, uncompressed size at offset 24.
    start = 0
    while True:
        at = data.find(b"PK\x01\x02", start)
        assert at >= 0, "member not found in the central directory"
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_len]) == name:
            break
        start = at + 4
    assert struct.unpack_from("<I", data, at + 24)[0] == info.file_size
    struct.pack_into("<I", data, at + 24, declared)
    # Local header: uncompressed size at offset 22.
    local = info.header_offset
    if not info.flag_bits & 0x08:
        struct.pack_into("<I", data, local + 22, declared)
    path.write_bytes(bytes(data))
    return path
