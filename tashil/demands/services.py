"""Every write to demands: intake, triage, resolution and the resident's
feedback (referrals are in `referrals.py`, re-exported here). Each service
checks permission, validates, writes in one transaction with optimistic
locking, and moves the demand only through its named transitions
(`workflow.DEMAND`), which record the timeline (DemandEvent) and the audit
log. Messages are recorded in the transaction and delivered after commit."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tashil.agencies.models import DemandCategory
from tashil.core.services import loaded_foreign_keys
from tashil.core.text import search_key
from tashil.core.validators import normalize_mobile
from tashil.geo.lookup import area_for_point
from tashil.geo.models import Area
from tashil.offices.models import Office

from . import messages, permissions
from .models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Attachment,
    Channel,
    Demand,
    DemandStatus,
    EventKind,
    Feedback,
    SubmitterKind,
    Supporter,
)
from .referrals import (
    demand_refer,
    due_dates,
    escalation_record,
    follow_up_log,
    referral_move,
)
from .workflow import (
    DEMAND,
    MAX_PHOTO_BYTES,
    PHOTO_TYPES,
    attach_files,
    clean_text,
    move_demand,
    record_audit,
    record_event,
    sync_next_due_date,
    validate_photo,
)

__all__ = [
    "MAX_PHOTO_BYTES",
    "PHOTO_TYPES",
    "clean_text",
    "demand_refer",
    "due_dates",
    "escalation_record",
    "follow_up_log",
    "referral_move",
    "sync_next_due_date",
    "validate_photo",
]

STAFF_CHANNELS = {Channel.WALK_IN, Channel.PHONE, Channel.MEETING}
# What the resident sends through these is listed by Open311 (without personal
# data); what the office records is listed only when the resident agreed.
PUBLIC_CHANNELS = {Channel.PUBLIC_WEB, Channel.OPEN311}
SERVING_OFFICE_STATUSES = {Office.Status.PILOT, Office.Status.ACTIVE}


# --- helpers -------------------------------------------------------------------


TITLE_LENGTH = 80


def title_from(description: str) -> str:
    """A short title from the description's first words: cut at a word, with
    an ellipsis, never in the middle of a word."""
    if len(description) <= TITLE_LENGTH:
        return description
    cut = description[: TITLE_LENGTH - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ،,.؛;:") + "…"


def serving_office(area: Area) -> Office | None:
    return (
        Office.objects.filter(areas=area, status__in=SERVING_OFFICE_STATUSES)
        .order_by("opened_on", "pk")
        .first()
    )


def _province_of(area: Area) -> Area:
    return Area.objects.get(code=area.path.split("/", 1)[0])


# --- intake ----------------------------------------------------------------------


@dataclass
class Submission:
    demand: Demand
    created: bool


def demand_submit(
    *,
    channel: str,
    category: DemandCategory | None,
    description: str,
    area: Area | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    title: str = "",
    submitter_name: str = "",
    submitter_mobile: str = "",
    submitter_kind: str = SubmitterKind.RESIDENT,
    contact_consent: bool = False,
    photos=(),
    acting_user=None,
    idempotency_key: str | None = None,
    key_checked: bool = False,
    event_data: dict | None = None,
    is_listed: bool | None = None,
) -> Submission:
    """Record a new demand from any of the four intake paths. `event_data` is
    kept on the timeline's first row (e.g. what an Open311 client sent that
    has no column of its own). `key_checked` says the caller has just looked
    the idempotency key up and found no demand. `is_listed` (whether Open311
    lists it) defaults to on for the public channels and off for the others."""
    if idempotency_key and not key_checked:
        existing = Demand.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            return Submission(existing, False)

    errors = {}
    description = clean_text(description)
    title = clean_text(title)
    submitter_name = clean_text(submitter_name)
    if len(description) < 10:
        errors["description"] = _(
            "Describe the demand in at least a few words (10 characters or more)."
        )
    if category is None or not category.is_active or category.children.exists():
        errors["category"] = _("Choose a demand category from the list.")
    if (latitude is None) != (longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    if area is None and latitude is not None and longitude is not None:
        area = area_for_point(latitude, longitude)
        if area is None:
            errors["latitude"] = _(
                "This point is outside the neighbourhoods the offices serve in the province."
            )
    if area is None and "latitude" not in errors:
        errors["area"] = _("Choose a neighbourhood or mark the place on the map.")
    elif area is not None and area.level != Area.Level.NEIGHBOURHOOD:
        errors["area"] = _("Choose a neighbourhood.")
    if submitter_mobile:
        try:
            submitter_mobile = normalize_mobile(submitter_mobile)
        except ValidationError as exc:
            errors["submitter_mobile"] = exc.messages[0]
    if submitter_kind not in SubmitterKind.values:
        errors["submitter_kind"] = _("Choose who the demand comes from.")
    photo_types = []
    for photo in photos:
        try:
            photo_types.append(validate_photo(photo))
        except ValidationError as exc:
            errors["photo"] = exc.message_dict["photo"][0]
    if errors:
        raise ValidationError(errors)

    office = serving_office(area)
    if channel in STAFF_CHANNELS:
        if not (acting_user is not None and permissions.can_record_for_office(acting_user, office)):
            raise PermissionDenied(_("You do not have permission to do this."))

    now = timezone.now()
    demand = Demand(
        province=_province_of(area),
        office=office,
        area=area,
        category=category,
        title=title or title_from(description),
        description=description,
        latitude=latitude,
        longitude=longitude,
        channel=channel,
        submitter_kind=submitter_kind,
        submitter_name=submitter_name,
        submitter_mobile=submitter_mobile,
        contact_consent=contact_consent,
        submitted_at=now,
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
        idempotency_key=idempotency_key or None,
        is_listed=channel in PUBLIC_CHANNELS if is_listed is None else bool(is_listed),
    )
    demand.search_key = search_key(f"{demand.title} {demand.description}")
    # The idempotency key's uniqueness is not validated here: it was looked
    # up above or by the caller, and a race ends in the IntegrityError below.
    demand.full_clean(
        exclude=["code", "public_id", "search_key", *loaded_foreign_keys(demand)],
        validate_unique=False,
    )
    try:
        with transaction.atomic():
            demand.save()
            attach_files(
                demand,
                Attachment.Kind.PHOTO,
                photos,
                photo_types,
                uploaded_by=demand.created_by,
            )
            record_event(
                demand,
                EventKind.SUBMITTED,
                actor=acting_user,
                to_status=DemandStatus.NEW,
                is_public=True,
                data={**(event_data or {}), "channel": channel},
                at=now,
            )
            record_audit(acting_user, "demand.submit", demand, demand)
            messages.to_resident(demand, "registered")
    except IntegrityError:
        # Two retries of one keyed request raced; the first one won.
        existing = (
            Demand.objects.filter(idempotency_key=idempotency_key).first()
            if idempotency_key
            else None
        )
        if existing is None:
            raise
        return Submission(existing, False)
    return Submission(demand, True)


def demand_support(*, demand: Demand, mobile: str = "", name: str = "") -> Demand:
    """A resident backs an existing open demand instead of filing a duplicate."""
    if demand.status not in OPEN_STATUSES:
        raise ValidationError({"demand": _("This demand is no longer open for support.")})
    if mobile:
        try:
            mobile = normalize_mobile(mobile)
        except ValidationError as exc:
            raise ValidationError({"mobile": exc.messages[0]}) from None
    with transaction.atomic():
        if mobile and Supporter.objects.filter(demand=demand, mobile=mobile).exists():
            return demand
        Supporter.objects.create(demand=demand, mobile=mobile, name=clean_text(name)[:200])
        Demand.objects.filter(pk=demand.pk).update(supporters_count=F("supporters_count") + 1)
        record_event(demand, EventKind.SUPPORTED, is_public=True)
        # The supporter's mobile is personal data: the row says only that one more backs it.
        record_audit(None, "demand.support", demand, demand)
    demand.refresh_from_db(fields=["supporters_count"])
    return demand


# --- triage ------------------------------------------------------------------------


def demand_accept(*, demand: Demand, acting_user, expected_version: int | None = None) -> Demand:
    DEMAND.authorize(demand, acting_user, name="accept")
    with transaction.atomic():
        move_demand(
            demand,
            DemandStatus.ACCEPTED,
            actor=acting_user,
            expected_version=expected_version,
            public_note=_("The office accepted the demand and will follow it up."),
        )
    return demand


def _move_telling_resident(
    demand, acting_user, move, status, field, text, missing, expected_version
):
    """A move whose written text is both its reason and the resident's message."""
    DEMAND.authorize(demand, acting_user, name=move)
    text = clean_text(text)
    if not text:
        raise ValidationError({field: missing})
    with transaction.atomic():
        move_demand(
            demand,
            status,
            actor=acting_user,
            expected_version=expected_version,
            reason=text,
            public_note=text,
        )
        messages.to_resident(demand, status.value, **{field: text})
    return demand


def demand_request_info(
    *, demand: Demand, acting_user, message: str, expected_version: int | None = None
) -> Demand:
    return _move_telling_resident(
        demand,
        acting_user,
        "request_info",
        DemandStatus.NEEDS_INFO,
        "message",
        message,
        _("Write what information is needed."),
        expected_version,
    )


def demand_reject(
    *, demand: Demand, acting_user, reason: str, expected_version: int | None = None
) -> Demand:
    return _move_telling_resident(
        demand,
        acting_user,
        "reject",
        DemandStatus.REJECTED,
        "reason",
        reason,
        _("Give the reason; the resident is told."),
        expected_version,
    )


def demand_merge(
    *, demand: Demand, into: Demand, acting_user, expected_version: int | None = None
) -> Demand:
    """Fold a duplicate into an existing open demand; its supporters carry over."""
    DEMAND.authorize(demand, acting_user, name="merge")
    DEMAND.authorize(into, acting_user, name="merge")
    if into.pk == demand.pk:
        raise ValidationError({"into": _("A demand cannot be merged into itself.")})
    if into.status not in OPEN_STATUSES or into.merged_into_id:
        raise ValidationError({"into": _("Merge into an open demand.")})
    if into.province_id != demand.province_id:
        raise ValidationError({"into": _("Merge into a demand of the same province.")})
    with transaction.atomic():
        demand.merged_into = into
        move_demand(
            demand,
            DemandStatus.MERGED,
            actor=acting_user,
            expected_version=expected_version,
            # The public id: the other demand's tracking code belongs to its resident.
            public_note=_("Merged into demand %(code)s, which is followed up for everyone.")
            % {"code": into.public_id},
            fields=["merged_into"],
        )
        Supporter.objects.filter(demand=demand).exclude(
            mobile__in=Supporter.objects.filter(demand=into).exclude(mobile="").values("mobile")
        ).update(demand=into)
        Demand.objects.filter(pk=into.pk).update(
            supporters_count=F("supporters_count") + demand.supporters_count
        )
        record_event(
            into,
            EventKind.MERGED,
            actor=acting_user,
            is_public=True,
            data={"from": demand.code},
            public_note=_("Another report of the same problem was merged into this demand."),
        )
        messages.to_resident(demand, "merged", into=into.public_id)
    into.refresh_from_db(fields=["supporters_count", "version"])
    return into


# --- resolution --------------------------------------------------------------------


def demand_close(
    *,
    demand: Demand,
    outcome: str,
    acting_user,
    reason: str = "",
    evidence=(),
    expected_version: int | None = None,
) -> Demand:
    """Close as resolved (with evidence), partly resolved, or not feasible (with reason)."""
    DEMAND.authorize(demand, acting_user, name="resolve")
    if outcome not in CLOSED_STATUSES:
        raise ValidationError({"outcome": _("Choose how the demand ended.")})
    reason = clean_text(reason)
    if outcome == DemandStatus.NOT_FEASIBLE and not reason:
        raise ValidationError(
            {"reason": _("Give the reason it is not feasible; the resident is told.")}
        )
    if outcome == DemandStatus.RESOLVED and not (evidence or reason):
        raise ValidationError({"reason": _("Describe or attach the evidence that it is resolved.")})
    types = [
        validate_photo(e) if e.content_type.startswith("image/") else "application/pdf"
        for e in evidence
    ]
    with transaction.atomic():
        move_demand(
            demand,
            outcome,
            actor=acting_user,
            expected_version=expected_version,
            reason=reason,
            public_note=reason,
        )
        attach_files(demand, Attachment.Kind.EVIDENCE, evidence, types, uploaded_by=acting_user)
        messages.to_resident(demand, "closed", outcome=DemandStatus(outcome).label)
    return demand


def feedback_submit(*, demand: Demand, satisfied: bool, comment: str = "") -> Feedback:
    """The resident's answer to "are you satisfied?"; "no" reopens the demand."""
    if demand.status not in CLOSED_STATUSES:
        raise ValidationError({"satisfied": _("Feedback is asked for once the demand is closed.")})
    if demand.feedback.filter(created_at__gte=demand.closed_at).exists():
        raise ValidationError({"satisfied": _("Your feedback on this result is already recorded.")})
    with transaction.atomic():
        feedback = Feedback.objects.create(
            demand=demand, satisfied=satisfied, comment=clean_text(comment)[:2000]
        )
        record_event(
            demand,
            EventKind.FEEDBACK,
            is_public=True,
            data={"satisfied": satisfied},
            public_note=_("The resident is satisfied.")
            if satisfied
            else _("The resident is not satisfied."),
        )
        if not satisfied:
            target = (
                DemandStatus.REFERRED if demand.referrals.open().exists() else DemandStatus.ACCEPTED
            )
            move_demand(
                demand,
                target,
                actor=None,
                expected_version=None,
                public_note=_("Reopened because the resident is not satisfied."),
            )
            messages.to_office(demand, "reopened")
    return feedback
