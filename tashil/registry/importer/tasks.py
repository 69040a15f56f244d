"""Background tasks of the import: reading the upload, checking (the
preview), committing and rolling back. Each takes the batch's id and is safe to run twice."""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.tasks import task
from django.utils import timezone, translation

from ..models import ImportBatch
from . import engine, reader
from .fields import aliases, suggest_mapping
from .lifecycle import IMPORT
from .limits import Limits
from .sources import FileProblem
from .writing import RollbackRefused, rollback_chunks

logger = logging.getLogger(__name__)


@task()
def inspect_import(batch_id: int) -> str:
    try:
        return inspect_batch(batch_id)
    except engine.BatchBusy:
        return "busy"


@task()
def check_import(batch_id: int) -> str:
    return engine.check_batch(batch_id)


@task()
def commit_import(batch_id: int) -> str:
    try:
        outcome = engine.commit_batch(batch_id)
    except engine.BatchBusy:
        return "busy"
    if outcome is None:
        return "skipped"
    return "failed" if outcome.failed else "committed"


@task()
def rollback_import(batch_id: int, actor_id: int | None = None) -> str:
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        return rollback_batch(batch_id, actor=actor)
    except engine.BatchBusy:
        return "busy"


def inspect_batch(batch_id: int) -> str:
    """Read a stored upload in a child process under the limits (reader.py)
    and keep what the mapping step needs: the header, a bounded preview, the
    row count; or mark the batch failed with the reason."""
    try:
        batch = engine.claim(batch_id)
    except engine.BatchBusy:
        return "busy"
    try:
        if batch.status != ImportBatch.Status.INSPECTING:
            return "skipped"
        with translation.override(batch.language or "fa"):
            try:
                info = reader.read_in_child(
                    batch.file.path,
                    sheet=batch.sheet,
                    limits=Limits.from_settings(),
                    header_keys=aliases().keys(),
                    language=batch.language or "fa",
                )
            except FileProblem as exc:
                engine.fail(batch, exc.message)
                return "failed"
            batch.file_format = info["file_format"]
            batch.encoding = info["encoding"]
            batch.delimiter = info["delimiter"]
            batch.sheet = info["sheet"]
            batch.header_row = info["header_row"]
            batch.columns = info["columns"]
            batch.mapping = {str(i): key for i, key in suggest_mapping(batch.columns).items()}
            batch.stats = {
                "sheets": info["sheets"],
                "samples": info["samples"],
                "rows": info["rows"],
            }
            batch.total_rows = info["rows"]
            batch.failure = ""
            engine.worker_move(
                batch,
                "inspected",
                fields=[
                    "file_format",
                    "encoding",
                    "delimiter",
                    "sheet",
                    "header_row",
                    "columns",
                    "mapping",
                    "stats",
                    "total_rows",
                    "failure",
                ],
                changes={"rows": [None, batch.total_rows]},
            )
        return "inspected"
    finally:
        engine.release(batch)


def rollback_batch(batch_id: int, *, actor=None) -> str:
    """The rollback itself, in one transaction: all of it, or none of it."""
    batch = engine.claim(batch_id)
    try:
        if batch.status != ImportBatch.Status.ROLLING_BACK:
            return "skipped"
        with translation.override(batch.language or "fa"):
            try:
                with transaction.atomic():
                    rows = rollback_chunks(batch)
                    batch.committed_rows = 0
                    batch.finished_at = timezone.now()
                    IMPORT.move(
                        batch,
                        user=actor,
                        name="rolled_back",
                        fields=["committed_rows", "finished_at"],
                        changes={"rows": [rows, 0]},
                    )
            except RollbackRefused as exc:
                batch.refresh_from_db(fields=["status", "committed_rows", "finished_at"])
                batch.failure = exc.message
                with transaction.atomic():
                    IMPORT.move(
                        batch,
                        user=actor,
                        name="rollback_refused",
                        to=(batch.stats or {}).get("before_rollback")
                        or ImportBatch.Status.COMMITTED,
                        fields=["failure"],
                        changes={"failure": [None, str(exc.message)[:500]]},
                    )
                return "refused"
        return "rolled_back"
    finally:
        engine.release(batch)
