"""Removing files Tashil keeps only for a while. Run by the scheduler
(settings.SCHEDULED_JOBS); the periods are settings.RETENTION_*_DAYS."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from .models import ExportJob

logger = logging.getLogger(__name__)


def delete_files(storage, names) -> None:
    """Delete stored files after the rows naming them are gone. A file
    already missing is not an error."""
    for name in names:
        if name:
            try:
                storage.delete(name)
            except OSError:
                logger.warning("could not delete %s", name, exc_info=True)


def remove_old_exports(*, now: dt.datetime | None = None) -> int:
    """Delete export jobs that finished (built or failed) more than
    RETENTION_EXPORT_DAYS ago, or were queued that long ago and never
    finished (their worker is long gone), with their files. Returns how many
    were removed."""

    days = settings.RETENTION_EXPORT_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    with transaction.atomic():
        old = list(
            ExportJob.objects.select_for_update()
            .filter(
                Q(
                    status__in=[ExportJob.Status.DONE, ExportJob.Status.FAILED],
                    finished_at__lt=cutoff,
                )
                | Q(
                    status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING],
                    created_at__lt=cutoff,
                )
            )
            .values_list("pk", "file")
        )
        ExportJob.objects.filter(pk__in=[pk for pk, _ in old]).delete()
        names = [name for _, name in old]
        storage = ExportJob._meta.get_field("file").storage
        transaction.on_commit(lambda: delete_files(storage, names))
    if old:
        logger.info("removed %d export(s) older than %d days", len(old), days)
    return len(old)


@task()
def remove_old_exports_task() -> int:
    return remove_old_exports()
