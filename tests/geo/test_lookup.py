import json

import pytest
from django.core.exceptions import ValidationError

from tashil.geo import lookup
from tashil.geo.models import Area
from tests.factories import SQUARE, AreaFactory, HazardZoneFactory, area_chain
from tests.geo.helpers import ELSEWHERE, INNER

COUNTY_BOX = {
    "type": "Polygon",
    "coordinates": [[[48.0, 31.0], [49.0, 31.0], [49.0, 32.0], [48.0, 32.0], [48.0, 31.0]]],
}


@pytest.fixture
def mapped(db):
    province, county, city, hood = area_chain()
    county.boundary = COUNTY_BOX
    county.save()
    zone = HazardZoneFactory(area=hood, boundary=INNER)
    return province, county, city, hood, zone


def test_point_in_neighbourhood(mapped):
    _p, county, _c, hood, _z = mapped
    assert lookup.area_for_point(31.35, 48.65) == hood
    # Asking for a coarser level gives the county that holds the point.
    assert lookup.area_for_point(31.35, 48.65, level=Area.Level.COUNTY) == county


def test_point_in_county_outside_neighbourhoods_returns_the_county(mapped):
    _p, county, _c, _h, _z = mapped
    assert lookup.area_for_point(31.8, 48.2) == county


def test_point_outside_everything(mapped):
    assert lookup.area_for_point(35.7, 51.4) is None
    assert lookup.hazard_zones_for_point(35.7, 51.4) == []


def test_point_in_hazard_zone(mapped):
    *_rest, zone = mapped
    assert lookup.hazard_zones_for_point(31.33, 48.63) == [zone]
    # Inside the neighbourhood but outside the zone.
    assert lookup.hazard_zones_for_point(31.38, 48.68) == []


def test_point_on_the_boundary_counts_as_inside(mapped):
    *_rest, hood, _z = mapped
    assert lookup.area_for_point(31.30, 48.65) == hood


def test_overlapping_neighbourhoods_prefer_the_smaller(mapped):
    _p, _county, city, hood, _z = mapped
    small = AreaFactory(level=Area.Level.NEIGHBOURHOOD, parent=city, boundary=INNER)
    assert lookup.area_for_point(31.33, 48.63) == small
    assert lookup.area_for_point(31.38, 48.68) == hood


def test_index_follows_new_areas_and_changed_boundaries(mapped, monkeypatch):
    _p, _county, city, hood, _z = mapped
    assert lookup.area_for_point(30.05, 50.05) is None
    far = AreaFactory(level=Area.Level.NEIGHBOURHOOD, parent=city, boundary=ELSEWHERE)
    assert lookup.area_for_point(30.05, 50.05) == far
    # A boundary replaced outside the services (e.g. an import) moves the
    # centroid, which the next fingerprint check finds.
    lat, lng = lookup.centroid_of(INNER)
    Area.objects.filter(pk=far.pk).update(boundary=INNER, centroid_lat=lat, centroid_lng=lng)
    later = lookup.time.monotonic() + lookup.RECHECK_SECONDS
    monkeypatch.setattr(lookup.time, "monotonic", lambda: later)
    assert lookup.area_for_point(30.05, 50.05) is None


def test_index_is_reused_while_nothing_changes(mapped, django_assert_num_queries):
    lookup.area_for_point(31.35, 48.65)
    index = lookup.get_index()
    # Only the answer is loaded: the tables' fingerprint waits for the recheck.
    with django_assert_num_queries(1):
        lookup.area_for_point(31.35, 48.65)
    assert lookup.get_index() is index


def test_centroid_of_square():
    assert lookup.centroid_of(SQUARE) == pytest.approx((31.35, 48.65))


def test_centroid_of_a_crescent_lies_inside_it():
    # A "U": its centroid falls in the empty middle.
    u_shape = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]]],
    }
    from shapely.geometry import Point, shape

    lat, lng = lookup.centroid_of(u_shape)
    assert shape(u_shape).covers(Point(lng, lat))


@pytest.mark.parametrize(
    "geojson",
    [
        SQUARE,
        json.dumps(SQUARE),
        {"type": "Feature", "properties": {}, "geometry": SQUARE},
        {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"], ELSEWHERE["coordinates"]]},
    ],
)
def test_validate_geojson_accepts_polygons(geojson):
    result = lookup.validate_geojson(geojson)
    assert result["type"] in ("Polygon", "MultiPolygon")


@pytest.mark.parametrize(
    "geojson, fragment",
    [
        ("{not json", "JSON"),
        ({"type": "Point", "coordinates": [48.6, 31.3]}, "Polygon"),
        ({"type": "Polygon", "coordinates": [[[48.6, 31.3], [48.7, 31.3], [48.7, 31.4]]]}, "four"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[48.6, 31.3], [48.7, 31.3], [48.7, 31.4], [48.6, 31.4], [48.6, 31.5]]
                ],
            },
            "end",
        ),
        # Latitude and longitude swapped far enough to leave WGS84.
        (
            {
                "type": "Polygon",
                "coordinates": [[[31.3, 148.6], [31.4, 148.6], [31.4, 148.7], [31.3, 148.6]]],
            },
            "longitude",
        ),
        # A bow tie crosses itself.
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "valid"),
        ({"type": "Polygon", "coordinates": [[["a", 0], [1, 1], [1, 0], ["a", 0]]]}, "number"),
    ],
)
def test_validate_geojson_rejects_bad_shapes(geojson, fragment, settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as caught:
        lookup.validate_geojson(geojson)
    assert fragment.lower() in " ".join(caught.value.messages).lower()
