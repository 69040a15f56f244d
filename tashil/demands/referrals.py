"""Writes to referrals: refer a demand to an agency, move a referral along
its life cycle (`workflow.REFERRAL`), log the office's follow-ups."""

import math

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tashil.agencies.models import Agency, DemandCategory
from tashil.agencies.routing import route
from tashil.core.calendar import add_working_days

from . import messages, permissions
from .models import (
    CLOCK_RUNNING_STATUSES,
    Attachment,
    Demand,
    DemandStatus,
    EventKind,
    FollowUp,
    Referral,
    ReferralStatus,
)
from .workflow import (
    DEMAND,
    REFERRAL,
    attach_files,
    clean_text,
    move_demand,
    record_audit,
    record_event,
    sync_next_due_date,
    validate_photo,
)


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
    DEMAND.authorize(demand, acting_user, name="refer")
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
    if not DEMAND.can(demand, acting_user, "refer"):
        raise ValidationError({"status": _("Only an open, accepted demand can be referred.")})
    sent_on = timezone.localdate()
    due, at_risk = due_dates(sent_on=sent_on, category=demand.category, province=demand.province_id)
    with transaction.atomic():
        if demand.status == DemandStatus.NEW:
            move_demand(
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
        # A further referral leaves the demand referred; only its version moves.
        move_demand(
            demand,
            DemandStatus.REFERRED,
            actor=acting_user,
            expected_version=expected_version,
            public_note=_("Referred to %(agency)s.") % {"agency": agency.name_fa},
        )
        sync_next_due_date(demand)
        record_event(
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
        record_audit(
            acting_user, "referral.create", referral, demand, {"agency": [None, agency.code]}
        )
        messages.to_resident(demand, "referred", agency=agency.name_fa)
        messages.to_liaisons(referral, "new_referral")
    return referral


# What the resident's tracking page says of each move.
PUBLIC_NOTES = {
    ReferralStatus.RECEIVED: gettext_lazy("The agency received the referral."),
    ReferralStatus.IN_PROGRESS: gettext_lazy("The agency is working on it."),
    ReferralStatus.ANSWERED: gettext_lazy("The agency answered."),
    ReferralStatus.DONE: gettext_lazy("The agency reports the work done."),
    ReferralStatus.REJECTED: gettext_lazy("The agency did not accept the referral."),
    ReferralStatus.NOT_RESPONSIBLE: gettext_lazy(
        "The agency says another agency is responsible; the office re-routes it."
    ),
}


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
    # Who may, and from where, before the input is judged.
    REFERRAL.transition_for(referral, acting_user, to=to_status)
    from_status = referral.status
    note = clean_text(note)
    if (
        to_status
        in (ReferralStatus.REJECTED, ReferralStatus.NOT_RESPONSIBLE, ReferralStatus.ANSWERED)
        and not note
    ):
        raise ValidationError({"note": _("Write the answer or the reason.")})
    fields = []
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
        REFERRAL.move(
            referral,
            user=acting_user,
            to=to_status,
            expected_version=expected_version,
            fields=fields,
            log={
                "note": note,
                "public_note": PUBLIC_NOTES[ReferralStatus(to_status)],
                "data": {
                    "agency": referral.agency.code,
                    "expected_date": expected_date.isoformat() if expected_date else None,
                },
            },
        )
        if (from_status in CLOCK_RUNNING_STATUSES) != (to_status in CLOCK_RUNNING_STATUSES):
            sync_next_due_date(demand)
        attach_files(
            demand,
            Attachment.Kind.ANSWER,
            attachments,
            photo_types,
            uploaded_by=acting_user,
            referral=referral,
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
    if not permissions.can_work_on(acting_user, referral.demand):
        raise PermissionDenied(_("You do not have permission to do this."))
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
        record_event(
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
        record_audit(acting_user, "referral.follow_up", follow_up, referral.demand)
    return follow_up


def escalation_record(*, referral: Referral, level: int, rung: str, notified, at) -> None:
    """One rung of the escalation ladder reached (escalation.py): its timeline
    row, public from the province's rung on, and its audit row. The caller
    has claimed the level with a conditional update, in this transaction."""
    demand = referral.demand
    record_event(
        demand,
        EventKind.ESCALATED,
        referral=referral,
        at=at,
        data={
            "level": level,
            "rung": rung,
            "agency": referral.agency.code,
            "due_date": referral.due_date.isoformat(),
            "notified": [u.username for u in notified],
        },
        is_public=level >= 3,
        public_note=_("The delay was escalated to the province.") if level >= 3 else "",
    )
    record_audit(
        None,
        "referral.escalate",
        referral,
        demand,
        {"escalation_level": [level - 1, level], "rung": [None, rung]},
    )
