from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tashil.accounts.models import Role
from tashil.accounts.scopes import scope_of
from tashil.core.editing import form_page, save_form, update_with
from tashil.geo import selectors as geo_selectors
from tashil.geo.models import Area
from tashil.geo.views import map_context, require_role

from . import permissions, selectors, services, staff
from .forms import (
    OfficeForm,
    OfficeStatusForm,
    OperatorForm,
    StaffAddForm,
    StaffNewUserForm,
    StaffRemoveForm,
)
from .models import Office, Operator


def _with_urls(markers: list[dict]) -> list[dict]:
    template = reverse("offices:detail", args=["__code__"])
    return [m | {"url": template.replace("__code__", m["code"])} for m in markers]


def _managed_provinces(user):
    return Area.objects.provinces_managed_by(user).order_by("name_fa")


# --- Network overview ------------------------------------------------------


@require_GET
def network(request):
    """The province at a glance, for managers and analysts. Aggregates only:
    no personal data appears here."""
    if not scope_of(request.user).has(Role.PROVINCE_MANAGER, Role.ANALYST):
        raise PermissionDenied(_("The network overview is for province managers and analysts."))
    summary = selectors.network_summary(user=request.user)
    context = {
        "summary": summary,
        "markers": _with_urls(summary.markers),
        "geojson_url": reverse("geo:geojson") + "?level=county,neighbourhood",
        **map_context(),
    }
    return render(request, "offices/network.html", context)


# --- Offices ---------------------------------------------------------------


@require_GET
def office_list(request):
    require_role(request.user)
    status = request.GET.get("status") or None
    if status not in Office.Status.values:
        status = None
    counties = list(selectors.counties_for_filter(user=request.user))
    county_code = request.GET.get("county") or ""
    county = next((c for c in counties if c.code == county_code), None)
    query = request.GET.get("q", "").strip()
    offices = list(
        selectors.office_list(user=request.user, status=status, county=county, query=query)
    )
    context = {
        "offices": offices,
        "counties": counties,
        "statuses": Office.Status.choices,
        "status": status or "",
        "county": county,
        "query": query,
        "can_create": permissions.can_create_office(request.user),
        "filtered": bool(status or county or query),
    }
    return render(request, "offices/office_list.html", context)


@require_GET
def office_detail(request, code):
    office = selectors.visible_office(user=request.user, code=code)
    areas = list(selectors.areas_served(office))
    show_staff = permissions.can_see_staff(request.user, office)
    marker = None
    if office.latitude is not None and office.longitude is not None:
        marker = {
            "code": office.code,
            "name": office.name,
            "status": office.status,
            "status_label": office.get_status_display(),
            "lat": office.latitude,
            "lng": office.longitude,
            "url": "",
        }
    context = {
        "office": office,
        "areas": areas,
        "marginal_population": sum(a.population or 0 for a in areas if a.is_marginal),
        "show_staff": show_staff,
        "staff": list(selectors.staff_of(office)) if show_staff else [],
        "map_data": geo_selectors.collection_for_areas(areas, user=request.user),
        "markers": [marker] if marker else [],
        "can_edit": permissions.can_manage_office(request.user, office),
        "can_manage_staff": permissions.can_manage_staff(request.user, office),
        **map_context(),
    }
    return render(request, "offices/office_detail.html", context)


def office_create(request):
    if not permissions.can_create_office(request.user):
        raise PermissionDenied(_("Only province managers may open offices."))
    form = OfficeForm(request.POST or None, provinces=_managed_provinces(request.user))
    return save_form(
        request,
        form,
        lambda _data: services.office_create(acting_user=request.user, **form.data_for_service()),
        message=_("The office was created."),
        success=lambda office: redirect("offices:detail", code=office.code),
        page=form_page(request, "offices/office_form.html", office=None),
    )


def _edit_page(request, office, *, form=None, status_form=None, status=200):
    allowed = sorted(services.OFFICE_STATUS.targets(office, request.user))
    context = {
        "office": office,
        "form": form or OfficeForm(provinces=[office.province], office=office),
        "status_form": status_form or OfficeStatusForm(office=office, allowed=allowed),
    }
    return render(request, "offices/office_form.html", context, status=status)


def _manageable_office(request, code) -> Office:
    office = selectors.visible_office(user=request.user, code=code)
    if not permissions.can_manage_office(request.user, office):
        raise PermissionDenied(_("Only the province manager may edit this office."))
    return office


def office_edit(request, code):
    office = _manageable_office(request, code)
    if request.method != "POST":
        return _edit_page(request, office)
    form = OfficeForm(request.POST, provinces=[office.province], office=office)
    # On a conflict the user's input stays in the form, so nothing typed is lost.
    return save_form(
        request,
        form,
        update_with(services.office_update, request, form, office=office),
        message=_("The office was saved."),
        success=lambda _office: redirect("offices:detail", code=office.code),
        page=lambda edit: _edit_page(request, office, form=edit.form, status=edit.status),
    )


@require_POST
def office_status(request, code):
    office = _manageable_office(request, code)
    allowed = sorted(services.OFFICE_STATUS.targets(office, request.user))
    form = OfficeStatusForm(request.POST, office=office, allowed=allowed)
    return save_form(
        request,
        form,
        lambda data: services.office_set_status(
            office=office,
            acting_user=request.user,
            status=data["status"],
            opened_on=data["opened_on"],
            expected_version=data["version"],
        ),
        message=_("The office's status was changed."),
        success=lambda _office: redirect("offices:detail", code=office.code),
        page=lambda edit: _edit_page(request, office, status_form=edit.form, status=edit.status),
    )


# --- Staff -----------------------------------------------------------------


def office_staff(request, code):
    office = selectors.visible_office(user=request.user, code=code)
    if not permissions.can_manage_staff(request.user, office):
        raise PermissionDenied(_("You may not manage the staff of this office."))
    roles = permissions.staff_roles_for(request.user, office)
    add_form = StaffAddForm(roles=roles)
    new_form = StaffNewUserForm(roles=roles)
    new_account = None
    notice = None
    problem = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add":
                add_form = StaffAddForm(request.POST, roles=roles)
                if add_form.is_valid():
                    membership = staff.staff_add(
                        office=office, acting_user=request.user, **add_form.data_for_service()
                    )
                    notice = _("%(name)s was added to the staff.") % {"name": membership.user}
                    add_form = StaffAddForm(roles=roles)
            elif action == "create":
                new_form = StaffNewUserForm(request.POST, roles=roles)
                if new_form.is_valid():
                    membership, password = staff.staff_add_new_user(
                        office=office, acting_user=request.user, **new_form.data_for_service()
                    )
                    new_account = {"user": membership.user, "password": password}
                    new_form = StaffNewUserForm(roles=roles)
            elif action == "remove":
                remove_form = StaffRemoveForm(request.POST, office=office)
                if not remove_form.is_valid():
                    raise ValidationError(_("This person is not on the staff any more."))
                membership = remove_form.cleaned_data["membership"]
                staff.staff_remove(membership=membership, acting_user=request.user)
                notice = _("%(name)s was taken off the staff.") % {"name": membership.user}
            else:
                status = 400
        except ValidationError as exc:
            form = new_form if action == "create" else add_form
            if action == "remove":
                problem = " ".join(exc.messages)
            else:
                form.apply_service_error(exc)
        if notice and not request.htmx:
            messages.success(request, notice)
            return redirect("offices:staff", code=office.code)
    members = list(selectors.staff_of(office))
    context = {
        "office": office,
        "staff": members,
        "add_form": add_form,
        "new_form": new_form,
        "new_account": new_account,
        "notice": notice,
        "problem": problem,
        "removable": {
            m.pk for m in members if permissions.can_manage_staff(request.user, office, m.role)
        },
    }
    template = "offices/_staff_panel.html" if request.htmx else "offices/office_staff.html"
    return render(request, template, context, status=status)


# --- Operators -------------------------------------------------------------


def _require_operator_manager(user):
    if not permissions.can_manage_operators(user):
        raise PermissionDenied(_("Operators are managed by province managers."))


@require_GET
def operator_list(request):
    _require_operator_manager(request.user)
    return render(
        request, "offices/operator_list.html", {"operators": selectors.operators_with_counts()}
    )


def operator_create(request):
    _require_operator_manager(request.user)
    form = OperatorForm(request.POST or None)
    return save_form(
        request,
        form,
        lambda _data: services.operator_create(acting_user=request.user, **form.data_for_service()),
        message=_("The operator was registered."),
        success=lambda _operator: redirect("offices:operators"),
        page=form_page(request, "offices/operator_form.html", operator=None),
    )


def operator_edit(request, pk):
    _require_operator_manager(request.user)
    operator = get_object_or_404(Operator, pk=pk)
    if not permissions.can_edit_operator(request.user, operator):
        raise PermissionDenied(
            _("This operator runs offices outside your provinces; ask the national administrator.")
        )
    form = OperatorForm(
        request.POST or None, operator=operator, version=services.operator_version(operator)
    )
    return save_form(
        request,
        form,
        update_with(services.operator_update, request, form, operator=operator),
        message=_("The operator was saved."),
        success=lambda _operator: redirect("offices:operators"),
        page=form_page(request, "offices/operator_form.html", operator=operator),
    )
