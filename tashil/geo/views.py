from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tashil.accounts.scopes import scope_of
from tashil.core.editing import form_page, save_form, update_with

from . import permissions, selectors, services
from .forms import AreaForm, HazardZoneForm
from .models import Area, HazardZone


def require_role(user) -> None:
    """Pages behind login still need a role: an account without one sees nothing."""
    scope = scope_of(user)
    if not (scope.is_national or scope.roles):
        raise PermissionDenied(_("Your account has no role yet."))


def _visible_area(request, code) -> Area:
    return permissions.access_area(request.user, code)


@require_GET
def area_list(request):
    require_role(request.user)
    query = request.GET.get("q", "").strip()
    context = {"query": query}
    if query:
        context["results"] = selectors.area_search(user=request.user, query=query)
    else:
        context["tree"] = selectors.area_tree(user=request.user)
    return render(request, "geo/area_list.html", context)


@require_GET
def area_detail(request, code):
    area = _visible_area(request, code)
    children = list(selectors.children_of(area))
    zones = list(selectors.hazard_zones_within(area=area, user=request.user))
    context = {
        "area": area,
        "ancestors": selectors.ancestors_of(area),
        "children": children,
        **selectors.serving(area=area, user=request.user),
        "zones": zones,
        "map_data": selectors.collection_for_areas(
            [area, *children], user=request.user, zones=zones
        ),
        "can_edit": permissions.can_manage_area(request.user, area),
        **map_context(),
    }
    return render(request, "geo/area_detail.html", context)


def area_edit(request, code):
    area = _visible_area(request, code)
    if not permissions.can_manage_area(request.user, area):
        raise PermissionDenied(_("Only the province manager may change this area."))
    version = services.area_version(area)
    form = AreaForm(request.POST or None, area=area, version=version)
    return save_form(
        request,
        form,
        update_with(services.area_update, request, form, area=area),
        message=_("The area was saved."),
        success=lambda _area: redirect("geo:detail", code=area.code),
        page=form_page(
            request, "geo/area_form.html", area=area, ancestors=selectors.ancestors_of(area)
        ),
    )


def _zone_area_choices(request, area: Area):
    province = selectors.province_of(area)
    return (
        Area.objects.visible_to(request.user)
        .filter(path__startswith=province.path)
        .exclude(level=Area.Level.PROVINCE)
        .order_by("path")
    )


def hazard_create(request, code):
    area = _visible_area(request, code)
    if not permissions.can_manage_area(request.user, area):
        raise PermissionDenied(_("Only the province manager may map hazard zones."))
    form = HazardZoneForm(
        request.POST or None,
        areas=_zone_area_choices(request, area),
        initial={"area": area.pk if area.level != Area.Level.PROVINCE else None},
    )
    return save_form(
        request,
        form,
        lambda _data: services.hazard_zone_create(
            acting_user=request.user, **form.data_for_service()
        ),
        message=_("The hazard zone was saved."),
        success=lambda zone: redirect("geo:detail", code=zone.area.code),
        page=form_page(request, "geo/hazard_form.html", area=area, zone=None),
    )


def hazard_edit(request, code):
    zone = get_object_or_404(
        HazardZone.objects.visible_to(request.user).select_related("area"), code=code
    )
    if not permissions.can_manage_area(request.user, zone.area):
        raise PermissionDenied(_("Only the province manager may change hazard zones."))
    form = HazardZoneForm(
        request.POST or None,
        areas=_zone_area_choices(request, zone.area),
        zone=zone,
        version=services.hazard_zone_version(zone),
    )
    return save_form(
        request,
        form,
        update_with(services.hazard_zone_update, request, form, zone=zone),
        message=_("The hazard zone was saved."),
        success=lambda saved: redirect("geo:detail", code=saved.area.code),
        page=form_page(request, "geo/hazard_form.html", area=zone.area, zone=zone),
    )


@require_GET
def geojson(request):
    """Visible areas and hazard zones as a FeatureCollection for the maps.

    `?level=county,neighbourhood` picks levels (neighbourhoods by default),
    `?area=<code>` keeps one subtree, `?hazards=0` leaves the zones out."""
    require_role(request.user)
    within = None
    if request.GET.get("area"):
        within = _visible_area(request, request.GET["area"])
    collection = selectors.feature_collection(
        user=request.user,
        levels=selectors.parse_levels(request.GET.getlist("level")),
        within=within,
        hazards=request.GET.get("hazards") != "0",
    )
    response = JsonResponse(collection, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, max-age=60"
    return response


# Labels the apps above geo add to the map legend (offices: their statuses).
_MAP_LABELS = {}


def register_map_labels(labels: dict) -> None:
    _MAP_LABELS.update(labels)


def map_context() -> dict:
    """What the map include needs: translated legend labels and the optional
    tile server (with none, only the GeoJSON layers are drawn)."""
    from django.conf import settings

    labels = {
        "counties": _("County boundaries"),
        "areas": _("Neighbourhoods"),
        "hazards": _("Hazard zones"),
        "offices": _("Offices"),
        "marginal": _("Deprived or informal settlement"),
        "plain_area": _("Neighbourhood"),
        "hazard": _("Hazard zone"),
        "risk": _("Risk"),
        "legend": _("Legend"),
        **{level: str(label) for level, label in Area.Level.choices},
        **{key: str(label) for key, label in _MAP_LABELS.items()},
    }
    return {
        "map_labels": labels,
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
