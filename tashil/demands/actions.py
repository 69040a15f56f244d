"""The demand page's actions: triage, merge, refer, close, follow up and the
office's moves of a referral. Each runs one service and goes back to the page;
a refused input or a conflict shows the page again with the input kept."""

from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tashil.agencies.models import Agency
from tashil.core.editing import rebound, save_form
from tashil.core.errors import ConflictError

from . import permissions, selectors, services
from .forms import (
    AcceptForm,
    CloseForm,
    FollowUpForm,
    MergeForm,
    ReferForm,
    ReferralMoveForm,
    RejectForm,
    RequestInfoForm,
)
from .models import Demand, Referral, ReferralStatus
from .views import ALIASES, _demand_page, _get_demand, staff_required
from .workflow import REFERRAL


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
        return rebound(
            form, make_form, request, current_version() if current_version else saved().version
        )

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


def _works_on_demand(view):
    """A POST by office staff on a demand they work on: the view gets the
    demand instead of its tracking code."""

    @staff_required
    @require_POST
    @wraps(view)
    def wrapper(request, code, *args, **kwargs):
        demand = _get_demand(request, code)
        _require_work(request, demand)
        return view(request, demand, *args, **kwargs)

    return wrapper


def _plain_action(key, form_class, service, fields, success):
    """An action whose service takes the demand, the form's `fields` and the
    version the page was loaded at."""

    @_works_on_demand
    def view(request, demand):
        return _after_action(
            request,
            demand,
            key,
            lambda data: form_class(data, request.FILES),
            lambda d: service(
                demand=demand,
                acting_user=request.user,
                expected_version=d["version"],
                **{name: d[name] for name in fields},
            ),
            success,
        )

    return view


demand_accept = _plain_action(
    "accept", AcceptForm, services.demand_accept, (), gettext_lazy("The demand is accepted.")
)
demand_request_info = _plain_action(
    "info",
    RequestInfoForm,
    services.demand_request_info,
    ("message",),
    gettext_lazy("The request for information was sent."),
)
demand_reject = _plain_action(
    "reject",
    RejectForm,
    services.demand_reject,
    ("reason",),
    gettext_lazy("The demand is rejected; the resident is told the reason."),
)
demand_close = _plain_action(
    "close",
    CloseForm,
    services.demand_close,
    ("outcome", "reason", "evidence"),
    gettext_lazy("The demand is closed; the resident is asked for feedback."),
)


@_works_on_demand
def demand_merge(request, demand):
    user = request.user

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


@_works_on_demand
def demand_refer(request, demand):
    user = request.user
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


def _demand_referral(request, demand, pk) -> Referral:
    referral = get_object_or_404(Referral.objects.select_related("agency"), pk=pk, demand=demand)
    referral.demand = demand
    return referral


@_works_on_demand
def follow_up(request, demand, pk):
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


@_works_on_demand
def office_referral_move(request, demand, pk):
    """The office accepts an agency's answer as done, or sends it back."""
    referral = _demand_referral(request, demand, pk)
    to_status = _move_status(request)
    if to_status not in REFERRAL.targets(referral, request.user, side="office"):
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
