"""Write the demo data to the database, idempotently.

Every row is keyed by its code (a username for users) and written only when a
value differs, so a second run changes nothing: no duplicates, no bumped
`updated_at` or `version`. Passwords are set only when a user is created, so a
demo user who changed theirs keeps it.

Geometry is generated here from the rough positions in `khuzestan`:
neighbourhoods are irregular polygons drawn around their point with a
generator seeded by the area code (the same shape on every machine), and
counties are the Voronoi cells of their rough centroids clipped to the
province outline, widened so each mapped city lies wholly inside its county.
"""

import math
import random

import shapely
from django.contrib.auth.hashers import make_password
from django.db import transaction
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box
from shapely.geometry.polygon import orient

from tashil.accounts.models import Role, RoleMembership, User
from tashil.agencies.models import Agency, DemandCategory, RoutingRule
from tashil.core.models import WeekendRule
from tashil.geo import lookup
from tashil.geo.models import Area, HazardZone
from tashil.offices.models import Office, Operator

from . import khuzestan as data
from .api_keys import load_api_keys
from .demands import load_demo_demands
from .records import Report, sync_m2m, upsert
from .registry import load_registry

METRES_PER_DEGREE = 111_320
# Coordinates are stored to 1e-5 degree, about a metre.
PRECISION = 5
# How far a mapped city stays from the edge of its county cell, in degrees.
CITY_MARGIN = 0.01


# --- Geometry ------------------------------------------------------------------


def _rounded(coords):
    return [[round(x, PRECISION), round(y, PRECISION)] for x, y, *_ in coords]


def to_geojson(geom) -> dict:
    """GeoJSON with lists (what a JSON column hands back, so comparisons
    hold), exterior rings counter-clockwise as RFC 7946 asks."""
    geom = shapely.set_precision(geom, 10**-PRECISION)
    if geom.geom_type == "Polygon":
        geom = orient(geom)
        return {
            "type": "Polygon",
            "coordinates": [_rounded(r.coords) for r in (geom.exterior, *geom.interiors)],
        }
    if geom.geom_type == "MultiPolygon":
        parts = [orient(p) for p in geom.geoms]
        return {
            "type": "MultiPolygon",
            "coordinates": [
                [_rounded(r.coords) for r in (p.exterior, *p.interiors)] for p in parts
            ],
        }
    raise ValueError(f"Expected a polygon, got {geom.geom_type}.")


def blob(lat: float, lng: float, across_m: float, seed: str) -> Polygon:
    """An irregular 6–8-vertex polygon about `across_m` wide around a point.

    Vertices go round the point at increasing angles, so the polygon is
    star-shaped around it: always simple and always containing it."""
    rng = random.Random(seed)
    n = rng.randint(6, 8)
    step = 2 * math.pi / n
    start = rng.uniform(0, step)
    radius_lat = across_m / 2 / METRES_PER_DEGREE
    radius_lng = radius_lat / math.cos(math.radians(lat))
    points = []
    for k in range(n):
        angle = start + k * step + rng.uniform(-0.3, 0.3) * step
        scale = rng.uniform(0.7, 1.0)
        points.append(
            (
                round(lng + radius_lng * scale * math.cos(angle), PRECISION),
                round(lat + radius_lat * scale * math.sin(angle), PRECISION),
            )
        )
    return Polygon(points)


def county_cells(outline: Polygon, counties, cities: dict) -> dict:
    """code → polygon for every county; `cities` maps a county code to the
    city polygon it must contain."""
    sites = {c.code: Point(c.lng, c.lat) for c in counties}
    cells = shapely.voronoi_polygons(MultiPoint(list(sites.values())), extend_to=outline.buffer(1))
    result = {}
    for code, site in sites.items():
        cell = next(g for g in cells.geoms if g.contains(site))
        result[code] = cell.intersection(outline)
    for county_code, city in cities.items():
        margin = city.buffer(CITY_MARGIN).intersection(outline)
        for code in result:
            if code == county_code:
                result[code] = result[code].union(margin)
            else:
                result[code] = result[code].difference(margin)
    return result


def hazard_shape(hood: Polygon, spec: tuple) -> Polygon:
    """The part of a neighbourhood a hazard covers, kept a few metres inside
    its edge so that containment checks do not hinge on rounding."""
    kind, *args = spec
    minx, miny, maxx, maxy = hood.bounds
    if kind == "edge":
        side, fraction = args
        w, h = (maxx - minx) * fraction, (maxy - miny) * fraction
        cutter = {
            "east": box(maxx - w, miny, maxx, maxy),
            "west": box(minx, miny, minx + w, maxy),
            "north": box(minx, maxy - h, maxx, maxy),
            "south": box(minx, miny, maxx, miny + h),
        }[side]
    elif kind == "corridor":
        bearing, width_m = args
        centre = hood.centroid
        reach = max(maxx - minx, maxy - miny)
        dx, dy = math.sin(math.radians(bearing)) * reach, math.cos(math.radians(bearing)) * reach
        line = LineString([(centre.x - dx, centre.y - dy), (centre.x + dx, centre.y + dy)])
        cutter = line.buffer(width_m / 2 / METRES_PER_DEGREE, cap_style="flat")
    else:
        raise ValueError(f"Unknown hazard shape {kind!r}.")
    inset = 5 / METRES_PER_DEGREE
    return hood.buffer(-inset).intersection(cutter)


def _centre(geom) -> tuple[float, float]:
    point = geom.centroid if geom.covers(geom.centroid) else geom.point_on_surface()
    return round(point.y, PRECISION), round(point.x, PRECISION)


def build_geometry() -> dict:
    """code → shapely geometry for every area and hazard zone, checked:
    a neighbourhood must lie inside its city and overlap no other."""
    outline = Polygon(data.PROVINCE.outline)
    cities = {c.code: Polygon(c.outline) for c in data.CITIES}
    hoods = {n.code: blob(n.lat, n.lng, n.across_m, n.code) for n in data.NEIGHBOURHOODS}
    for n in data.NEIGHBOURHOODS:
        if not hoods[n.code].within(cities[n.city]):
            raise ValueError(f"{n.code} is not inside {n.city}; move it or make it smaller.")
    codes = list(hoods)
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            if hoods[a].intersects(hoods[b]):
                raise ValueError(f"{a} and {b} overlap; move them apart.")
    counties = county_cells(outline, data.COUNTIES, {c.county: cities[c.code] for c in data.CITIES})
    hazards = {h.code: hazard_shape(hoods[h.neighbourhood], h.shape) for h in data.HAZARD_ZONES}
    return {data.PROVINCE.code: outline, **counties, **cities, **hoods, **hazards}


# --- Loaders -------------------------------------------------------------------


def _area(
    report: Report,
    geometry,
    row,
    *,
    parent,
    level,
    centre=None,
    households=None,
    note="",
    is_marginal=False,
):
    """Upsert the area of a row of the demo tables (a province, county, city or
    neighbourhood), centred on `centre` or on the row's own point."""
    lat, lng = centre or (row.lat, row.lng)
    boundary = to_geojson(geometry[row.code])
    notes = "\n".join(n for n in (note, data.APPROXIMATE_BOUNDARY_NOTE) if n)
    area, outcome = upsert(
        Area,
        {"code": row.code},
        {
            "parent": parent,
            "level": level,
            "name_fa": row.name_fa,
            "name_en": row.name_en,
            "population": row.population,
            "households": households,
            "is_marginal": is_marginal,
            "boundary": boundary,
            "centroid_lat": lat,
            "centroid_lng": lng,
            "note": notes,
        },
        report,
        "areas",
        derived=("path", "search_key"),
    )
    report.boundaries_changed |= outcome != "unchanged"
    return area


def load_areas(report: Report, geometry: dict) -> dict:
    p = data.PROVINCE
    province = _area(
        report,
        geometry,
        p,
        parent=None,
        level=Area.Level.PROVINCE,
        centre=_centre(geometry[p.code]),
    )
    areas = {p.code: province}
    for c in data.COUNTIES:
        areas[c.code] = _area(report, geometry, c, parent=province, level=Area.Level.COUNTY)
    for c in data.CITIES:
        areas[c.code] = _area(report, geometry, c, parent=areas[c.county], level=Area.Level.CITY)
    for n in data.NEIGHBOURHOODS:
        areas[n.code] = _area(
            report,
            geometry,
            n,
            parent=areas[n.city],
            level=Area.Level.NEIGHBOURHOOD,
            households=n.households,
            note=n.note,
            is_marginal=True,
        )
    return areas


def load_hazard_zones(report: Report, geometry: dict, areas: dict) -> None:
    for h in data.HAZARD_ZONES:
        lat, lng = _centre(geometry[h.code])
        _zone, outcome = upsert(
            HazardZone,
            {"code": h.code},
            {
                "area": areas[h.neighbourhood],
                "name_fa": h.name_fa,
                "name_en": h.name_en,
                "hazard_type": HazardZone.HazardType(h.hazard_type),
                "risk_level": HazardZone.RiskLevel[h.risk_level],
                "boundary": to_geojson(geometry[h.code]),
                "centroid_lat": lat,
                "centroid_lng": lng,
                "households_estimate": h.households_estimate,
                "description": h.description,
            },
            report,
            "hazard zones",
        )
        report.boundaries_changed |= outcome != "unchanged"


def load_operators(report: Report) -> dict:
    # Operators have no code; the Persian name is their key.
    return {
        o.key: upsert(
            Operator,
            {"name_fa": o.name_fa},
            {"name_en": o.name_en, "kind": Operator.Kind(o.kind)},
            report,
            "operators",
        )[0]
        for o in data.OPERATORS
    }


def load_offices(report: Report, areas: dict, operators: dict) -> dict:
    hoods = {n.code: n for n in data.NEIGHBOURHOODS}
    offices = {}
    for o in data.OFFICES:
        first = hoods.get(o.areas[0])
        lat, lng = (o.lat, o.lng) if o.lat is not None else (first.lat, first.lng)
        office, outcome = upsert(
            Office,
            {"code": o.code},
            {
                "name_fa": o.name_fa,
                "name_en": o.name_en,
                "province": areas[data.PROVINCE.code],
                "county": areas[o.county],
                "operator": operators[o.operator],
                "status": Office.Status(o.status),
                "opened_on": o.opened_on,
                "contract_start": o.contract_start,
                "contract_end": o.contract_end,
                "latitude": lat,
                "longitude": lng,
                "note": o.note,
            },
            report,
            "offices",
        )
        sync_m2m(
            office, "areas", [areas[code] for code in o.areas], report, "offices", outcome=outcome
        )
        offices[o.code] = office
    return offices


def load_agencies(report: Report, areas: dict) -> dict:
    agencies = {}
    for a in data.AGENCIES:
        agency, outcome = upsert(
            Agency,
            {"code": a.code},
            {
                "name_fa": a.name_fa,
                "name_en": a.name_en,
                "short_name": a.short_name,
                "province": areas[data.PROVINCE.code],
                "is_active": True,
            },
            report,
            "agencies",
            derived=("search_key",),
        )
        sync_m2m(
            agency,
            "jurisdiction",
            [areas[code] for code in a.jurisdiction],
            report,
            "agencies",
            outcome=outcome,
        )
        agencies[a.code] = agency
    return agencies


def load_categories(report: Report) -> dict:
    categories = {}

    def walk(nodes, parent):
        for order, node in enumerate(nodes, start=1):
            category, _ = upsert(
                DemandCategory,
                {"code": node.code},
                {
                    "parent": parent,
                    "name_fa": node.name_fa,
                    "name_en": node.name_en,
                    "sla_working_days": node.sla_working_days,
                    "sort_order": order * 10 if parent is None else order,
                },
                report,
                "demand categories",
            )
            categories[node.code] = category
            walk(node.children, category)

    walk(data.CATEGORIES, None)
    return categories


def load_routing(report: Report, areas: dict, agencies: dict, categories: dict) -> None:
    for category_code, by_area in data.ROUTES.items():
        for area_code, agency_code in by_area.items():
            upsert(
                RoutingRule,
                {"category": categories[category_code], "area": areas[area_code]},
                {"agency": agencies[agency_code]},
                report,
                "routing rules",
            )


def load_users(report: Report, areas: dict, offices: dict, agencies: dict) -> None:
    scoped = {"province": areas, "office": offices, "agency": agencies}
    hashed = None

    def set_demo_password(user):
        nonlocal hashed
        # One hash for all: the password is public, and hashing is the slow part.
        hashed = hashed or make_password(data.DEMO_PASSWORD)
        user.password = hashed

    for u in data.USERS:
        user, _ = upsert(
            User,
            {"username": u.username},
            {
                "first_name": u.first_name,
                "last_name": u.last_name,
                "is_active": True,
                "is_staff": u.is_superuser,
                "is_superuser": u.is_superuser,
            },
            report,
            "users",
            on_create=set_demo_password,
        )
        scope = {}
        if u.scope:
            column, code = u.scope
            scope[column] = scoped[column][code]
        upsert(
            RoleMembership,
            {"user": user, "role": Role(u.role), **scope},
            {"title": u.title, "is_active": True},
            report,
            "role memberships",
        )


def load_weekend_rule(report: Report) -> None:
    rule = data.WEEKEND_RULE
    upsert(
        WeekendRule,
        {"province": None, "valid_from": rule["valid_from"]},
        {"weekdays": rule["weekdays"], "note": rule["note"]},
        report,
        "weekend rules",
    )


def load_khuzestan(report: Report | None = None) -> Report:
    """Load everything except official holidays, in one transaction."""
    report = report or Report()
    geometry = build_geometry()
    with transaction.atomic():
        areas = load_areas(report, geometry)
        load_hazard_zones(report, geometry, areas)
        operators = load_operators(report)
        offices = load_offices(report, areas, operators)
        agencies = load_agencies(report, areas)
        categories = load_categories(report)
        load_routing(report, areas, agencies, categories)
        load_users(report, areas, offices, agencies)
        load_weekend_rule(report)
        load_api_keys(report)
        load_registry(report)
        load_demo_demands(report)
        if report.boundaries_changed:
            # The point-in-area index cannot see a boundary replaced in place.
            transaction.on_commit(lookup.invalidate)
    return report
