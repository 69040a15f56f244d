"""Staff pages for demands: the list, intake, the demand page, attachments
and exports. The demand page's actions are in `actions.py`, the agency portal
in `portal.py`. Views parse input, call a selector or a service, and render;
the services decide who may do what, and the buttons shown are the moves
`workflow` says the user may take now."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tashil.accounts.scopes import scope_of
from tashil.agencies.models import Agency
from tashil.agencies.routing import route
from tashil.agencies.selectors import category_tree
from tashil.core.decorators import only_for
from tashil.core.editing import save_form
from tashil.core.export_views import export_answer
from tashil.core.exports import download
from tashil.core.models import ExportJob
from tashil.core.pagination import CappedPaginator
from tashil.core.validators import format_mobile_display
from tashil.geo.selectors import collection_for_areas
from tashil.geo.views import map_context
from tashil.offices.models import Office

from . import exports, permissions, selectors, services
from .duplicates import similar_open_demands
from .forms import (
    AcceptForm,
    CloseForm,
    DemandCreateForm,
    FollowUpForm,
    MergeForm,
    ReferForm,
    ReferralMoveForm,
    RejectForm,
    RequestInfoForm,
    build_filter_form,
)
from .models import OPEN_STATUSES, Attachment, Demand, ReferralStatus
from .workflow import CLOSE_MOVES, DEMAND, REFERRAL

PAGE_SIZE = 30
# The list says "more than 1,000" rather than count a province's demands on every page.
COUNT_CAP = 1000
ALIASES = {"photo": "photos"}


# Demand rows are for office staff, province managers and national
# administrators; liaisons use the agency portal, analysts the statistics.
staff_required = only_for(selectors.is_demand_staff)
portal_required = only_for(selectors.can_use_portal)


def _get_demand(request, code) -> Demand:
    return permissions.access_demand(request.user, code)


# --- the list ----------------------------------------------------------------------------------


def _quick_filters(user):
    base = reverse("demands:list")
    items = [
        (_("To triage"), "status=new"),
        (_("Waiting for information"), "status=needs_info"),
        (_("Open"), "status=open"),
        (_("At risk"), "sla=at_risk&sort=due"),
        (_("Deadline passed"), "sla=breached&sort=due"),
        (_("Recorded by me"), "mine=on"),
    ]
    scope = scope_of(user)
    if len(scope.office_ids) > 1:
        for office in Office.objects.filter(pk__in=scope.office_ids).order_by("name_fa"):
            items.append((office.name, f"office={office.code}&status=open"))
    return [(label, f"{base}?{query}") for label, query in items]


@staff_required
@require_GET
def demand_list(request):
    user = request.user
    form, filters = build_filter_form(user, request.GET)
    today = timezone.localdate()
    if filters is None:
        queryset = Demand.objects.none()
    else:
        queryset = selectors.demand_list(user=user, filters=filters, today=today)
    number = request.GET.get("page")
    page = CappedPaginator(queryset, PAGE_SIZE, cap=COUNT_CAP, page=number).get_page(number)
    rows = [(d, selectors.row_sla_state(d, today)) for d in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "demands/list.html",
        {
            "form": form,
            "more_fields": [
                form[name]
                for name in ("area", "category", "agency", "office", "sla", "date_from", "date_to")
            ],
            "page": page,
            "rows": rows,
            "filtered": filters is None or bool(request.GET.keys() - {"page", "sort"}),
            "quick_filters": _quick_filters(user),
            "current_query": query.urlencode(),
            "can_create": selectors.recording_offices(user).exists(),
            "direct_limit": exports.DIRECT_LIMIT,
        },
    )


# --- intake ------------------------------------------------------------------------------------


@staff_required
def demand_create(request):
    user = request.user
    areas = selectors.intake_neighbourhoods(user)
    area_list = list(areas.select_related("parent"))
    if not area_list:
        raise PermissionDenied(_("None of your offices serves a neighbourhood yet."))
    form = DemandCreateForm(
        request.POST or None, request.FILES or None, areas=areas, tree=category_tree()
    )
    form.fields["area"].choices = [("", form.fields["area"].empty_label)] + [
        (a.code, form.fields["area"].label_from_instance(a)) for a in area_list
    ]

    def save(d):
        try:
            return services.demand_submit(
                channel=d["channel"],
                category=d["category"],
                description=d["description"],
                area=d["area"],
                latitude=d["latitude"],
                longitude=d["longitude"],
                submitter_name=d["submitter_name"],
                submitter_mobile=d["submitter_mobile"] or "",
                submitter_kind=d["submitter_kind"],
                contact_consent=d["contact_consent"],
                is_listed=d["is_listed"],
                photos=d["photos"],
                acting_user=user,
                idempotency_key=d["idempotency_key"],
            )
        except PermissionDenied:
            raise ValidationError(
                {"area": _("Your offices do not serve this neighbourhood.")}
            ) from None

    def success(submission):
        demand = submission.demand
        messages.success(
            request,
            _("The demand is recorded. Tracking code: %(code)s") % {"code": demand.display_code},
        )
        return redirect("demands:detail", code=demand.code)

    return save_form(
        request,
        form,
        save,
        success=success,
        aliases={**ALIASES, "latitude": "area"},
        page=lambda edit: render(
            request,
            "demands/create.html",
            {
                "form": edit.form,
                "map_data": collection_for_areas(area_list, user=user, zones=[]),
                **map_context(),
            },
        ),
    )


# --- the demand page ---------------------------------------------------------------------------


def _duplicates(user, demand):
    candidates = similar_open_demands(
        category=demand.category,
        area=demand.area,
        latitude=demand.latitude,
        longitude=demand.longitude,
        text=f"{demand.title} {demand.description}",
        exclude_pk=demand.pk,
    )
    if not candidates:
        return []
    visible = set(
        Demand.objects.visible_to(user)
        .filter(pk__in=[c.pk for c in candidates])
        .values_list("pk", flat=True)
    )
    return [c for c in candidates if c.pk in visible]


def _default_agency(demand, referrals):
    """The routing table's agency, unless it already has the demand or said
    it is not responsible (then the office chooses)."""
    agency = route(category=demand.category, area=demand.area)
    if agency is None:
        return None
    for referral in referrals:
        if referral.agency_id == agency.pk and (
            referral.is_open or referral.status == ReferralStatus.NOT_RESPONSIBLE
        ):
            return None
    return agency


def _stray_errors(bound, shown) -> list:
    """Errors of a submitted form whose panel the page no longer shows (the
    demand moved on), so that they are not lost."""
    messages_ = []
    for form in bound.values():
        if id(form) not in shown:
            for errors in form.errors.values():
                messages_.extend(errors)
    return messages_


def _demand_page(request, demand, *, bound=None, status=200, conflict=None):
    user = request.user
    bound = bound or {}
    today = timezone.localdate()
    can_work = permissions.can_work_on(user, demand)
    referrals = selectors.demand_referrals(demand)
    for referral in referrals:
        referral.demand = demand
    remaining = selectors.remaining_working_days(referrals, today)
    attachments = selectors.demand_attachments(demand)
    initial = {"version": demand.version}

    def form(key, cls, **kwargs):
        return bound.get(key) or cls(initial=initial, **kwargs)

    panels = {}
    moves = {t.name for t in DEMAND.available_moves(demand, user)}
    if "accept" in moves:
        panels["accept"] = form("accept", AcceptForm)
    if "reject" in moves:
        panels["reject"] = form("reject", RejectForm)
    if "request_info" in moves:
        panels["info"] = form("info", RequestInfoForm)
    if "merge" in moves:
        panels["merge"] = form("merge", MergeForm)
    if "refer" in moves:
        agencies = Agency.objects.filter(province_id=demand.province_id, is_active=True).order_by(
            "name_fa"
        )
        default = _default_agency(demand, referrals)
        panels["refer"] = bound.get("refer") or ReferForm(
            agencies=agencies, initial={**initial, "agency": default.code if default else None}
        )
        panels["refer_default"] = default
        panels["due_preview"] = services.due_dates(
            sent_on=today, category=demand.category, province=demand.province_id
        )[0]
    if moves.intersection(CLOSE_MOVES):
        panels["close"] = form("close", CloseForm)

    referral_rows = []
    for referral in referrals:
        row = {
            "referral": referral,
            "sla": referral.sla_state_on(today),
            "remaining": remaining.get(referral.pk),
            "attachments": [a for a in attachments if a.referral_id == referral.pk],
        }
        if can_work and referral.is_open:
            row["follow_up"] = bound.get(f"fu-{referral.pk}") or FollowUpForm(
                prefix=f"fu-{referral.pk}", initial={"happened_on": today}
            )
            row["moves"] = [
                bound.get(f"mv-{referral.pk}-{s}")
                or ReferralMoveForm(
                    to_status=s,
                    as_agency=False,
                    prefix=f"mv-{referral.pk}-{s}",
                    initial={"version": referral.version},
                )
                for s in REFERRAL.targets(referral, user, side="office")
            ]
        referral_rows.append(row)

    show_duplicates = can_work and demand.status in OPEN_STATUSES
    shown = {id(f) for f in panels.values()} | {
        id(f) for row in referral_rows for f in [row.get("follow_up"), *row.get("moves", [])]
    }
    context = {
        "stray_errors": _stray_errors(bound, shown),
        "demand": demand,
        "can_work": can_work,
        "show_contact": permissions.can_see_contact(user, demand),
        "mobile_display": format_mobile_display(demand.submitter_mobile)
        if demand.submitter_mobile
        else "",
        "referral_rows": referral_rows,
        "photos": [
            a for a in attachments if a.referral_id is None and a.kind == Attachment.Kind.PHOTO
        ],
        "evidence": [
            a for a in attachments if a.referral_id is None and a.kind != Attachment.Kind.PHOTO
        ],
        "timeline": selectors.timeline(selectors.demand_events(demand)),
        "panels": panels,
        "duplicates": _duplicates(user, demand) if show_duplicates else [],
        "conflict": conflict,
        "map_data": collection_for_areas([demand.area], user=user, zones=[]),
        "today": today,
        **map_context(),
    }
    return render(request, "demands/detail.html", context, status=status)


@staff_required
@require_GET
def demand_detail(request, code):
    return _demand_page(request, _get_demand(request, code))


# --- attachments ------------------------------------------------------------------------------


@portal_required
@require_GET
def attachment(request, pk):
    item = selectors.attachment_for(request.user, pk)
    if item is None or not item.file:
        raise Http404
    is_image = item.content_type.startswith("image/")
    response = FileResponse(
        item.file.open("rb"),
        content_type=item.content_type,
        as_attachment=not is_image,
        filename=item.file.name.rsplit("/", 1)[-1],
    )
    response["Cache-Control"] = "private, max-age=300"
    # Files come from residents and agencies: never let the browser run them.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


# --- exports ------------------------------------------------------------------------------------


@staff_required
@require_POST
def export(request):
    file_format = request.POST.get("format", "xlsx")
    return export_answer(
        request,
        lambda: exports.export_demands(
            user=request.user, params=exports.params_of(request.GET), file_format=file_format
        ),
        back=reverse("demands:list"),
        job_page="demands:export_job",
    )


def _own_job(request, pk) -> ExportJob:
    return get_object_or_404(ExportJob, pk=pk, owner=request.user, kind=exports.KIND)


@staff_required
@require_GET
def export_job(request, pk):
    job = _own_job(request, pk)
    template = "demands/_export_progress.html" if request.htmx else "demands/export_job.html"
    return render(request, template, {"job": job})


@staff_required
@require_GET
def export_download(request, pk):
    return download(_own_job(request, pk))
