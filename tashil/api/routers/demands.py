"""Demands and referrals: the staff list and detail, intake (staff, or a
machine client with an API key), and one action endpoint per service.

Reads go through the same selectors as the staff pages and the agency portal,
so the API never shows more than the UI. Every action takes the `version` the
client last read: a stale one answers 409 and changes nothing."""

import datetime as dt
import hashlib

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.security import APIKeyHeader, django_auth

from tashil.accounts.models import ApiKey
from tashil.agencies.models import Agency, DemandCategory
from tashil.api.errors import READ_ERRORS, WRITE_ERRORS
from tashil.api.schemas.demands import (
    CloseIn,
    DemandCreated,
    DemandDetail,
    DemandIn,
    DemandPage,
    DemandStatusFilter,
    FollowUpIn,
    FollowUpOut,
    MergeIn,
    ReferIn,
    ReferralDetail,
    ReferralMoveIn,
    ReferralPage,
    ReferralSortChoice,
    ReferralStatusFilter,
    RejectIn,
    RequestInfoIn,
    SlaFilter,
    SortChoice,
    VersionIn,
)
from tashil.core.errors import ConflictError
from tashil.core.templatetags.tashil import num
from tashil.demands import permissions, ratelimit, selectors, services
from tashil.demands.filters import API_NAMES, parse_day, parse_demand_filters
from tashil.demands.models import Channel, Demand, Referral
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


# --- helpers ---------------------------------------------------------------------------------


def _page(queryset, page: int, page_size: int) -> dict:
    """One page of a list for DemandPage or ReferralPage: the rows are model
    instances, resolved by the page's item schema."""
    # The query parameters are bounded in the schema (PAGE, PAGE_SIZE); this
    # keeps any other caller inside the same bounds.
    if not 1 <= page <= MAX_PAGE:
        raise ValidationError(
            {"page": _("Pages are numbered from 1 to %(max)s.") % {"max": num(MAX_PAGE)}}
        )
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    offset = (page - 1) * size
    return {
        "count": queryset.count(),
        "page": page,
        "page_size": size,
        "items": list(queryset[offset : offset + size]),
    }


def _date(value: str | None, field: str) -> dt.date | None:
    """An ISO date, or a Jalali one in any digits, as the list filters read it."""
    try:
        return parse_day(value)
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


def _detail(request, demand: Demand) -> Demand:
    """The demand as DemandDetail reads it, with the due dates of its running
    referrals."""
    return selectors.with_sla_data(selectors.demand_detail_queryset(request.user)).get(pk=demand.pk)


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
    filters = parse_demand_filters(
        request.user,
        {
            "q": q,
            "status": status,
            "category": category,
            "area": area,
            "office": office,
            "agency": agency,
            "sla_state": sla_state,
            "submitted_from": submitted_from,
            "submitted_to": submitted_to,
            "sort": sort,
        },
        names=API_NAMES,
    )
    rows = selectors.demand_list(user=request.user, filters=filters)
    return _page(rows, page, page_size)


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
    return Status(201 if submission.created else 200, submission)


def _demand_action(request, code: str, payload: VersionIn, service, resolve=None) -> Demand:
    """One path for every move of a demand: fetch it within the user's reach,
    refuse a stale version, then hand the payload's fields to the service.
    `resolve` turns codes in the payload into objects; it runs only after the
    demand is found, so a bad code is reported only on a demand the user may
    act on."""
    demand = _demand(request, code)
    _check_version(demand, payload.version)
    fields = payload.model_dump(exclude={"version"})
    if resolve is not None:
        fields.update(resolve())
    service(demand=demand, acting_user=request.user, expected_version=payload.version, **fields)
    return _detail(request, demand)


@router.post("/demands/{code}/accept", response={200: DemandDetail, **WRITE_ERRORS})
def accept_demand(request, code: str, payload: VersionIn):
    return _demand_action(request, code, payload, services.demand_accept)


@router.post("/demands/{code}/request-info", response={200: DemandDetail, **WRITE_ERRORS})
def request_info(request, code: str, payload: RequestInfoIn):
    return _demand_action(request, code, payload, services.demand_request_info)


@router.post("/demands/{code}/reject", response={200: DemandDetail, **WRITE_ERRORS})
def reject_demand(request, code: str, payload: RejectIn):
    return _demand_action(request, code, payload, services.demand_reject)


def _merge_target(request, code: str) -> dict:
    try:
        into = permissions.access_demand(request.user, code, queryset=_visible(request))
    except Http404:
        into = None
    if into is None:
        _missed(request)
        raise ValidationError({"into": _("No demand you can see has this tracking code.")})
    return {"into": into}


@router.post(
    "/demands/{code}/merge",
    response={200: DemandDetail, **WRITE_ERRORS},
    summary="Merge a duplicate into an open demand",
)
def merge_demand(request, code: str, payload: MergeIn):
    return _demand_action(
        request, code, payload, services.demand_merge, lambda: _merge_target(request, payload.into)
    )


def _visible_agency(request, code: str | None):
    return _by_code(
        Agency.objects.visible_to(request.user),
        code,
        "agency",
        _("No agency you can see has this code."),
    )


@router.post(
    "/demands/{code}/refer",
    response={200: DemandDetail, **WRITE_ERRORS},
    summary="Refer to an agency",
)
def refer_demand(request, code: str, payload: ReferIn):
    def resolve():
        return {
            "agency": _visible_agency(request, payload.agency),
            "letter_date": _date(payload.letter_date, "letter_date"),
        }

    return _demand_action(request, code, payload, services.demand_refer, resolve)


@router.post(
    "/demands/{code}/close",
    response={200: DemandDetail, **WRITE_ERRORS},
    summary="Close as resolved, partly resolved or not feasible",
)
def close_demand(request, code: str, payload: CloseIn):
    return _demand_action(request, code, payload, services.demand_close)


# --- referrals -------------------------------------------------------------------------------


def _referral_detail(request, referral: Referral) -> Referral:
    return (
        selectors.referral_detail_queryset(request.user)
        .prefetch_related("follow_ups__actor")
        .get(pk=referral.pk)
    )


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
    sort: ReferralSortChoice = "due",
    page: int = PAGE,
    page_size: int = PAGE_SIZE,
):
    qs = selectors.referral_list(
        user=request.user, status=status or "", sla=sla_state or "", sort=sort
    )
    found = _visible_agency(request, agency)
    if found is not None:
        qs = qs.filter(agency=found)
    return _page(qs, page, page_size)


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
    return Status(201, follow_up)
