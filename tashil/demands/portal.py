"""The agency portal: the referrals of the liaison's agency, a referral's
page, and the agency's moves of it (the ones `workflow.REFERRAL` allows)."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tashil.accounts.scopes import scope_of
from tashil.core.editing import rebound, save_form
from tashil.core.errors import ConflictError
from tashil.core.validators import format_mobile_display

from . import permissions, selectors, services
from .actions import _move_status
from .forms import SLA_CHOICES, ReferralMoveForm
from .models import ReferralStatus
from .views import PAGE_SIZE, _stray_errors, portal_required
from .workflow import REFERRAL

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
            "show_agency": len(scope.agency_ids) != 1 or scope.works_on_records,
        },
    )


def _referral_page(request, referral, *, bound=None, status=200, conflict=None):
    user = request.user
    bound = bound or {}
    today = timezone.localdate()
    demand = referral.demand
    internal = permissions.can_work_on(user, demand)
    moves = [
        bound.get(f"mv-{s}") or ReferralMoveForm(to_status=s, initial={"version": referral.version})
        for s in REFERRAL.targets(referral, user, side="agency")
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
    if not REFERRAL.may(referral, user, to=to_status, side="agency"):
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
        return rebound(
            form,
            lambda data: ReferralMoveForm(data, request.FILES, to_status=to_status),
            request,
            saved().version,
        )

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
