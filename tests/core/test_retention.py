"""Finished exports are deleted, with their files, after RETENTION_EXPORT_DAYS."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from tashil.core.models import ExportJob
from tashil.core.retention import remove_old_exports
from tests.factories import UserFactory

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RETENTION_EXPORT_DAYS = 7


def job(owner, *, status=ExportJob.Status.DONE, age_days, with_file=True):
    job = ExportJob.objects.create(
        owner=owner,
        kind="demands_list",
        file_format="csv",
        status=status,
        finished_at=NOW - dt.timedelta(days=age_days) if status in ("done", "failed") else None,
    )
    # created_at is automatic: set the age with an UPDATE.
    ExportJob.objects.filter(pk=job.pk).update(created_at=NOW - dt.timedelta(days=age_days))
    if with_file:
        job.file.save(f"{job.pk}-demands.csv", ContentFile(b"name\nperson"), save=True)
    return job


@pytest.mark.django_db
def test_old_finished_exports_go_with_their_files_and_recent_ones_stay(
    tmp_path, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    old, old_failed = job(owner, age_days=8), job(owner, status="failed", age_days=30)
    recent, running = job(owner, age_days=6), job(owner, status="running", age_days=1)
    stale = job(owner, status="queued", age_days=8, with_file=False)
    files = {j.pk: tmp_path / j.file.name for j in (old, old_failed, recent, running)}
    assert all(path.exists() for path in files.values())

    with django_capture_on_commit_callbacks(execute=True):
        assert remove_old_exports(now=NOW) == 3

    assert set(ExportJob.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert not ExportJob.objects.filter(pk=stale.pk).exists()
    assert not files[old.pk].exists() and not files[old_failed.pk].exists()
    assert files[recent.pk].exists() and files[running.pk].exists()


@pytest.mark.django_db
def test_zero_days_keeps_everything(settings):
    settings.RETENTION_EXPORT_DAYS = 0
    old = job(UserFactory(), age_days=400)
    assert remove_old_exports(now=timezone.now()) == 0
    assert ExportJob.objects.filter(pk=old.pk).exists()
