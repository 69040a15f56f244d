"""Household pages: the list, registration and editing, the household page,
referral to an agency and the list of vulnerable households."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tashil.core.editing import rebound, save_form, update_with
from tashil.geo.models import Area

from .. import selectors
from ..forms import (
    ConsentForm,
    HouseholdFilterForm,
    HouseholdForm,
    ReferForm,
    VulnerableFilterForm,
    initial_of,
    scoped_filter_form,
)
from ..models import Membership, PersonalDataAccess, VulnerabilityIndicator
from ..permissions import access_household, can_manage_household
from ..presenters import describe_history, household_map
from ..services import households as household_services
from ..services import persons as person_services
from ..services.common import HOUSEHOLD_FIELDS
from .common import page_of, registry_required


@registry_required
@require_GET
def household_list(request):
    user = request.user
    form = scoped_filter_form(HouseholdFilterForm, request.GET or None, user)
    filters = {}
    if form.is_bound and form.is_valid():
        filters = form.filters()
    page = page_of(request, selectors.household_list(user=user, **filters))
    return render(
        request,
        "registry/household_list.html",
        {
            "form": form,
            "page": page,
            "filtered": any(v for k, v in filters.items() if k != "sort"),
            "can_create": selectors.registry_offices(user).exists(),
        },
    )


def _household_form(request, *, household=None, data=None, initial=None):
    user = request.user
    if household is not None:
        offices = [household.office]
        areas = household.office.areas.filter(level=Area.Level.NEIGHBOURHOOD).order_by("path")
        choices = None
    else:
        choices = selectors.registry_offices(user)
        offices = list(choices)
        areas = (
            Area.objects.filter(level=Area.Level.NEIGHBOURHOOD, offices__in=offices)
            .distinct()
            .order_by("path")
        )
    form = HouseholdForm(
        data,
        offices=choices,
        areas=areas,
        household=household,
        single_office=len(offices) == 1,
        initial=initial,
    )
    return form, offices


@registry_required
def household_create(request):
    form, offices = _household_form(request, data=request.POST or None)
    if not offices:
        raise PermissionDenied
    return save_form(
        request,
        form,
        lambda data: household_services.household_create(
            acting_user=request.user,
            office=data.get("office") or offices[0],
            **form.data_for_service(),
        ),
        message=_("The household was registered. Now add its members."),
        success=lambda household: redirect("registry:person_create", pk=household.pk),
        page=lambda edit: render(
            request, "registry/household_form.html", {"form": edit.form, "household": None}
        ),
    )


def household_edit(request, pk):
    household = access_household(request.user, pk, manage=True)
    form, _offices = _household_form(
        request,
        household=household,
        data=request.POST or None,
        initial=initial_of(household, HOUSEHOLD_FIELDS),
    )
    shown = {"household": household}

    def reload():
        shown["household"] = access_household(request.user, pk)
        return rebound(
            form,
            lambda data: _household_form(request, household=shown["household"], data=data)[0],
            request,
            shown["household"].version,
        )

    return save_form(
        request,
        form,
        update_with(household_services.household_update, request, form, household=household),
        message=_("The changes were saved."),
        success=lambda _household: redirect("registry:household_detail", pk=household.pk),
        reload=reload,
        conflict_on_form=False,
        page=lambda edit: render(
            request,
            "registry/household_form.html",
            {"form": edit.form, "household": shown["household"], "conflict": edit.conflict},
            status=edit.status,
        ),
    )


@require_GET
def household_detail(request, pk):
    user = request.user
    household = access_household(user, pk)
    current, past = selectors.household_members(household)
    person_services.log_personal_data_access(
        user=user, persons=[m.person_id for m in current], via=PersonalDataAccess.Via.HOUSEHOLD
    )
    groups = selectors.household_groups(household)
    context = {
        "household": household,
        "current_members": current,
        "past_members": past,
        "head": next((m for m in current if m.relation == Membership.Relation.HEAD), None),
        "groups": groups,
        "threshold": selectors.threshold_for(household),
        "consents": selectors.household_consents(household),
        "referrals": selectors.household_referrals(household),
        "history": describe_history(
            selectors.household_history(household),
            {str(m.person_id): m.person for m in [*current, *past]},
        ),
        "can_manage": can_manage_household(user, household),
        "consent_form": ConsentForm(),
        **household_map(household, current),
    }
    return render(request, "registry/household_detail.html", context)


def household_refer(request, pk):
    household = access_household(request.user, pk, manage=True)
    indicators = VulnerabilityIndicator.objects.filter(
        province_id=household.office.province_id, is_active=True
    )
    chosen = request.GET.get("group")
    initial = {}
    if chosen:
        indicator = indicators.filter(code=chosen).select_related("referral_category").first()
        if indicator is not None:
            initial = {"indicator": indicator, "category": indicator.referral_category}
    form = ReferForm(
        request.POST or None,
        indicators=indicators,
        province=household.office.province,
        initial=initial,
    )

    def success(link):
        messages.success(
            request,
            _("The household was referred. Demand %(code)s follows it up.")
            % {"code": link.demand.display_code},
        )
        return redirect(
            reverse("registry:household_detail", kwargs={"pk": household.pk}) + "#referrals"
        )

    return save_form(
        request,
        form,
        lambda data: household_services.household_refer(
            household=household, acting_user=request.user, **data
        ),
        success=success,
        page=lambda edit: render(
            request,
            "registry/refer_form.html",
            {
                "form": edit.form,
                "household": household,
                "consents": selectors.active_consents(household),
            },
        ),
    )


@registry_required
@require_GET
def vulnerable_list(request):
    user = request.user
    form = scoped_filter_form(VulnerableFilterForm, request.GET or None, user)
    area, group = None, ""
    if form.is_bound and form.is_valid():
        area, group = form.cleaned_data["area"], form.cleaned_data["group"]
    page = page_of(request, selectors.vulnerable_households(user=user, area=area, group=group))
    return render(
        request,
        "registry/vulnerable_list.html",
        {
            "form": form,
            "page": page,
            "group": group,
            "area": area,
            "counts": selectors.group_counts(user=user, area=area),
        },
    )
