"""Every write to demands and referrals. Each service checks permission,
validates, writes in one transaction with optimistic locking, records the
timeline (DemandEvent) and the audit log, and queues notifications after
commit."""

import math
from dataclasses import dataclass

import nh3
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from tashil.agencies.models import Agency, DemandCategory
from tashil.agencies.routing import route
from tashil.core import audit
from tashil.core.calendar import add_working_days
from tashil.core.errors import ConflictError
from tashil.core.services import loaded_foreign_keys
from tashil.core.text import normalize, search_key
from tashil.core.validators import normalize_mobile
from tashil.geo.models import Area
from tashil.offices.models import Office

from . import messages, permissions
from .models import (
    CLOCK_RUNNING_STATUSES,
    CLOSED_STATUSES,
    DEMAND_TRANSITIONS,
    OPEN_STATUSES,
    REFERRAL_TRANSITIONS,
    Attachment,
    Channel,
    Demand,
    DemandEvent,
    DemandStatus,
    EventKind,
    Feedback,
    FollowUp,
    Referral,
    ReferralStatus,
    SubmitterKind,
    Supporter,
)

STAFF_CHANNELS = {Channel.WALK_IN, Channel.PHONE, Channel.MEETING}
# What the resident sends through these is listed by Open311 (without personal
# data); what the office records is listed only when the resident agreed.
PUBLIC_CHANNELS = {Channel.PUBLIC_WEB, Channel.OPEN311}
SERVING_OFFICE_STATUSES = {Office.Status.PILOT, Office.Status.ACTIVE}
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


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


def clean_text(value: str | None) -> str:
    """Residents' text is plain text: any HTML or script is removed, not escaped."""
    return normalize(nh3.clean(value or "", tags=set(), strip_comments=True)).strip()


def _event(
    demand,
    kind,
    *,
    actor=None,
    referral=None,
    from_status="",
    to_status="",
    note="",
    public_note="",
    is_public=False,
    data=None,
    at=None,
) -> DemandEvent:
    return DemandEvent.objects.create(
        demand=demand,
        referral=referral,
        kind=kind,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        from_status=from_status,
        to_status=to_status,
        note=note,
        public_note=public_note,
        is_public=is_public,
        data=data or {},
    )


def _audit(actor, action, obj, demand, changes=None):
    audit.record(
        actor=actor,
        action=action,
        obj=obj,
        changes=changes,
        province=demand.province,
        office=demand.office,
    )


def _save(instance, fields, expected_version):
    """Conditional UPDATE on the version the user loaded (optimistic locking)."""
    current = instance.version if expected_version is None else expected_version
    values = {
        instance._meta.get_field(f).attname: getattr(instance, instance._meta.get_field(f).attname)
        for f in fields
    }
    instance.updated_at = timezone.now()
    updated = (
        type(instance)
        .objects.filter(pk=instance.pk, version=current)
        .update(version=current + 1, updated_at=instance.updated_at, **values)
    )
    if not updated:
        raise ConflictError()
    instance.version = current + 1


def sync_next_due_date(demand: Demand) -> None:
    """Recompute `demand.next_due_date` from its running referrals. Called
    inside the transaction of every write that opens a referral or moves one
    in or out of a running clock."""
    # The demand's row lock orders two moves of referrals of one demand, so
    # the second reads the first's committed referral (PostgreSQL; SQLite has
    # one writer at a time).
    list(Demand.objects.select_for_update().filter(pk=demand.pk).values_list("pk"))
    next_due = Referral.objects.filter(
        demand_id=demand.pk, status__in=CLOCK_RUNNING_STATUSES
    ).aggregate(d=Min("due_date"))["d"]
    Demand.objects.filter(pk=demand.pk).update(next_due_date=next_due)
    demand.next_due_date = next_due


def _require(condition: bool):
    if not condition:
        raise PermissionDenied(_("You do not have permission to do this."))


def _move(
    demand, to_status, *, actor, expected_version, reason="", note="", public_note="", fields=()
):
    """Apply one demand transition from the table, with its timeline row."""
    from_status = demand.status
    if to_status not in DEMAND_TRANSITIONS[DemandStatus(from_status)]:
        raise ValidationError(
            {
                "status": _("A demand that is “%(from)s” cannot become “%(to)s”.")
                % {"from": DemandStatus(from_status).label, "to": DemandStatus(to_status).label}
            }
        )
    demand.status = to_status
    if reason:
        demand.status_reason = reason
    if to_status in CLOSED_STATUSES or to_status in (DemandStatus.REJECTED, DemandStatus.MERGED):
        demand.closed_at = timezone.now()
    elif from_status in CLOSED_STATUSES:
        demand.closed_at = None
    _save(demand, ["status", "status_reason", "closed_at", *fields], expected_version)
    _event(
        demand,
        EventKind.STATUS,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        note=note or reason,
        public_note=public_note,
        is_public=True,
    )
    _audit(actor, f"demand.{to_status}", demand, demand, {"status": [from_status, to_status]})


def serving_office(area: Area) -> Office | None:
    return (
        Office.objects.filter(areas=area, status__in=SERVING_OFFICE_STATUSES)
        .order_by("opened_on", "pk")
        .first()
    )


def _province_of(area: Area) -> Area:
    return Area.objects.get(code=area.path.split("/", 1)[0])


def validate_photo(upload) -> str:
    """Return the photo's content type; reject oversized or non-image files."""
    from PIL import Image, UnidentifiedImageError

    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError({"photo": _("The photo is larger than 5 MB.")})
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ValidationError(
            {"photo": _("The file is not a photo. Send a JPEG, PNG or WebP image.")}
        ) from None
    finally:
        upload.seek(0)
    if kind not in PHOTO_TYPES:
        raise ValidationError(
            {"photo": _("The file is not a photo. Send a JPEG, PNG or WebP image.")}
        )
    return PHOTO_TYPES[kind]


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
        from tashil.geo.lookup import area_for_point

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
        _require(acting_user is not None and permissions.can_record_for_office(acting_user, office))

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
            for photo, content_type in zip(photos, photo_types, strict=True):
                Attachment.objects.create(
                    demand=demand,
                    kind=Attachment.Kind.PHOTO,
                    file=photo,
                    content_type=content_type,
                    size=photo.size,
                    uploaded_by=demand.created_by,
                )
            _event(
                demand,
                EventKind.SUBMITTED,
                actor=acting_user,
                to_status=DemandStatus.NEW,
                is_public=True,
                data={**(event_data or {}), "channel": channel},
                at=now,
            )
            _audit(acting_user, "demand.submit", demand, demand)
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
        _event(demand, EventKind.SUPPORTED, is_public=True)
    demand.refresh_from_db(fields=["supporters_count"])
    return demand


# --- triage ------------------------------------------------------------------------


def demand_accept(*, demand: Demand, acting_user, expected_version: int | None = None) -> Demand:
    _require(permissions.can_work_on(acting_user, demand))
    with transaction.atomic():
        _move(
            demand,
            DemandStatus.ACCEPTED,
            actor=acting_user,
            expected_version=expected_version,
            public_note=_("The office accepted the demand and will follow it up."),
        )
    return demand


def demand_request_info(
    *, demand: Demand, acting_user, message: str, expected_version: int | None = None
) -> Demand:
    _require(permissions.can_work_on(acting_user, demand))
    message = clean_text(message)
    if not message:
        raise ValidationError({"message": _("Write what information is needed.")})
    with transaction.atomic():
        _move(
            demand,
            DemandStatus.NEEDS_INFO,
            actor=acting_user,
            expected_version=expected_version,
            reason=message,
            public_note=message,
        )
        messages.to_resident(demand, "needs_info", message=message)
    return demand


def demand_reject(
    *, demand: Demand, acting_user, reason: str, expected_version: int | None = None
) -> Demand:
    _require(permissions.can_work_on(acting_user, demand))
    reason = clean_text(reason)
    if not reason:
        raise ValidationError({"reason": _("Give the reason; the resident is told.")})
    with transaction.atomic():
        _move(
            demand,
            DemandStatus.REJECTED,
            actor=acting_user,
            expected_version=expected_version,
            reason=reason,
            public_note=reason,
        )
        messages.to_resident(demand, "rejected", reason=reason)
    return demand


def demand_merge(
    *, demand: Demand, into: Demand, acting_user, expected_version: int | None = None
) -> Demand:
    """Fold a duplicate into an existing open demand; its supporters carry over."""
    _require(
        permissions.can_work_on(acting_user, demand) and permissions.can_work_on(acting_user, into)
    )
    if into.pk == demand.pk:
        raise ValidationError({"into": _("A demand cannot be merged into itself.")})
    if into.status not in OPEN_STATUSES or into.merged_into_id:
        raise ValidationError({"into": _("Merge into an open demand.")})
    if into.province_id != demand.province_id:
        raise ValidationError({"into": _("Merge into a demand of the same province.")})
    with transaction.atomic():
        demand.merged_into = into
        _move(
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
        _event(
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


# --- referral ---------------------------------------------------------------------


def due_dates(*, sent_on, category: DemandCategory, province) -> tuple:
    """(due date, at-risk date) on the working calendar of the province."""
    days = category.sla_working_days
    at_risk_days = max(1, math.floor(days * settings.SLA_AT_RISK_FRACTION))
    return add_working_days(sent_on, days, province), add_working_days(
        sent_on, at_risk_days, province
    )


def demand_refer(
    *,
    demand: Demand,
    acting_user,
    agency: Agency | None = None,
    letter_number: str = "",
    letter_date=None,
    note: str = "",
    expected_version: int | None = None,
) -> Referral:
    """Refer the demand to an agency (the routing table's choice by default)."""
    _require(permissions.can_work_on(acting_user, demand))
    agency = agency or route(category=demand.category, area=demand.area)
    if agency is None:
        raise ValidationError(
            {"agency": _("No agency is set for this category and area; choose one.")}
        )
    if not agency.is_active or agency.province_id != demand.province_id:
        raise ValidationError({"agency": _("Choose an active agency of the demand's province.")})
    if demand.referrals.open().filter(agency=agency).exists():
        raise ValidationError(
            {"agency": _("This demand already has an open referral to this agency.")}
        )
    if demand.status not in (DemandStatus.NEW, DemandStatus.ACCEPTED, DemandStatus.REFERRED):
        raise ValidationError({"status": _("Only an open, accepted demand can be referred.")})
    sent_on = timezone.localdate()
    due, at_risk = due_dates(sent_on=sent_on, category=demand.category, province=demand.province_id)
    with transaction.atomic():
        if demand.status == DemandStatus.NEW:
            _move(
                demand,
                DemandStatus.ACCEPTED,
                actor=acting_user,
                expected_version=expected_version,
                public_note=_("The office accepted the demand and will follow it up."),
            )
            expected_version = demand.version
        referral = Referral(
            demand=demand,
            agency=agency,
            letter_number=clean_text(letter_number)[:60],
            letter_date=letter_date,
            sent_on=sent_on,
            due_date=due,
            at_risk_date=at_risk,
            note=clean_text(note),
            created_by=acting_user,
        )
        referral.full_clean()
        referral.save()
        if demand.status != DemandStatus.REFERRED:
            _move(
                demand,
                DemandStatus.REFERRED,
                actor=acting_user,
                expected_version=expected_version,
                public_note=_("Referred to %(agency)s.") % {"agency": agency.name_fa},
            )
        else:
            _save(demand, [], expected_version)
        sync_next_due_date(demand)
        _event(
            demand,
            EventKind.REFERRED,
            actor=acting_user,
            referral=referral,
            to_status=ReferralStatus.SENT,
            is_public=True,
            public_note=_("Referred to %(agency)s.") % {"agency": agency.name_fa},
            data={
                "agency": agency.code,
                "due_date": due.isoformat(),
                "letter_number": referral.letter_number,
            },
        )
        _audit(acting_user, "referral.create", referral, demand, {"agency": [None, agency.code]})
        messages.to_resident(demand, "referred", agency=agency.name_fa)
        messages.to_liaisons(referral, "new_referral")
    return referral


# Which transitions an agency makes and which the office makes.
AGENCY_MOVES = {
    ReferralStatus.RECEIVED,
    ReferralStatus.IN_PROGRESS,
    ReferralStatus.ANSWERED,
    ReferralStatus.DONE,
    ReferralStatus.REJECTED,
    ReferralStatus.NOT_RESPONSIBLE,
}
OFFICE_MOVES = {ReferralStatus.DONE, ReferralStatus.IN_PROGRESS}


def referral_move(
    *,
    referral: Referral,
    to_status: str,
    acting_user,
    note: str = "",
    expected_date=None,
    attachments=(),
    expected_version: int | None = None,
) -> Referral:
    """Move a referral along its state machine, as the agency or the office."""
    as_agency = permissions.can_answer_referral(acting_user, referral) and to_status in AGENCY_MOVES
    as_office = permissions.can_work_on(acting_user, referral.demand) and to_status in OFFICE_MOVES
    _require(as_agency or as_office)
    from_status = referral.status
    if to_status not in REFERRAL_TRANSITIONS[ReferralStatus(from_status)]:
        raise ValidationError(
            {
                "status": _("A referral that is “%(from)s” cannot become “%(to)s”.")
                % {"from": ReferralStatus(from_status).label, "to": ReferralStatus(to_status).label}
            }
        )
    note = clean_text(note)
    if (
        to_status
        in (ReferralStatus.REJECTED, ReferralStatus.NOT_RESPONSIBLE, ReferralStatus.ANSWERED)
        and not note
    ):
        raise ValidationError({"note": _("Write the answer or the reason.")})
    fields = ["status"]
    referral.status = to_status
    now = timezone.now()
    if to_status == ReferralStatus.ANSWERED:
        referral.answer, referral.answered_at = note, now
        fields += ["answer", "answered_at"]
    if to_status in (ReferralStatus.REJECTED, ReferralStatus.NOT_RESPONSIBLE):
        referral.status_reason = note
        fields.append("status_reason")
    if expected_date is not None:
        referral.expected_date = expected_date
        fields.append("expected_date")
    if to_status in (ReferralStatus.DONE, ReferralStatus.REJECTED, ReferralStatus.NOT_RESPONSIBLE):
        referral.closed_at = now
        fields.append("closed_at")
    photo_types = [
        validate_photo(a) if a.content_type.startswith("image/") else "application/pdf"
        for a in attachments
    ]
    demand = referral.demand
    with transaction.atomic():
        _save(referral, fields, expected_version)
        if (from_status in CLOCK_RUNNING_STATUSES) != (to_status in CLOCK_RUNNING_STATUSES):
            sync_next_due_date(demand)
        for upload, content_type in zip(attachments, photo_types, strict=True):
            Attachment.objects.create(
                demand=demand,
                referral=referral,
                kind=Attachment.Kind.ANSWER,
                file=upload,
                content_type=content_type,
                size=upload.size,
                uploaded_by=acting_user,
            )
        public = {
            ReferralStatus.RECEIVED: _("The agency received the referral."),
            ReferralStatus.IN_PROGRESS: _("The agency is working on it."),
            ReferralStatus.ANSWERED: _("The agency answered."),
            ReferralStatus.DONE: _("The agency reports the work done."),
            ReferralStatus.REJECTED: _("The agency did not accept the referral."),
            ReferralStatus.NOT_RESPONSIBLE: _(
                "The agency says another agency is responsible; the office re-routes it."
            ),
        }[ReferralStatus(to_status)]
        _event(
            demand,
            EventKind.REFERRAL_STATUS,
            actor=acting_user,
            referral=referral,
            from_status=from_status,
            to_status=to_status,
            note=note,
            public_note=public,
            is_public=True,
            data={
                "agency": referral.agency.code,
                "expected_date": expected_date.isoformat() if expected_date else None,
            },
        )
        _audit(
            acting_user,
            f"referral.{to_status}",
            referral,
            demand,
            {"status": [from_status, to_status]},
        )
        if to_status == ReferralStatus.ANSWERED:
            messages.to_resident(demand, "answered", agency=referral.agency.name_fa)
        if to_status in (
            ReferralStatus.REJECTED,
            ReferralStatus.NOT_RESPONSIBLE,
            ReferralStatus.ANSWERED,
        ):
            messages.to_office(demand, "referral_" + to_status, agency=referral.agency.name_fa)
    return referral


def follow_up_log(
    *, referral: Referral, kind: str, outcome: str, acting_user, note: str = "", happened_on=None
) -> FollowUp:
    _require(permissions.can_work_on(acting_user, referral.demand))
    follow_up = FollowUp(
        referral=referral,
        kind=kind,
        outcome=outcome,
        note=clean_text(note),
        happened_on=happened_on or timezone.localdate(),
        actor=acting_user,
    )
    follow_up.full_clean()
    if follow_up.happened_on > timezone.localdate():
        raise ValidationError({"happened_on": _("A follow-up cannot be in the future.")})
    with transaction.atomic():
        follow_up.save()
        _event(
            referral.demand,
            EventKind.FOLLOW_UP,
            actor=acting_user,
            referral=referral,
            note=follow_up.note,
            data={"kind": kind, "outcome": outcome, "agency": referral.agency.code},
            is_public=True,
            public_note=_("The office followed up with %(agency)s.")
            % {"agency": referral.agency.name_fa},
        )
        _audit(acting_user, "referral.follow_up", follow_up, referral.demand)
    return follow_up


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
    _require(permissions.can_work_on(acting_user, demand))
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
        _move(
            demand,
            outcome,
            actor=acting_user,
            expected_version=expected_version,
            reason=reason,
            public_note=reason,
        )
        for upload, content_type in zip(evidence, types, strict=True):
            Attachment.objects.create(
                demand=demand,
                kind=Attachment.Kind.EVIDENCE,
                file=upload,
                content_type=content_type,
                size=upload.size,
                uploaded_by=acting_user,
            )
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
        _event(
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
            _move(
                demand,
                target,
                actor=None,
                expected_version=None,
                public_note=_("Reopened because the resident is not satisfied."),
            )
            messages.to_office(demand, "reopened")
    return feedback
