"""Uploads that must not take the server down: zip bombs refused from the
sizes their zip directory declares (nothing unpacked in the web request),
the file read only in the worker's child process under memory and time
limits, a bounded preview on the mapping page, and more columns (or longer
cells, or more rows) than allowed refused with the limit named."""

# The shared fixtures are imported by name, which pyflakes reads as a redefinition.
# ruff: noqa: F811

import zipfile
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from tashil.core.models import AuditLog
from tashil.registry.importer import reader, services, sources
from tashil.registry.models import Household, ImportBatch, Person

from . import bombs
from .test_import_fixtures import english, family, imp, upload_file  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def limits(settings, **values):
    settings.IMPORT_LIMITS = {**settings.IMPORT_LIMITS, **values}


def stored_files(imp):
    folder = imp.tmp / "media" / "imports"
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def nothing_written(imp):
    return (
        not ImportBatch.objects.exists()
        and not Person.objects.exists()
        and not Household.objects.exists()
        and not stored_files(imp)
        and not AuditLog.objects.filter(action__startswith="registry.import").exists()
    )


@pytest.fixture
def no_unpacking():
    """Fails the test if anything opens a zip member: the web request may read
    the zip directory only."""

    original = zipfile.ZipFile.open

    def guarded(self, name, mode="r", *args, **kwargs):
        if mode == "r":
            raise AssertionError("a zip member was unpacked in the web request")
        return original(self, name, mode, *args, **kwargs)

    with mock.patch.object(zipfile.ZipFile, "open", guarded):
        yield


# --- Bombs refused from the zip directory, in the web request ------------------------------------


def test_a_shared_strings_bomb_is_refused_from_the_declared_sizes(
    client, imp, no_unpacking, django_capture_on_commit_callbacks
):
    path = bombs.shared_strings_bomb(imp.tmp / "bomb.xlsx", megabytes=400)
    assert path.stat().st_size < 5 * bombs.MIB  # a few hundred kB that unpack to 400 MB
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").file_size > 400 * bombs.MIB
    client.force_login(imp.user)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            reverse("registry:import_upload"),
            {"file": upload_file(path), "office": imp.office.pk},
        )
    assert response.status_code == 200
    message = " ".join(response.context["form"].errors["file"])
    # The page speaks the user's language (Persian), digits and all.
    assert "۴۰۰" in message and "۶۴" in message and "مگابایت" in message, message
    assert not queued
    assert nothing_written(imp)


def test_a_file_of_many_one_megabyte_strings_is_refused(imp, no_unpacking):
    path = bombs.many_big_strings(imp.tmp / "strings.xlsx", count=100)
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "64 MB" in str(error.value)
    assert nothing_written(imp)


def test_a_tightly_packed_part_is_refused_by_its_ratio(imp, settings, no_unpacking):
    # Shared strings within their own limit, but packed a thousand to one.
    limits(settings, shared_strings_mb=1000)
    path = bombs.shared_strings_bomb(imp.tmp / "bomb.xlsx", megabytes=100)
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "200 times" in str(error.value)
    assert nothing_written(imp)


def test_the_total_unpacked_size_is_limited(imp, settings, no_unpacking):
    limits(settings, shared_strings_mb=1000, zip_ratio=100_000, unpacked_mb=50)
    path = bombs.shared_strings_bomb(imp.tmp / "bomb.xlsx", megabytes=60)
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "50 MB" in str(error.value) and "60 MB" in str(error.value)
    assert nothing_written(imp)


def test_a_bomb_is_refused_in_persian_for_a_persian_user(imp, no_unpacking):
    path = bombs.shared_strings_bomb(imp.tmp / "bomb.xlsx", megabytes=100)
    with translation.override("fa"), pytest.raises(ValidationError) as error:
        imp.upload(path)
    text = str(error.value)
    assert "مگابایت" in text and "۶۴" in text, text
    assert nothing_written(imp)


# --- Read only in the worker, in a child process --------------------------------------------------


def test_the_upload_and_the_mapping_page_never_parse_in_the_web_process(
    client, imp, django_capture_on_commit_callbacks
):
    """The parsers are broken in this (the web) process; the file is still
    read, in the child process the worker starts, and the mapping page shows
    what that reading kept."""
    path = imp.xlsx(family(2))
    client.force_login(imp.user)

    def broken(*args, **kwargs):
        raise AssertionError("the file was parsed in the web process")

    with (
        mock.patch.object(sources.XlsxSource, "__init__", broken),
        mock.patch.object(sources.CsvSource, "__init__", broken),
        mock.patch.object(sources, "find_header", broken),
        mock.patch("openpyxl.load_workbook", broken),
    ):
        with django_capture_on_commit_callbacks() as queued:
            response = client.post(
                reverse("registry:import_upload"),
                {"file": upload_file(path), "office": imp.office.pk},
            )
        batch = ImportBatch.objects.get()
        assert response.url == reverse("registry:import_mapping", args=[batch.pk])
        assert batch.status == ImportBatch.Status.INSPECTING and batch.columns == []
        assert len(queued) == 1
        with mock.patch.object(
            reader, "read_in_child", wraps=reader.read_in_child
        ) as read_in_child:
            queued[0]()  # the inspect task, as the worker runs it
        assert read_in_child.call_count == 1
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.UPLOADED, batch.failure
        assert batch.columns[:3] == ["شناسه خانوار", "نام", "نام خانوادگی"]
        assert batch.total_rows == 6
        page = client.get(response.url)
    assert page.status_code == 200
    assert "H0000" in page.content.decode()


def test_a_member_that_lies_about_its_size_is_caught_in_the_child(imp):
    # 30 MB of text whose directory entry says 1 MB: the web check passes it,
    # the child's counted unpacking does not.
    path = bombs.shared_strings_bomb(imp.tmp / "liar.xlsx", megabytes=30)
    bombs.lie_about_sizes(path, "xl/sharedStrings.xml", declared=bombs.MIB)
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "does not unpack to the size its directory declares" in str(error.value)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED and batch.columns == []
    assert not Person.objects.exists() and not Household.objects.exists()


def test_a_reading_that_needs_too_much_memory_ends_the_child_only(imp, settings):
    # The sizes are allowed through, the memory is not: the real reader runs
    # out of its 256 MB loading 150 MB of text, and only the child ends.
    limits(
        settings, shared_strings_mb=1000, unpacked_mb=1000, zip_ratio=100_000, reader_memory_mb=256
    )
    path = bombs.many_big_strings(imp.tmp / "strings.xlsx", count=150)
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "more than the 256 MB of memory allowed" in str(error.value)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED and batch.failure
    assert not Person.objects.exists()


def test_memory_without_end_is_stopped(imp, settings, monkeypatch):
    limits(settings, reader_memory_mb=300)
    monkeypatch.setattr(reader, "CHILD_COMMAND", ("-m", "tests.registry.reader_hogs", "memory"))
    with pytest.raises(ValidationError) as error:
        imp.upload(imp.csv(family(1)))
    assert "300 MB of memory" in str(error.value)
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED


def test_a_reading_that_takes_too_long_is_stopped(imp, settings, monkeypatch):
    limits(settings, reader_seconds=3)
    monkeypatch.setattr(reader, "CHILD_COMMAND", ("-m", "tests.registry.reader_hogs", "time"))
    with pytest.raises(ValidationError) as error:
        imp.upload(imp.csv(family(1)))
    assert "longer than the 3 seconds allowed" in str(error.value)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED
    assert not Person.objects.exists()


def test_the_child_gets_no_secrets_from_the_environment(settings, monkeypatch, tmp_path):
    monkeypatch.setenv("TASHIL_SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("DATABASE_URL", "postgres://user:secret@db/tashil")
    monkeypatch.setattr(reader, "CHILD_COMMAND", ("-m", "tests.registry.reader_hogs", "env"))
    seen = reader.read_in_child(
        tmp_path / "any.csv",
        limits=services.Limits.from_settings(),
        header_keys=[],
        language="en",
    )
    assert "TASHIL_SECRET_KEY" not in seen and "DATABASE_URL" not in seen
    assert "do-not-leak" not in str(seen) and "secret" not in str(seen)


def test_a_refused_file_shows_the_reason_on_the_mapping_page(client, imp):
    with pytest.raises(ValidationError):
        imp.upload(bombs.wide_sheet(imp.tmp / "wide.xlsx", columns=300))
    batch = ImportBatch.objects.get()
    client.force_login(imp.user)
    page = client.get(reverse("registry:import_mapping", args=[batch.pk]))
    assert page.status_code == 200
    assert 'data-testid="import-refused"' in page.content.decode()
    assert "300 columns" in page.content.decode()
    # Nothing to map: a posted mapping changes nothing.
    client.post(reverse("registry:import_mapping", args=[batch.pk]), {"col_0": "first_name"})
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and batch.mapping == {}


# --- What the sheet may hold ----------------------------------------------------------------------


def test_five_thousand_columns_are_an_error_naming_the_count_and_the_limit(imp):
    with pytest.raises(ValidationError) as error:
        imp.upload(bombs.wide_sheet(imp.tmp / "wide.xlsx", columns=5000))
    text = str(error.value)
    assert "5,000 columns" in text and "at most 200 columns" in text, text
    assert not Person.objects.exists()


def test_a_csv_with_too_many_columns_is_an_error(imp):
    header = ["شناسه خانوار", "نام", "نام خانوادگی", "نسبت با سرپرست"] + [
        f"c{i}" for i in range(4, 250)
    ]
    path = imp.tmp / "wide.csv"
    path.write_text(",".join(header) + "\n" + ",".join(["x"] * 250) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "250 columns" in str(error.value) and "200" in str(error.value)


def test_a_cell_longer_than_allowed_is_refused(imp):
    with pytest.raises(ValidationError) as error:
        imp.upload(bombs.long_cell(imp.tmp / "long.xlsx", chars=100_000))
    text = str(error.value)
    assert "100,000 characters" in text and "32,767" in text, text


def test_a_shared_string_longer_than_allowed_is_refused(imp, settings):
    limits(settings, cell_chars=1000)
    path = bombs.many_big_strings(imp.tmp / "s.xlsx", count=2, size=5000)
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "5,000 characters" in str(error.value) and "1,000" in str(error.value)


def test_a_csv_field_longer_than_allowed_is_refused(imp):
    path = imp.tmp / "long.csv"
    path.write_text(
        "شناسه خانوار,نام,نام خانوادگی,نسبت با سرپرست\nH1," + "ب" * 40_000 + ",احمدی,سرپرست\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as error:
        imp.upload(path)
    assert "40,000 characters" in str(error.value)


def test_more_rows_than_allowed_are_refused(imp, settings):
    limits(settings, rows=5)
    with pytest.raises(ValidationError) as error:
        imp.upload(imp.csv(family(3)))
    assert "more than 5 rows" in str(error.value)


def test_the_check_and_commit_also_refuse_a_file_beyond_the_limits(imp, settings):
    """A limit lowered after the file was read still holds in the later passes."""
    batch = imp.upload(imp.csv(family(3)))
    limits(settings, rows=5)
    imp.call(
        services.import_set_mapping,
        acting_user=imp.user,
        batch=batch,
        mapping={int(k): v for k, v in batch.mapping.items()},
    )
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and "more than 5 rows" in batch.failure
    assert not Person.objects.exists()


# --- A bounded preview ----------------------------------------------------------------------------


def test_the_mapping_page_shows_a_bounded_preview(client, imp):
    # 200 columns (the most allowed) of cells of 30,000 characters: 6 MB of
    # text in the first rows, of which the page shows 100 characters a cell.
    header = ["شناسه خانوار", "نام", "نام خانوادگی", "نسبت با سرپرست"] + [
        f"ستون {i}" for i in range(4, 200)
    ]
    rows = [[f"{r}{c:03d}" + "ب" * 30_000 for c in range(200)] for r in range(3)]
    path = imp.tmp / "heavy.csv"
    path.write_text("\n".join(",".join(row) for row in [header, *rows]) + "\n", encoding="utf-8")
    assert path.stat().st_size > 25 * bombs.MIB
    batch = imp.upload(path)
    assert len(batch.columns) == 200
    samples = batch.stats["samples"]
    assert all(len(values) <= 3 for values in samples.values())
    assert all(len(text) <= reader.PREVIEW_CHARS for values in samples.values() for text in values)
    client.force_login(imp.user)
    page = client.get(reverse("registry:import_mapping", args=[batch.pk]))
    assert page.status_code == 200
    assert "ب" * 101 not in page.content.decode()
    assert len(page.content) < 2 * bombs.MIB, len(page.content)


# --- The command line ----------------------------------------------------------------------------


def test_the_command_line_import_reads_under_the_same_limits(imp):
    path = bombs.wide_sheet(imp.tmp / "wide.xlsx", columns=5000)
    with pytest.raises(CommandError) as error:
        call_command("import_households", str(path), office=imp.office.code)
    assert "5,000 columns" in str(error.value)
    assert not Person.objects.exists()
    good = imp.csv(family(2))
    call_command("import_households", str(good), office=imp.office.code, verbosity=0)
    assert Person.objects.count() == 6
