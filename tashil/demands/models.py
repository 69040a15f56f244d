"""Demands (مطالبات) from residents, their referrals to executive agencies, and
everything that happens to them until there is a result.

State lives in `Demand.status` and `Referral.status`; only the services in
`services.py` change it, following the transition tables below, and each
change writes a `DemandEvent` row — the timeline and the transition log."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tashil.accounts.scopes import ScopePaths, scoped
from tashil.core.models import TimeStampedModel, VersionedModel

from .tracking import display_code, new_public_id, new_tracking_code


class DemandStatus(models.TextChoices):
    NEW = "new", _("new")
    NEEDS_INFO = "needs_info", _("more information needed")
    ACCEPTED = "accepted", _("accepted")
    REFERRED = "referred", _("referred to agency")
    RESOLVED = "resolved", _("resolved")
    PARTLY_RESOLVED = "partly_resolved", _("partly resolved")
    NOT_FEASIBLE = "not_feasible", _("not feasible")
    REJECTED = "rejected", _("rejected")
    MERGED = "merged", _("merged into another demand")


# Which status may follow which, and who moves it: workflow.DEMAND.
OPEN_STATUSES = {
    DemandStatus.NEW,
    DemandStatus.NEEDS_INFO,
    DemandStatus.ACCEPTED,
    DemandStatus.REFERRED,
}
CLOSED_STATUSES = {DemandStatus.RESOLVED, DemandStatus.PARTLY_RESOLVED, DemandStatus.NOT_FEASIBLE}


class Channel(models.TextChoices):
    WALK_IN = "walk_in", _("walk-in")
    PHONE = "phone", _("phone")
    MEETING = "meeting", _("meeting")
    PUBLIC_WEB = "public_web", _("public form")
    API = "api", _("API")
    OPEN311 = "open311", _("Open311")


class SubmitterKind(models.TextChoices):
    RESIDENT = "resident", _("a resident")
    GROUP = "group", _("a group of residents")
    MEETING = "meeting", _("a neighbourhood meeting")


class DemandQuerySet(models.QuerySet):
    visible_to = scoped(
        ScopePaths(offices="office", managed_provinces="province"),
        """Staff see their offices' demands, province managers their province's.
        Liaisons reach demands only through referrals (see Referral.visible_to);
        analysts see aggregates only, never a demand row.""",
    )

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def with_list_data(self):
        return self.select_related("area", "category", "office")

    def with_detail_data(self):
        return self.select_related(
            "area", "area__parent", "category", "office", "province", "merged_into", "created_by"
        )


class Demand(VersionedModel):
    code = models.CharField(
        _("tracking code"), max_length=12, unique=True, default=new_tracking_code
    )
    public_id = models.CharField(
        _("public id"), max_length=12, unique=True, default=new_public_id, editable=False
    )
    # Whether Open311 lists the demand (without personal data). On for what the
    # resident sent through a public channel; for staff intake, only when the
    # resident agreed.
    is_listed = models.BooleanField(_("listed in open data"), default=False)
    province = models.ForeignKey(
        "geo.Area", verbose_name=_("province"), on_delete=models.PROTECT, related_name="+"
    )
    # The office serving the demand's neighbourhood; empty while no office serves it.
    office = models.ForeignKey(
        "offices.Office",
        verbose_name=_("office"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands",
    )
    area = models.ForeignKey(
        "geo.Area",
        verbose_name=_("neighbourhood"),
        on_delete=models.PROTECT,
        related_name="demands",
    )
    category = models.ForeignKey(
        "agencies.DemandCategory",
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="demands",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=4000)
    search_key = models.TextField(editable=False, default="")
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    submitter_kind = models.CharField(
        _("submitted by"), max_length=16, choices=SubmitterKind, default=SubmitterKind.RESIDENT
    )
    submitter_name = models.CharField(_("submitter name"), max_length=200, blank=True)
    submitter_mobile = models.CharField(_("submitter mobile"), max_length=16, blank=True)
    contact_consent = models.BooleanField(
        _("consents to sharing contact with the agency"), default=False
    )
    status = models.CharField(
        _("status"), max_length=20, choices=DemandStatus, default=DemandStatus.NEW
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )
    supporters_count = models.PositiveIntegerField(_("supporters"), default=1)
    status_reason = models.TextField(_("reason"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The earliest due date of the referrals whose clock is running, kept by
    # the services that open and move referrals: sorting the list by it, and
    # the SLA state of a row, would otherwise read every demand's referrals.
    next_due_date = models.DateField(_("next due date"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A retried public/API POST with the same key returns the first demand.
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)

    objects = DemandQuerySet.as_manager()

    class Meta:
        verbose_name = _("demand")
        verbose_name_plural = _("demands")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["office", "status", "-submitted_at"], name="demand_office_status"),
            models.Index(
                fields=["province", "status", "-submitted_at"], name="demand_province_status"
            ),
            models.Index(fields=["category", "status"], name="demand_category_status"),
            models.Index(fields=["area", "status"], name="demand_area_status"),
            # The list's "due soonest" order, demands without a running referral last.
            models.Index(fields=["next_due_date", "-submitted_at", "-id"], name="demand_next_due"),
        ]

    def __str__(self):
        return f"{self.code} · {self.title}"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def is_closed(self):
        return self.status in CLOSED_STATUSES

    @property
    def display_code(self):
        return display_code(self.code)


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("sent")
    RECEIVED = "received", _("received")
    IN_PROGRESS = "in_progress", _("in progress")
    ANSWERED = "answered", _("answered")
    DONE = "done", _("done")
    REJECTED = "rejected", _("rejected by agency")
    NOT_RESPONSIBLE = "not_responsible", _("agency not responsible")


# Which status may follow which, and who moves it: workflow.REFERRAL.
OPEN_REFERRAL_STATUSES = {
    ReferralStatus.SENT,
    ReferralStatus.RECEIVED,
    ReferralStatus.IN_PROGRESS,
    ReferralStatus.ANSWERED,
}
# Answered referrals wait on the office, not the agency: the SLA clock stops.
CLOCK_RUNNING_STATUSES = {ReferralStatus.SENT, ReferralStatus.RECEIVED, ReferralStatus.IN_PROGRESS}


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", _("on track")
    AT_RISK = "at_risk", _("at risk")
    BREACHED = "breached", _("breached")
    STOPPED = "stopped", _("clock stopped")


class ReferralQuerySet(models.QuerySet):
    # The demand's readers, and the liaisons of the agency it is referred to.
    visible_to = scoped(
        ScopePaths(
            offices="demand__office", managed_provinces="demand__province", agencies="agency"
        )
    )

    def open(self):
        return self.filter(status__in=OPEN_REFERRAL_STATUSES)

    def with_detail_data(self):
        return self.select_related(
            "agency",
            "demand",
            "demand__area",
            "demand__area__parent",
            "demand__category",
            "demand__office",
            "demand__province",
        )

    def clock_running(self):
        return self.filter(status__in=CLOCK_RUNNING_STATUSES)

    def with_sla_state(self, on_date):
        """Filterable SLA state for `on_date` (a local date)."""
        return self.annotate(
            sla_state=models.Case(
                models.When(
                    ~Q(status__in=CLOCK_RUNNING_STATUSES), then=models.Value(SlaState.STOPPED)
                ),
                models.When(due_date__lt=on_date, then=models.Value(SlaState.BREACHED)),
                models.When(at_risk_date__lte=on_date, then=models.Value(SlaState.AT_RISK)),
                default=models.Value(SlaState.ON_TRACK),
                output_field=models.CharField(),
            )
        )


class Referral(VersionedModel):
    demand = models.ForeignKey(
        Demand, verbose_name=_("demand"), on_delete=models.CASCADE, related_name="referrals"
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ReferralStatus, default=ReferralStatus.SENT
    )
    letter_number = models.CharField(_("letter number"), max_length=60, blank=True)
    letter_date = models.DateField(_("letter date"), null=True, blank=True)
    sent_on = models.DateField(_("sent on"))
    due_date = models.DateField(_("due date"), db_index=True)
    at_risk_date = models.DateField(_("at risk from"))
    note = models.TextField(_("note to the agency"), blank=True)
    answer = models.TextField(_("agency's answer"), blank=True)
    expected_date = models.DateField(_("expected completion"), null=True, blank=True)
    status_reason = models.TextField(_("reason"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # 0 = not escalated; then the rungs of settings.ESCALATION_LADDER.
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    last_escalated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-sent_on", "-id"]
        indexes = [
            models.Index(fields=["agency", "status"], name="referral_agency_status"),
            models.Index(fields=["status", "due_date"], name="referral_status_due"),
        ]

    def __str__(self):
        return f"{self.demand.code} → {self.agency}"

    @property
    def is_open(self):
        return self.status in OPEN_REFERRAL_STATUSES

    def sla_state_on(self, on_date) -> str:
        if self.status not in CLOCK_RUNNING_STATUSES:
            return SlaState.STOPPED
        if self.due_date < on_date:
            return SlaState.BREACHED
        if self.at_risk_date <= on_date:
            return SlaState.AT_RISK
        return SlaState.ON_TRACK


class FollowUp(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("phone call")
        LETTER = "letter", _("letter")
        MEETING = "meeting", _("meeting")
        VISIT = "visit", _("visit")

    class Outcome(models.TextChoices):
        PROMISED = "promised", _("action promised")
        IN_PROGRESS = "in_progress", _("work in progress")
        NO_ANSWER = "no_answer", _("no answer")
        REFUSED = "refused", _("refused")
        DONE = "done", _("done")
        OTHER = "other", _("other")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome)
    note = models.TextField(_("note"), blank=True)
    happened_on = models.DateField(_("date"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-happened_on", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"


class Feedback(models.Model):
    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="feedback")
    satisfied = models.BooleanField(_("satisfied"))
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.demand_id}: {'+' if self.satisfied else '-'}"


class Supporter(models.Model):
    """A resident who supports a demand (or whose demand was merged into it)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="supporters")
    mobile = models.CharField(max_length=16, blank=True)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["demand", "mobile"], condition=~Q(mobile=""), name="supporter_unique_mobile"
            )
        ]

    def __str__(self):
        return f"{self.demand_id}: {self.name or self.mobile}"


def attachment_path(instance, filename):
    return f"demands/{instance.demand.code}/{secrets.token_hex(8)}-{filename[-60:]}"


class Attachment(TimeStampedModel):
    class Kind(models.TextChoices):
        PHOTO = "photo", _("photo")
        EVIDENCE = "evidence", _("evidence of resolution")
        LETTER = "letter", _("letter")
        ANSWER = "answer", _("agency answer")

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="attachments")
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    file = models.FileField(_("file"), upload_to=attachment_path)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    # Photos sent by residents are public only after staff say so.
    is_public = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    STATUS = "status", _("status changed")
    MERGED = "merged", _("merged")
    SUPPORTED = "supported", _("supported")
    REFERRED = "referred", _("referred")
    REFERRAL_STATUS = "referral_status", _("referral status changed")
    FOLLOW_UP = "follow_up", _("follow-up")
    ESCALATED = "escalated", _("escalated")
    FEEDBACK = "feedback", _("feedback")
    NOTE = "note", _("note")


class DemandEvent(models.Model):
    """The timeline of a demand and the transition log of its state machines:
    who, when, from, to, and a note. Public rows appear on /track/<code>
    without personal data or staff names."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="events")
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=EventKind)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    # What the resident may read on the tracking page; empty = not shown.
    public_note = models.TextField(blank=True)
    is_public = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["demand", "at"], name="event_demand_at")]

    def __str__(self):
        return f"{self.demand_id}: {self.kind}"
