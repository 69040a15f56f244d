"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2/.

Categories are the services, demands are the service requests, and the
demand's public id (never its tracking code, the resident's key) is the
service_request_id. Every endpoint answers in .json and .xml, errors
included, and none needs a login; only POST needs an API key.

Decisions the spec leaves open:
- Only listed demands exist here (Demand.is_listed): those the resident sent
  through the public form or Open311, and those recorded by the office whose
  resident agreed to publish them. Any other id answers 404, like a missing one.
- Services are "realtime": POST returns the service_request_id at once. The
  public id also serves as the token, so tokens/{id} answers for any listed
  request, as the spec expects of batch servers.
- The tracking code leaves Open311 only in the service_notice of a POST's
  answer, to the client that sent the request on the resident's behalf.
- Every lookup by id (requests/{id}, tokens/{id}, requests?service_request_id=)
  counts the ids it does not find against the address, with /track; past the
  limit the answer is 429 with Retry-After.
- jurisdiction_id is optional; when given it must be a province code and
  narrows the answer to that province.
- A point (lat/long) wins over address_string or address_id. address_id is a
  neighbourhood code; address_string is matched on neighbourhood names.
- Public answers never carry names, phone numbers, e-mail addresses or staff
  names. The description is published, as the spec asks, with phone numbers,
  e-mail addresses and the submitter's name masked; points are rounded to
  about 100 m; media_url is empty, since residents' photos are published only
  after review.
- An unknown service_code is a 404 (the spec's list for POST and for the
  service definition); a missing or malformed parameter is a 400.
- GET requests: without dates, the last 90 days; start_date alone covers the
  90 days after it, end_date alone the 90 days before it; a range over 90
  days is a 400. At most 1000 requests, newest first.
- A successful POST answers 200 (the spec names no other status), and an
  Idempotency-Key header makes a retried POST return the first request.
  e-mail and device_id are not stored; media_url, address_string,
  address_id and account_id are kept on the demand's timeline for the office.
- Too many POSTs from one address or for one phone number get a 400 whose
  error code is 429, with Retry-After: the spec reserves 400 for "any other
  error" and allows a more specific code in the body.
"""

import datetime as dt
import re
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from tashil.accounts.models import ApiKey
from tashil.agencies.models import DemandCategory
from tashil.core.text import to_ascii_digits
from tashil.geo.models import Area

from .. import ratelimit
from ..tracking import parse_public_id
from . import intake, selectors
from .render import FORMATS, Open311Error, error_response, respond, w3c

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


def endpoint(*methods):
    """Public (no login, no CSRF: clients are apps, not browsers), with the
    format checked and every Open311Error answered in the spec's shape."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, fmt="xml", **kwargs):
            try:
                if fmt not in FORMATS:
                    raise Open311Error(
                        404, _("Unknown format %(format)s; use .xml or .json.") % {"format": fmt}
                    )
                if request.method not in methods and not (
                    request.method == "HEAD" and "GET" in methods
                ):
                    raise Open311Error(405, _("This method is not allowed here."))
                response = view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                response = error_response(fmt, exc)
                if exc.status == 405:
                    response["Allow"] = ", ".join(methods)
                if exc.retry_after:
                    response["Retry-After"] = str(exc.retry_after)
            return response

        return login_not_required(csrf_exempt(wrapper))

    return decorate


# --- parameters --------------------------------------------------------------------------

_W3C_YEAR = re.compile(r"^\d{4}$")
_W3C_MONTH = re.compile(r"^\d{4}-\d{2}$")
# A "+" in an unencoded query string arrives as a space.
_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def _param(params: QueryDict, name: str) -> str:
    return (params.get(name) or "").strip()


def _list(params: QueryDict, name: str) -> list[str]:
    """Comma-delimited, and the parameter may also be repeated."""
    return [
        part.strip() for value in params.getlist(name) for part in value.split(",") if part.strip()
    ]


def parse_w3c(raw: str, name: str) -> dt.datetime | None:
    raw = _SPACED_OFFSET.sub(r"\1+\2", to_ascii_digits(raw.strip()))
    if not raw:
        return None
    if _W3C_YEAR.match(raw):
        raw += "-01-01"
    elif _W3C_MONTH.match(raw):
        raw += "-01"
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(
            400, _("%(name)s must be a W3C date-time, e.g. 2024-03-20T00:00:00Z.") % {"name": name}
        ) from None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _window(params: QueryDict) -> tuple[dt.datetime, dt.datetime]:
    """The requested_datetime range: 90 days at most, the latest 90 by default."""
    start = parse_w3c(_param(params, "start_date"), "start_date")
    end = parse_w3c(_param(params, "end_date"), "end_date")
    if start and end:
        if end < start:
            raise Open311Error(400, _("end_date is before start_date."))
        if end - start > selectors.DEFAULT_WINDOW:
            raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
    elif start:
        end = start + selectors.DEFAULT_WINDOW
    elif end:
        start = end - selectors.DEFAULT_WINDOW
    else:
        end = timezone.now()
        start = end - selectors.DEFAULT_WINDOW
    return start, end


def _jurisdiction(params: QueryDict) -> Area | None:
    raw = _param(params, "jurisdiction_id")
    if not raw:
        return None
    province = Area.objects.filter(level=Area.Level.PROVINCE, code__iexact=raw).first()
    if province is None:
        raise Open311Error(404, _("jurisdiction_id %(id)s was not found.") % {"id": raw})
    return province


# --- lookups by id ------------------------------------------------------------------------


def _check_lookups(request) -> None:
    """429 once the address has used up its misses (shared with /track)."""
    lim = ratelimit.limit(ratelimit.LOOKUP_MISSES)
    if ratelimit.exceeded(lim.name, ratelimit.ip_of(request)):
        error = Open311Error(
            429,
            _("Too many requests. Try again in %(minutes)s minutes.") % {"minutes": lim.minutes},
        )
        error.retry_after = lim.window
        raise error


def _missed(request, count: int = 1) -> bool:
    """Count `count` misses; False once they go past the allowance."""
    within = True
    for _i in range(count):
        within = ratelimit.hit(ratelimit.LOOKUP_MISSES, ratelimit.ip_of(request)) and within
    return within


# --- endpoints ---------------------------------------------------------------------------


@endpoint("GET")
def discovery(request, fmt):
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": "xml"})).rsplit(
        "/", 1
    )[0]
    changed = (
        DemandCategory.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    )
    changeset = w3c(changed or timezone.now())
    return respond(
        fmt,
        "discovery",
        {
            "changeset": changeset,
            "contact": _(
                "For help, contact the provincial directorate of social and cultural affairs."
            ),
            "key_service": _("API keys for POST requests are issued by the system administrators."),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base,
                    "changeset": changeset,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@endpoint("GET")
def services(request, fmt):
    _jurisdiction(request.GET)
    return respond(fmt, "services", [selectors.service_out(c) for c in selectors.services()])


@endpoint("GET")
def service_definition(request, fmt, service_code):
    _jurisdiction(request.GET)
    category = selectors.service(service_code)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": service_code})
    return respond(fmt, "service_definition", selectors.service_definition(category))


@endpoint("GET", "POST")
def requests(request, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    params = request.GET
    province = _jurisdiction(params)
    if _param(params, "service_request_id"):
        _check_lookups(request)
        asked = list(dict.fromkeys(_list(params, "service_request_id")))[: selectors.MAX_RESULTS]
        normalized = [parse_public_id(a) for a in asked]
        ids = list(dict.fromkeys(filter(None, normalized)))
        rows = selectors.find_requests(ids=ids, province=province)
        # Every id asked for and not found is a miss, as on requests/{id}; a
        # list that goes past the allowance answers nothing, so one request
        # cannot try a thousand guesses.
        misses = normalized.count(None) + len(set(ids) - {r.public_id for r in rows})
        if not _missed(request, misses):
            _check_lookups(request)
    else:
        statuses = {s.lower() for s in _list(params, "status")}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, _("status must be open, closed or both."))
        start, end = _window(params)
        rows = selectors.find_requests(
            service_codes=_list(params, "service_code"),
            start=start,
            end=end,
            statuses=statuses,
            province=province,
        )
    return respond(fmt, "service_requests", [selectors.request_out(d) for d in rows])


def _create(request, fmt):
    params = request.POST
    raw_key = _param(params, "api_key") or _param(request.GET, "api_key")
    api_key = ApiKey.authenticate(raw_key)
    if api_key is None:
        raise Open311Error(403, _("api_key is missing or not valid."))
    province = _jurisdiction(params if _param(params, "jurisdiction_id") else request.GET)
    limited = not ratelimit.hit("PUBLIC_SUBMIT_PER_IP", ratelimit.ip_of(request))
    phone = _param(params, "phone")
    if not limited and phone:
        limited = not ratelimit.hit("PUBLIC_SUBMIT_PER_MOBILE", phone)
    if limited:
        window = ratelimit.limit("PUBLIC_SUBMIT_PER_IP")
        error = Open311Error(
            400,
            _("Too many requests. Try again in %(minutes)s minutes.") % {"minutes": window.minutes},
            429,
        )
        response = error_response(fmt, error)
        response["Retry-After"] = str(window.window)
        return response
    submission = intake.submit(
        params=params,
        files=request.FILES,
        api_key=api_key,
        province=province,
        idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
    )
    return respond(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": submission.demand.public_id,
                "service_notice": intake.service_notice(submission),
                "account_id": None,
            }
        ],
    )


def _looked_up(request, key: str, not_found: str):
    """A request by its id or token, within the asked jurisdiction; a miss
    counts against the caller's lookup limit."""
    _check_lookups(request)
    province = _jurisdiction(request.GET)
    try:
        return selectors.find_request(key, province)
    except Http404:
        _missed(request)
        raise Open311Error(404, not_found) from None


@endpoint("GET")
def request_detail(request, fmt, request_id):
    demand = _looked_up(
        request, request_id, _("service_request_id %(id)s was not found.") % {"id": request_id}
    )
    return respond(fmt, "service_requests", [selectors.request_out(demand)])


@endpoint("GET")
def token_detail(request, fmt, token):
    demand = _looked_up(request, token, _("token %(token)s was not found.") % {"token": token})
    return respond(
        fmt, "service_requests", [{"service_request_id": demand.public_id, "token": token}]
    )


@endpoint("GET", "POST", "PUT", "PATCH", "DELETE")
def not_found(request, fmt="xml", **kwargs):
    raise Open311Error(
        404, _("There is no such Open311 resource. Start from discovery.xml or services.xml.")
    )
