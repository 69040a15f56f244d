"""The public side: a resident submits a demand, supports an existing one,
tracks it by code and gives feedback; anyone reads the board. No login, no
personal data shown, every write rate-limited and done by a service."""

import datetime as dt
import functools
import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tashil.agencies.models import DemandCategory

from . import board as board_selectors
from . import duplicates, ratelimit, resident_factor, services
from .models import (
    OPEN_STATUSES,
    Channel,
    Demand,
    DemandStatus,
    EventKind,
    ReferralStatus,
)
from .public_forms import (
    FeedbackForm,
    PublicDemandForm,
    SupportForm,
    TrackForm,
    served_neighbourhoods,
    support_token,
)
from .tracking import display_code, new_tracking_code, parse_code, parse_public_id

# Keys of the public form are namespaced so that an API client's own keys can
# never collide with (or look up) a resident's submission.
KEY_PREFIX = "web:"
# How long the result page of a submission can be opened again (reload, back).
RESULT_PAGE_HOURS = 24
DECOY_CACHE_PREFIX = "tashil:public:decoy:"
GEOJSON_CACHE_SECONDS = 300


def _too_many(minutes: int) -> str:
    return _(
        "Too many requests from your connection. Please wait %(minutes)s minutes and try again."
    ) % {"minutes": minutes}


def _mobile_too_many() -> str:
    return _(
        "Too many demands were sent with this mobile number. Please try again in an hour, or "
        "support the demand you already sent."
    )


def _public_context(**extra):
    return {
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        **extra,
    }


# --- submission --------------------------------------------------------------------


def _render_form(request, form, *, status=200, limited=""):
    return render(
        request,
        "public/submit.html",
        _public_context(form=form, limited=limited),
        status=status,
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def submit(request):
    if request.method != "POST":
        return _render_form(request, PublicDemandForm())

    form = PublicDemandForm(request.POST, request.FILES)
    ip = ratelimit.ip_of(request)
    key = form.raw_key
    if key and Demand.objects.filter(idempotency_key=KEY_PREFIX + key).exists():
        # A retried POST (double tap, reload, flaky network): the same result.
        return redirect("public:submitted", key=key)
    if form.is_bot:
        # Answer exactly like a success so the bot learns nothing; write nothing.
        ratelimit.hit("PUBLIC_SUBMIT_PER_IP", ip)
        key = key or str(uuid.uuid4())
        cache.set(DECOY_CACHE_PREFIX + key, new_tracking_code(), RESULT_PAGE_HOURS * 3600)
        return redirect("public:submitted", key=key)
    ip_limit = ratelimit.limit("PUBLIC_SUBMIT_PER_IP")
    if ratelimit.exceeded(ip_limit.name, ip):
        return _render_form(request, form, status=429, limited=_too_many(ip_limit.minutes))
    if not form.is_valid():
        return _render_form(request, form)

    data = form.cleaned_data
    mobile = data.get("submitter_mobile") or ""
    if not ratelimit.hit(ip_limit.name, ip):
        return _render_form(request, form, status=429, limited=_too_many(ip_limit.minutes))
    if not ratelimit.hit("PUBLIC_SUBMIT_PER_MOBILE", mobile):
        form.add_error("submitter_mobile", _mobile_too_many())
        return _render_form(request, form, status=429, limited=_mobile_too_many())
    try:
        services.demand_submit(
            channel=Channel.PUBLIC_WEB,
            category=data["category"],
            description=data["description"],
            area=data["area"],
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            submitter_mobile=mobile,
            photos=[data["photo"]] if data.get("photo") else [],
            idempotency_key=KEY_PREFIX + str(data["idempotency_key"]),
            # Looked up at the top of this view: the same key, as it was posted.
            key_checked=True,
        )
    except ValidationError as error:
        form.apply_service_error(error)
        return _render_form(request, form)
    return redirect("public:submitted", key=str(data["idempotency_key"]))


@login_not_required
@require_GET
def submitted(request, key):
    key = str(key)
    decoy = cache.get(DECOY_CACHE_PREFIX + key)
    if decoy:
        context = {"code": decoy, "display_code": display_code(decoy), "sms": False}
        return render(request, "public/submitted.html", context)
    since = timezone.now() - dt.timedelta(hours=RESULT_PAGE_HOURS)
    demand = (
        Demand.objects.filter(
            idempotency_key=KEY_PREFIX + key, channel=Channel.PUBLIC_WEB, submitted_at__gte=since
        )
        .only("code", "submitter_mobile")
        .first()
    )
    if demand is None:
        return redirect("public:track_lookup")
    context = {
        "code": demand.code,
        "display_code": demand.display_code,
        "sms": bool(demand.submitter_mobile),
    }
    return render(request, "public/submitted.html", context)


# --- duplicate suggestions and support ------------------------------------------------


@login_not_required
@require_GET
def similar(request):
    """The "already reported?" panel of the form, refreshed by htmx."""
    if not ratelimit.hit("PUBLIC_SIMILAR_PER_IP", ratelimit.ip_of(request)):
        return HttpResponse("", status=429)
    params = request.GET
    category = (
        DemandCategory.objects.active().leaves().filter(code=params.get("category") or "").first()
        if params.get("category")
        else None
    )
    if category is None:
        return HttpResponse("")
    area = None
    if params.get("area"):
        area = served_neighbourhoods().filter(code=params["area"]).first()
    try:
        lat = float(params["latitude"]) if params.get("latitude") else None
        lng = float(params["longitude"]) if params.get("longitude") else None
    except ValueError:
        lat = lng = None
    if lat is None or lng is None:
        lat = lng = None
    if area is None and lat is None:
        return HttpResponse("")
    candidates = duplicates.similar_open_demands(
        category=category,
        area=area,
        latitude=lat,
        longitude=lng,
        text=(params.get("description") or "")[:4000],
    )
    items = [{"demand": d, "vals": json.dumps({"token": support_token(d)})} for d in candidates]
    return render(request, "public/_similar.html", {"items": items})


@login_not_required
@require_POST
def support(request):
    form = SupportForm(request.POST)
    ip = ratelimit.ip_of(request)
    ip_limit = ratelimit.limit("PUBLIC_SUBMIT_PER_IP")
    error, status = "", 200
    if ratelimit.exceeded(ip_limit.name, ip):
        error, status = _too_many(ip_limit.minutes), 429
    elif not form.is_valid():
        error = " ".join(str(m) for messages_ in form.errors.values() for m in messages_)
        status = 400
    else:
        mobile = form.cleaned_data.get("submitter_mobile") or ""
        demand = Demand.objects.filter(
            pk=form.cleaned_data["token"], status__in=OPEN_STATUSES
        ).first()
        if demand is None:
            error, status = _("This demand is no longer open for support."), 400
        elif not ratelimit.hit(ip_limit.name, ip):
            error, status = _too_many(ip_limit.minutes), 429
        elif not ratelimit.hit("PUBLIC_SUBMIT_PER_MOBILE", mobile):
            error, status = _mobile_too_many(), 429
        else:
            try:
                services.demand_support(demand=demand, mobile=mobile)
            except ValidationError as exc:
                error, status = " ".join(exc.messages), 400
            else:
                # The supporter is not the resident who filed it: they learn the
                # demand's public id, never its tracking code.
                url = reverse("public:supported", args=[demand.public_id])
                if request.htmx:
                    return HttpResponse(status=204, headers={"HX-Redirect": url})
                return redirect(url)
    if request.htmx:
        # 200 so that htmx swaps the message in next to the button.
        return render(request, "public/_support_error.html", {"error": error})
    return _render_form(request, PublicDemandForm(), status=status, limited=error)


@login_not_required
@require_GET
def supported(request, public_id):
    """The thank-you page after supporting a demand: its public id and status,
    nothing that would let the supporter act for the resident who filed it."""
    limited = _track_limited(request)
    if limited:
        return limited
    normalized = parse_public_id(public_id)
    demand = (
        Demand.objects.select_related("category", "area")
        .only(
            "id",
            "public_id",
            "status",
            "supporters_count",
            "category__name_fa",
            "category__name_en",
            "area__name_fa",
            "area__name_en",
        )
        .filter(public_id=normalized)
        .first()
        if normalized
        else None
    )
    if demand is None:
        return _not_found(request)
    return render(request, "public/supported.html", {"demand": demand})


# --- tracking -------------------------------------------------------------------------

EVENT_TITLES = {
    EventKind.SUBMITTED: lambda e: _("Demand registered"),
    EventKind.STATUS: lambda e: (
        _("Status: %(status)s") % {"status": _label(DemandStatus, e.to_status)}
    ),
    EventKind.MERGED: lambda e: _("Merged"),
    EventKind.SUPPORTED: lambda e: _("Another resident supported this demand"),
    EventKind.REFERRED: lambda e: _("Referred to an agency"),
    EventKind.REFERRAL_STATUS: lambda e: (
        _("Agency: %(status)s") % {"status": _label(ReferralStatus, e.to_status)}
    ),
    EventKind.FOLLOW_UP: lambda e: _("The office followed up"),
    EventKind.ESCALATED: lambda e: _("Escalated"),
    EventKind.FEEDBACK: lambda e: _("Resident's feedback"),
    EventKind.NOTE: lambda e: _("Note"),
}


def _label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return value


def public_timeline(demand) -> list[dict]:
    """The tracking page's timeline: what happened and when, in words meant
    for the public. Actors, internal notes and event data are never read."""
    rows = demand.events.filter(is_public=True).only(
        "id", "demand_id", "kind", "at", "to_status", "public_note"
    )
    return [
        {
            "kind": row.kind,
            "at": row.at,
            "title": EVENT_TITLES.get(row.kind, lambda e: _("Update"))(row),
            "note": row.public_note,
        }
        for row in rows
    ]


def _track_limited(request):
    lim = ratelimit.limit("PUBLIC_TRACK_MISSES_PER_IP")
    if ratelimit.exceeded(lim.name, ratelimit.ip_of(request)):
        form = TrackForm()
        return render(
            request,
            "public/track_lookup.html",
            {"form": form, "limited": _too_many(lim.minutes)},
            status=429,
        )
    return None


def _not_found(request, code=""):
    ratelimit.hit("PUBLIC_TRACK_MISSES_PER_IP", ratelimit.ip_of(request))
    form = TrackForm(initial={"code": code})
    return render(request, "public/track_not_found.html", {"form": form}, status=404)


@login_not_required
@require_GET
def track_lookup(request):
    """The box where a resident types their code."""
    if "code" not in request.GET:
        return render(request, "public/track_lookup.html", {"form": TrackForm()})
    limited = _track_limited(request)
    if limited:
        return limited
    form = TrackForm(request.GET)
    if form.is_valid():
        return redirect("public:track", code=form.cleaned_data["code"])
    ratelimit.hit("PUBLIC_TRACK_MISSES_PER_IP", ratelimit.ip_of(request))
    return render(request, "public/track_lookup.html", {"form": form})


def _tracked_demand(code):
    normalized = parse_code(code)
    if normalized is None:
        return None
    return (
        Demand.objects.select_related("category", "category__parent", "area")
        .only(
            "id",
            "code",
            "status",
            "submitted_at",
            "closed_at",
            "supporters_count",
            "submitter_mobile",
            "merged_into__public_id",
            "merged_into__status",
            "category__name_fa",
            "category__name_en",
            "category__parent__name_fa",
            "category__parent__name_en",
            "area__name_fa",
            "area__name_en",
        )
        .select_related("merged_into")
        .filter(code=normalized)
        .first()
    )


def _by_tracking_code(view):
    """The pages of one tracked demand: the miss limit is checked first, and
    a code that finds nothing counts as a miss."""

    @functools.wraps(view)
    def wrapper(request, code):
        limited = _track_limited(request)
        if limited:
            return limited
        demand = _tracked_demand(code)
        if demand is None:
            return _not_found(request, code)
        return view(request, demand)

    return wrapper


def _feedback_open(demand) -> bool:
    return (
        demand.is_closed and not demand.feedback.filter(created_at__gte=demand.closed_at).exists()
    )


def _track_page(request, demand, *, form=None, status=200):
    feedback_open = _feedback_open(demand)
    online = resident_factor.has_factor(demand)
    return render(
        request,
        "public/track.html",
        {
            "demand": demand,
            "timeline": public_timeline(demand),
            "feedback_open": feedback_open,
            "feedback_online": feedback_open and online,
            "feedback_form": (form or FeedbackForm()) if feedback_open and online else None,
            "sms_code_minutes": resident_factor.SMS_CODE_MINUTES,
        },
        status=status,
    )


@login_not_required
@require_GET
@_by_tracking_code
def track(request, demand):
    return _track_page(request, demand)


def _no_online_feedback() -> str:
    return _(
        "No mobile number is on file for this demand, so feedback cannot be given online. "
        "Please contact the office."
    )


@login_not_required
@require_POST
@_by_tracking_code
def feedback(request, demand):
    """The resident's answer. The tracking code is not enough: the last four
    digits of the mobile on file, or an SMS code, must come with it."""
    url = reverse("public:track", args=[demand.code])
    if not ratelimit.hit("PUBLIC_FEEDBACK_PER_IP", ratelimit.ip_of(request)):
        lim = ratelimit.limit("PUBLIC_FEEDBACK_PER_IP")
        messages.error(request, _too_many(lim.minutes))
        return redirect(url)
    if not _feedback_open(demand):
        # Nothing to answer (still open, or answered already): no factor is
        # asked for or counted.
        messages.error(
            request,
            _("Your feedback on this result is already recorded.")
            if demand.is_closed
            else _("Feedback is asked for once the demand is closed."),
        )
        return redirect(url)
    if not resident_factor.has_factor(demand):
        messages.error(request, _no_online_feedback())
        return redirect(url)
    if resident_factor.locked(demand):
        lim = ratelimit.limit("PUBLIC_FEEDBACK_FACTOR_MISSES_PER_DEMAND")
        form = FeedbackForm(request.POST)
        form.is_valid()
        form.add_error(
            None,
            _(
                "Too many wrong answers were given for this demand. Please try again in "
                "%(minutes)s minutes, or contact the office."
            )
            % {"minutes": lim.minutes},
        )
        return _track_page(request, demand, form=form, status=429)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return _track_page(request, demand, form=form, status=400)
    if not resident_factor.verify(demand, form.cleaned_data["check"], ip=ratelimit.ip_of(request)):
        form.add_error(
            "check",
            _(
                "This does not match the mobile number on file for this demand, or the SMS code "
                "has expired. Nothing was changed."
            ),
        )
        return _track_page(request, demand, form=form, status=400)
    try:
        services.feedback_submit(
            demand=demand,
            satisfied=form.cleaned_data["satisfied"],
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if form.cleaned_data["satisfied"]:
            messages.success(request, _("Thank you for your feedback."))
        else:
            messages.info(
                request,
                _("Thank you. The demand is reopened and the office will follow it up again."),
            )
    return redirect(url)


@login_not_required
@require_POST
@_by_tracking_code
def feedback_code(request, demand):
    """ "Send me a code by SMS": a one-time code to the mobile on file."""
    url = reverse("public:track", args=[demand.code])
    if not _feedback_open(demand):
        return redirect(url)
    if not resident_factor.has_factor(demand):
        messages.error(request, _no_online_feedback())
    elif not ratelimit.hit("PUBLIC_FEEDBACK_PER_IP", ratelimit.ip_of(request)):
        messages.error(request, _too_many(ratelimit.limit("PUBLIC_FEEDBACK_PER_IP").minutes))
    elif resident_factor.send_code(demand):
        messages.success(
            request,
            _(
                "A code was sent by SMS to the mobile number on file. Enter it below within "
                "%(minutes)s minutes."
            )
            % {"minutes": resident_factor.SMS_CODE_MINUTES},
        )
    else:
        lim = ratelimit.limit("PUBLIC_FEEDBACK_SMS_PER_DEMAND")
        messages.error(
            request,
            _("Enough codes were sent for this demand. Please try again in %(minutes)s minutes.")
            % {"minutes": lim.minutes},
        )
    return redirect(url)


# --- board and map data -----------------------------------------------------------------


@login_not_required
@require_GET
def board(request):
    data = board_selectors.public_board()
    rows = board_selectors.localized_rows(data)
    chart = {
        "statuses": {
            "labels": [r["label"] for r in rows["statuses"]],
            "counts": [r["count"] for r in rows["statuses"]],
        },
        "categories": {
            "labels": [r["name"] for r in rows["categories"][:10]],
            "counts": [r["count"] for r in rows["categories"][:10]],
        },
    }
    return render(
        request,
        "public/board.html",
        _public_context(
            board=data,
            rows=rows,
            cells=data.cells,
            chart=chart,
            min_cell_count=board_selectors.MIN_CELL_COUNT,
        ),
    )


@login_not_required
@require_GET
def neighbourhoods_geojson(request):
    """Served neighbourhoods' names, codes and boundaries, for the public maps.
    Nothing else: no office, person or demand data."""
    language = get_language() or "fa"
    cache_key = f"tashil:public:neighbourhoods:{language}"
    collection = cache.get(cache_key)
    if collection is None:
        rows = (
            served_neighbourhoods()
            .filter(boundary__isnull=False)
            .only("code", "name_fa", "name_en", "boundary", "parent__name_fa", "parent__name_en")
        )
        collection = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": area.boundary,
                    "properties": {"code": area.code, "name": area.name},
                }
                for area in rows
            ],
        }
        cache.set(cache_key, collection, GEOJSON_CACHE_SECONDS)
    response = JsonResponse(collection, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = f"public, max-age={GEOJSON_CACHE_SECONDS}"
    # Names follow the visitor's language.
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response
