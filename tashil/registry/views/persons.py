"""Person pages: adding a member, similar records while typing, the person
page and editing."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tashil.core import jalali
from tashil.core.editing import rebound, save_form, update_with

from .. import dedupe, selectors
from ..forms import PersonForm, initial_of
from ..models import Membership, Person, PersonalDataAccess
from ..permissions import (
    access_household,
    access_person,
    can_manage_household,
    can_manage_person,
    can_see_access_log,
)
from ..services import persons as person_services
from ..services.common import PERSON_FIELDS
from .common import duplicate_link


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
    household = access_household(request.user, pk, manage=True)
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
                person = person_services.person_create(
                    acting_user=request.user,
                    household=household,
                    relation=data["relation"],
                    joined_on=data["joined_on"],
                    **form.data_for_service(),
                )
            except ValidationError as error:
                form.apply_service_error(error)
                duplicate = duplicate_link(error)
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
    household = access_household(request.user, pk, manage=True)
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
    exact_household = selectors.person_household(exact) if exact else None
    return render(
        request,
        "registry/_candidates.html",
        {
            "candidates": candidates,
            "exact": exact,
            "exact_visible": exact_household is not None
            and can_manage_household(request.user, exact_household),
            "exact_household": exact_household,
        },
    )


@require_GET
def person_detail(request, pk):
    user = request.user
    person = access_person(user, pk)
    person_services.log_personal_data_access(
        user=user, persons=[person], via=PersonalDataAccess.Via.PAGE
    )
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
            "can_manage": can_manage_person(user, person),
            "accesses": list(person.accesses.select_related("user")[:10])
            if can_see_access_log(user, person)
            else None,
        },
    )


def person_edit(request, pk):
    person = access_person(request.user, pk, manage=True)
    if person.merged_into_id:
        messages.info(request, _("This record was merged; edit the record it was merged into."))
        return redirect("registry:person_detail", pk=person.merged_into_id)
    form = PersonForm(
        request.POST or None, creating=False, initial=initial_of(person, PERSON_FIELDS)
    )
    shown = {"person": person, "duplicate": None}

    def on_error(form, error):
        form.apply_service_error(error)
        shown["duplicate"] = duplicate_link(error)

    def reload():
        shown["person"] = access_person(request.user, pk)
        return rebound(
            form, lambda data: PersonForm(data, creating=False), request, shown["person"].version
        )

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
        update_with(person_services.person_update, request, form, person=person),
        message=_("The changes were saved."),
        success=lambda _person: redirect("registry:person_detail", pk=person.pk),
        on_error=on_error,
        reload=reload,
        conflict_on_form=False,
        page=page,
    )
