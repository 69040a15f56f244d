"""Reads of the area tree and hazard zones, scoped to the user."""

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import get_language

from tashil.core.text import search_terms

from .models import Area, HazardZone

OPERATING_STATUSES = ("pilot", "active")


def _codes_in_path(path: str) -> list[str]:
    return [code for code in path.split("/") if code]


def province_of(area: Area) -> Area:
    """The province an area belongs to (itself for a province)."""
    if area.level == Area.Level.PROVINCE or not area.parent_id:
        return area
    return Area.objects.get(code=_codes_in_path(area.path)[0])


def ancestors_of(area: Area) -> list[Area]:
    """Province first, parent last; one query."""
    codes = _codes_in_path(area.path)[:-1]
    if not codes:
        return []
    found = {a.code: a for a in Area.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found]


def visible_areas(user):
    return Area.objects.visible_to(user)


def _name(row: dict) -> str:
    if get_language() == "en" and row.get("name_en"):
        return row["name_en"]
    return row["name_fa"]


# --- The tree page ---------------------------------------------------------


@dataclass
class CountyGroup:
    county: Area | None
    rows: list = field(default_factory=list)
    marginal_population: int = 0

    @property
    def neighbourhood_count(self) -> int:
        return sum(1 for a in self.rows if a.level == Area.Level.NEIGHBOURHOOD)


@dataclass
class ProvinceGroup:
    province: Area | None
    counties: list = field(default_factory=list)


def _with_tree_data(queryset):
    return queryset.annotate(
        office_count=Count(
            "offices", filter=Q(offices__status__in=OPERATING_STATUSES), distinct=True
        )
    ).order_by("path")


def area_tree(*, user) -> list[ProvinceGroup]:
    """The visible tree grouped province → county, each county's cities and
    neighbourhoods in tree order (one query)."""
    areas = list(_with_tree_data(visible_areas(user)))
    provinces: dict[str, ProvinceGroup] = {}
    counties: dict[str, CountyGroup] = {}
    for area in areas:
        codes = _codes_in_path(area.path)
        province_code = codes[0]
        group = provinces.get(province_code)
        if group is None:
            group = provinces[province_code] = ProvinceGroup(province=None)
        if area.level == Area.Level.PROVINCE:
            group.province = area
            continue
        county_code = codes[1] if len(codes) > 1 else None
        county_group = counties.get(county_code)
        if county_group is None:
            county_group = counties[county_code] = CountyGroup(county=None)
            group.counties.append(county_group)
        if area.level == Area.Level.COUNTY:
            county_group.county = area
            continue
        county_group.rows.append(area)
        if area.is_marginal and area.level == Area.Level.NEIGHBOURHOOD:
            county_group.marginal_population += area.population or 0
    return list(provinces.values())


def area_search(*, user, query: str) -> list[tuple[Area, list[Area]]]:
    """Areas matching every term of the query, each with its ancestors
    (two queries whatever the number of hits)."""
    terms = search_terms(query)
    if not terms:
        return []
    queryset = visible_areas(user)
    for term in terms:
        queryset = queryset.filter(search_key__contains=term)
    hits = list(_with_tree_data(queryset)[:200])
    codes = {c for area in hits for c in _codes_in_path(area.path)[:-1]}
    names = {a.code: a for a in Area.objects.filter(code__in=codes)} if codes else {}
    return [
        (area, [names[c] for c in _codes_in_path(area.path)[:-1] if c in names]) for area in hits
    ]


# --- The detail page -------------------------------------------------------


def children_of(area: Area):
    return _with_tree_data(area.children.all())


# The offices and agencies apps stand above geo, so the area page does not
# import them: when ready, each registers a function `(area=, user=)` that
# lists its visible rows serving an area (see OfficesConfig.ready).
_AREA_SERVERS = {}


def register_area_servers(name: str, rows) -> None:
    _AREA_SERVERS[name] = rows


def serving(*, area: Area, user) -> dict[str, list]:
    """Who serves the area, by kind ("offices", "agencies")."""
    return {name: list(rows(area=area, user=user)) for name, rows in _AREA_SERVERS.items()}


def codes_in_path(path: str) -> list[str]:
    """The codes of an area and its ancestors, from the province down."""
    return _codes_in_path(path)


def hazard_zones_within(*, area: Area, user):
    return (
        HazardZone.objects.visible_to(user)
        .filter(area__path__startswith=area.path)
        .select_related("area")
        .order_by("-risk_level", "code")
    )


# --- GeoJSON for maps ------------------------------------------------------

AREA_FIELDS = ("code", "name_fa", "name_en", "level", "is_marginal", "population", "boundary")
# What a hazard zone is, on the map and in its edit form alike.
HAZARD_SHAPE = ("code", "name_fa", "name_en", "hazard_type", "risk_level", "boundary")
HAZARD_FIELDS = (*HAZARD_SHAPE, "area__code")


def _url_maker(name: str):
    # One reverse() per collection, not per feature: maps may carry thousands.
    placeholder = "__code__"
    template = reverse(name, args=[placeholder])
    return lambda code: template.replace(placeholder, code)


def area_features(rows, *, kind="area") -> list[dict]:
    url = _url_maker("geo:detail")
    return [
        {
            "type": "Feature",
            "geometry": row["boundary"],
            "properties": {
                "kind": kind,
                "code": row["code"],
                "name": _name(row),
                "level": row["level"],
                "is_marginal": row["is_marginal"],
                "population": row["population"],
                "url": url(row["code"]),
            },
        }
        for row in rows
    ]


def hazard_features(rows) -> list[dict]:
    url = _url_maker("geo:detail")
    labels = dict(HazardZone.HazardType.choices)
    risks = dict(HazardZone.RiskLevel.choices)
    return [
        {
            "type": "Feature",
            "geometry": row["boundary"],
            "properties": {
                "kind": "hazard",
                "code": row["code"],
                "name": _name(row),
                "level": "hazard",
                "hazard_type": str(labels.get(row["hazard_type"], row["hazard_type"])),
                "risk_level": row["risk_level"],
                "risk_label": str(risks.get(row["risk_level"], "")),
                "url": url(row["area__code"]),
            },
        }
        for row in rows
    ]


def parse_levels(raw_values) -> list[str]:
    """`?level=county,neighbourhood` or repeated `level=`; unknown names ignored."""
    valid = set(Area.Level.values)
    levels = []
    for raw in raw_values:
        for part in str(raw).split(","):
            part = part.strip()
            if part in valid and part not in levels:
                levels.append(part)
    return levels or [Area.Level.NEIGHBOURHOOD]


def feature_collection(*, user, levels, within: Area | None = None, hazards: bool = True) -> dict:
    """Visible areas of the given levels (optionally inside one area) and the
    hazard zones among them: two queries plus the scope."""
    areas = visible_areas(user)
    if within is not None:
        areas = areas.filter(path__startswith=within.path)
    rows = (
        areas.filter(level__in=levels, boundary__isnull=False).order_by("path").values(*AREA_FIELDS)
    )
    features = area_features(rows)
    if hazards:
        zones = (
            HazardZone.objects.filter(area__in=areas.values("pk"))
            .order_by("code")
            .values(*HAZARD_FIELDS)
        )
        features += hazard_features(zones)
    return {"type": "FeatureCollection", "features": features}


def collection_for_areas(areas, *, user, zones=None) -> dict:
    """A map of given (already loaded) areas and the visible hazard zones
    inside them, for a detail page. Pass `zones` when the page has loaded
    them already; otherwise one query."""
    areas = [a for a in areas if a.boundary]
    rows = [{name: getattr(a, name) for name in AREA_FIELDS} for a in areas]
    features = area_features(rows)
    if zones is None and areas:
        inside = Q(pk__in=[])
        for area in areas:
            inside |= Q(area__path__startswith=area.path)
        zones = (
            HazardZone.objects.visible_to(user)
            .filter(inside)
            .order_by("code")
            .select_related("area")
        )
    zone_rows = [
        {name: getattr(z, name) for name in HAZARD_FIELDS if name != "area__code"}
        | {"area__code": z.area.code}
        for z in zones or []
    ]
    features += hazard_features(zone_rows)
    return {"type": "FeatureCollection", "features": features}
