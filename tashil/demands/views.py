"""Staff pages for demands (lists, intake, the demand page and its actions),
the agency portal, attachments and exports. Views parse input, call a
selector or a service, and render; the services decide who may do what."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tashil.accounts.scopes import scope_of
from tashil.agencies.models import Agency
from tashil.agencies.routing import route
from tashil.agencies.selectors import category_tree
from tashil.core.editing import save_form
from tashil.core.errors import ConflictError
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
    SLA_CHOICES,
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
from .models import (
    OPEN_STATUSES,
    REFERRAL_TRANSITIONS,
    Attachment,
    Demand,
    DemandStatus,
    Referral,
    ReferralStatus,
)

PAGE_SIZE = 30
# The list says "more than 1,000" rather than count a province's demands on every page.
COUNT_CAP = 1000
TRIAGE_STATUSES = {DemandStatus.NEW, DemandStatus.NEEDS_INFO}
REFERABLE_STATUSES = {DemandStatus.NEW, DemandStatus.ACCEPTED, DemandStatus.REFERRED}
CLOSABLE_STATUSES = {DemandStatus.ACCEPTED, DemandStatus.REFERRED}
ALIASES = {"photo": "photos"}


def staff_required(view):
    """Demand rows are for office staff, province managers and national
    administrators; liaisons use the agency portal, analysts the statistics."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not selectors.is_demand_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def portal_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not selectors.can_use_portal(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


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


def _office_moves(referral):
    """The office closes the loop on the agency's work: it accepts an answer
    (or work it saw done) as done, or sends an answer back. Acknowledging or
    starting the work stays the agency's word."""
    if referral.status == ReferralStatus.ANSWERED:
        return [ReferralStatus.DONE, ReferralStatus.IN_PROGRESS]
    if referral.status == ReferralStatus.IN_PROGRESS:
        return [ReferralStatus.DONE]
    return []


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
    if can_work:
        if demand.status in TRIAGE_STATUSES:
            panels["accept"] = form("accept", AcceptForm)
            panels["reject"] = form("reject", RejectForm)
            if demand.status == DemandStatus.NEW:
                panels["info"] = form("info", RequestInfoForm)
        if demand.status in OPEN_STATUSES:
            panels["merge"] = form("merge", MergeForm)
        if demand.status in REFERABLE_STATUSES:
            agencies = Agency.objects.filter(
                province_id=demand.province_id, is_active=True
            ).order_by("name_fa")
            default = _default_agency(demand, referrals)
            panels["refer"] = bound.get("refer") or ReferForm(
                agencies=agencies, initial={**initial, "agency": default.code if default else None}
            )
            panels["refer_default"] = default
            panels["due_preview"] = services.due_dates(
                sent_on=today, category=demand.category, province=demand.province_id
            )[0]
        if demand.status in CLOSABLE_STATUSES:
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
                for s in _office_moves(referral)
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


def _require_work(request, demand):
    if not permissions.can_work_on(request.user, demand):
        raise PermissionDenied


def _after_action(request, demand, key, make_form, call, success, *, current_version=None):
    """Run a service for a valid form and go back to the page; on a refused
    input or a conflict, show the page again with the user's input kept."""
    loaded = current_version or (lambda: demand.version)
    form = make_form(request.POST)
    fresh = {}

    def save(data):
        # A stale page is a conflict even when the move it asks for is no
        # longer possible: "someone changed it" explains more than "not allowed".
        if "version" in data and data["version"] != loaded():
            raise ConflictError()
        return call(data)

    def saved():
        # What is saved now, so the page shows the other person's change.
        if "demand" not in fresh:
            fresh["demand"] = get_object_or_404(
                selectors.demand_detail_queryset(request.user), pk=demand.pk
            )
        return fresh["demand"]

    def reload():
        # The user's input stays; the form now carries the version just read,
        # so sending it again is a deliberate decision.
        data = request.POST.copy()
        data[form.add_prefix("version")] = str(
            current_version() if current_version else saved().version
        )
        again = make_form(data)
        again.is_valid()
        return again

    def page(edit):
        return _demand_page(
            request, saved(), bound={key: edit.form}, status=edit.status, conflict=edit.conflict
        )

    return save_form(
        request,
        form,
        save,
        success=lambda _result: redirect(
            f"{reverse('demands:detail', kwargs={'code': demand.code})}#timeline"
        ),
        message=success,
        page=page,
        aliases={"photo": "evidence"} if key == "close" else ALIASES,
        reload=reload,
        conflict_on_form=False,
    )


@staff_required
@require_POST
def demand_accept(request, code):
    demand = _get_demand(request, code)
    _require_work(request, demand)
    return _after_action(
        request,
        demand,
        "accept",
        AcceptForm,
        lambda d: services.demand_accept(
            demand=demand, acting_user=request.user, expected_version=d["version"]
        ),
        _("The demand is accepted."),
    )


@staff_required
@require_POST
def demand_request_info(request, code):
    demand = _get_demand(request, code)
    _require_work(request, demand)
    return _after_action(
        request,
        demand,
        "info",
        RequestInfoForm,
        lambda d: services.demand_request_info(
            demand=demand,
            acting_user=request.user,
            message=d["message"],
            expected_version=d["version"],
        ),
        _("The request for information was sent."),
    )


@staff_required
@require_POST
def demand_reject(request, code):
    demand = _get_demand(request, code)
    _require_work(request, demand)
    return _after_action(
        request,
        demand,
        "reject",
        RejectForm,
        lambda d: services.demand_reject(
            demand=demand,
            acting_user=request.user,
            reason=d["reason"],
            expected_version=d["version"],
        ),
        _("The demand is rejected; the resident is told the reason."),
    )


@staff_required
@require_POST
def demand_merge(request, code):
    user = request.user
    demand = _get_demand(request, code)
    _require_work(request, demand)

    def call(d):
        target = Demand.objects.visible_to(user).filter(code=d["into"]).first()
        if target is None:
            raise ValidationError({"into": _("No demand of your offices has this tracking code.")})
        services.demand_merge(
            demand=demand, into=target, acting_user=user, expected_version=d["version"]
        )

    return _after_action(
        request,
        demand,
        "merge",
        MergeForm,
        call,
        _("The demand is merged; its supporters now back the other demand."),
    )


@staff_required
@require_POST
def demand_refer(request, code):
    user = request.user
    demand = _get_demand(request, code)
    _require_work(request, demand)
    agencies = Agency.objects.filter(province_id=demand.province_id, is_active=True)
    return _after_action(
        request,
        demand,
        "refer",
        lambda data: ReferForm(data, agencies=agencies),
        lambda d: services.demand_refer(
            demand=demand,
            acting_user=user,
            agency=d["agency"],
            letter_number=d["letter_number"],
            letter_date=d["letter_date"],
            note=d["note"],
            expected_version=d["version"],
        ),
        _("The demand is referred."),
    )


@staff_required
@require_POST
def demand_close(request, code):
    demand = _get_demand(request, code)
    _require_work(request, demand)
    return _after_action(
        request,
        demand,
        "close",
        lambda data: CloseForm(data, request.FILES),
        lambda d: services.demand_close(
            demand=demand,
            outcome=d["outcome"],
            acting_user=request.user,
            reason=d["reason"],
            evidence=d["evidence"],
            expected_version=d["version"],
        ),
        _("The demand is closed; the resident is asked for feedback."),
    )


def _demand_referral(request, demand, pk) -> Referral:
    referral = get_object_or_404(Referral.objects.select_related("agency"), pk=pk, demand=demand)
    referral.demand = demand
    return referral


@staff_required
@require_POST
def follow_up(request, code, pk):
    demand = _get_demand(request, code)
    _require_work(request, demand)
    referral = _demand_referral(request, demand, pk)
    return _after_action(
        request,
        demand,
        f"fu-{referral.pk}",
        lambda data: FollowUpForm(data, prefix=f"fu-{referral.pk}"),
        lambda d: services.follow_up_log(
            referral=referral,
            kind=d["kind"],
            outcome=d["outcome"],
            acting_user=request.user,
            note=d["note"],
            happened_on=d["happened_on"],
        ),
        _("The follow-up is logged."),
    )


def _move_status(request) -> ReferralStatus:
    try:
        return ReferralStatus(request.POST.get("action", ""))
    except ValueError:
        raise Http404 from None


@staff_required
@require_POST
def office_referral_move(request, code, pk):
    """The office accepts an agency's answer as done, or sends it back."""
    demand = _get_demand(request, code)
    _require_work(request, demand)
    referral = _demand_referral(request, demand, pk)
    to_status = _move_status(request)
    if to_status not in services.OFFICE_MOVES:
        raise PermissionDenied
    if to_status not in _office_moves(referral):
        raise PermissionDenied
    key = f"mv-{referral.pk}-{to_status}"
    return _after_action(
        request,
        demand,
        key,
        lambda data: ReferralMoveForm(data, to_status=to_status, as_agency=False, prefix=key),
        lambda d: services.referral_move(
            referral=referral,
            to_status=to_status,
            acting_user=request.user,
            note=d.get("note", ""),
            expected_version=d["version"],
        ),
        _("The referral is updated."),
        current_version=lambda: Referral.objects.get(pk=referral.pk).version,
    )


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


# --- the agency portal -------------------------------------------------------------------------

REFERRAL_STATUS_CHOICES = [
    ("open", _("Open")),
    ("all", _("All")),
    *ReferralStatus.choices,
]


@portal_required
@require_GET
def referral_list(request):
    user = request.user
    today = timezone.localdate()
    status = request.GET.get("status", "open")
    if status not in {c for c, _label in REFERRAL_STATUS_CHOICES}:
        status = "open"
    sla = request.GET.get("sla", "")
    if sla not in {c for c, _label in SLA_CHOICES}:
        sla = ""
    sort = request.GET.get("sort", "due")
    queryset = selectors.referral_list(
        user=user, status="" if status == "all" else status, sla=sla, today=today, sort=sort
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    remaining = selectors.remaining_working_days(page.object_list, today)
    scope = scope_of(user)
    return render(
        request,
        "demands/referral_list.html",
        {
            "page": page,
            # The tracking code is the resident's key: the agency side is
            # shown the demand's public id instead.
            "rows": [
                (r, remaining.get(r.pk), permissions.can_work_on(user, r.demand)) for r in page
            ],
            "status": status,
            "sla": sla,
            "sort": sort,
            "status_choices": REFERRAL_STATUS_CHOICES,
            "sla_choices": SLA_CHOICES,
            "show_agency": scope.is_national
            or len(scope.agency_ids) != 1
            or bool(scope.office_ids or scope.managed_province_ids),
        },
    )


def _referral_page(request, referral, *, bound=None, status=200, conflict=None):
    user = request.user
    bound = bound or {}
    today = timezone.localdate()
    demand = referral.demand
    internal = permissions.can_work_on(user, demand)
    as_agency = permissions.can_answer_referral(user, referral)
    moves = []
    if as_agency:
        allowed = REFERRAL_TRANSITIONS[ReferralStatus(referral.status)] & services.AGENCY_MOVES
        order = [
            ReferralStatus.RECEIVED,
            ReferralStatus.IN_PROGRESS,
            ReferralStatus.ANSWERED,
            ReferralStatus.DONE,
            ReferralStatus.REJECTED,
            ReferralStatus.NOT_RESPONSIBLE,
        ]
        moves = [
            bound.get(f"mv-{s}")
            or ReferralMoveForm(to_status=s, initial={"version": referral.version})
            for s in order
            if s in allowed
        ]
    context = {
        "stray_errors": _stray_errors(bound, {id(f) for f in moves}),
        "referral": referral,
        "demand": demand,
        "show_contact": permissions.can_see_contact(user, demand, referral),
        "mobile_display": format_mobile_display(demand.submitter_mobile)
        if demand.submitter_mobile
        else "",
        "internal": internal,
        # The tracking code is the resident's key: agencies see the public id.
        "shown_id": demand.display_code if internal else demand.public_id,
        "sla": referral.sla_state_on(today),
        "remaining": selectors.remaining_working_days([referral], today).get(referral.pk),
        "attachments": selectors.referral_attachments(referral),
        "timeline": selectors.timeline(
            selectors.referral_events(referral), internal=internal, own_referral_id=referral.pk
        ),
        "moves": moves,
        "conflict": conflict,
    }
    return render(request, "demands/referral_detail.html", context, status=status)


@portal_required
@require_GET
def referral_detail(request, pk):
    referral = permissions.access_referral(request.user, pk)
    return _referral_page(request, referral)


@portal_required
@require_POST
def referral_move(request, pk):
    user = request.user
    referral = permissions.access_referral(user, pk)
    to_status = _move_status(request)
    as_agency = (
        permissions.can_answer_referral(user, referral) and to_status in services.AGENCY_MOVES
    )
    if not as_agency:
        raise PermissionDenied
    form = ReferralMoveForm(request.POST, request.FILES, to_status=to_status)

    def save(d):
        if d["version"] != referral.version:
            raise ConflictError()
        return services.referral_move(
            referral=referral,
            to_status=to_status,
            acting_user=user,
            note=d.get("note", ""),
            expected_date=d.get("expected_date"),
            attachments=d.get("attachments", []),
            expected_version=d["version"],
        )

    def saved():
        return permissions.access_referral(user, pk)

    def reload():
        data = request.POST.copy()
        data[form.add_prefix("version")] = str(saved().version)
        again = ReferralMoveForm(data, request.FILES, to_status=to_status)
        again.is_valid()
        return again

    return save_form(
        request,
        form,
        save,
        success=lambda _result: redirect("demands:referral", pk=referral.pk),
        message=_("The referral is updated: %(status)s.") % {"status": to_status.label},
        page=lambda edit: _referral_page(
            request,
            saved(),
            bound={f"mv-{to_status}": edit.form},
            status=edit.status,
            conflict=edit.conflict,
        ),
        aliases={"photo": "attachments"},
        reload=reload,
        conflict_on_form=False,
    )


# --- exports ------------------------------------------------------------------------------------


@staff_required
@require_POST
def export(request):
    file_format = request.POST.get("format", "xlsx")
    try:
        result = exports.export_demands(
            user=request.user, params=exports.params_of(request.GET), file_format=file_format
        )
    except ValidationError:
        messages.error(request, _("Correct the filter before exporting."))
        return redirect(f"{reverse('demands:list')}?{request.GET.urlencode()}")
    if result.job is not None:
        return redirect("demands:export_job", pk=result.job.pk)
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


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
