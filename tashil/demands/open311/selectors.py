"""Reads behind the Open311 endpoint, and the mapping of rows to the spec's
fields. Everything here is public: no names, phone numbers, e-mail addresses
or staff names ever leave through these functions."""

import datetime as dt
import re

from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tashil.agencies.models import DemandCategory
from tashil.core.text import search_key
from tashil.geo.models import Area

from ..models import (
    OPEN_REFERRAL_STATUSES,
    OPEN_STATUSES,
    Demand,
    DemandEvent,
    DemandStatus,
    Referral,
    SubmitterKind,
)
from ..permissions import access_demand
from .render import w3c

# Published points are rounded to about a hundred metres: enough to put a
# demand on a map, not enough to single out the house of the resident.
POINT_DECIMALS = 3
MAX_RESULTS = 1000
DEFAULT_WINDOW = dt.timedelta(days=90)
CONSENT_VALUES = {"yes": True, "no": False}

# --- services ------------------------------------------------------------------------


def services():
    """Leaf categories are the services; their parent is the group."""
    return (
        DemandCategory.objects.active()
        .leaves()
        .exclude(parent__is_active=False)
        .select_related("parent")
        .order_by(
            Coalesce("parent__sort_order", "sort_order"), "parent__code", "sort_order", "code"
        )
    )


def service(code: str) -> DemandCategory | None:
    return services().filter(code=code).first()


def service_out(category: DemandCategory) -> dict:
    names = [category.name_fa, category.name_en]
    if category.parent_id:
        names += [category.parent.name_fa, category.parent.name_en]
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or category.name,
        # Every service has optional attributes, described by its definition.
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(n for n in names if n)),
        "group": category.parent.name if category.parent_id else None,
    }


def service_definition(category: DemandCategory) -> dict:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": "submitter_kind",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": None,
                "order": 1,
                "description": _("Who the demand comes from."),
                "values": [
                    {"key": value, "name": str(label)} for value, label in SubmitterKind.choices
                ],
            },
            {
                "variable": True,
                "code": "contact_consent",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": None,
                "order": 2,
                "description": _(
                    "May the agency responsible see the name and phone number sent with this request?"
                ),
                "values": [{"key": "yes", "name": _("Yes")}, {"key": "no", "name": _("No")}],
            },
        ],
    }


# --- locations -----------------------------------------------------------------------------


def _padded(text: str) -> str:
    return f" {search_key(text)} "


def area_for_address(text: str, province: Area | None = None) -> Area | None:
    """The neighbourhood an address string names, matched on normalised names
    (Arabic or Persian letters, any digits, with or without ZWNJ).

    The longest neighbourhood name found as whole words wins; two places with
    that name are told apart by their city's name in the address. Anything
    still ambiguous is no match: a wrong neighbourhood would send the demand
    to the wrong office."""
    address = _padded(text)
    if not address.strip():
        return None
    rows = Area.objects.neighbourhoods().select_related("parent")
    if province is not None:
        rows = rows.filter(path__startswith=province.path)
    best, best_length = [], 0
    for area in rows.only(
        "pk",
        "path",
        "level",
        "code",
        "name_fa",
        "name_en",
        "parent",
        "parent__name_fa",
        "parent__name_en",
    ):
        for name in (area.name_fa, area.name_en):
            key = _padded(name)
            if key.strip() and key in address:
                length = len(key)
                if length > best_length:
                    best, best_length = [area], length
                elif length == best_length and area not in best:
                    best.append(area)
    if len(best) > 1:
        in_city = [
            a
            for a in best
            if a.parent_id
            and any(
                _padded(n).strip() and _padded(n) in address
                for n in (a.parent.name_fa, a.parent.name_en)
            )
        ]
        best = in_city
    return best[0] if len(best) == 1 else None


# --- requests ------------------------------------------------------------------------------

# The columns a request is published from: the demand's own, and the names
# of its category and of its neighbourhood, city and county (never the
# areas' boundaries, which are large).
_REQUEST_COLUMNS = {
    "pk": "pk",
    "public_id": "public_id",
    "status": "status",
    "description": "description",
    "submitter_name": "submitter_name",
    "latitude": "latitude",
    "longitude": "longitude",
    "submitted_at": "submitted_at",
    "closed_at": "closed_at",
    "category_code": "category__code",
    "area_code": "area__code",
    "area_lat": "area__centroid_lat",
    "area_lng": "area__centroid_lng",
    "address": None,  # from the names of the three levels below
    "service_name": None,  # from the category's names
    "last_public_at": "last_public_at",
    "last_public_note": "last_public_note",
}
_AREA_LEVELS = ("area", "area__parent", "area__parent__parent")


class RequestRow:
    """What a published request is built from: plain values, no model
    instances, so a thousand rows cost a thousand small objects."""

    __slots__ = (*_REQUEST_COLUMNS, "agency_responsible", "expected_on")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))


def _localized(name_fa, name_en, language):
    # As Area.name and DemandCategory.name choose.
    return name_en if language == "en" and name_en else name_fa


def requests_queryset():
    """Listed demands (see Demand.is_listed) with the columns the spec's
    request fields need and the latest public step on the timeline (the event
    index answers it per row). A demand that is not listed does not exist here."""
    public_events = DemandEvent.objects.filter(demand=OuterRef("pk"), is_public=True).order_by(
        "-at", "-id"
    )
    return Demand.objects.filter(is_listed=True).annotate(
        last_public_at=Subquery(public_events.values("at")[:1]),
        last_public_note=Subquery(public_events.exclude(public_note="").values("public_note")[:1]),
    )


def _rows(queryset) -> list[RequestRow]:
    """The requests of `queryset`, with the agency of each one's latest
    referral and the expected date of its open one, in two queries in all."""
    columns = [c for c in _REQUEST_COLUMNS.values() if c]
    names = [f"{level}__{f}" for level in _AREA_LEVELS for f in ("name_fa", "name_en")]
    # A level above the neighbourhood may be missing; its id tells.
    names += [
        "area__parent_id",
        "area__parent__parent_id",
        "category__name_fa",
        "category__name_en",
    ]
    # Rows share a few dozen neighbourhoods and categories: their names are
    # worked out once per request, not once per row.
    language = get_language()
    separator = ", " if (language or "fa").startswith("en") else "، "
    addresses, service_names = {}, {}
    rows = []
    for values in queryset.values(*columns, *names):
        area_code = values["area__code"]
        if area_code not in addresses:
            addresses[area_code] = _address(values, language, separator)
        category_code = values["category__code"]
        if category_code not in service_names:
            service_names[category_code] = _localized(
                values["category__name_fa"], values["category__name_en"], language
            )
        rows.append(
            RequestRow(
                **{name: values[column] for name, column in _REQUEST_COLUMNS.items() if column},
                address=addresses[area_code],
                service_name=service_names[category_code],
            )
        )
    if rows:
        _add_referrals(rows)
    return rows


def _add_referrals(rows: list[RequestRow]) -> None:
    """The agency of the latest referral (by date sent, then id), and the
    expected date, or else the due date, of the latest open one."""
    if (get_language() or "fa").startswith("en"):
        agency_name = Coalesce(NullIf(F("agency__name_en"), Value("")), F("agency__name_fa"))
    else:
        agency_name = F("agency__name_fa")
    by_pk = {row.pk: row for row in rows}
    latest, latest_open = {}, {}
    referrals = (
        Referral.objects.filter(demand_id__in=list(by_pk))
        .annotate(agency_name=agency_name)
        .values_list(
            "demand_id", "sent_on", "id", "status", "expected_date", "due_date", "agency_name"
        )
        .order_by()
    )
    for demand_id, sent_on, pk, status, expected, due, agency in referrals:
        order = (sent_on, pk)
        if demand_id not in latest or order > latest[demand_id][0]:
            latest[demand_id] = (order, agency)
        if status in OPEN_REFERRAL_STATUSES and (
            demand_id not in latest_open or order > latest_open[demand_id][0]
        ):
            latest_open[demand_id] = (order, expected if expected is not None else due)
    for demand_id, (_order, agency) in latest.items():
        by_pk[demand_id].agency_responsible = agency
    for demand_id, (_order, expected_on) in latest_open.items():
        by_pk[demand_id].expected_on = expected_on


def find_requests(
    *, ids=None, service_codes=None, start=None, end=None, statuses=None, province=None
) -> list[RequestRow]:
    """GET requests: `ids` (public ids) overrides every other filter but the
    jurisdiction."""
    qs = requests_queryset()
    if province is not None:
        qs = qs.filter(province=province)
    if ids is not None:
        return _rows(
            qs.filter(public_id__in=ids[:MAX_RESULTS]).order_by("-submitted_at", "-id")[
                :MAX_RESULTS
            ]
        )
    if service_codes:
        qs = qs.filter(category__code__in=service_codes)
    qs = qs.filter(submitted_at__gte=start, submitted_at__lte=end)
    if statuses and len(statuses) == 1:
        open_filter = Q(status__in=OPEN_STATUSES)
        qs = qs.filter(open_filter if "open" in statuses else ~open_filter)
    return _rows(qs.order_by("-submitted_at", "-id")[:MAX_RESULTS])


def find_request(public_id: str, province=None) -> RequestRow:
    """The listed request `public_id` (within `province`); Http404 otherwise."""
    qs = requests_queryset()
    if province is not None:
        qs = qs.filter(province=province)
    return access_demand(None, public_id, public_id=True, queryset=qs, fetch=_first_row)


def _first_row(queryset) -> RequestRow | None:
    rows = _rows(queryset.order_by("-submitted_at", "-id")[:1])
    return rows[0] if rows else None


_PHONE = re.compile(r"\+?\d(?:[\s\-./]?\d){6,}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MASK = "[…]"


def public_description(demand) -> str:
    """The resident's own text (already free of HTML), with what a resident
    may have typed about themselves masked: phone numbers, e-mail addresses
    and the submitter's name."""
    text = _EMAIL.sub(MASK, demand.description)
    text = _PHONE.sub(MASK, text)
    name = (demand.submitter_name or "").strip()
    if len(name) >= 3:
        text = text.replace(name, MASK)
    return text


def _address(values: dict, language, separator) -> str:
    """Most specific first, as the spec asks: neighbourhood, city, county (a
    level may be missing, and a name repeated by the level above is said once)."""
    levels = ["area"]
    if values["area__parent_id"] is not None:
        levels.append("area__parent")
        if values["area__parent__parent_id"] is not None:
            levels.append("area__parent__parent")
    names = []
    for level in levels:
        name = _localized(values[f"{level}__name_fa"], values[f"{level}__name_en"], language)
        if not names or names[-1] != name:
            names.append(name)
    return separator.join(names)


def _point(row: RequestRow):
    lat, lng = row.latitude, row.longitude
    if lat is None or lng is None:
        lat, lng = row.area_lat, row.area_lng
    if lat is None or lng is None:
        return None, None
    return round(lat, POINT_DECIMALS), round(lng, POINT_DECIMALS)


def status_of(demand) -> str:
    return "open" if demand.status in OPEN_STATUSES else "closed"


def request_out(row: RequestRow) -> dict:
    is_open = row.status in OPEN_STATUSES
    lat, lng = _point(row)
    status_label = capfirst(str(DemandStatus(row.status).label))
    note = row.last_public_note or ""
    if is_open or row.closed_at is None:
        updated = max(filter(None, [row.last_public_at, row.submitted_at]))
    else:
        updated = row.closed_at
    return {
        # Never the tracking code: that is the resident's key (see Demand.public_id).
        "service_request_id": row.public_id,
        "status": status_of(row),
        "status_notes": f"{status_label}: {note}" if note else status_label,
        "service_name": row.service_name,
        "service_code": row.category_code,
        "description": public_description(row),
        "agency_responsible": row.agency_responsible,
        "service_notice": None,
        "requested_datetime": w3c(row.submitted_at),
        "updated_datetime": w3c(updated),
        "expected_datetime": w3c(row.expected_on) if is_open else None,
        "address": row.address,
        "address_id": row.area_code,
        "zipcode": None,
        "lat": lat,
        "long": lng,
        # Residents' photos are published only after staff review, and a URL
        # sent by a client is never fetched or republished unseen.
        "media_url": None,
    }
