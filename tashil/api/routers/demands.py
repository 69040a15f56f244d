"""Demands and referrals: the staff list and detail, intake (staff, or a
machine client with an API key), and one action endpoint per service.

Reads go through the same selectors as the staff pages and the agency portal,
so the API never shows more than the UI. Every action takes the `version` the
client last read: a stale one answers 409 and changes nothing."""

import datetime as dt
import hashlib
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import APIKeyHeader, django_auth

from tashil.accounts.models import ApiKey
from tashil.agencies.models import Agency, DemandCategory
from tashil.api.errors import READ_ERRORS, WRITE_ERRORS
from tashil.core.errors import ConflictError
from tashil.core.jalali import parse_date
from tashil.core.templatetags.tashil import num
from tashil.demands import messages, permissions, ratelimit, selectors, services
from tashil.demands.models import (
    CLOSED_STATUSES,
    Channel,
    Demand,
    DemandStatus,
    FollowUp,
    Referral,
    ReferralStatus,
    SlaState,
    SubmitterKind,
)
from tashil.geo.models import Area

router = Router(tags=["demands"])

MAX_PAGE_SIZE = 200
# Deep enough for any list a person or a sync job pages through; beyond it an
# offset is an absurd query (and past 2**63 an overflow in the database).
MAX_PAGE = 10_000
# The largest primary key the database can hold (a signed 64-bit integer).
MAX_ID = 2**63 - 1

PAGE = Query(1, ge=1, le=MAX_PAGE, description=f"From 1 to {MAX_PAGE}.")
PAGE_SIZE = Query(50, ge=1, le=MAX_PAGE_SIZE, description=f"From 1 to {MAX_PAGE_SIZE}.")


class ApiKeyAuth(APIKeyHeader):
    """`X-API-Key` for machine clients. A key that is sent but not valid is an
    error of its own, rather than falling through to the session check."""

    param_name = "X-API-Key"

    def authenticate(self, request, key):
        if not key:
            return None
        api_key = ApiKey.authenticate(key)
        if api_key is None:
            raise HttpError(401, _("This API key is not valid or no longer active."))
        return api_key


# --- schemas ---------------------------------------------------------------------------------

DemandStatusFilter = Literal[tuple(["open", "closed", *DemandStatus.values])]
SlaFilter = Literal[tuple(SlaState.values)]
SortChoice = Literal[tuple(selectors.SORTS)]
StaffChannel = Literal[tuple(sorted(services.STAFF_CHANNELS))]
ReferralStatusFilter = Literal[tuple(["open", *ReferralStatus.values])]
ReferralMove = Literal[tuple(v for v in ReferralStatus.values if v != ReferralStatus.SENT)]
CloseOutcome = Literal[tuple(sorted(CLOSED_STATUSES))]


class DemandItem(Schema):
    code: str
    display_code: str
    public_id: str = Field(..., description="The id Open311 and the agency side use.")
    title: str
    status: str
    status_label: str
    category_code: str
    category_name: str
    area_code: str
    area_name: str
    office_code: str | None
    channel: str
    supporters_count: int
    submitted_at: dt.datetime
    closed_at: dt.datetime | None
    sla_state: str | None = Field(None, description="Worst SLA state of the running referrals.")
    next_due: dt.date | None
    version: int


class DemandPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DemandItem]


class Contact(Schema):
    name: str
    mobile: str
    consent: bool


class FollowUpOut(Schema):
    id: int
    kind: str
    outcome: str
    note: str
    happened_on: dt.date
    actor: str | None


class ReferralOut(Schema):
    id: int
    agency_code: str
    agency_name: str
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


class EventOut(Schema):
    kind: str
    at: dt.datetime
    actor: str | None
    referral_id: int | None
    from_status: str
    to_status: str
    note: str
    public_note: str


class DemandDetail(DemandItem):
    description: str
    submitter_kind: str
    latitude: float | None
    longitude: float | None
    province_code: str
    merged_into: str | None
    status_reason: str
    contact: Contact | None = Field(
        None, description="Only for users who may see the resident's contact."
    )
    referrals: list[ReferralOut]
    events: list[EventOut]


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


class DemandCreated(Schema):
    code: str
    display_code: str
    status: str
    version: int
    created: bool
    track_url: str


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


class DemandSummary(Schema):
    code: str | None = Field(
        None, description="The tracking code: only for the office's side, never for agencies."
    )
    display_code: str | None = None
    public_id: str
    title: str
    description: str
    status: str
    category_code: str
    category_name: str
    area_code: str
    area_name: str
    office_code: str | None
    latitude: float | None
    longitude: float | None
    submitted_at: dt.datetime


class ReferralItem(Schema):
    id: int
    demand_code: str | None = Field(
        None, description="The tracking code: only for the office's side, never for agencies."
    )
    demand_public_id: str
    demand_title: str
    category_name: str
    area_name: str
    office_code: str | None
    agency_code: str
    agency_name: str
    status: str
    status_label: str
    letter_number: str
    sent_on: dt.date
    due_date: dt.date
    sla_state: str
    expected_date: dt.date | None
    escalation_level: int
    version: int


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


# --- helpers ---------------------------------------------------------------------------------


def _page(queryset, page: int, page_size: int):
    # The query parameters are bounded in the schema (PAGE, PAGE_SIZE); this
    # keeps any other caller inside the same bounds.
    if not 1 <= page <= MAX_PAGE:
        raise ValidationError(
            {"page": _("Pages are numbered from 1 to %(max)s.") % {"max": num(MAX_PAGE)}}
        )
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    offset = (page - 1) * size
    return queryset.count(), size, list(queryset[offset : offset + size])


def _date(value: str | None, field: str) -> dt.date | None:
    """An ISO date, or a Jalali one (years before 1700 are Jalali)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = dt.date.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.year >= 1700:
        return parsed
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ValidationError({field: str(exc)}) from None


def _check_version(obj, version: int) -> None:
    # Checked here too, not only in the service's conditional update: a
    # stale client must see a conflict even when the newer state also makes
    # its action invalid.
    if obj.version != version:
        raise ConflictError()


def _lookup_identity(request) -> str | None:
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    if getattr(request.auth, "pk", None):
        return f"key:{request.auth.pk}"
    return ratelimit.ip_of(request)


def _check_lookups(request) -> None:
    """Lookups by tracking code that found nothing are counted per user (or
    key); past the limit every lookup is refused for the rest of the window."""
    lim = ratelimit.limit("API_LOOKUP_MISSES_PER_USER")
    if ratelimit.exceeded(lim.name, _lookup_identity(request)):
        raise HttpError(
            429,
            _("Too many tracking codes that were not found. Try again in %(minutes)s minutes.")
            % {"minutes": lim.minutes},
        )


def _missed(request) -> None:
    ratelimit.hit("API_LOOKUP_MISSES_PER_USER", _lookup_identity(request))


def _demand(request, code: str) -> Demand:
    _check_lookups(request)
    try:
        return permissions.access_demand(request.user, code)
    except Http404:
        _missed(request)
        raise


def _visible(request):
    return Demand.objects.visible_to(request.user)


def _referral(request, pk: int) -> Referral:
    return permissions.access_referral(request.user, pk)


def _person(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.username


def _sla(demand, today) -> str | None:
    return selectors.row_sla_state(demand, today) or None


def _item(demand: Demand, today) -> dict:
    return {
        "code": demand.code,
        "display_code": demand.display_code,
        "public_id": demand.public_id,
        "title": demand.title,
        "status": demand.status,
        "status_label": str(DemandStatus(demand.status).label),
        "category_code": demand.category.code,
        "category_name": demand.category.name,
        "area_code": demand.area.code,
        "area_name": demand.area.name,
        "office_code": demand.office.code if demand.office_id else None,
        "channel": demand.channel,
        "supporters_count": demand.supporters_count,
        "submitted_at": demand.submitted_at,
        "closed_at": demand.closed_at,
        "sla_state": _sla(demand, today) if hasattr(demand, "next_due") else None,
        "next_due": getattr(demand, "next_due", None),
        "version": demand.version,
    }


def _contact(demand: Demand) -> dict:
    return {
        "name": demand.submitter_name,
        "mobile": demand.submitter_mobile,
        "consent": demand.contact_consent,
    }


def _referral_out(referral: Referral, today, *, follow_ups=True) -> dict:
    return {
        "id": referral.pk,
        "agency_code": referral.agency.code,
        "agency_name": referral.agency.name,
        "status": referral.status,
        "status_label": str(ReferralStatus(referral.status).label),
        "letter_number": referral.letter_number,
        "letter_date": referral.letter_date,
        "sent_on": referral.sent_on,
        "due_date": referral.due_date,
        "at_risk_date": referral.at_risk_date,
        "sla_state": referral.sla_state_on(today),
        "note": referral.note,
        "answer": referral.answer,
        "expected_date": referral.expected_date,
        "status_reason": referral.status_reason,
        "answered_at": referral.answered_at,
        "closed_at": referral.closed_at,
        "escalation_level": referral.escalation_level,
        "version": referral.version,
        "follow_ups": [
            {
                "id": f.pk,
                "kind": f.kind,
                "outcome": f.outcome,
                "note": f.note,
                "happened_on": f.happened_on,
                "actor": _person(f.actor),
            }
            for f in referral.follow_ups.all()
        ]
        if follow_ups
        else [],
    }


def _detail(request, demand: Demand) -> dict:
    today = timezone.localdate()
    demand = selectors.with_sla_data(selectors.demand_detail_queryset(request.user)).get(
        pk=demand.pk
    )
    return {
        **_item(demand, today),
        "description": demand.description,
        "submitter_kind": demand.submitter_kind,
        "latitude": demand.latitude,
        "longitude": demand.longitude,
        "province_code": demand.province.code,
        "merged_into": demand.merged_into.code if demand.merged_into_id else None,
        "status_reason": demand.status_reason,
        "contact": _contact(demand) if permissions.can_see_contact(request.user, demand) else None,
        "referrals": [_referral_out(r, today) for r in selectors.demand_referrals(demand)],
        "events": [
            {
                "kind": e.kind,
                "at": e.at,
                "actor": _person(e.actor),
                "referral_id": e.referral_id,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "public_note": e.public_note,
            }
            for e in selectors.demand_events(demand)
        ],
    }


def _by_code(queryset, code: str | None, field: str, message):
    if not code:
        return None
    found = queryset.filter(code=code).first()
    if found is None:
        raise ValidationError({field: message})
    return found


# --- demands ---------------------------------------------------------------------------------


@router.get(
    "/demands/", response={200: DemandPage, **READ_ERRORS}, summary="Demands the user may work on"
)
def list_demands(
    request,
    q: str = "",
    status: DemandStatusFilter | None = None,
    category: str | None = None,
    area: str | None = None,
    office: str | None = None,
    agency: str | None = None,
    sla_state: SlaFilter | None = None,
    submitted_from: str | None = None,
    submitted_to: str | None = None,
    sort: SortChoice = "newest",
    page: int = PAGE,
    page_size: int = PAGE_SIZE,
):
    """Filters combine; `q` finds every word in the normalised text (Arabic or
    Persian letters, any digits, with or without ZWNJ) or a tracking code.
    Dates are ISO or Jalali. Liaisons use /referrals/; analysts see no rows."""
    user = request.user
    filters = selectors.DemandFilters(
        q=q,
        status=status or "",
        sla=sla_state or "",
        area=_by_code(Area.objects.all(), area, "area", _("No area has this code.")),
        category=_by_code(
            DemandCategory.objects.all(), category, "category", _("No category has this code.")
        ),
        office=_by_code(
            selectors.visible_offices(user),
            office,
            "office",
            _("No office you can see has this code."),
        ),
        agency=_by_code(
            Agency.objects.visible_to(user),
            agency,
            "agency",
            _("No agency you can see has this code."),
        ),
        date_from=_date(submitted_from, "submitted_from"),
        date_to=_date(submitted_to, "submitted_to"),
        sort=sort,
    )
    today = timezone.localdate()
    count, size, rows = _page(
        selectors.demand_list(user=user, filters=filters, today=today), page, page_size
    )
    return {
        "count": count,
        "page": page,
        "page_size": size,
        "items": [_item(d, today) for d in rows],
    }


@router.get(
    "/demands/{code}",
    response={200: DemandDetail, **READ_ERRORS},
    summary="One demand with its referrals and timeline",
)
def get_demand(request, code: str):
    return _detail(request, _demand(request, code))


@router.post(
    "/demands/",
    response={201: DemandCreated, 200: DemandCreated, **WRITE_ERRORS},
    auth=[ApiKeyAuth(), django_auth],
    summary="Record a demand (staff, or a machine client with X-API-Key)",
)
def create_demand(request, payload: DemandIn):
    """Staff record on a resident's behalf (walk-in, phone, meeting) for their
    offices. A client with an API key records channel "api". A retried POST
    with the same idempotency key answers 200 with the first demand."""
    by_key = isinstance(request.auth, ApiKey)
    owner = f"key:{request.auth.pk}" if by_key else f"user:{request.user.pk}"
    raw_key = payload.idempotency_key or request.headers.get("Idempotency-Key", "").strip()
    idempotency_key = (
        "api:" + hashlib.sha256(f"{owner}:{raw_key}".encode()).hexdigest()[:64] if raw_key else None
    )
    area = None
    if payload.area:
        area = Area.objects.filter(code=payload.area).first()
        if area is None:
            raise ValidationError({"area": _("No neighbourhood has this code.")})
    submission = services.demand_submit(
        channel=Channel.API if by_key else payload.channel,
        category=DemandCategory.objects.filter(code=payload.category).first(),
        description=payload.description,
        area=area,
        latitude=payload.latitude,
        longitude=payload.longitude,
        title=payload.title,
        submitter_name=payload.submitter_name,
        submitter_mobile=payload.submitter_mobile,
        submitter_kind=payload.submitter_kind,
        contact_consent=payload.contact_consent,
        is_listed=payload.is_listed,
        acting_user=None if by_key else request.user,
        idempotency_key=idempotency_key,
        event_data={"api_client": request.auth.name} if by_key else None,
    )
    demand = submission.demand
    body = {
        "code": demand.code,
        "display_code": demand.display_code,
        "status": demand.status,
        "version": demand.version,
        "created": submission.created,
        "track_url": messages.track_url(demand),
    }
    return Status(201 if submission.created else 200, body)


@router.post("/demands/{code}/accept", response={200: DemandDetail, **WRITE_ERRORS})
def accept_demand(request, code: str, payload: VersionIn):
    demand = _demand(request, code)
    _check_version(demand, payload.version)
    services.demand_accept(
        demand=demand, acting_user=request.user, expected_version=payload.version
    )
    return _detail(request, demand)


@router.post("/demands/{code}/request-info", response={200: DemandDetail, **WRITE_ERRORS})
def request_info(request, code: str, payload: RequestInfoIn):
    demand = _demand(request, code)
    _check_version(demand, payload.version)
    services.demand_request_info(
        demand=demand,
        acting_user=request.user,
        message=payload.message,
        expected_version=payload.version,
    )
    return _detail(request, demand)


@router.post("/demands/{code}/reject", response={200: DemandDetail, **WRITE_ERRORS})
def reject_demand(request, code: str, payload: RejectIn):
    demand = _demand(request, code)
    _check_version(demand, payload.version)
    services.demand_reject(
        demand=demand,
        acting_user=request.user,
        reason=payload.reason,
        expected_version=payload.version,
    )
    return _detail(request, demand)


@router.post(
    "/demands/{code}/merge",
    response={200: DemandDetail, **WRITE_ERRORS},
    summary="Merge a duplicate into an open demand",
)
def merge_demand(request, code: str, payload: MergeIn):
    demand = _demand(request, code)
    _check_version(demand, payload.version)
    try:
        into = permissions.access_demand(request.user, payload.into, queryset=_visible(request))
    except Http404:
        into = None
    if into is None:
        _missed(request)
        raise ValidationError({"into": _("No demand you can see has this tracking code.")})
    services.demand_merge(
        demand=demand, into=into, acting_user=request.user, expected_version=payload.version
    )
    return _detail(request, demand)


@router.post(
    "/demands/{code}/refer",
    response={200: DemandDetail, **WRITE_ERRORS},
    summary="Refer to an agency",
)
def refer_demand(request, code: str, payload: ReferIn):
    demand = _demand(request, code)
    _check_version(demand, payload.version)
    agency = _by_code(
        Agency.objects.visible_to(request.user),
        payload.agency,
        "agency",
        _("No agency you can see has this code."),
    )
    services.demand_refer(
        demand=demand,
        acting_user=request.user,
        agency=agency,
        letter_number=payload.letter_number,
        letter_date=_date(payload.letter_date, "letter_date"),
        note=payload.note,
        expected_version=payload.version,
    )
    return _detail(request, demand)


@router.post(
    "/demands/{code}/close",
    response={200: DemandDetail, **WRITE_ERRORS},
    summary="Close as resolved, partly resolved or not feasible",
)
def close_demand(request, code: str, payload: CloseIn):
    demand = _demand(request, code)
    _check_version(demand, payload.version)
    services.demand_close(
        demand=demand,
        outcome=payload.outcome,
        acting_user=request.user,
        reason=payload.reason,
        expected_version=payload.version,
    )
    return _detail(request, demand)


# --- referrals -------------------------------------------------------------------------------


def _referral_item(referral: Referral, user) -> dict:
    demand = referral.demand
    # The tracking code is the resident's key: the agency side gets the public id.
    office_side = permissions.can_work_on(user, demand)
    return {
        "id": referral.pk,
        "demand_code": demand.code if office_side else None,
        "demand_public_id": demand.public_id,
        "demand_title": demand.title,
        "category_name": demand.category.name,
        "area_name": demand.area.name,
        "office_code": demand.office.code if demand.office_id else None,
        "agency_code": referral.agency.code,
        "agency_name": referral.agency.name,
        "status": referral.status,
        "status_label": str(ReferralStatus(referral.status).label),
        "letter_number": referral.letter_number,
        "sent_on": referral.sent_on,
        "due_date": referral.due_date,
        "sla_state": referral.sla_state,
        "expected_date": referral.expected_date,
        "escalation_level": referral.escalation_level,
        "version": referral.version,
    }


def _referral_detail(request, referral: Referral) -> dict:
    today = timezone.localdate()
    referral = (
        selectors.referral_detail_queryset(request.user)
        .prefetch_related("follow_ups__actor")
        .get(pk=referral.pk)
    )
    demand = referral.demand
    office_side = permissions.can_work_on(request.user, demand)
    return {
        # The office's follow-up notes are its own record, not the agency's.
        **_referral_out(referral, today, follow_ups=office_side),
        "demand": {
            "code": demand.code if office_side else None,
            "display_code": demand.display_code if office_side else None,
            "public_id": demand.public_id,
            "title": demand.title,
            "description": demand.description,
            "status": demand.status,
            "category_code": demand.category.code,
            "category_name": demand.category.name,
            "area_code": demand.area.code,
            "area_name": demand.area.name,
            "office_code": demand.office.code if demand.office_id else None,
            "latitude": demand.latitude,
            "longitude": demand.longitude,
            "submitted_at": demand.submitted_at,
        },
        "contact": _contact(demand)
        if permissions.can_see_contact(request.user, demand, referral)
        else None,
    }


@router.get(
    "/referrals/",
    response={200: ReferralPage, **READ_ERRORS},
    tags=["referrals"],
    summary="Referrals the user may see (a liaison: their agency's)",
)
def list_referrals(
    request,
    status: ReferralStatusFilter | None = None,
    sla_state: SlaFilter | None = None,
    agency: str | None = None,
    sort: Literal[tuple(selectors.REFERRAL_SORTS)] = "due",
    page: int = PAGE,
    page_size: int = PAGE_SIZE,
):
    qs = selectors.referral_list(
        user=request.user, status=status or "", sla=sla_state or "", sort=sort
    )
    found = _by_code(
        Agency.objects.visible_to(request.user),
        agency,
        "agency",
        _("No agency you can see has this code."),
    )
    if found is not None:
        qs = qs.filter(agency=found)
    count, size, rows = _page(qs, page, page_size)
    return {
        "count": count,
        "page": page,
        "page_size": size,
        "items": [_referral_item(r, request.user) for r in rows],
    }


@router.get(
    "/referrals/{int:referral_id}",
    response={200: ReferralDetail, **READ_ERRORS},
    tags=["referrals"],
)
def get_referral(request, referral_id: int):
    return _referral_detail(request, _referral(request, referral_id))


@router.post(
    "/referrals/{int:referral_id}/move",
    response={200: ReferralDetail, **WRITE_ERRORS},
    tags=["referrals"],
    summary="Acknowledge, answer, reject, mark done (agency) or reopen/confirm (office)",
)
def move_referral(request, referral_id: int, payload: ReferralMoveIn):
    referral = _referral(request, referral_id)
    _check_version(referral, payload.version)
    services.referral_move(
        referral=referral,
        to_status=payload.status,
        acting_user=request.user,
        note=payload.note,
        expected_date=_date(payload.expected_date, "expected_date"),
        expected_version=payload.version,
    )
    return _referral_detail(request, referral)


@router.post(
    "/referrals/{int:referral_id}/follow-ups",
    response={201: FollowUpOut, **WRITE_ERRORS},
    tags=["referrals"],
    summary="Log the office's follow-up of a referral",
)
def add_follow_up(request, referral_id: int, payload: FollowUpIn):
    referral = _referral(request, referral_id)
    follow_up = services.follow_up_log(
        referral=referral,
        kind=payload.kind,
        outcome=payload.outcome,
        acting_user=request.user,
        note=payload.note,
        happened_on=_date(payload.happened_on, "happened_on"),
    )
    return Status(
        201,
        {
            "id": follow_up.pk,
            "kind": follow_up.kind,
            "outcome": follow_up.outcome,
            "note": follow_up.note,
            "happened_on": follow_up.happened_on,
            "actor": _person(request.user),
        },
    )
