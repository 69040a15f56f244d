from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tashil.accounts.scopes import scope_of
from tashil.core.editing import form_page, rebound, save_form
from tashil.geo.models import Area

from . import permissions, selectors, services
from .forms import (
    AgencyContactForm,
    AgencyCreateForm,
    AgencyEditForm,
    AgencyFilterForm,
    CategoryForm,
    RouteTestForm,
    RoutingFilterForm,
    RoutingRuleForm,
)
from .models import Agency, DemandCategory, RoutingRule
from .routing import explain_route

PAGE_SIZE = 30


def role_required(view):
    """Agency pages are for people who hold a role; an account without one
    sees nothing here."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        scope = scope_of(request.user)
        if not scope.is_national and not scope.roles:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _areas_under(province_ids):
    """Areas in the given provinces, in tree order."""
    paths = Area.objects.filter(pk__in=province_ids).values_list("path", flat=True)
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(path__startswith=path)
    return Area.objects.filter(q).order_by("path")


def _manageable_areas(user):
    scope = scope_of(user)
    if scope.is_national:
        return Area.objects.order_by("path")
    return _areas_under(scope.managed_province_ids)


# --- Agencies --------------------------------------------------------------------------


@role_required
def agency_list(request):
    user = request.user
    form = AgencyFilterForm(request.GET or None, counties=selectors.counties_for(user))
    county, query = None, ""
    if form.is_bound and form.is_valid():
        county, query = form.cleaned_data["county"], form.cleaned_data["q"]
    page = _page(request, selectors.agency_list(user=user, county=county, query=query))
    return render(
        request,
        "agencies/list.html",
        {
            "form": form,
            "page": page,
            "filtered": bool(county or query),
            "can_create": permissions.can_create_agency(user),
        },
    )


@role_required
def agency_detail(request, code):
    user = request.user
    agency = permissions.access_agency(
        user, code, queryset=Agency.objects.select_related("province")
    )
    show_liaisons = permissions.can_see_liaisons(user, agency)
    liaisons = selectors.agency_liaisons(agency)
    return render(
        request,
        "agencies/detail.html",
        {
            "agency": agency,
            "jurisdiction": list(selectors.agency_jurisdiction(agency)),
            "routes": list(selectors.agency_routes(agency)),
            "show_liaisons": show_liaisons,
            "liaisons": list(liaisons) if show_liaisons else None,
            "liaison_count": None if show_liaisons else liaisons.count(),
            "can_edit": permissions.can_manage_agency(user, agency),
            "can_edit_contact": permissions.can_edit_contact(user, agency),
        },
    )


@role_required
def agency_create(request):
    user = request.user
    if not permissions.can_create_agency(user):
        raise PermissionDenied
    provinces = Area.objects.provinces_managed_by(user).order_by("path")
    province_list = list(provinces)
    # With one province the areas to choose from are known up front; with
    # several, the areas are chosen on the edit page once the province is set.
    areas = _areas_under([province_list[0].pk]) if len(province_list) == 1 else None
    form = AgencyCreateForm(
        request.POST or None,
        provinces=provinces,
        areas=areas,
        initial={
            "is_active": True,
            "province": province_list[0].code if len(province_list) == 1 else None,
        },
    )
    if areas is None:
        del form.fields["jurisdiction"]

    def success(agency):
        if "jurisdiction" not in form.fields:
            messages.success(request, _("The agency was added. Now choose the areas it serves."))
            return redirect("agencies:edit", code=agency.code)
        messages.success(request, _("The agency was added."))
        return redirect("agencies:detail", code=agency.code)

    return save_form(
        request,
        form,
        lambda data: services.agency_create(acting_user=user, **data),
        success=success,
        page=form_page(request, "agencies/form.html", agency=None),
    )


def _agency_initial(agency, contact_only):
    initial = {"phone": agency.phone, "email": agency.email, "version": agency.version}
    if not contact_only:
        initial |= {
            "code": agency.code,
            "name_fa": agency.name_fa,
            "name_en": agency.name_en,
            "short_name": agency.short_name,
            "is_active": agency.is_active,
            "jurisdiction": [a.code for a in agency.jurisdiction.all()],
        }
    return initial


@role_required
def agency_edit(request, code):
    user = request.user
    agency = permissions.access_agency(
        user, code, queryset=Agency.objects.select_related("province")
    )
    if permissions.can_manage_agency(user, agency):
        contact_only = False
    elif permissions.can_edit_contact(user, agency):
        contact_only = True
    else:
        raise PermissionDenied

    areas = _areas_under([agency.province_id])

    def make_form(data=None):
        if contact_only:
            return AgencyContactForm(data, initial=_agency_initial(agency, True))
        return AgencyEditForm(data, areas=areas, initial=_agency_initial(agency, False))

    form = make_form(request.POST or None)
    shown = {"agency": agency}

    def save(data):
        fields = dict(data)
        version = fields.pop("version")
        update = services.agency_update_contact if contact_only else services.agency_update
        return update(agency=agency, acting_user=user, expected_version=version, **fields)

    def reload():
        # Keep what the user typed, show what is saved now, and take the
        # current version so that saving again is a deliberate overwrite.
        shown["agency"] = get_object_or_404(selectors.agency_detail_queryset(user), pk=agency.pk)
        return rebound(form, make_form, request, shown["agency"].version)

    return save_form(
        request,
        form,
        save,
        message=_("The changes were saved."),
        success=lambda _agency: redirect("agencies:detail", code=agency.code),
        reload=reload,
        conflict_on_form=False,
        page=lambda edit: render(
            request,
            "agencies/form.html",
            {
                "form": edit.form,
                "agency": shown["agency"],
                "contact_only": contact_only,
                "conflict": edit.conflict,
                "current_jurisdiction": list(selectors.agency_jurisdiction(shown["agency"]))
                if edit.conflict
                else None,
            },
            status=edit.status,
        ),
    )


# --- Categories ------------------------------------------------------------------------


@role_required
def categories(request):
    return render(
        request,
        "agencies/categories.html",
        {
            "nodes": selectors.category_tree(user=request.user),
            "can_manage": permissions.can_manage_categories(request.user),
        },
    )


def _category_form_page(request, *, category=None):
    user = request.user
    if not permissions.can_manage_categories(user):
        raise PermissionDenied
    if category is not None:
        category = get_object_or_404(DemandCategory, code=category)
    tree = selectors.category_tree()
    exclude = selectors.descendant_ids(category) if category is not None else ()
    if category is not None:
        initial = {
            "parent": category.parent.code if category.parent_id else None,
            "code": category.code,
            "name_fa": category.name_fa,
            "name_en": category.name_en,
            "description": category.description,
            "sla_working_days": category.sla_working_days,
            "is_active": category.is_active,
            "sort_order": category.sort_order,
        }
    else:
        initial = {"parent": request.GET.get("parent"), "sla_working_days": 10, "is_active": True}
    form = CategoryForm(request.POST or None, tree=tree, exclude=exclude, initial=initial)

    def save(data):
        if category is None:
            return services.category_create(acting_user=user, **data)
        return services.category_update(category=category, acting_user=user, **data)

    return save_form(
        request,
        form,
        save,
        message=_("The category was saved."),
        success=lambda saved: redirect(f"{reverse('agencies:categories')}#cat-{saved.code}"),
        page=form_page(request, "agencies/category_form.html", category=category),
    )


@role_required
def category_create(request):
    return _category_form_page(request)


@role_required
def category_edit(request, code):
    return _category_form_page(request, category=code)


# --- Routing ------------------------------------------------------------------------------


def _explain(tester):
    if tester.is_bound and tester.is_valid():
        return explain_route(
            category=tester.cleaned_data["category"], area=tester.cleaned_data["area"]
        )
    return None


def _routing_page(request, *, rule_form=None, status=200):
    user = request.user
    tree = selectors.category_tree()
    visible_areas = Area.objects.visible_to(user).order_by("path")
    tester_data = request.GET if "t-category" in request.GET else None

    # The tester on a phone swaps in only its result.
    if request.htmx and request.htmx.target == "route-result":
        tester = RouteTestForm(tester_data, tree=tree, areas=visible_areas)
        return render(
            request,
            "agencies/_route_result.html",
            {"tester": tester, "explanation": _explain(tester)},
        )

    area_list = list(visible_areas)
    tester = RouteTestForm(tester_data, tree=tree, areas=visible_areas, area_list=area_list)
    explanation = _explain(tester)

    filter_form = RoutingFilterForm(
        request.GET or None, tree=tree, areas=visible_areas, area_list=area_list
    )
    category = area = None
    if filter_form.is_bound and filter_form.is_valid():
        category, area = filter_form.cleaned_data["category"], filter_form.cleaned_data["area"]
    page = _page(request, selectors.routing_table(user=user, category=category, area=area))
    rows = [(rule, permissions.can_manage_routing(user, rule.agency)) for rule in page]

    can_manage = permissions.can_manage_routing(user)
    if can_manage and rule_form is None:
        rule_form = RoutingRuleForm(
            tree=tree,
            areas=_manageable_areas(user),
            area_list=area_list if scope_of(user).is_national else None,
            agencies=Agency.objects.manageable_by(user).filter(is_active=True).order_by("name_fa"),
            initial={
                "category": request.GET.get("set-category"),
                "area": request.GET.get("set-area"),
            },
        )
    return render(
        request,
        "agencies/routing.html",
        {
            "filter_form": filter_form,
            "filtered": bool(category or area),
            "page": page,
            "rows": rows,
            "tester": tester,
            "explanation": explanation,
            "can_manage": can_manage,
            "rule_form": rule_form,
        },
        status=status,
    )


@role_required
def routing(request):
    return _routing_page(request)


@role_required
@require_POST
def routing_set(request):
    user = request.user
    if not permissions.can_manage_routing(user):
        raise PermissionDenied
    form = RoutingRuleForm(
        request.POST,
        tree=selectors.category_tree(),
        areas=_manageable_areas(user),
        agencies=Agency.objects.manageable_by(user).order_by("name_fa"),
    )

    def success(rule):
        messages.success(
            request,
            _("Demands of %(category)s in %(area)s now go to %(agency)s.")
            % {
                "category": rule.category.name,
                "area": rule.area.name,
                "agency": rule.agency.name,
            },
        )
        return redirect(f"{reverse('agencies:routing')}?category={rule.category.code}")

    return save_form(
        request,
        form,
        lambda data: services.routing_rule_set(acting_user=user, **data),
        success=success,
        page=lambda edit: _routing_page(request, rule_form=edit.form),
    )


@role_required
@require_POST
def routing_delete(request, pk):
    user = request.user
    rule = get_object_or_404(
        RoutingRule.objects.visible_to(user).select_related("agency", "category", "area"), pk=pk
    )
    if not permissions.can_manage_routing(user, rule.agency):
        raise PermissionDenied
    services.routing_rule_delete(rule=rule, acting_user=user)
    if request.htmx:
        return HttpResponse("")
    messages.success(request, _("The routing rule was deleted."))
    back = request.POST.get("next", "")
    # Only back to the routing table (with its filters), never to another site.
    if not back.startswith(reverse("agencies:routing")):
        back = reverse("agencies:routing")
    return redirect(back)
