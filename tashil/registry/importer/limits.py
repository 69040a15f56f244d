"""What an uploaded spreadsheet may hold, and the checks that need no parsing.

An XLSX file is a zip archive: a few megabytes can declare (or really hold)
gigabytes of XML. `check_archive` reads only the archive's central directory
and refuses a file whose declared sizes are too large, before anything is
unpacked; it is the one check the web request runs. `check_members` then
unpacks every member as a stream, counting, so a member whose headers lie
about its size is caught too; it runs in the reader's child process
(reader.py), with the sheet's own limits (rows, columns, characters per cell)
checked while the sheet is read.

Limits come from settings.IMPORT_LIMITS (TASHIL_IMPORT_* in the
environment). The child process has no project settings: it is handed a
Limits value.
"""

import zipfile
from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

from tashil.core.text import to_persian_digits

MB = 1024 * 1024
# Parts smaller than this are not judged by their compression ratio: a small
# XML part of repeated tags legitimately packs tightly.
RATIO_FLOOR = 1 * MB


@dataclass(frozen=True)
class Limits:
    upload_mb: int = 50
    unpacked_mb: int = 500
    shared_strings_mb: int = 64
    zip_ratio: int = 200
    zip_members: int = 1000
    rows: int = 1_048_576
    columns: int = 200
    cell_chars: int = 32_767
    reader_memory_mb: int = 1024
    reader_seconds: int = 300

    @classmethod
    def from_settings(cls) -> "Limits":
        from django.conf import settings

        values = getattr(settings, "IMPORT_LIMITS", None) or {}
        known = cls.__dataclass_fields__
        return cls(**{k: int(v) for k, v in values.items() if k in known})

    def as_dict(self) -> dict:
        return asdict(self)


def number(n) -> str:
    """A count for a message: grouped, in Persian digits when the language is Persian."""
    from django.utils.translation import get_language

    text = f"{n:,}"
    if (get_language() or "fa").startswith("fa"):
        return to_persian_digits(text.replace(",", "٬"))
    return text


def _mb(size: int) -> str:
    return number(max(1, round(size / MB)))


class LimitExceeded(Exception):
    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)


def is_shared_strings(name: str) -> bool:
    return name.lower().rsplit("/", 1)[-1] == "sharedstrings.xml"


def check_archive(path, limits: Limits) -> None:
    """Refuse a zip whose directory declares too much. Reads the central
    directory only: nothing is decompressed."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # sniff() says the file is damaged
    if len(members) > limits.zip_members:
        raise LimitExceeded(
            _(
                "The workbook has %(n)s parts, more than the %(limit)s a spreadsheet may have. "
                "Open it in Excel, save it again as .xlsx and upload it."
            )
            % {"n": number(len(members)), "limit": number(limits.zip_members)}
        )
    total = 0
    for info in members:
        total += info.file_size
        if is_shared_strings(info.filename) and info.file_size > limits.shared_strings_mb * MB:
            raise LimitExceeded(
                _(
                    "The text of this workbook unpacks to %(size)s MB, more than the %(limit)s MB "
                    "allowed. Split the file into smaller files, or remove long texts from it."
                )
                % {"size": _mb(info.file_size), "limit": number(limits.shared_strings_mb)}
            )
        if info.file_size > RATIO_FLOOR and info.file_size > limits.zip_ratio * max(
            info.compress_size, 1
        ):
            raise LimitExceeded(
                _(
                    "This file is packed far more tightly than a spreadsheet can be (part "
                    "%(name)s unpacks to %(ratio)s times its size; the limit is %(limit)s times). "
                    "It is refused: open it in Excel, save it again as .xlsx and upload it."
                )
                % {
                    "name": info.filename[:80],
                    "ratio": number(info.file_size // max(info.compress_size, 1)),
                    "limit": number(limits.zip_ratio),
                }
            )
    if total > limits.unpacked_mb * MB:
        raise LimitExceeded(
            _(
                "The workbook unpacks to %(size)s MB, more than the %(limit)s MB allowed. Split it "
                "into smaller files."
            )
            % {"size": _mb(total), "limit": number(limits.unpacked_mb)}
        )


def check_members(path, limits: Limits) -> None:
    """Unpack every member as a stream, counting, and stop at the limits
    whatever the headers say. A member that holds more than it declares
    fails its size or checksum check: the file is called damaged."""
    check_archive(path, limits)
    try:
        _stream_members(path, limits)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise LimitExceeded(
            _(
                "The workbook is damaged: a part of it does not unpack to the size its "
                "directory declares. Open it in Excel, save it again as .xlsx and upload it."
            )
        ) from None


def _stream_members(path, limits: Limits) -> None:
    cap_total = limits.unpacked_mb * MB
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            cap = min(
                info.file_size,
                limits.shared_strings_mb * MB if is_shared_strings(info.filename) else cap_total,
            )
            seen = 0
            with archive.open(info) as member:
                while chunk := member.read(1 << 20):
                    seen += len(chunk)
                    total += len(chunk)
                    if seen > cap or total > cap_total:
                        raise LimitExceeded(
                            _(
                                "The workbook unpacks to more than it declares, or to more than "
                                "the %(limit)s MB allowed. It is refused: open it in Excel, save "
                                "it again as .xlsx and upload it."
                            )
                            % {"limit": number(limits.unpacked_mb)}
                        )
