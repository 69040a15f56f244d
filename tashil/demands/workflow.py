"""The demand's and the referral's life cycles as named transitions
(`tashil.core.transitions`), and the timeline rows every write of this app
records. Services move a demand or a referral only through `DEMAND` and
`REFERRAL`; pages and the API ask `available_moves` which buttons to show."""

import nh3
from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tashil.core import audit
from tashil.core.text import normalize
from tashil.core.transitions import Machine, Transition

from . import permissions
from .models import (
    CLOCK_RUNNING_STATUSES,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Attachment,
    Demand,
    DemandEvent,
    DemandStatus,
    EventKind,
    Referral,
    ReferralStatus,
)

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def clean_text(value: str | None) -> str:
    """Residents' text is plain text: any HTML or script is removed, not escaped."""
    return normalize(nh3.clean(value or "", tags=set(), strip_comments=True)).strip()


def attach_files(demand, kind, uploads, content_types, *, uploaded_by, referral=None) -> None:
    """Store checked uploads on the demand (`content_types` as the checks found them)."""
    for upload, content_type in zip(uploads, content_types, strict=True):
        Attachment.objects.create(
            demand=demand,
            referral=referral,
            kind=kind,
            file=upload,
            content_type=content_type,
            size=upload.size,
            uploaded_by=uploaded_by,
        )


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


def record_event(
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
    """One row of the demand's timeline."""
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


def record_audit(actor, action, obj, demand, changes=None):
    """An audit row of a write to a demand or to something of it."""
    audit.record(
        actor=actor,
        action=action,
        obj=obj,
        changes=changes,
        province=demand.province,
        office=demand.office,
    )


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


# --- who may -------------------------------------------------------------------------------


def _office(user, demand) -> bool:
    return user is not None and permissions.can_work_on(user, demand)


def _resident(user, demand) -> bool:
    # The resident answers through the public pages, signed in as nobody.
    return user is None


def _agency_side(user, referral) -> bool:
    return user is not None and permissions.can_answer_referral(user, referral)


def _office_side(user, referral) -> bool:
    return user is not None and permissions.can_work_on(user, referral.demand)


# --- the demand ----------------------------------------------------------------------------

D = DemandStatus
TRIAGE = {D.NEW, D.NEEDS_INFO}
WORKED_ON = {D.ACCEPTED, D.REFERRED}


def _log_demand(
    demand, move, user, *, kind=EventKind.STATUS, referral=None, note="", public_note="", data=None
):
    """A move's row on the demand's timeline; residents see every move."""
    record_event(
        demand,
        kind,
        actor=user,
        referral=referral,
        from_status=move.source,
        to_status=move.target,
        note=note,
        public_note=public_note,
        is_public=True,
        data=data,
    )


DEMAND = Machine(
    states=DemandStatus,
    transitions=[
        Transition("accept", TRIAGE, D.ACCEPTED, _office),
        # Accepting a referred demand again takes it back from the agencies'
        # queue; the demand page offers no button for it, the API does.
        Transition("take_back", {D.REFERRED}, D.ACCEPTED, _office),
        Transition("request_info", {D.NEW}, D.NEEDS_INFO, _office),
        Transition("reject", TRIAGE, D.REJECTED, _office),
        Transition("merge", OPEN_STATUSES, D.MERGED, _office),
        # A new demand is accepted on its way to its first referral; a further
        # referral leaves a referred demand referred.
        Transition("refer", {D.NEW, *WORKED_ON}, D.REFERRED, _office),
        Transition("resolve", WORKED_ON, D.RESOLVED, _office),
        Transition("resolve_partly", WORKED_ON, D.PARTLY_RESOLVED, _office),
        Transition("not_feasible", WORKED_ON, D.NOT_FEASIBLE, _office),
        # "Not satisfied": back to accepted, or to referred while a referral is open.
        Transition("reopen", CLOSED_STATUSES, D.ACCEPTED, _resident),
        Transition("reopen_referred", CLOSED_STATUSES, D.REFERRED, _resident),
    ],
    action="demand.{target}",
    where=lambda demand: (demand.province, demand.office),
    log=_log_demand,
    refused=gettext_lazy("A demand that is “%(from)s” cannot become “%(to)s”."),
)
CLOSE_MOVES = ("resolve", "resolve_partly", "not_feasible")


def move_demand(
    demand,
    to_status,
    *,
    actor,
    expected_version,
    reason="",
    note="",
    public_note="",
    fields=(),
    notify=(),
):
    """Move a demand (status, reason, closing time) with its timeline and audit rows."""
    from_status = demand.status
    if to_status == from_status:
        # A second referral: nothing moves, but the version the user saw must hold.
        DEMAND.transition_for(demand, actor, to=to_status)
        return DEMAND.bump(demand, expected_version)
    DEMAND.transition_for(demand, actor, to=to_status)
    if reason:
        demand.status_reason = reason
    if to_status in CLOSED_STATUSES or to_status in (D.REJECTED, D.MERGED):
        demand.closed_at = timezone.now()
    elif from_status in CLOSED_STATUSES:
        demand.closed_at = None
    return DEMAND.move(
        demand,
        user=actor,
        to=to_status,
        expected_version=expected_version,
        fields=["status_reason", "closed_at", *fields],
        log={"note": note or reason, "public_note": public_note},
        notify=notify,
    )


# --- the referral --------------------------------------------------------------------------

R = ReferralStatus


def _log_referral(referral, move, user, **notes):
    _log_demand(
        referral.demand, move, user, kind=EventKind.REFERRAL_STATUS, referral=referral, **notes
    )


REFERRAL = Machine(
    states=ReferralStatus,
    transitions=[
        # The agency acknowledges, works, answers, reports done or refuses.
        Transition("receive", {R.SENT}, R.RECEIVED, _agency_side, side="agency"),
        Transition(
            "start", {R.SENT, R.RECEIVED, R.ANSWERED}, R.IN_PROGRESS, _agency_side, side="agency"
        ),
        Transition(
            "answer", {R.SENT, R.RECEIVED, R.IN_PROGRESS}, R.ANSWERED, _agency_side, side="agency"
        ),
        Transition("done", {R.IN_PROGRESS, R.ANSWERED}, R.DONE, _agency_side, side="agency"),
        Transition(
            "reject", {R.SENT, R.RECEIVED, R.IN_PROGRESS}, R.REJECTED, _agency_side, side="agency"
        ),
        Transition(
            "not_responsible", {R.SENT, R.RECEIVED}, R.NOT_RESPONSIBLE, _agency_side, side="agency"
        ),
        # The office closes the loop on the agency's work: it accepts an answer
        # (or work it saw done) as done, or sends an answer back. Acknowledging
        # or starting the work stays the agency's word.
        Transition(
            "confirm_done", {R.IN_PROGRESS, R.ANSWERED}, R.DONE, _office_side, side="office"
        ),
        Transition("send_back", {R.ANSWERED}, R.IN_PROGRESS, _office_side, side="office"),
    ],
    action="referral.{target}",
    where=lambda referral: (referral.demand.province, referral.demand.office),
    log=_log_referral,
    refused=gettext_lazy("A referral that is “%(from)s” cannot become “%(to)s”."),
)
