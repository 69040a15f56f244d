"""POST requests: an Open311 client's form fields turned into a demand.

The demand goes through `demand_submit` like every other intake path; this
module only maps the spec's parameters onto it and its errors back onto the
spec's parameter names."""

import hashlib
import math

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tashil.accounts.models import ApiKey
from tashil.core.text import to_ascii_digits
from tashil.geo.lookup import area_for_point
from tashil.geo.models import Area

from ..messages import track_url
from ..models import Channel, SubmitterKind
from ..services import Submission, demand_submit
from . import selectors
from .render import Open311Error

# Our field names → the parameter the client sent, for error descriptions.
PARAMETERS = {
    "category": "service_code",
    "description": "description",
    "latitude": "lat",
    "longitude": "long",
    "area": "address_string",
    "submitter_mobile": "phone",
    "submitter_name": "first_name",
    "submitter_kind": "attribute[submitter_kind]",
    "photo": "media",
}


def _one(params, name: str) -> str:
    return (params.get(name) or "").strip()


def _coordinate(params, name: str, limit: float) -> float | None:
    raw = to_ascii_digits(_one(params, name))
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise Open311Error(400, _("%(name)s is not a valid WGS84 coordinate.") % {"name": name})
    return value


def _attribute(params, code: str, allowed) -> str:
    value = _one(params, f"attribute[{code}]")
    if value and value not in allowed:
        raise Open311Error(
            400,
            _("attribute[%(code)s] must be one of: %(values)s.")
            % {"code": code, "values": ", ".join(allowed)},
        )
    return value


def _location(params, province: Area | None):
    """(area, lat, long): a point wins over an address, which the spec lists
    as alternatives; the service finds the neighbourhood of a point."""
    lat = _coordinate(params, "lat", 90)
    lng = _coordinate(params, "long", 180)
    if (lat is None) != (lng is None):
        raise Open311Error(400, _("Send both lat and long."))
    if lat is not None:
        area = area_for_point(lat, lng)
        if area is None or area.level != Area.Level.NEIGHBOURHOOD:
            raise Open311Error(
                400,
                "lat: "
                + _("This point is outside the neighbourhoods the offices serve in the province."),
            )
        if province is not None and not area.path.startswith(province.path):
            raise Open311Error(400, _("The location is outside the jurisdiction."))
        return area, lat, lng
    address_id = _one(params, "address_id")
    if address_id:
        areas = Area.objects.neighbourhoods().filter(code=address_id)
        if province is not None:
            areas = areas.filter(path__startswith=province.path)
        area = areas.first()
        if area is None:
            raise Open311Error(400, _("address_id must be the code of a neighbourhood."))
        return area, None, None
    address = _one(params, "address_string")
    if address:
        area = selectors.area_for_address(address, province)
        if area is None:
            raise Open311Error(
                400,
                _(
                    "The neighbourhood could not be found from address_string. Name the neighbourhood "
                    "and its city, or send lat and long."
                ),
            )
        return area, None, None
    raise Open311Error(
        400, _("A location is required: lat and long, address_string or address_id.")
    )


def _idempotency_key(api_key: ApiKey, raw: str) -> str | None:
    if not raw:
        return None
    # Scoped to the client, so two clients' keys never collide.
    return "o311:" + hashlib.sha256(f"{api_key.pk}:{raw}".encode()).hexdigest()[:64]


def _errors_from(exc: ValidationError) -> Open311Error:
    errors = []
    for field, messages in exc.message_dict.items():
        name = PARAMETERS.get(field)
        for message in messages:
            errors.append((400, f"{name}: {message}" if name else message))
    first_code, first = errors[0]
    return Open311Error(400, first, first_code, more=errors[1:])


def submit(
    *, params, files, api_key: ApiKey, province: Area | None, idempotency_key: str = ""
) -> Submission:
    service_code = _one(params, "service_code")
    if not service_code:
        raise Open311Error(400, _("service_code was not provided."))
    category = selectors.service(service_code)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": service_code})
    area, lat, lng = _location(params, province)
    kind = _attribute(params, "submitter_kind", SubmitterKind.values) or SubmitterKind.RESIDENT
    consent = _attribute(params, "contact_consent", list(selectors.CONSENT_VALUES))
    name = " ".join(filter(None, [_one(params, "first_name"), _one(params, "last_name")]))
    # Kept for the office, never published: what the client sent that has no
    # column of its own. E-mail and device ids are not kept at all.
    received = {
        key: _one(params, key)
        for key in ("media_url", "address_string", "address_id", "account_id")
        if _one(params, key)
    }
    try:
        submission = demand_submit(
            channel=Channel.OPEN311,
            category=category,
            description=params.get("description") or "",
            area=area,
            latitude=lat,
            longitude=lng,
            submitter_name=name[:200],
            submitter_mobile=_one(params, "phone"),
            submitter_kind=kind,
            contact_consent=selectors.CONSENT_VALUES.get(consent, False),
            photos=files.getlist("media"),
            idempotency_key=_idempotency_key(api_key, idempotency_key),
            event_data={"open311": {"client": api_key.name, **received}},
        )
    except ValidationError as exc:
        raise _errors_from(exc) from None
    return submission


def service_notice(submission: Submission) -> str:
    demand = submission.demand
    url = track_url(demand)
    return _(
        "Registered with tracking code %(code)s. The office reviews it and refers it to the agency "
        "responsible; follow it at %(url)s"
    ) % {"code": demand.display_code, "url": url}
