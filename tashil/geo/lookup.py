"""Point-in-area lookups and GeoJSON checks, with shapely.

Boundaries are GeoJSON in WGS84 (positions are [longitude, latitude]); no GIS
database extension is involved, so the prepared geometries live in process
memory. The index is rebuilt when it is out of date:

- saving or deleting an area or a hazard zone through the ORM, here or in
  another process, bumps a version that every lookup reads. The version
  lives in Django's cache, so with a shared cache every process sees it at
  once; the geo services bump it too after every boundary edit;
- a change that sends no signal (an import's `update()` or `bulk_create`,
  SQL, or another process when the cache is per process) is found by the
  tables' fingerprint: the count and highest id of areas and hazard zones
  and the sum of their centroids (a replaced boundary moves its centroid).
  Two aggregates per check, so it runs at most every RECHECK_SECONDS rather
  than on every lookup.
"""

import json
import threading
import time
from dataclasses import dataclass, field

import shapely
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from shapely.geometry import Point, shape
from shapely.validation import explain_validity

from .models import Area, HazardZone

VERSION_CACHE_KEY = "tashil:geo:lookup-version"
# How stale a change that sent no signal may be.
RECHECK_SECONDS = 30
# Saves that change none of these leave the index as it is.
INDEXED_FIELDS = frozenset({"boundary", "level", "centroid_lat", "centroid_lng"})
GEOMETRY_TYPES = ("Polygon", "MultiPolygon")
LEVEL_DEPTH = {level: depth for depth, level in enumerate(Area.LEVEL_ORDER)}


# --- GeoJSON validation ----------------------------------------------------


def _error(message, **params):
    return ValidationError(message, code="invalid_geojson", params=params or None)


def _check_position(pos):
    if not isinstance(pos, (list, tuple)) or len(pos) not in (2, 3):
        raise _error(_("Each position must be [longitude, latitude]."))
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos):
        raise _error(_("Coordinates must be numbers."))
    lng, lat = pos[0], pos[1]
    if not -180 <= lng <= 180 or not -90 <= lat <= 90:
        raise _error(
            _(
                "The position [%(lng)s, %(lat)s] is outside WGS84 ranges. GeoJSON puts the "
                "longitude first, then the latitude."
            ),
            lng=lng,
            lat=lat,
        )


def _check_ring(ring):
    if not isinstance(ring, (list, tuple)) or len(ring) < 4:
        raise _error(_("A polygon ring needs at least four positions."))
    for pos in ring:
        _check_position(pos)
    if list(ring[0][:2]) != list(ring[-1][:2]):
        raise _error(_("A polygon ring must end at the position it starts from."))


def _check_polygon(rings):
    if not isinstance(rings, (list, tuple)) or not rings:
        raise _error(_("A polygon needs at least one ring."))
    for ring in rings:
        _check_ring(ring)


def validate_geojson(geojson) -> dict:
    """Check a Polygon or MultiPolygon in WGS84 and return it as a dict.

    Accepts a dict or JSON text, and a Feature wrapping such a geometry (what
    most drawing tools export). Raises ValidationError otherwise."""
    if isinstance(geojson, (str, bytes)):
        try:
            geojson = json.loads(geojson)
        except ValueError:
            raise _error(_("This is not valid JSON.")) from None
    if not isinstance(geojson, dict):
        raise _error(_("Enter a GeoJSON Polygon or MultiPolygon."))
    if geojson.get("type") == "Feature":
        geojson = geojson.get("geometry") or {}
    kind = geojson.get("type")
    if kind not in GEOMETRY_TYPES:
        raise _error(_("Enter a GeoJSON Polygon or MultiPolygon, not %(kind)s."), kind=kind or "—")
    coordinates = geojson.get("coordinates")
    if kind == "Polygon":
        _check_polygon(coordinates)
    else:
        if not isinstance(coordinates, (list, tuple)) or not coordinates:
            raise _error(_("A multipolygon needs at least one polygon."))
        for polygon in coordinates:
            _check_polygon(polygon)
    geometry = {"type": kind, "coordinates": coordinates}
    geom = shape(geometry)
    if not geom.is_valid:
        raise _error(
            _("The shape is not a valid polygon (%(reason)s)."), reason=explain_validity(geom)
        )
    if geom.area == 0:
        raise _error(_("The shape has no area."))
    return geometry


def centroid_of(geojson) -> tuple[float, float]:
    """(lat, lng) of a point to put a marker on.

    The true centroid of a crescent-shaped neighbourhood can fall outside it;
    then a point guaranteed to be inside is used instead."""
    geom = shape(geojson)
    point = geom.centroid
    if not geom.covers(point):
        point = geom.point_on_surface()
    return round(point.y, 7), round(point.x, 7)


# --- The in-process index --------------------------------------------------


@dataclass
class _Layer:
    ids: list = field(default_factory=list)
    geoms: list = field(default_factory=list)
    depth: list = field(default_factory=list)
    size: list = field(default_factory=list)
    tree: shapely.STRtree | None = None

    def add(self, pk, geojson, depth=0):
        try:
            geom = shape(geojson)
        except (KeyError, TypeError, ValueError, shapely.errors.GEOSException):
            # A malformed boundary saved before validation existed must not
            # break lookups for every other area.
            return
        if geom.is_empty:
            return
        shapely.prepare(geom)
        self.ids.append(pk)
        self.geoms.append(geom)
        self.depth.append(depth)
        self.size.append(geom.area)

    def build(self):
        self.tree = shapely.STRtree(self.geoms) if self.geoms else None
        return self

    def containing(self, point) -> list[int]:
        """Indexes of the geometries that contain the point (edges included)."""
        if self.tree is None:
            return []
        return [
            int(i)
            for i in self.tree.query(point, predicate="intersects")
            if self.geoms[i].covers(point)
        ]


@dataclass
class GeoIndex:
    version: int
    fingerprints: tuple
    areas: _Layer
    hazards: _Layer
    # (id, latitude, longitude) of every neighbourhood with a mapped centre.
    centres: list = field(default_factory=list)
    # time.monotonic() of the last fingerprint check.
    checked_at: float = 0.0

    def neighbourhoods_centred_in(
        self, south: float, north: float, west: float, east: float
    ) -> list[int]:
        """Ids of the neighbourhoods whose centre lies in the box, edges included."""
        return [
            pk for pk, lat, lng in self.centres if south <= lat <= north and west <= lng <= east
        ]

    def area_id_for_point(
        self, lat: float, lng: float, *, level: str = Area.Level.NEIGHBOURHOOD
    ) -> int | None:
        max_depth = LEVEL_DEPTH[level]
        point = Point(lng, lat)
        hits = [i for i in self.areas.containing(point) if self.areas.depth[i] <= max_depth]
        if not hits:
            return None
        # Deepest first; where neighbourhoods overlap, the smaller one is the
        # more specific answer.
        best = min(
            hits, key=lambda i: (-self.areas.depth[i], self.areas.size[i], self.areas.ids[i])
        )
        return self.areas.ids[best]

    def hazard_ids_for_point(self, lat: float, lng: float) -> list[int]:
        point = Point(lng, lat)
        return [self.hazards.ids[i] for i in self.hazards.containing(point)]


_lock = threading.Lock()
_index: GeoIndex | None = None


def _fingerprint(queryset) -> tuple:
    row = queryset.aggregate(
        n=Count("id"), top=Max("id"), lat=Sum("centroid_lat"), lng=Sum("centroid_lng")
    )
    # Rounded: a floating-point sum may differ in the last bits between scans.
    return row["n"], row["top"], round(row["lat"] or 0, 5), round(row["lng"] or 0, 5)


def _fingerprints() -> tuple:
    return (
        _fingerprint(Area.objects.all()),
        _fingerprint(HazardZone.objects.all()),
    )


def _build(version) -> GeoIndex:
    checked_at = time.monotonic()
    # Read before the rows, so that a change in between is seen next time.
    fingerprints = _fingerprints()
    areas, centres = _Layer(), []
    for pk, level, boundary, lat, lng in Area.objects.values_list(
        "pk", "level", "boundary", "centroid_lat", "centroid_lng"
    ):
        if boundary is not None:
            areas.add(pk, boundary, LEVEL_DEPTH.get(level, 0))
        if level == Area.Level.NEIGHBOURHOOD and lat is not None and lng is not None:
            centres.append((pk, lat, lng))
    hazards = _Layer()
    for pk, boundary in HazardZone.objects.values_list("pk", "boundary"):
        hazards.add(pk, boundary)
    return GeoIndex(
        version=version,
        fingerprints=fingerprints,
        areas=areas.build(),
        hazards=hazards.build(),
        centres=centres,
        checked_at=checked_at,
    )


def get_index() -> GeoIndex:
    """The current index; for many lookups in a row, fetch it once and reuse it."""
    global _index
    version = cache.get(VERSION_CACHE_KEY, 0)
    index = _index
    if index is not None and index.version == version:
        if time.monotonic() - index.checked_at < RECHECK_SECONDS:
            return index
        if _fingerprints() == index.fingerprints:
            index.checked_at = time.monotonic()
            return index
    with _lock:
        if _index is not None and _index is not index and _index.version == version:
            # Another thread rebuilt it while this one waited.
            return _index
        _index = _build(version)
        return _index


def invalidate() -> None:
    """Called by the geo services after boundaries change, and on every save
    or delete of an area or a hazard zone."""
    global _index
    try:
        cache.incr(VERSION_CACHE_KEY)
    except ValueError:
        cache.set(VERSION_CACHE_KEY, 1, timeout=None)
    _index = None


def _changed(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and not INDEXED_FIELDS.intersection(update_fields):
        return
    invalidate()
    # Again once the change is visible to others: an index built by another
    # request before the commit would not hold it.
    transaction.on_commit(invalidate)


for _model in (Area, HazardZone):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"geo-lookup-{_model.__name__}-save")
    post_delete.connect(
        _changed, sender=_model, dispatch_uid=f"geo-lookup-{_model.__name__}-delete"
    )


def area_for_point(lat: float, lng: float, *, level: str = Area.Level.NEIGHBOURHOOD) -> Area | None:
    """The deepest area, no deeper than `level`, whose boundary contains the
    point; None when the point is outside every mapped area."""
    pk = get_index().area_id_for_point(lat, lng, level=level)
    return Area.objects.filter(pk=pk).first() if pk is not None else None


def hazard_zones_for_point(lat: float, lng: float) -> list[HazardZone]:
    ids = get_index().hazard_ids_for_point(lat, lng)
    if not ids:
        return []
    return list(
        HazardZone.objects.filter(pk__in=ids).select_related("area").order_by("-risk_level", "code")
    )
