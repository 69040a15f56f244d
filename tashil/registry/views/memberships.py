"""Membership pages: adding an existing person, ending a membership and
changing the relation to the head."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tashil.core.editing import save_form

from .. import dedupe, selectors
from ..forms import MembershipAddForm, MembershipEndForm, MembershipRelationForm
from ..permissions import access_household, access_membership
from ..services import memberships as membership_services


def membership_add(request, pk):
    household = access_household(request.user, pk, manage=True)
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
            membership_services.membership_add(
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
    membership = access_membership(request.user, pk, manage=True)
    form = MembershipEndForm(request.POST or None)
    return save_form(
        request,
        form,
        lambda data: membership_services.membership_end(
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
    membership = access_membership(request.user, pk, manage=True)
    form = MembershipRelationForm(request.POST or None, initial={"relation": membership.relation})
    return save_form(
        request,
        form,
        lambda data: membership_services.membership_set_relation(
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
