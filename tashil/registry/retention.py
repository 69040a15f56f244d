"""Uploaded household files are personal data: they are removed
RETENTION_IMPORT_DAYS after the import finished (run by the scheduler).

- A committed or rolled-back import keeps its row (households point at it,
  and it is the record of what was imported); its uploaded file and error
  file are deleted.
- An import that never committed a chunk and is not running (abandoned after
  the upload or the preview, or refused) is deleted with its files.
- An import stopped midway keeps its file, since "resume" needs it, until it
  is resumed or rolled back."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.tasks import task
from django.utils import timezone

from tashil.core.retention import delete_files

from .models import ImportBatch, ImportChunk

logger = logging.getLogger(__name__)

_ABANDONED = [
    ImportBatch.Status.UPLOADED,
    ImportBatch.Status.MAPPED,
    ImportBatch.Status.VALIDATED,
    ImportBatch.Status.FAILED,
]
_FINISHED = [ImportBatch.Status.COMMITTED, ImportBatch.Status.ROLLED_BACK]


def remove_old_import_files(*, now: dt.datetime | None = None) -> dict:
    days = settings.RETENTION_IMPORT_DAYS
    if days <= 0:
        return {"deleted": 0, "emptied": 0}
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    old = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, updated_at__lt=cutoff)
    storage = ImportBatch._meta.get_field("file").storage
    with transaction.atomic():
        abandoned = list(
            ImportBatch.objects.select_for_update()
            .filter(old, status__in=_ABANDONED)
            .exclude(Exists(ImportChunk.objects.filter(batch=OuterRef("pk"))))
            .values_list("pk", "file", "error_file")
        )
        ImportBatch.objects.filter(pk__in=[row[0] for row in abandoned]).delete()
        finished = list(
            ImportBatch.objects.select_for_update()
            .filter(old, status__in=_FINISHED)
            .exclude(file="", error_file="")
            .values_list("pk", "file", "error_file")
        )
        ImportBatch.objects.filter(pk__in=[row[0] for row in finished]).update(
            file="", error_file=""
        )
        names = [name for row in abandoned + finished for name in row[1:]]
        transaction.on_commit(lambda: delete_files(storage, names))
    result = {"deleted": len(abandoned), "emptied": len(finished)}
    if abandoned or finished:
        logger.info("import files older than %d days removed: %s", days, result)
    return result


@task()
def remove_old_import_files_task() -> dict:
    return remove_old_import_files()
