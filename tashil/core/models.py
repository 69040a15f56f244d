from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BilingualName(models.Model):
    """For models named in Persian (`name_fa`) and optionally English
    (`name_en`): `name` and str() give the active language's name, Persian
    when no English one is given."""

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    @property
    def name(self):
        if get_language() == "en" and self.name_en:
            return self.name_en
        return self.name_fa


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimeStampedModel):
    """Optimistic locking: services bump `version` and refuse a stale one."""

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True


class AuditLog(models.Model):
    """One row per write made through a service: who did what to which object."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    # {"field": [old, new]} with personal data masked.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # Scope columns let managers browse the log of their own province or office.
    province = models.ForeignKey(
        "geo.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    office = models.ForeignKey(
        "offices.Office", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.action} {self.object_type}:{self.object_id}"


class Holiday(models.Model):
    """An official holiday. Rows come from the `holidays` package and may be
    corrected by administrators (lunar dates after 2026 are estimates)."""

    class Source(models.TextChoices):
        PACKAGE = "package", _("holidays package")
        ADMIN = "admin", _("entered by an administrator")

    date = models.DateField(_("date"), db_index=True)
    name_fa = models.CharField(_("name (Persian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    is_estimated = models.BooleanField(_("estimated"), default=False)
    source = models.CharField(_("source"), max_length=16, choices=Source, default=Source.PACKAGE)
    # The date the package gave; kept so a re-sync never undoes a correction.
    original_date = models.DateField(_("original date"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("official holiday")
        verbose_name_plural = _("official holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["original_date", "name_en"], name="holiday_unique_package_entry"
            )
        ]

    def __str__(self):
        return f"{self.date} {self.name_fa}"


class Closure(models.Model):
    """A one-off closure (heat, dust, energy saving, mourning) for a province."""

    province = models.ForeignKey(
        "geo.Area", verbose_name=_("province"), on_delete=models.CASCADE, related_name="closures"
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="closure_end_after_start",
            )
        ]

    def __str__(self):
        return f"{self.start_date}–{self.end_date} {self.reason}"


class WeekendRule(models.Model):
    """Which weekdays are the weekend, from a date on (it changes by decree).

    A province rule wins over a national one (province empty)."""

    province = models.ForeignKey(
        "geo.Area",
        verbose_name=_("province"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="weekend_rules",
    )
    valid_from = models.DateField(_("valid from"))
    # Python weekday numbers (Monday=0 … Thursday=3, Friday=4).
    weekdays = models.JSONField(_("weekend days"), default=list)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("weekend rule")
        verbose_name_plural = _("weekend rules")
        ordering = ["-valid_from"]

    def __str__(self):
        return f"{self.valid_from}: {self.weekdays}"


class ExportJob(models.Model):
    """A spreadsheet export built in the background, with progress, for any
    list that can be exported. The file is only ever served to its owner."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs"
    )
    # What is exported, e.g. "demands"; the exporter is looked up by it.
    kind = models.CharField(max_length=40)
    file_format = models.CharField(max_length=8, choices=[("xlsx", "XLSX"), ("csv", "CSV")])
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} ({self.file_format}, {self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0


class ScheduledRun(models.Model):
    """One row per periodic job and period it was started for. The unique
    constraint is what makes a job run once per period however many
    schedulers run: the one whose insert succeeds enqueues the task."""

    job = models.CharField(max_length=100)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField(db_index=True)
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-period_start", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "period_start"], name="scheduledrun_once")
        ]

    def __str__(self):
        return f"{self.job} @ {self.period_start:%Y-%m-%d %H:%M}"
