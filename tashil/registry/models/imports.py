"""The tables of spreadsheet imports: saved column mappings, the import
batches and their committed chunks."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tashil.accounts.scopes import scoped
from tashil.core.models import TimeStampedModel

from .readers import OFFICE_RECORD_READERS


class ColumnMapping(TimeStampedModel):
    """A saved mapping of a spreadsheet's column headers to registry fields.

    `mapping` is {header key: field key}, where the header key is the
    header's search key, so the same mapping fits next month's file even when
    it was typed with Arabic letters or a stray space."""

    office = models.ForeignKey(
        "offices.Office", on_delete=models.CASCADE, related_name="column_mappings"
    )
    name = models.CharField(_("name"), max_length=120)
    mapping = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("saved column mapping")
        verbose_name_plural = _("saved column mappings")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["office", "name"], name="mapping_unique_name")
        ]

    def __str__(self):
        return self.name


class ImportBatchQuerySet(models.QuerySet):
    visible_to = scoped(
        OFFICE_RECORD_READERS,
        "The imports of the offices a user works in or manages; nobody else's.",
    )

    def with_list_data(self):
        return self.select_related("office", "uploaded_by")


class ImportBatch(TimeStampedModel):
    class Mode(models.TextChoices):
        VALID_ROWS = "valid_rows", _("commit the valid rows and give me an error file")
        ALL_OR_NOTHING = "all_or_nothing", _("all or nothing")

    class Status(models.TextChoices):
        INSPECTING = "inspecting", _("reading the file")
        UPLOADED = "uploaded", _("uploaded")
        MAPPED = "mapped", _("columns mapped")
        VALIDATING = "validating", _("checking the rows")
        VALIDATED = "validated", _("validated")
        COMMITTING = "committing", _("committing")
        COMMITTED = "committed", _("committed")
        FAILED = "failed", _("failed")
        ROLLING_BACK = "rolling_back", _("rolling back")
        ROLLED_BACK = "rolled_back", _("rolled back")

    office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="import_batches"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(max_length=255)
    # sha256 of the file: running the command-line import again on the same
    # file finds the unfinished batch and resumes it instead of starting over.
    checksum = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    file_format = models.CharField(max_length=8)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    sheet = models.CharField(max_length=120, blank=True)
    header_row = models.PositiveIntegerField(default=1)
    # The header cells as they appear in the file, in column order.
    columns = models.JSONField(default=list, blank=True)
    # {column index (as text): field key}.
    mapping = models.JSONField(default=dict, blank=True)
    mode = models.CharField(max_length=16, choices=Mode, default=Mode.VALID_ROWS)
    status = models.CharField(max_length=12, choices=Status, default=Status.UPLOADED)
    # Messages are written in the uploader's language, also by background tasks.
    language = models.CharField(max_length=8, default="fa")
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    committed_rows = models.PositiveIntegerField(default=0)
    # Rows read so far by the running pass (checking or committing), for the progress bar.
    processed_rows = models.PositiveIntegerField(default=0)
    # The first errors, [{"row", "column", "message"}], for the preview page.
    errors = models.JSONField(default=list, blank=True)
    # Counts: created/updated/unchanged households and persons, errors per column.
    stats = models.JSONField(default=dict, blank=True)
    # Something the user must know about the whole file (e.g. where reading stopped).
    notice = models.TextField(blank=True)
    # Why the whole file was refused, when it was.
    failure = models.TextField(blank=True)
    error_file = models.FileField(upload_to="imports/errors/", blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The process committing or rolling back the batch holds a lease, so a
    # second worker never runs the same batch; a dead holder's lease can be
    # taken over at once on the same host, or after it expires elsewhere.
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.original_name

    @property
    def is_running(self) -> bool:
        return self.status in (
            self.Status.VALIDATING,
            self.Status.COMMITTING,
            self.Status.ROLLING_BACK,
        )

    @property
    def percent(self) -> int:
        if self.status in (self.Status.COMMITTED, self.Status.VALIDATED):
            return 100
        return min(100, int(self.processed_rows * 100 / self.total_rows)) if self.total_rows else 0


class ImportChunk(models.Model):
    """A committed slice of an import. A chunk is written in one transaction
    together with this row, so after a crash the committed chunks are exactly
    the rows written, and the import resumes after the last one. `undo` holds
    what is needed to roll the chunk back (created ids, previous values);
    `errors` the rows of its range that were refused, so a resumed run reports
    them again without judging them a second time against changed data."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_row = models.PositiveIntegerField()
    last_row = models.PositiveIntegerField()
    rows = models.PositiveIntegerField(default=0)
    undo = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    committed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "index"], name="chunk_unique_index")
        ]
        ordering = ["batch", "index"]

    def __str__(self):
        return f"{self.batch_id}#{self.index} (rows {self.first_row}-{self.last_row})"
