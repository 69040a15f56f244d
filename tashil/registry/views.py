"""Pages of the household registry. Thin: parse, call a selector or service,
render. Rows are reached only through selectors scoped to the user, so a
household or person outside the user's reach is a 404; an action the user
may not take on a row they see is a 403."""

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from tashil.accounts.scopes import scope_of
from tashil.core import jalali
from tashil.core.editing import save_form
from tashil.core.errors import ConflictError
from tashil.geo.models import Area

from . import dedupe, selectors, services, vulnerability
from .forms import (
    ConsentForm,
    HouseholdFilterForm,
    HouseholdForm,
    IndicatorForm,
    MembershipAddForm,
    MembershipEndForm,
    MembershipRelationForm,
    MergeForm,
    PersonForm,
    ReferForm,
    ThresholdForm,
    VulnerableFilterForm,
)
from .models import (
    Consent,
    Household,
    Membership,
    Person,
    PersonalDataAccess,
    VulnerabilityIndicator,
)

PAGE_SIZE = 30


def registry_required(view):
    """Lists and forms are for office staff, province managers and national
    admins; liaisons and analysts never see household rows."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not services.can_use_registry(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _managed_household(request, pk) -> Household:
    household = selectors.household_for(request.user, pk)
    if not services.can_manage_household(request.user, household):
        raise PermissionDenied
    return household


def _managed_person(request, pk) -> Person:
    person = selectors.person_for(request.user, pk)
    if not services.can_manage_person(request.user, person):
        raise PermissionDenied
    return person


def _duplicate_link(error: ValidationError):
    """The existing record a national-code clash names, when the user may see it."""
    for item in getattr(error, "error_dict", {}).get("national_code", []):
        if item.code == "duplicate_national_code" and item.params and item.params.get("person_id"):
            return {
                "person_id": item.params["person_id"],
                "household_id": item.params["household_id"],
            }
    return None


# --- Households ----------------------------------------------------------------------------


@registry_required
@require_GET
def household_list(request):
    user = request.user
    form = HouseholdFilterForm(
        request.GET or None, areas=selectors.registry_areas(user), groups=selectors.group_choices()
    )
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "area": data["area"],
            "group": data["group"],
            "vulnerable_only": data["vulnerable"],
            "hazard": data["hazard"],
            "query": data["q"].strip(),
            "sort": data["sort"] or "updated",
        }
    page = _page(request, selectors.household_list(user=user, **filters))
    return render(
        request,
        "registry/household_list.html",
        {
            "form": form,
            "page": page,
            "filtered": any(v for k, v in filters.items() if k != "sort"),
            "can_create": services.registry_offices(user).exists(),
        },
    )


def _household_form(request, *, household=None, data=None, initial=None):
    user = request.user
    if household is not None:
        offices = [household.office]
        areas = household.office.areas.filter(level=Area.Level.NEIGHBOURHOOD).order_by("path")
        choices = None
    else:
        choices = services.registry_offices(user)
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
        lambda data: services.household_create(
            acting_user=request.user,
            office=data.get("office") or offices[0],
            **form.service_fields(),
        ),
        message=_("The household was registered. Now add its members."),
        success=lambda household: redirect("registry:person_create", pk=household.pk),
        page=lambda edit: render(
            request, "registry/household_form.html", {"form": edit.form, "household": None}
        ),
    )


def _household_initial(household):
    initial = {name: getattr(household, name) for name in services.HOUSEHOLD_FIELDS}
    initial["version"] = household.version
    return initial


def household_edit(request, pk):
    household = _managed_household(request, pk)
    form, _offices = _household_form(
        request,
        household=household,
        data=request.POST or None,
        initial=_household_initial(household),
    )
    shown = {"household": household}

    def reload():
        shown["household"] = selectors.household_for(request.user, pk)
        data = request.POST.copy()
        data["version"] = str(shown["household"].version)
        again, _offices = _household_form(request, household=shown["household"], data=data)
        again.is_valid()
        return again

    return save_form(
        request,
        form,
        lambda data: services.household_update(
            household=household,
            acting_user=request.user,
            expected_version=data["version"],
            **form.service_fields(),
        ),
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


def _map_context(household, current_members):
    """A small map: the neighbourhood, the hazard zone and the household's point."""
    from tashil.geo.views import map_context

    features = []
    if household.area.boundary:
        features.append(
            {
                "type": "Feature",
                "geometry": household.area.boundary,
                "properties": {
                    "name": household.area.name,
                    "level": "neighbourhood",
                    "is_marginal": household.area.is_marginal,
                },
            }
        )
    if household.hazard_zone_id:
        zone = household.hazard_zone
        features.append(
            {
                "type": "Feature",
                "geometry": zone.boundary,
                "properties": {
                    "name": zone.name,
                    "kind": "hazard",
                    "hazard_type": zone.get_hazard_type_display(),
                    "risk_label": zone.get_risk_level_display(),
                },
            }
        )
    markers = []
    if household.latitude is not None:
        head = next((m for m in current_members if m.relation == Membership.Relation.HEAD), None)
        markers.append(
            {
                "code": str(household.pk),
                "name": str(head.person) if head else _("Household"),
                "status": "active",
                "status_label": _("Household"),
                "lat": household.latitude,
                "lng": household.longitude,
                "url": "",
            }
        )
    context = map_context()
    context["map_labels"] = {
        **context["map_labels"],
        "status_active": _("Household"),
        "offices": "",
    }
    return {
        **context,
        "map_data": {"type": "FeatureCollection", "features": features},
        "map_markers": markers,
    }


ACTION_LABELS = {
    "household.create": _lazy("Household registered"),
    "household.update": _lazy("Household changed"),
    "household.refer": _lazy("Referred to an agency"),
    "membership.add": _lazy("Member added"),
    "membership.end": _lazy("Membership ended"),
    "membership.relation": _lazy("Relation changed"),
    "consent.record": _lazy("Consent recorded"),
    "consent.withdraw": _lazy("Consent withdrawn"),
    "person.create": _lazy("Person registered"),
    "person.update": _lazy("Person's details changed"),
    "person.merge": _lazy("Duplicate record merged in"),
    "person.merged_into": _lazy("Record merged into another"),
    "person.not_duplicate": _lazy("Marked as not a duplicate"),
}
CHOICE_FIELDS = {
    "relation": dict(Membership.Relation.choices),
    "end_reason": dict(Membership.EndReason.choices),
    "consent": dict(Consent.Purpose.choices),
}


def _field_label(name):
    for model in (Household, Person, Membership):
        try:
            return model._meta.get_field(name).verbose_name
        except FieldDoesNotExist:
            continue
    return name


def _value_label(name, value, people):
    if value in (None, ""):
        return "—"
    if name in CHOICE_FIELDS:
        return CHOICE_FIELDS[name].get(value, value)
    if name in ("person", "merged", "merged_into", "not_duplicate_of"):
        return people.get(str(value), value)
    for model in (Household, Person):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.choices:
            return dict(field.choices).get(value, value)
        if isinstance(value, bool):
            return _("yes") if value else _("no")
    return value


def describe_history(entries, people: dict) -> list[dict]:
    """Audit rows as the household page shows them: what happened, to whom,
    and each change with readable names. Personal data stays masked."""
    rows = []
    for entry in entries:
        subject = people.get(entry.object_id) if entry.object_type == "registry.person" else None
        rows.append(
            {
                "at": entry.at,
                "actor": entry.actor,
                "label": ACTION_LABELS.get(entry.action, entry.action),
                "subject": subject,
                "changes": [
                    (
                        _field_label(name),
                        _value_label(name, values[0], people),
                        _value_label(name, values[1], people),
                    )
                    for name, values in entry.changes.items()
                    if isinstance(values, list) and len(values) == 2
                ],
            }
        )
    return rows


@require_GET
def household_detail(request, pk):
    user = request.user
    household = selectors.household_for(user, pk)
    current, past = selectors.household_members(household)
    services.log_personal_data_access(
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
        "can_manage": services.can_manage_household(user, household),
        "consent_form": ConsentForm(),
        **_map_context(household, current),
    }
    return render(request, "registry/household_detail.html", context)


# --- Persons ----------------------------------------------------------------------------------


def _candidates(household, data, exclude_pk=None):
    return dedupe.fuzzy_person_candidates(
        first_name=data.get("first_name") or "",
        last_name=data.get("last_name") or "",
        birth_year=_birth_year(data),
        area=household.area,
        exclude_pk=exclude_pk,
        national_code=selectors.national_code_or_none(data.get("national_code") or ""),
    )


def _birth_year(data):
    if data.get("birth_date"):
        return jalali.to_jalali(data["birth_date"]).year
    return data.get("birth_year")


def person_create(request, pk):
    household = _managed_household(request, pk)
    asked = request.method == "POST" and "confirm_new" in request.POST
    form = PersonForm(
        request.POST or None,
        creating=True,
        ask_confirm=asked,
        initial={
            "nationality": Person.Nationality.IRANIAN,
            "joined_on": None,
            "relation": ""
            if household.memberships.current().exists()
            else Membership.Relation.HEAD,
        },
    )
    candidates, duplicate = [], None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        candidates = _candidates(household, data)
        if candidates and not data.get("confirm_new"):
            # Similar records in the neighbourhood: the user decides before a second record exists.
            form = PersonForm(request.POST, creating=True, ask_confirm=True)
            form.is_valid()
        else:
            try:
                person = services.person_create(
                    acting_user=request.user,
                    household=household,
                    relation=data["relation"],
                    joined_on=data["joined_on"],
                    **form.service_fields(),
                )
            except ValidationError as error:
                form.apply_service_error(error)
                duplicate = _duplicate_link(error)
            else:
                messages.success(
                    request, _("%(name)s was added to the household.") % {"name": person}
                )
                if "add_another" in request.POST:
                    return redirect("registry:person_create", pk=household.pk)
                return redirect("registry:household_detail", pk=household.pk)
    return render(
        request,
        "registry/person_form.html",
        {
            "form": form,
            "household": household,
            "person": None,
            "candidates": candidates,
            "duplicate": duplicate,
        },
    )


@require_GET
def person_suggest(request, pk):
    """Similar records as the name is typed (an htmx partial)."""
    household = _managed_household(request, pk)
    form = PersonForm(request.GET, creating=True)
    form.is_valid()
    data = {
        name: form.cleaned_data.get(name)
        for name in ("first_name", "last_name", "birth_date", "birth_year", "national_code")
    }
    exclude = request.GET.get("person")
    candidates = _candidates(
        household, data, exclude_pk=int(exclude) if exclude and exclude.isdigit() else None
    )
    code = selectors.national_code_or_none(request.GET.get("national_code", ""))
    exact = dedupe.exact_national_code_match(code) if code else None
    if exact is not None and str(exact.pk) == exclude:
        exact = None
    exact_household = services.person_household(exact) if exact else None
    return render(
        request,
        "registry/_candidates.html",
        {
            "candidates": candidates,
            "exact": exact,
            "exact_visible": exact_household is not None
            and services.can_manage_household(request.user, exact_household),
            "exact_household": exact_household,
        },
    )


@require_GET
def person_detail(request, pk):
    user = request.user
    person = selectors.person_for(user, pk)
    services.log_personal_data_access(user=user, persons=[person], via=PersonalDataAccess.Via.PAGE)
    current = selectors.current_membership(person)
    candidates = []
    if current is not None and person.merged_into_id is None:
        candidates = dedupe.fuzzy_person_candidates(
            first_name=person.first_name,
            last_name=person.last_name,
            birth_year=person.birth_year,
            area=current.household.area,
            exclude_pk=person.pk,
            national_code=person.national_code,
            limit=5,
        )
    return render(
        request,
        "registry/person_detail.html",
        {
            "person": person,
            "current": current,
            "memberships": selectors.person_memberships(person),
            "candidates": candidates,
            "merged_records": list(Person.objects.filter(merged_into=person).order_by("pk")),
            "can_manage": services.can_manage_person(user, person),
            "accesses": list(person.accesses.select_related("user")[:10])
            if _sees_access_log(user, person)
            else None,
        },
    )


def _sees_access_log(user, person) -> bool:
    """Who read a record is shown to those who answer for the data: the office
    manager, the province manager and national admins."""
    household = services.person_household(person)
    if household is None:
        return False
    scope = scope_of(user)
    return (
        scope.is_national
        or household.office_id in scope.managed_office_ids
        or household.office.province_id in scope.managed_province_ids
    )


def _person_initial(person):
    initial = {name: getattr(person, name) for name in services.PERSON_FIELDS}
    initial["version"] = person.version
    return initial


def person_edit(request, pk):
    person = _managed_person(request, pk)
    if person.merged_into_id:
        messages.info(request, _("This record was merged; edit the record it was merged into."))
        return redirect("registry:person_detail", pk=person.merged_into_id)
    form = PersonForm(request.POST or None, creating=False, initial=_person_initial(person))
    shown = {"person": person, "duplicate": None}

    def on_error(form, error):
        form.apply_service_error(error)
        shown["duplicate"] = _duplicate_link(error)

    def reload():
        shown["person"] = selectors.person_for(request.user, pk)
        data = request.POST.copy()
        data["version"] = str(shown["person"].version)
        again = PersonForm(data, creating=False)
        again.is_valid()
        return again

    def page(edit):
        current = selectors.current_membership(shown["person"])
        return render(
            request,
            "registry/person_form.html",
            {
                "form": edit.form,
                "person": shown["person"],
                "household": current.household if current else None,
                "conflict": edit.conflict,
                "duplicate": shown["duplicate"],
                "candidates": [],
            },
            status=edit.status,
        )

    return save_form(
        request,
        form,
        lambda data: services.person_update(
            person=person,
            acting_user=request.user,
            expected_version=data["version"],
            **form.service_fields(),
        ),
        message=_("The changes were saved."),
        success=lambda _person: redirect("registry:person_detail", pk=person.pk),
        on_error=on_error,
        reload=reload,
        conflict_on_form=False,
        page=page,
    )


# --- Memberships ------------------------------------------------------------------------------


def membership_add(request, pk):
    household = _managed_household(request, pk)
    form = MembershipAddForm(request.POST or None)

    def save(data):
        code = selectors.national_code_or_none(data["national_code"])
        person = dedupe.exact_national_code_match(code) if code else None
        if code is None:
            raise ValidationError(
                {
                    "national_code": _(
                        "This national code is not valid. Check the digits and try again."
                    )
                }
            )
        if person is None:
            raise ValidationError(
                {
                    "national_code": _(
                        "No one is registered with this national code. Add them as a new "
                        "person instead."
                    )
                }
            )
        try:
            services.membership_add(
                person=person,
                household=household,
                relation=data["relation"],
                joined_on=data["joined_on"],
                note=data["note"],
                acting_user=request.user,
            )
        except PermissionDenied:
            raise ValidationError(
                {
                    "national_code": _(
                        "This person lives in a household of another office. Ask that "
                        "office or the province manager to move them."
                    )
                }
            ) from None
        return person

    def success(person):
        messages.success(request, _("%(name)s was added to the household.") % {"name": person})
        return redirect("registry:household_detail", pk=household.pk)

    return save_form(
        request,
        form,
        save,
        success=success,
        page=lambda edit: render(
            request,
            "registry/membership_add.html",
            {"form": edit.form, "household": household},
            status=edit.status,
        ),
    )


def _managed_membership(request, pk) -> Membership:
    membership = get_object_or_404(
        Membership.objects.filter(
            household__in=Household.objects.visible_to(request.user)
        ).select_related("household__office__province", "household__area", "person"),
        pk=pk,
    )
    if not services.can_manage_household(request.user, membership.household):
        raise PermissionDenied
    return membership


def _membership_page(request, membership, title):
    return lambda edit: render(
        request,
        "registry/membership_form.html",
        {
            "form": edit.form,
            "membership": membership,
            "household": membership.household,
            "title": title,
        },
        status=edit.status,
    )


def membership_end(request, pk):
    membership = _managed_membership(request, pk)
    form = MembershipEndForm(request.POST or None)
    return save_form(
        request,
        form,
        lambda data: services.membership_end(
            membership=membership, acting_user=request.user, **data
        ),
        message=_("The membership of %(name)s has ended.") % {"name": membership.person},
        success=lambda _result: redirect("registry:household_detail", pk=membership.household_id),
        page=_membership_page(
            request,
            membership,
            _("End the membership of %(name)s") % {"name": membership.person},
        ),
    )


def membership_relation(request, pk):
    membership = _managed_membership(request, pk)
    form = MembershipRelationForm(request.POST or None, initial={"relation": membership.relation})
    return save_form(
        request,
        form,
        lambda data: services.membership_set_relation(
            membership=membership, acting_user=request.user, **data
        ),
        message=_("The relation was changed."),
        success=lambda _result: redirect("registry:household_detail", pk=membership.household_id),
        page=_membership_page(
            request,
            membership,
            _("Relation of %(name)s to the head") % {"name": membership.person},
        ),
    )


# --- Consent ------------------------------------------------------------------------------------


def consent_create(request, pk):
    household = _managed_household(request, pk)
    form = ConsentForm(request.POST or None)
    return save_form(
        request,
        form,
        lambda data: services.consent_record(household=household, acting_user=request.user, **data),
        message=_("The consent was recorded."),
        success=lambda _consent: redirect(
            reverse("registry:household_detail", kwargs={"pk": household.pk}) + "#consent"
        ),
        page=lambda edit: render(
            request, "registry/consent_form.html", {"form": edit.form, "household": household}
        ),
    )


@require_POST
def consent_withdraw(request, pk):
    consent = get_object_or_404(
        Consent.objects.filter(
            household__in=Household.objects.visible_to(request.user)
        ).select_related("household__office__province"),
        pk=pk,
    )
    if not services.can_manage_household(request.user, consent.household):
        raise PermissionDenied
    try:
        services.consent_withdraw(consent=consent, acting_user=request.user)
    except (ValidationError, ConflictError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, _("The consent was withdrawn."))
    return redirect(
        reverse("registry:household_detail", kwargs={"pk": consent.household_id}) + "#consent"
    )


# --- Referral --------------------------------------------------------------------------------------


def household_refer(request, pk):
    household = _managed_household(request, pk)
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
        lambda data: services.household_refer(
            household=household, acting_user=request.user, **data
        ),
        success=success,
        page=lambda edit: render(
            request,
            "registry/refer_form.html",
            {
                "form": edit.form,
                "household": household,
                "consents": services.active_consents(household),
            },
        ),
    )


@registry_required
@require_GET
def vulnerable_list(request):
    user = request.user
    form = VulnerableFilterForm(
        request.GET or None, areas=selectors.registry_areas(user), groups=selectors.group_choices()
    )
    area, group = None, ""
    if form.is_bound and form.is_valid():
        area, group = form.cleaned_data["area"], form.cleaned_data["group"]
    page = _page(request, selectors.vulnerable_households(user=user, area=area, group=group))
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


# --- Duplicates and merge ----------------------------------------------------------------------------


@registry_required
@require_GET
def duplicates(request):
    offices = list(services.registry_offices(request.user))
    if not offices:
        raise PermissionDenied
    code = request.GET.get("office")
    office = next((o for o in offices if o.code == code), offices[0])
    pairs = dedupe.duplicate_pairs(Household.objects.visible_to(request.user).filter(office=office))
    return render(
        request, "registry/duplicates.html", {"pairs": pairs, "office": office, "offices": offices}
    )


def _pair(request, first_pk, second_pk):
    first = _managed_person(request, first_pk)
    second = _managed_person(request, second_pk)
    if first.pk == second.pk:
        raise Http404
    return first, second


def person_merge(request, first, second):
    first, second = _pair(request, first, second)
    form = MergeForm(
        request.POST or None,
        first=first,
        second=second,
        initial={
            "keep": str(first.pk),
            "first_version": first.version,
            "second_version": second.version,
        },
    )

    def save(data):
        if data["keep"] == str(first.pk):
            keep, duplicate, keep_version, duplicate_version = (
                first,
                second,
                data["first_version"],
                data["second_version"],
            )
        else:
            keep, duplicate, keep_version, duplicate_version = (
                second,
                first,
                data["second_version"],
                data["first_version"],
            )
        services.person_merge(
            keep=keep,
            duplicate=duplicate,
            acting_user=request.user,
            keep_version=keep_version,
            duplicate_version=duplicate_version,
        )
        return keep

    def success(keep):
        messages.success(request, _("The records were merged into %(name)s.") % {"name": keep})
        return redirect("registry:person_detail", pk=keep.pk)

    def on_error(form, error):
        for message in error.messages:
            form.add_error(None, message)

    def page(edit):
        rows = []
        for name in services.PERSON_FIELDS:
            field = Person._meta.get_field(name)
            rows.append((field.verbose_name, _display(first, name), _display(second, name)))
        return render(
            request,
            "registry/merge.html",
            {
                "form": edit.form,
                "first": first,
                "second": second,
                "rows": rows,
                "conflict": edit.conflict,
                "first_memberships": selectors.person_memberships(first),
                "second_memberships": selectors.person_memberships(second),
            },
            status=edit.status,
        )

    return save_form(
        request,
        form,
        save,
        success=success,
        on_error=on_error,
        conflict_on_form=False,
        page=page,
    )


def _display(person, name):
    """A person's field as the comparison table shows it."""
    value = getattr(person, name)
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.date):
        return jalali.format_date(value)
    if name == "mobile":
        return person.mobile_display
    display = getattr(person, f"get_{name}_display", None)
    return display() if display else value


@require_POST
def not_duplicate(request, first, second):
    first, second = _pair(request, first, second)
    services.duplicate_dismiss(first=first, second=second, acting_user=request.user)
    messages.success(
        request, _("Noted: %(a)s and %(b)s are different people.") % {"a": first, "b": second}
    )
    back = request.POST.get("next", "")
    if not back.startswith(reverse("registry:duplicates")):
        back = reverse("registry:duplicates")
    return redirect(back)


# --- Vulnerability catalogue -----------------------------------------------------------------------------


def _catalogue_province(request):
    provinces = list(selectors.catalogue_provinces(request.user))
    if not provinces:
        raise PermissionDenied
    code = request.GET.get("province") or request.POST.get("province")
    return next((p for p in provinces if p.code == code), provinces[0]), provinces


def catalogue(request):
    province, provinces = _catalogue_province(request)
    services.catalogue_prepare(province=province, acting_user=request.user)
    policy = selectors.policy_for(province)
    form = ThresholdForm(
        request.POST or None,
        initial={
            "threshold_score": policy.threshold_score,
            "version": policy.version if policy.pk else None,
        },
    )
    return save_form(
        request,
        form,
        lambda data: services.threshold_update(
            province=province,
            acting_user=request.user,
            threshold_score=data["threshold_score"],
            expected_version=data["version"],
        ),
        message=_("The threshold was saved and the province's households rescored."),
        success=lambda _policy: redirect(
            f"{reverse('registry:catalogue')}?province={province.code}"
        ),
        conflict_on_form=False,
        page=lambda edit: render(
            request,
            "registry/catalogue.html",
            {
                "province": province,
                "provinces": provinces,
                "indicators": selectors.catalogue_for(province),
                "policy": policy,
                "form": edit.form,
                "conflict": edit.conflict,
                "specs": vulnerability.SPECS,
            },
            status=edit.status,
        ),
    )


def indicator_edit(request, pk):
    if not selectors.catalogue_provinces(request.user).exists():
        raise PermissionDenied
    indicator = get_object_or_404(
        VulnerabilityIndicator.objects.manageable_by(request.user).select_related(
            "province", "referral_category"
        ),
        pk=pk,
    )
    spec = vulnerability.SPECS.get(indicator.code)
    has_parameter = indicator.code in services.PARAMETER_RANGES
    form = IndicatorForm(
        request.POST or None,
        has_parameter=has_parameter,
        parameter_help=spec.parameter_help if spec else "",
        initial={
            "weight": indicator.weight,
            "parameter": indicator.parameter,
            "is_active": indicator.is_active,
            "referral_category": indicator.referral_category,
            "version": indicator.version,
        },
    )

    def reload():
        indicator.refresh_from_db()
        return form

    return save_form(
        request,
        form,
        lambda data: services.indicator_update(
            indicator=indicator,
            acting_user=request.user,
            weight=data["weight"],
            parameter=data.get("parameter"),
            is_active=data["is_active"],
            referral_category=data["referral_category"],
            expected_version=data["version"],
        ),
        message=_("The indicator was saved and the province's households rescored."),
        success=lambda _indicator: redirect(
            f"{reverse('registry:catalogue')}?province={indicator.province.code}"
        ),
        reload=reload,
        conflict_on_form=False,
        page=lambda edit: render(
            request,
            "registry/indicator_form.html",
            {"form": edit.form, "indicator": indicator, "conflict": edit.conflict},
            status=edit.status,
        ),
    )


# --- Statistics --------------------------------------------------------------------------------------------


@require_GET
def stats(request):
    if not services.can_see_stats(request.user):
        raise PermissionDenied
    columns, rows = selectors.stats_table(request.user)
    return render(
        request,
        "registry/stats.html",
        {"columns": columns, "rows": rows, "small_cell": selectors.SMALL_CELL},
    )
