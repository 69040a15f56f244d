"""How much work one intake request does, and that what the public form and
the point lookup keep between requests follows every change at once."""

import uuid

import pytest
from django.core.cache import cache

from tashil.demands.models import Demand
from tashil.demo.api_keys import DEMO_RAW_KEY, load_api_keys
from tashil.geo import lookup
from tashil.geo.models import Area
from tests.factories import AreaFactory, DemandCategoryFactory, HazardZoneFactory

IN_HOOD = (31.35, 48.65)
DESCRIPTION = "آب شرب کوچه ۱۲ سه روز است قطع است"
ELSEWHERE = {
    "type": "Polygon",
    "coordinates": [[[50.0, 30.0], [50.1, 30.0], [50.1, 30.1], [50.0, 30.1], [50.0, 30.0]]],
}
IN_ELSEWHERE = (30.05, 50.05)


@pytest.fixture(autouse=True)
def _fresh():
    # Rate-limit counters and the index's version live in the cache.
    cache.clear()
    lookup.invalidate()
    yield
    cache.clear()


def post_data(n, **overrides):
    data = {
        "category": n.category.code,
        "area": n.hood.code,
        "latitude": IN_HOOD[0],
        "longitude": IN_HOOD[1],
        "description": DESCRIPTION,
        "idempotency_key": str(uuid.uuid4()),
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def open311(client, **overrides):
    data = {
        "api_key": DEMO_RAW_KEY,
        "service_code": "drinking-water",
        "lat": IN_HOOD[0],
        "long": IN_HOOD[1],
        "description": DESCRIPTION,
        **overrides,
    }
    return client.post("/open311/v2/requests.json", data)


# --- queries per request --------------------------------------------------------------


@pytest.mark.query_count("public:submit")
def test_public_post_queries(client, demand_setup, django_assert_num_queries):
    n = demand_setup
    client.post("/submit", post_data(n))  # builds the point index
    # The key, the category, the neighbourhood, whether the category has
    # children, the serving office, the province; then the demand, its
    # timeline row and the audit row inside a savepoint.
    with django_assert_num_queries(11):
        response = client.post("/submit", post_data(n))
    assert response.status_code == 302
    assert Demand.objects.count() == 2


@pytest.mark.query_count("public:submit")
def test_public_post_with_a_point_only_queries(client, demand_setup, django_assert_num_queries):
    n = demand_setup
    client.post("/submit", post_data(n))
    # As above, with the neighbourhood found from the point.
    with django_assert_num_queries(11):
        response = client.post("/submit", post_data(n, area=""))
    assert response.status_code == 302
    assert Demand.objects.filter(area=n.hood).count() == 2


@pytest.mark.query_count("public:submit")
def test_retried_public_post_reads_the_key_once(client, demand_setup, django_assert_num_queries):
    n = demand_setup
    data = post_data(n)
    client.post("/submit", data)
    with django_assert_num_queries(1):
        response = client.post("/submit", data)
    assert response.status_code == 302
    assert Demand.objects.count() == 1


@pytest.mark.query_count("open311:requests")
def test_open311_post_queries(client, demand_setup, django_assert_num_queries):
    load_api_keys()
    open311(client)
    # The API key, the service, the neighbourhood of the point, whether the
    # category has children, the serving office, the province; then the
    # demand, its timeline row and the audit row inside a savepoint.
    with django_assert_num_queries(11):
        response = open311(client)
    assert response.status_code == 200
    assert Demand.objects.count() == 2


@pytest.mark.query_count("open311:requests")
def test_open311_post_with_a_key_reads_it_once(client, demand_setup, django_assert_num_queries):
    load_api_keys()
    open311(client)
    with django_assert_num_queries(12):
        response = client.post(
            "/open311/v2/requests.json",
            {
                "api_key": DEMO_RAW_KEY,
                "service_code": "drinking-water",
                "lat": IN_HOOD[0],
                "long": IN_HOOD[1],
                "description": DESCRIPTION,
            },
            headers={"Idempotency-Key": "retry-1"},
        )
    assert response.status_code == 200


# --- the public form follows the tables -------------------------------------------------


def test_new_category_is_offered_and_accepted_by_the_next_request(client, demand_setup):
    n = demand_setup
    assert client.get("/submit").status_code == 200
    new = DemandCategoryFactory(parent=n.parent_category, code="burst-pipe")
    assert 'value="burst-pipe"' in client.get("/submit").content.decode()
    response = client.post("/submit", post_data(n, category=new.code))
    assert response.status_code == 302
    assert Demand.objects.get().category == new


def test_deleted_or_retired_category_disappears_at_once(client, demand_setup):
    n = demand_setup
    gone = DemandCategoryFactory(parent=n.parent_category, code="gone")
    retired = DemandCategoryFactory(parent=n.parent_category, code="retired")
    html = client.get("/submit").content.decode()
    assert 'value="gone"' in html and 'value="retired"' in html
    gone.delete()
    retired.is_active = False
    retired.save()
    html = client.get("/submit").content.decode()
    assert 'value="gone"' not in html and 'value="retired"' not in html
    for code in ("gone", "retired"):
        response = client.post("/submit", post_data(n, category=code))
        assert response.status_code == 200
        assert 'data-field="category"' in response.content.decode()
    assert not Demand.objects.exists()


def test_new_neighbourhood_is_offered_and_found_by_the_next_request(client, demand_setup):
    n = demand_setup
    client.post("/submit", post_data(n))  # the point index is built
    new = AreaFactory(level="neighbourhood", parent=n.city, code="new-hood", boundary=ELSEWHERE)
    n.office.areas.add(new)
    assert 'value="new-hood"' in client.get("/submit").content.decode()
    lat, lng = IN_ELSEWHERE
    response = client.post("/submit", post_data(n, area="", latitude=lat, longitude=lng))
    assert response.status_code == 302
    assert Demand.objects.filter(area=new).exists()


def test_neighbourhood_no_longer_served_or_deleted_disappears_at_once(client, demand_setup):
    n = demand_setup
    dropped = AreaFactory(level="neighbourhood", parent=n.city, code="dropped", boundary=ELSEWHERE)
    n.office.areas.add(dropped)
    client.post("/submit", post_data(n))
    assert 'value="dropped"' in client.get("/submit").content.decode()

    n.office.areas.remove(dropped)
    assert 'value="dropped"' not in client.get("/submit").content.decode()
    response = client.post("/submit", post_data(n, area="dropped", latitude="", longitude=""))
    assert 'data-field="area"' in response.content.decode()

    dropped.delete()
    lat, lng = IN_ELSEWHERE
    response = client.post("/submit", post_data(n, area="", latitude=lat, longitude=lng))
    assert response.status_code == 200
    assert 'data-field="latitude"' in response.content.decode()
    assert Demand.objects.count() == 1


# --- the point index follows the tables --------------------------------------------------


def test_saved_and_deleted_areas_and_zones_are_seen_by_the_next_lookup(demand_setup):
    n = demand_setup
    lat, lng = IN_ELSEWHERE
    assert lookup.area_for_point(lat, lng) is None
    assert lookup.hazard_zones_for_point(lat, lng) == []

    area = AreaFactory(level="neighbourhood", parent=n.city, boundary=ELSEWHERE)
    zone = HazardZoneFactory(area=area, boundary=ELSEWHERE)
    assert lookup.area_for_point(lat, lng) == area
    assert lookup.hazard_zones_for_point(lat, lng) == [zone]

    zone.delete()
    assert lookup.hazard_zones_for_point(lat, lng) == []
    area.delete()
    assert lookup.area_for_point(lat, lng) is None


def test_a_moved_boundary_is_seen_by_the_next_lookup(demand_setup):
    n = demand_setup
    assert lookup.area_for_point(*IN_HOOD) == n.hood
    n.hood.boundary = ELSEWHERE
    n.hood.centroid_lat, n.hood.centroid_lng = lookup.centroid_of(ELSEWHERE)
    n.hood.save()
    # The other province's neighbourhood has the same square.
    assert lookup.area_for_point(*IN_HOOD) == n.other_hood
    assert lookup.area_for_point(*IN_ELSEWHERE) == n.hood


def test_saving_other_fields_keeps_the_index(demand_setup):
    n = demand_setup
    index = lookup.get_index()
    n.hood.population = 1200
    n.hood.save(update_fields=["population"])
    assert lookup.get_index() is index
    HazardZoneFactory(area=n.hood, boundary=ELSEWHERE)
    assert lookup.get_index() is not index


def test_changes_without_signals_are_seen_after_the_recheck_interval(demand_setup, monkeypatch):
    n = demand_setup
    assert lookup.area_for_point(*IN_ELSEWHERE) is None
    # An import writing with update(): no signal is sent.
    lat, lng = lookup.centroid_of(ELSEWHERE)
    Area.objects.filter(pk=n.hood.pk).update(boundary=ELSEWHERE, centroid_lat=lat, centroid_lng=lng)
    now = lookup.time.monotonic()
    monkeypatch.setattr(lookup.time, "monotonic", lambda: now + lookup.RECHECK_SECONDS + 1)
    assert lookup.area_for_point(*IN_ELSEWHERE) == n.hood


def test_lookups_between_rechecks_read_no_fingerprint(demand_setup, django_assert_num_queries):
    lookup.get_index()
    with django_assert_num_queries(0):
        lookup.get_index()
        lookup.get_index().area_id_for_point(*IN_HOOD)


def test_a_long_description_gives_a_title_cut_at_a_word(submit):
    words = "فاضلاب کوچه‌ی پشت مسجد جامع زویه هفته‌هاست سرریز می‌کند و بچه‌ها از میان آن رد می‌شوند"
    demand = submit(description=words + " و بوی آن تا خانه‌ها می‌رسد.")
    assert len(demand.title) <= 80 and demand.title.endswith("…")
    assert words.startswith(demand.title[:-1]) and words[len(demand.title) - 1] == " "
    assert submit(description="آب قطع است").title == "آب قطع است"
