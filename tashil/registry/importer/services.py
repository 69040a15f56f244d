"""The import steps as services: upload, mapping, commit, resume and
rollback. Each checks permission (the office's staff, its province manager,
national admins), validates, writes in one transaction with an audit row, and
queues the long work (reading, checking, committing, rolling back) as a task
once the transaction commits.

The upload is never parsed in the web request: it is sniffed (its first
bytes), its zip directory checked against the limits, and stored; the
inspect task reads it in a child process (reader.py)."""

import hashlib
import uuid
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tashil.core import audit
from tashil.core.text import join_words

from ..models import ColumnMapping, ImportBatch
from ..selectors import registry_offices
from . import engine, lease, tasks
from .fields import BY_KEY, REQUIRED, mapping_for_saving, suggest_mapping
from .lifecycle import IMPORT, can_import
from .limits import MB, LimitExceeded, Limits, check_archive, number
from .sources import FileProblem, sniff

EDITABLE = (
    ImportBatch.Status.UPLOADED,
    ImportBatch.Status.MAPPED,
    ImportBatch.Status.VALIDATED,
    ImportBatch.Status.FAILED,
)


def import_offices(user):
    return registry_offices(user)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("You do not have permission to do this."))


def _audit(actor, action, batch, changes=None):
    audit.record(
        actor=actor,
        action=action,
        obj=batch,
        changes=changes or {},
        province=batch.office.province,
        office=batch.office,
    )


# --- Upload -------------------------------------------------------------------------------


def _checksum(path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# Names a CSV may carry; what the content turns out to be decides the rest.
TEXT_SUFFIXES = {"", ".csv", ".txt", ".tsv"}


def create_batch(
    *,
    office,
    path,
    original_name: str,
    uploaded_by=None,
    sheet: str = "",
    language: str | None = None,
    enqueue: bool = True,
) -> ImportBatch:
    """Store a copy of the file as a batch waiting to be read; FileProblem
    when the cheap checks refuse it (what the file is, by its first bytes,
    and the sizes its zip directory declares). Nothing is parsed here: the
    inspect task reads the file in the worker (queued once the transaction
    commits, unless `enqueue` is false and the caller runs tasks.inspect_batch).
    No permission check: callers check it."""
    file_format = sniff(path)
    named = Path(original_name).suffix.lower()
    if file_format == "csv" and named not in TEXT_SUFFIXES:
        # Plain text reads as a one-column CSV; a name like photo.jpg says the
        # person picked the wrong file.
        raise FileProblem(
            _(
                "This file is named %(suffix)s, not a spreadsheet. Upload an Excel (.xlsx) or "
                "CSV file."
            )
            % {"suffix": named}
        )
    if file_format == "xlsx":
        try:
            check_archive(path, Limits.from_settings())
        except LimitExceeded as exc:
            raise FileProblem(exc.message) from None
    checksum, size = _checksum(path)
    suffix = (
        Path(original_name).suffix.lower()[:8] if Path(original_name).suffix else f".{file_format}"
    )
    batch = ImportBatch(
        office=office,
        uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
        original_name=original_name[:255],
        checksum=checksum,
        size=size,
        file_format=file_format,
        sheet=(sheet or "")[:120],
        status=ImportBatch.Status.INSPECTING,
        language=language or translation.get_language() or "fa",
    )
    with open(path, "rb") as f, transaction.atomic():
        batch.file.save(f"{uuid.uuid4().hex}{suffix}", File(f), save=False)
        batch.save()
        _audit(
            uploaded_by,
            "registry.import_upload",
            batch,
            {"file": [None, batch.original_name], "size": [None, size]},
        )
        if enqueue:
            transaction.on_commit(lambda: _enqueue("inspect_import", batch.pk))
    return batch


def inspection_failed(batch: ImportBatch) -> bool:
    """The file was refused when it was first read: there is nothing to map."""
    return batch.status == ImportBatch.Status.FAILED and not batch.columns


def inspection_stalled(batch: ImportBatch) -> bool:
    """Still waiting to be read, but the process that took it is gone."""
    return (
        batch.status == ImportBatch.Status.INSPECTING
        and bool(batch.lease_owner)
        and lease.lease_is_free(batch)
        and batch.lease_owner != lease.lease_owner()
    )


def import_upload(*, acting_user, office, upload, sheet: str = "") -> ImportBatch:
    """Step 1: take an uploaded XLSX or CSV and queue its reading. Raises
    ValidationError on "file" with the reason when the cheap checks refuse
    it; nothing is kept then. What the reading finds wrong marks the batch
    failed instead."""
    _require(can_import(acting_user, office))
    limits = Limits.from_settings()
    if upload.size > limits.upload_mb * MB:
        raise ValidationError(
            {
                "file": _("The file is larger than %(size)s MB. Split it into smaller files.")
                % {"size": number(limits.upload_mb)}
            }
        )
    if upload.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=Path(upload.name).suffix[:8]) as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        try:
            return create_batch(
                office=office,
                path=tmp.name,
                original_name=upload.name,
                uploaded_by=acting_user,
                sheet=sheet,
            )
        except FileProblem as exc:
            raise ValidationError({"file": exc.message}) from None


# --- Mapping ------------------------------------------------------------------------------


def clean_mapping(batch: ImportBatch, mapping: dict) -> dict[int, str]:
    """{column index: field key}, or ValidationError naming what is wrong."""
    result: dict[int, str] = {}
    seen: dict[str, int] = {}
    errors = []
    for index, key in mapping.items():
        if not key:
            continue
        index = int(index)
        if key not in BY_KEY or not 0 <= index < len(batch.columns):
            raise ValidationError({"mapping": _("Choose a field from the list for each column.")})
        if key in seen:
            errors.append(
                _("“%(field)s” is chosen for two columns: %(a)s and %(b)s.")
                % {
                    "field": BY_KEY[key].label,
                    "a": batch.columns[seen[key]] or seen[key] + 1,
                    "b": batch.columns[index] or index + 1,
                }
            )
        seen[key] = index
        result[index] = key
    missing = [str(BY_KEY[key].label) for key in REQUIRED if key not in seen]
    if missing:
        errors.append(
            ngettext(
                "The file has no column for %(fields)s, which is required. Choose the column that holds it, or add "
                "the column to the file.",
                "The file has no columns for %(fields)s, which are required. Choose the columns that hold them, or "
                "add the columns to the file.",
                len(missing),
            )
            % {"fields": join_words(missing)}
        )
    if errors:
        raise ValidationError({"mapping": errors})
    return result


def is_editable(batch: ImportBatch) -> bool:
    """Its columns can still be chosen: nothing written yet, and no check
    running (one whose process died counts as not running)."""
    if batch.chunks.exists():
        return False
    return batch.status in EDITABLE or (
        batch.status == ImportBatch.Status.VALIDATING and lease.is_stalled(batch)
    )


def import_set_mapping(
    *, acting_user, batch: ImportBatch, mapping: dict, save_as: str = ""
) -> ImportBatch:
    """Step 2: which column holds which field. Starts the check (the preview)."""
    _require(can_import(acting_user, batch.office))
    if not is_editable(batch):
        raise ValidationError(
            {"mapping": _("This import has already started; its columns cannot change now.")}
        )
    cleaned = clean_mapping(batch, mapping)
    save_as = (save_as or "").strip()[:120]
    with transaction.atomic():
        batch.mapping = {str(i): key for i, key in sorted(cleaned.items())}
        batch.processed_rows, batch.failure = 0, ""
        IMPORT.move(
            batch,
            user=acting_user,
            name="mapping",
            fields=["mapping", "processed_rows", "failure"],
            changes={"mapping": [None, len(cleaned)]},
            notify=[lambda: _enqueue("check_import", batch.pk)],
        )
        if save_as:
            ColumnMapping.objects.update_or_create(
                office=batch.office,
                name=save_as,
                defaults={
                    "mapping": mapping_for_saving(batch.columns, cleaned),
                    "created_by": acting_user,
                },
            )
    batch.refresh_from_db()
    return batch


def saved_mappings(office):
    return ColumnMapping.objects.filter(office=office).order_by("name")


def mapping_from_saved(batch: ImportBatch, saved: ColumnMapping) -> dict[int, str]:
    return suggest_mapping(batch.columns, saved=saved.mapping)


def mapping_delete(*, acting_user, mapping: ColumnMapping) -> None:
    _require(can_import(acting_user, mapping.office))
    with transaction.atomic():
        audit.record(
            actor=acting_user,
            action="registry.import_mapping_delete",
            obj=mapping,
            changes={"name": [mapping.name, None]},
            province=mapping.office.province,
            office=mapping.office,
        )
        mapping.delete()


# --- Commit, resume, rollback ----------------------------------------------------------------


def _enqueue(name: str, batch_id: int):
    getattr(tasks, name).enqueue(batch_id)


def import_commit(*, acting_user, batch: ImportBatch, mode: str) -> ImportBatch:
    """Step 4: write the rows in the background."""
    _require(can_import(acting_user, batch.office))
    if mode not in ImportBatch.Mode.values:
        raise ValidationError({"mode": _("Choose how to import.")})
    if (
        batch.chunks.exists()
        or batch.status not in (ImportBatch.Status.VALIDATED, ImportBatch.Status.FAILED)
        or not batch.mapping
    ):
        raise ValidationError({"mode": _("This import cannot be committed now.")})
    if batch.valid_rows == 0:
        raise ValidationError(
            {
                "mode": _(
                    "No row of this file can be imported. Correct the rows in the error file "
                    "and upload it again."
                )
            }
        )
    if mode == ImportBatch.Mode.ALL_OR_NOTHING and batch.error_rows:
        raise ValidationError(
            {
                "mode": ngettext(
                    "%(n)s row has errors, so “all or nothing” would import nothing. Correct it, or import the valid "
                    "rows only.",
                    "%(n)s rows have errors, so “all or nothing” would import nothing. Correct them, or import the valid "
                    "rows only.",
                    batch.error_rows,
                )
                % {"n": batch.error_rows}
            }
        )
    with transaction.atomic():
        _start_commit(acting_user, batch, mode, name="commit_start", enqueue=True)
    batch.refresh_from_db()
    return batch


def _start_commit(acting_user, batch, mode, *, name, enqueue):
    batch.mode, batch.processed_rows, batch.failure = mode, 0, ""
    IMPORT.move(
        batch,
        user=acting_user,
        name=name,
        fields=["mode", "processed_rows", "failure"],
        changes={"mode": [None, mode]},
        notify=[lambda: _enqueue("commit_import", batch.pk)] if enqueue else [],
    )


def import_start(*, acting_user, batch: ImportBatch, mapping: dict, mode: str) -> ImportBatch:
    """The command line's step: map the columns and commit at once (the rows
    are checked while they are committed). Writes the same audit row as
    `import_commit`; the caller runs the commit itself."""
    if acting_user is not None:
        _require(can_import(acting_user, batch.office))
    if mode not in ImportBatch.Mode.values:
        raise ValidationError({"mode": _("Choose how to import.")})
    cleaned = clean_mapping(batch, mapping)
    with transaction.atomic():
        batch.mapping = {str(i): key for i, key in cleaned.items()}
        _start_commit(acting_user, batch, mode, name="start", enqueue=False)
    return batch


def import_refuse(*, acting_user, batch: ImportBatch, message: str) -> ImportBatch:
    """The command line could not map the file: the batch is failed with the reason."""
    engine.fail(batch, message, user=acting_user)
    return batch


def import_resume(*, acting_user, batch: ImportBatch, enqueue: bool = True) -> ImportBatch:
    """Go on with an import that stopped part-way, after its last committed
    chunk. `enqueue=False`: the caller runs the commit itself (command line)."""
    if acting_user is not None:
        _require(can_import(acting_user, batch.office))
    # The move refuses a batch that is not resumable, with its reason.
    IMPORT.transition_for(batch, acting_user, name="resume")
    with transaction.atomic():
        batch.failure = ""
        IMPORT.move(
            batch,
            user=acting_user,
            name="resume",
            fields=["failure"],
            changes={},
            notify=[lambda: _enqueue("commit_import", batch.pk)] if enqueue else [],
        )
    batch.refresh_from_db()
    return batch


def import_rollback(*, acting_user, batch: ImportBatch) -> ImportBatch:
    """Undo everything the import wrote, in the background. Refused (and the
    batch left as it was) when records were changed after the import."""
    _require(can_import(acting_user, batch.office))
    IMPORT.transition_for(batch, acting_user, name="rollback_start")
    with transaction.atomic():
        stats = dict(batch.stats or {})
        stats["before_rollback"] = batch.status
        batch.stats, batch.failure = stats, ""
        actor_id = acting_user.pk if getattr(acting_user, "pk", None) else None
        IMPORT.move(
            batch,
            user=acting_user,
            name="rollback_start",
            fields=["stats", "failure"],
            changes={},
            notify=[lambda: _enqueue_rollback(batch.pk, actor_id)],
        )
    batch.refresh_from_db()
    return batch


def _enqueue_rollback(batch_id, actor_id):
    tasks.rollback_import.enqueue(batch_id, actor_id)
