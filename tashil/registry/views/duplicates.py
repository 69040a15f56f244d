"""Possible duplicate records: the list, merging two records, or marking
them as different people."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tashil.core.editing import save_form

from .. import dedupe, selectors
from ..forms import MergeForm
from ..models import Household, Person
from ..permissions import access_person
from ..presenters import person_field_display
from ..services import merging as merge_services
from ..services.common import PERSON_FIELDS
from .common import registry_required


@registry_required
@require_GET
def duplicates(request):
    offices = list(selectors.registry_offices(request.user))
    if not offices:
        raise PermissionDenied
    code = request.GET.get("office")
    office = next((o for o in offices if o.code == code), offices[0])
    pairs = dedupe.duplicate_pairs(Household.objects.visible_to(request.user).filter(office=office))
    return render(
        request, "registry/duplicates.html", {"pairs": pairs, "office": office, "offices": offices}
    )


def _pair(request, first_pk, second_pk):
    first = access_person(request.user, first_pk, manage=True)
    second = access_person(request.user, second_pk, manage=True)
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
        merge_services.person_merge(
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
        for name in PERSON_FIELDS:
            field = Person._meta.get_field(name)
            rows.append(
                (
                    field.verbose_name,
                    person_field_display(first, name),
                    person_field_display(second, name),
                )
            )
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


@require_POST
def not_duplicate(request, first, second):
    first, second = _pair(request, first, second)
    merge_services.duplicate_dismiss(first=first, second=second, acting_user=request.user)
    messages.success(
        request, _("Noted: %(a)s and %(b)s are different people.") % {"a": first, "b": second}
    )
    back = request.POST.get("next", "")
    if not back.startswith(reverse("registry:duplicates")):
        back = reverse("registry:duplicates")
    return redirect(back)
