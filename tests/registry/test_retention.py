"""Uploaded household files are removed RETENTION_IMPORT_DAYS after the
import finished; the record of a committed import stays."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile

from tashil.registry.models import Household, ImportBatch, ImportChunk
from tashil.registry.retention import remove_old_import_files

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
Status = ImportBatch.Status


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RETENTION_IMPORT_DAYS = 30


@pytest.fixture
def batch(reg, tmp_path):
    def make(status, *, age_days, chunks=0, error_file=True):
        batch = ImportBatch.objects.create(
            office=reg.office,
            uploaded_by=reg.users["facilitator"],
            original_name="households.csv",
            file_format="csv",
            status=status,
        )
        batch.file.save(f"{batch.pk}.csv", ContentFile(b"name,national code\n"), save=False)
        if error_file:
            batch.error_file.save(f"{batch.pk}-errors.xlsx", ContentFile(b"x"), save=False)
        batch.save()
        # updated_at is automatic: set the age with an UPDATE.
        when = NOW - dt.timedelta(days=age_days)
        ImportBatch.objects.filter(pk=batch.pk).update(
            finished_at=when if status in (Status.COMMITTED, Status.ROLLED_BACK) else None,
            updated_at=when,
        )
        for index in range(chunks):
            ImportChunk.objects.create(batch=batch, index=index, first_row=2, last_row=3, rows=2)
        batch.paths = [tmp_path / batch.file.name] + (
            [tmp_path / batch.error_file.name] if error_file else []
        )
        assert all(path.exists() for path in batch.paths)
        return batch

    return make


def test_old_files_go_recent_and_resumable_ones_stay(
    reg, batch, django_capture_on_commit_callbacks
):
    committed = batch(Status.COMMITTED, age_days=31, chunks=2)
    household = reg.make_household()
    Household.objects.filter(pk=household.pk).update(import_batch=committed)
    rolled_back = batch(Status.ROLLED_BACK, age_days=40, chunks=1, error_file=False)
    abandoned = batch(Status.MAPPED, age_days=31)
    refused = batch(Status.FAILED, age_days=90)
    recent = batch(Status.COMMITTED, age_days=29, chunks=1)
    recent_upload = batch(Status.VALIDATED, age_days=2)
    stopped = batch(Status.FAILED, age_days=90, chunks=3)  # "resume" needs its file
    running = batch(Status.COMMITTING, age_days=90, chunks=1)

    with django_capture_on_commit_callbacks(execute=True):
        result = remove_old_import_files(now=NOW)

    assert result == {"deleted": 2, "emptied": 2}
    # Committed and rolled-back imports keep their record, without files.
    for kept in (committed, rolled_back):
        kept.refresh_from_db()
        assert not kept.file and not kept.error_file
        assert kept.chunks.exists()
        assert not any(path.exists() for path in kept.paths)
    household.refresh_from_db()
    assert household.import_batch_id == committed.pk
    # Abandoned uploads and refused files go entirely.
    assert not ImportBatch.objects.filter(pk__in=[abandoned.pk, refused.pk]).exists()
    assert not any(path.exists() for b in (abandoned, refused) for path in b.paths)
    # The rest is untouched.
    for untouched in (recent, recent_upload, stopped, running):
        untouched.refresh_from_db()
        assert untouched.file and all(path.exists() for path in untouched.paths)

    # A second run finds nothing more to do.
    with django_capture_on_commit_callbacks(execute=True):
        assert remove_old_import_files(now=NOW) == {"deleted": 0, "emptied": 0}


def test_zero_days_keeps_every_file(settings, batch):
    settings.RETENTION_IMPORT_DAYS = 0
    old = batch(Status.COMMITTED, age_days=400, chunks=1)
    assert remove_old_import_files(now=NOW) == {"deleted": 0, "emptied": 0}
    old.refresh_from_db()
    assert old.file
