"""The demands API's Schemas. Each one is declared once and resolves from the
model instances the router returns: a plain field reads the attribute of the
same name, `Field(alias="a.b")` follows a relation the selector already
joined, and `resolve_<field>` computes the rest (labels, SLA states, what the
user may see). So no handler builds a dict that repeats a schema, and a field
added here appears everywhere the schema is used."""

import datetime as dt
from typing import Literal

from django.utils import timezone
from ninja import Field, Schema

from tashil.demands import messages, permissions, selectors, services
from tashil.demands.models import (
    CLOSED_STATUSES,
    Channel,
    DemandStatus,
    FollowUp,
    ReferralStatus,
    SlaState,
    SubmitterKind,
)

DemandStatusFilter = Literal[tuple(["open", "closed", *DemandStatus.values])]
SlaFilter = Literal[tuple(SlaState.values)]
SortChoice = Literal[tuple(selectors.SORTS)]
ReferralSortChoice = Literal[tuple(selectors.REFERRAL_SORTS)]
StaffChannel = Literal[tuple(sorted(services.STAFF_CHANNELS))]
ReferralStatusFilter = Literal[tuple(["open", *ReferralStatus.values])]
ReferralMove = Literal[tuple(v for v in ReferralStatus.values if v != ReferralStatus.SENT)]
CloseOutcome = Literal[tuple(sorted(CLOSED_STATUSES))]


def _user(context):
    return context["request"].user


def _person(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.username


def _office_code(demand) -> str | None:
    return demand.office.code if demand.office_id else None


# --- one demand ------------------------------------------------------------------------------


class DemandItem(Schema):
    code: str
    display_code: str
    public_id: str = Field(..., description="The id Open311 and the agency side use.")
    title: str
    status: str
    status_label: str
    category_code: str = Field(..., alias="category.code")
    category_name: str = Field(..., alias="category.name")
    area_code: str = Field(..., alias="area.code")
    area_name: str = Field(..., alias="area.name")
    office_code: str | None
    channel: str
    supporters_count: int
    submitted_at: dt.datetime
    closed_at: dt.datetime | None
    sla_state: str | None = Field(None, description="Worst SLA state of the running referrals.")
    next_due: dt.date | None
    version: int

    @staticmethod
    def resolve_status_label(demand) -> str:
        return str(DemandStatus(demand.status).label)

    @staticmethod
    def resolve_office_code(demand) -> str | None:
        return _office_code(demand)

    @staticmethod
    def resolve_sla_state(demand) -> str | None:
        # Only rows read through selectors.with_sla_data carry the due dates.
        if not hasattr(demand, "next_due"):
            return None
        return selectors.row_sla_state(demand, timezone.localdate()) or None

    @staticmethod
    def resolve_next_due(demand) -> dt.date | None:
        return getattr(demand, "next_due", None)


class DemandPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DemandItem]


class Contact(Schema):
    name: str = Field(..., alias="submitter_name")
    mobile: str = Field(..., alias="submitter_mobile")
    consent: bool = Field(..., alias="contact_consent")


class FollowUpOut(Schema):
    id: int
    kind: str
    outcome: str
    note: str
    happened_on: dt.date
    actor: str | None

    @staticmethod
    def resolve_actor(follow_up) -> str | None:
        return _person(follow_up.actor)


class ReferralOut(Schema):
    id: int
    agency_code: str = Field(..., alias="agency.code")
    agency_name: str = Field(..., alias="agency.name")
    status: str
    status_label: str
    letter_number: str
    letter_date: dt.date | None
    sent_on: dt.date
    due_date: dt.date
    at_risk_date: dt.date
    sla_state: str
    note: str
    answer: str
    expected_date: dt.date | None
    status_reason: str
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None
    escalation_level: int
    version: int
    follow_ups: list[FollowUpOut]

    @staticmethod
    def resolve_status_label(referral) -> str:
        return str(ReferralStatus(referral.status).label)

    @staticmethod
    def resolve_sla_state(referral) -> str:
        return referral.sla_state_on(timezone.localdate())


class EventOut(Schema):
    kind: str
    at: dt.datetime
    actor: str | None
    referral_id: int | None
    from_status: str
    to_status: str
    note: str
    public_note: str

    @staticmethod
    def resolve_actor(event) -> str | None:
        return _person(event.actor)


class DemandDetail(DemandItem):
    description: str
    submitter_kind: str
    latitude: float | None
    longitude: float | None
    province_code: str = Field(..., alias="province.code")
    merged_into: str | None
    status_reason: str
    contact: Contact | None = Field(
        None, description="Only for users who may see the resident's contact."
    )
    referrals: list[ReferralOut]
    events: list[EventOut]

    @staticmethod
    def resolve_merged_into(demand) -> str | None:
        return demand.merged_into.code if demand.merged_into_id else None

    @staticmethod
    def resolve_contact(demand, context):
        return demand if permissions.can_see_contact(_user(context), demand) else None

    @staticmethod
    def resolve_referrals(demand):
        return selectors.demand_referrals(demand)

    @staticmethod
    def resolve_events(demand):
        return selectors.demand_events(demand)


# Resolves from the intake service's Submission.
class DemandCreated(Schema):
    code: str = Field(..., alias="demand.code")
    display_code: str = Field(..., alias="demand.display_code")
    status: str = Field(..., alias="demand.status")
    version: int = Field(..., alias="demand.version")
    created: bool
    track_url: str

    @staticmethod
    def resolve_track_url(submission) -> str:
        return messages.track_url(submission.demand)


# --- input -----------------------------------------------------------------------------------


class DemandIn(Schema):
    category: str = Field(..., description="Code of a leaf category.")
    area: str | None = Field(
        None, description="Neighbourhood code; or give latitude and longitude."
    )
    latitude: float | None = None
    longitude: float | None = None
    description: str
    title: str = ""
    submitter_name: str = ""
    submitter_mobile: str = ""
    submitter_kind: Literal[tuple(SubmitterKind.values)] = SubmitterKind.RESIDENT
    contact_consent: bool = False
    is_listed: bool = Field(
        False,
        description="The resident agrees that Open311 lists the demand (without personal data).",
    )
    channel: StaffChannel = Field(
        Channel.WALK_IN, description="Staff intake only; API keys record 'api'."
    )
    idempotency_key: str | None = Field(
        None, max_length=64, description="Or the Idempotency-Key header."
    )


class VersionIn(Schema):
    version: int = Field(..., description="The version the client last read.")


class RequestInfoIn(VersionIn):
    message: str


class RejectIn(VersionIn):
    reason: str


class MergeIn(VersionIn):
    into: str = Field(..., description="Tracking code of the demand to merge into.")


class ReferIn(VersionIn):
    agency: str | None = Field(
        None, description="Agency code; the routing table's choice when empty."
    )
    letter_number: str = ""
    letter_date: str | None = Field(None, description="YYYY-MM-DD, or Jalali YYYY/MM/DD.")
    note: str = ""


class CloseIn(VersionIn):
    outcome: CloseOutcome
    reason: str = ""


class ReferralMoveIn(VersionIn):
    status: ReferralMove
    note: str = ""
    expected_date: str | None = Field(None, description="YYYY-MM-DD, or Jalali YYYY/MM/DD.")


class FollowUpIn(Schema):
    kind: Literal[tuple(FollowUp.Kind.values)]
    outcome: Literal[tuple(FollowUp.Outcome.values)]
    note: str = ""
    happened_on: str | None = Field(
        None, description="YYYY-MM-DD, or Jalali YYYY/MM/DD; today when empty."
    )


# --- referrals -------------------------------------------------------------------------------
# The tracking code is the resident's key: the agency side gets the public id only.


class DemandSummary(Schema):
    code: str | None = Field(
        None, description="The tracking code: only for the office's side, never for agencies."
    )
    display_code: str | None = None
    public_id: str
    title: str
    description: str
    status: str
    category_code: str = Field(..., alias="category.code")
    category_name: str = Field(..., alias="category.name")
    area_code: str = Field(..., alias="area.code")
    area_name: str = Field(..., alias="area.name")
    office_code: str | None
    latitude: float | None
    longitude: float | None
    submitted_at: dt.datetime

    @staticmethod
    def resolve_code(demand, context) -> str | None:
        return demand.code if permissions.can_work_on(_user(context), demand) else None

    @staticmethod
    def resolve_display_code(demand, context) -> str | None:
        return demand.display_code if permissions.can_work_on(_user(context), demand) else None

    @staticmethod
    def resolve_office_code(demand) -> str | None:
        return _office_code(demand)


class ReferralItem(Schema):
    id: int
    demand_code: str | None = Field(
        None, description="The tracking code: only for the office's side, never for agencies."
    )
    demand_public_id: str = Field(..., alias="demand.public_id")
    demand_title: str = Field(..., alias="demand.title")
    category_name: str = Field(..., alias="demand.category.name")
    area_name: str = Field(..., alias="demand.area.name")
    office_code: str | None
    agency_code: str = Field(..., alias="agency.code")
    agency_name: str = Field(..., alias="agency.name")
    status: str
    status_label: str
    letter_number: str
    sent_on: dt.date
    due_date: dt.date
    sla_state: str
    expected_date: dt.date | None
    escalation_level: int
    version: int

    @staticmethod
    def resolve_demand_code(referral, context) -> str | None:
        demand = referral.demand
        return demand.code if permissions.can_work_on(_user(context), demand) else None

    @staticmethod
    def resolve_office_code(referral) -> str | None:
        return _office_code(referral.demand)

    @staticmethod
    def resolve_status_label(referral) -> str:
        return str(ReferralStatus(referral.status).label)


class ReferralPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ReferralItem]


class ReferralDetail(ReferralOut):
    demand: DemandSummary
    contact: Contact | None = Field(
        None, description="Only when the resident consented, for liaisons."
    )

    @staticmethod
    def resolve_follow_ups(referral, context):
        # The office's follow-up notes are its own record, not the agency's.
        if permissions.can_work_on(_user(context), referral.demand):
            return list(referral.follow_ups.all())
        return []

    @staticmethod
    def resolve_contact(referral, context):
        demand = referral.demand
        return demand if permissions.can_see_contact(_user(context), demand, referral) else None
