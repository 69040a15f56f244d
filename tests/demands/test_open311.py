"""Open311 GeoReport v2: the spec's errors in both formats, what public
answers may show, location matching, status mapping, abuse limits and the
demo key."""

import datetime as dt
import json
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone, translation

from tashil.accounts.models import ApiKey
from tashil.demands import services
from tashil.demands.models import Demand, DemandStatus, ReferralStatus
from tashil.demo.api_keys import DEMO_RAW_KEY, load_api_keys
from tashil.geo import lookup
from tests.factories import AreaFactory

BASE = "/open311/v2"
DESCRIPTION = "آب آشامیدنی کوچه ۱۲ سه روز است قطع است"


@pytest.fixture(autouse=True)
def _fresh_limits():
    # Rate-limit counters live in the cache, which outlives each test's database.
    cache.clear()
    lookup.invalidate()


@pytest.fixture
def key(demand_setup):
    return load_api_keys()


@pytest.fixture
def submit(submit):
    """Office intake that the resident agreed to publish: Open311 lists it."""

    def make(**overrides):
        overrides.setdefault("is_listed", True)
        return submit(**overrides)

    return make


def errors_of(response) -> list[tuple[str, str]]:
    """(code, description) pairs, checking the spec's shape of either format."""
    if response["Content-Type"].startswith("application/json"):
        return [(str(e["code"]), e["description"]) for e in response.json()]
    root = ET.fromstring(response.content)
    assert root.tag == "errors" and all(child.tag == "error" for child in root)
    return [(e.findtext("code"), e.findtext("description")) for e in root]


def items(response) -> list[dict]:
    if response["Content-Type"].startswith("application/json"):
        return response.json()
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    return [{c.tag: c.text for c in child} for child in root]


def create(client, fmt="json", headers=None, **params):
    data = {
        "api_key": DEMO_RAW_KEY,
        "service_code": "drinking-water",
        "lat": "31.35",
        "long": "48.65",
        "description": DESCRIPTION,
        **params,
    }
    return client.post(
        f"{BASE}/requests.{fmt}",
        {k: v for k, v in data.items() if v is not None},
        headers=headers or {},
    )


def translated(message, language):
    with translation.override(language):
        return str(translation.gettext(message))


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"api_key": None}, 403),
        ({"api_key": "not-the-key"}, 403),
        ({"service_code": None}, 400),
        ({"service_code": "no-such-service"}, 404),
        ({"service_code": "water"}, 404),  # a group, not a service
        ({"lat": None, "long": None}, 400),
        ({"long": None}, 400),
        ({"lat": "north"}, 400),
        ({"lat": "35.70", "long": "51.40"}, 400),  # Tehran: outside every neighbourhood served
        ({"lat": None, "long": None, "address_string": "جای دیگری"}, 400),
        ({"lat": None, "long": None, "address_id": "nowhere"}, 400),
        ({"description": "کوتاه"}, 400),
        ({"phone": "021-66778899"}, 400),
        ({"attribute[submitter_kind]": "alien"}, 400),
        ({"jurisdiction_id": "atlantis"}, 404),
    ],
)
def test_post_errors_follow_the_spec_and_write_nothing(client, key, fmt, params, status):
    response = create(client, fmt, **params)
    assert response.status_code == status, response.content
    errors = errors_of(response)
    assert errors and all(code == str(status) for code, _d in errors)
    assert all(description for _c, description in errors)
    assert Demand.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/services/no-such-service.{fmt}", 404),
        ("/requests/ACDEFHJK.{fmt}", 404),
        ("/requests/not*a*code.{fmt}", 404),
        ("/tokens/ACDEFHJK.{fmt}", 404),
        ("/services.{fmt}?jurisdiction_id=atlantis", 404),
        ("/requests.{fmt}?start_date=yesterday", 400),
        ("/requests.{fmt}?start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z", 400),
        ("/requests.{fmt}?start_date=2024-02-01&end_date=2024-01-01", 400),
        ("/requests.{fmt}?status=pending", 400),
        ("/no/such/thing.{fmt}", 404),
    ],
)
def test_get_errors_follow_the_spec(client, demand_setup, fmt, url, status):
    response = client.get(BASE + url.format(fmt=fmt))
    assert response.status_code == status
    assert (
        response["Content-Type"]
        == {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}[fmt]
    )
    assert errors_of(response)[0][0] == str(status)


def test_an_unknown_format_is_a_404_in_xml(client, demand_setup):
    response = client.get(f"{BASE}/services.csv")
    assert response.status_code == 404
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert errors_of(response)[0][0] == "404"


def test_a_method_the_resource_does_not_take_is_refused(client, demand_setup):
    response = client.put(f"{BASE}/requests.json")
    assert response.status_code == 405 and "POST" in response["Allow"]
    assert errors_of(response)[0][0] == "405"


def test_error_descriptions_are_persian_by_default_and_english_on_request(client, key):
    persian = create(client, api_key="wrong")
    assert persian["Content-Language"] == "fa"
    assert errors_of(persian) == [("403", translated("api_key is missing or not valid.", "fa"))]
    english = create(client, api_key="wrong", headers={"Accept-Language": "en"})
    assert english["Content-Language"] == "en"
    assert errors_of(english) == [("403", "api_key is missing or not valid.")]
    outside = create(client, lat="35.70", long="51.40")
    message = "This point is outside the neighbourhoods the offices serve in the province."
    assert errors_of(outside) == [("400", "lat: " + translated(message, "fa"))]


def test_several_problems_are_listed_together(client, key):
    response = create(client, description="کم", phone="12", headers={"Accept-Language": "en"})
    descriptions = [d for _c, d in errors_of(response)]
    assert len(descriptions) == 2
    assert {d.split(":")[0] for d in descriptions} == {"description", "phone"}


# --- intake ------------------------------------------------------------------------------------


def test_post_needs_no_login_and_no_csrf_token(demand_setup, key):
    response = create(Client(enforce_csrf_checks=True))
    assert response.status_code == 200, response.content
    assert Demand.objects.get().channel == "open311"


def test_what_the_client_sent_is_kept_for_the_office_but_not_published(client, key):
    code = create(
        client,
        media_url="https://example.com/p.jpg",
        email="a@example.com",
        device_id="dev-1",
        account_id="acc-7",
        **{"attribute[contact_consent]": "yes"},
    ).json()[0]["service_request_id"]
    demand = Demand.objects.get(public_id=code)
    assert demand.contact_consent is True
    data = demand.events.get(kind="submitted").data
    assert data["open311"] == {
        "client": "Demo Open311 client",
        "media_url": "https://example.com/p.jpg",
        "account_id": "acc-7",
    }
    assert "a@example.com" not in json.dumps(data) and "dev-1" not in json.dumps(data)
    published = client.get(f"{BASE}/requests/{code}.json").json()[0]
    assert published["media_url"] is None


def test_address_id_and_address_string_find_the_neighbourhood(client, demand_setup, key):
    hood = demand_setup.hood
    hood.name_fa, hood.name_en = "کوی سیاحی", "Kuy-e Sayyahi"
    hood.refresh_derived_fields()
    hood.save()
    by_id = create(client, lat=None, long=None, address_id=hood.code)
    # Arabic yeh and a comma-separated address, most specific part first.
    by_name = create(client, lat=None, long=None, address_string="کوچه ۵، كوي سياحي، اهواز")
    by_latin = create(client, lat=None, long=None, address_string="Alley 5, Kuy-e Sayyahi")
    codes = [r.json()[0]["service_request_id"] for r in (by_id, by_name, by_latin)]
    assert [Demand.objects.get(public_id=c).area for c in codes] == [hood] * 3
    assert all(Demand.objects.get(public_id=c).latitude is None for c in codes)


def test_an_ambiguous_address_is_refused_unless_the_city_tells_them_apart(
    client, demand_setup, key
):
    network = demand_setup
    twin = AreaFactory(level="neighbourhood", parent=network.other_hood.parent, name_fa="زویه")
    network.hood.name_fa = "زویه"
    for area in (network.hood, twin):
        area.refresh_derived_fields()
        area.save()
    network.city.name_fa = "اهواز"
    network.city.refresh_derived_fields()
    network.city.save()
    assert create(client, lat=None, long=None, address_string="زویه").status_code == 400
    response = create(client, lat=None, long=None, address_string="زویه، اهواز")
    assert response.status_code == 200
    assert Demand.objects.get().area == network.hood


def test_jurisdiction_narrows_to_a_province(client, demand_setup, key):
    network = demand_setup
    assert create(client, jurisdiction_id=network.province.code.upper()).status_code == 200
    outside = create(client, jurisdiction_id=network.other_province.code)
    assert outside.status_code == 400
    assert Demand.objects.count() == 1
    assert (
        len(client.get(f"{BASE}/requests.json", {"jurisdiction_id": network.province.code}).json())
        == 1
    )
    assert (
        client.get(f"{BASE}/requests.json", {"jurisdiction_id": network.other_province.code}).json()
        == []
    )


def test_idempotency_key_makes_one_demand(client, key):
    first = create(client, headers={"Idempotency-Key": "retry-1"})
    second = create(client, headers={"Idempotency-Key": "retry-1"})
    assert first.json()[0]["service_request_id"] == second.json()[0]["service_request_id"]
    assert Demand.objects.count() == 1
    create(client, headers={"Idempotency-Key": "retry-2"})
    assert Demand.objects.count() == 2


def test_posts_are_rate_limited_per_address_and_per_phone(client, key, settings):
    settings.PUBLIC_SUBMIT_PER_IP = (2, 600)
    assert create(client).status_code == 200
    assert create(client, fmt="xml").status_code == 200
    limited = create(client, fmt="xml")
    assert limited.status_code == 400 and limited["Retry-After"] == "600"
    assert errors_of(limited)[0][0] == "429"
    assert Demand.objects.count() == 2

    cache.clear()
    settings.PUBLIC_SUBMIT_PER_IP = (100, 600)
    settings.PUBLIC_SUBMIT_PER_MOBILE = (1, 3600)
    assert create(client, phone="09121234567").status_code == 200
    assert create(client, phone="09121234567").status_code == 400
    assert create(client, phone="09351112233").status_code == 200
    assert Demand.objects.count() == 4


def test_the_demo_key_is_created_once(db):
    first = load_api_keys()
    second = load_api_keys()
    assert first.pk == second.pk and ApiKey.objects.count() == 1
    assert ApiKey.authenticate(DEMO_RAW_KEY) == first


# --- public answers ----------------------------------------------------------------------------


def test_public_answers_carry_no_personal_data_or_staff_names(client, demand_setup, submit):
    network = demand_setup
    manager = network.users["office_manager"]
    manager.first_name, manager.last_name = "رضا", "کارمندی"
    manager.save()
    demand = submit(
        description="آب کوچه قطع است. مریم احمدی هستم، شماره ۰۹۱۲ ۱۲۳ ۴۵۶۷ و maryam@example.com",
        submitter_name="مریم احمدی",
        submitter_mobile="09121234567",
        latitude=31.351234,
        longitude=48.651234,
    )
    services.demand_refer(demand=demand, acting_user=manager, note="یادداشت داخلی برای اداره")
    for fmt in ("json", "xml"):
        for url in (f"/requests.{fmt}", f"/requests/{demand.public_id}.{fmt}"):
            body = client.get(BASE + url).content.decode()
            assert "آب کوچه قطع است" in body
            assert demand.public_id in body
            for private in (
                demand.code,
                demand.display_code,
                "مریم احمدی",
                "0912",
                "123 4567",
                "maryam@example.com",
                "989121234567",
                "رضا",
                "کارمندی",
                manager.username,
                "یادداشت داخلی",
                "31.351234",
            ):
                assert private not in body, (url, private)
    (row,) = client.get(f"{BASE}/requests.json").json()
    assert (row["lat"], row["long"]) == (31.351, 48.651)


def test_statuses_map_to_open_and_closed_with_notes_agency_and_dates(client, demand_setup, submit):
    network = demand_setup
    manager, liaison = network.users["office_manager"], network.users["agency_liaison"]
    demand = submit()

    def row():
        return client.get(
            f"{BASE}/requests/{demand.public_id}.json", headers={"Accept-Language": "en"}
        ).json()[0]

    assert row()["status"] == "open" and row()["agency_responsible"] is None
    services.demand_request_info(demand=demand, acting_user=manager, message="Which alley exactly?")
    assert row()["status"] == "open" and "Which alley exactly?" in row()["status_notes"]
    demand.refresh_from_db()
    services.demand_accept(demand=demand, acting_user=manager)
    referral = services.demand_refer(demand=demand, acting_user=manager)
    current = row()
    assert current["status"] == "open"
    assert current["agency_responsible"] == network.agency.name_en
    assert current["expected_datetime"].startswith(referral.due_date.isoformat())
    services.referral_move(
        referral=referral,
        to_status=ReferralStatus.ANSWERED,
        acting_user=liaison,
        note="Piping by the end of the month",
        expected_date=referral.due_date + dt.timedelta(days=3),
    )
    assert row()["expected_datetime"].startswith(
        (referral.due_date + dt.timedelta(days=3)).isoformat()
    )
    demand.refresh_from_db()
    services.demand_close(
        demand=demand, outcome=DemandStatus.RESOLVED, acting_user=manager, reason="Water is back"
    )
    demand.refresh_from_db()
    closed = row()
    assert closed["status"] == "closed" and "Water is back" in closed["status_notes"]
    assert closed["expected_datetime"] is None
    assert dt.datetime.fromisoformat(closed["updated_datetime"]) == demand.closed_at.replace(
        microsecond=0
    )
    assert closed["agency_responsible"] == network.agency.name_en

    rejected = submit()
    services.demand_reject(demand=rejected, acting_user=manager, reason="Outside the office's area")
    listed = {
        r["service_request_id"]: r["status"] for r in client.get(f"{BASE}/requests.json").json()
    }
    assert listed == {demand.public_id: "closed", rejected.public_id: "closed"}
    assert [
        r["service_request_id"]
        for r in client.get(f"{BASE}/requests.json", {"status": "open"}).json()
    ] == []


def test_the_default_window_is_the_last_90_days(client, demand_setup, submit):
    recent, old = submit(), submit()
    Demand.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - dt.timedelta(days=120))
    assert {r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()} == {
        recent.public_id
    }
    start = (timezone.now() - dt.timedelta(days=150)).strftime("%Y-%m-%d")
    # A "+" left unencoded in the query string arrives as a space.
    listed = client.get(f"{BASE}/requests.json?start_date={start}T00:00:00+03:30").json()
    assert {r["service_request_id"] for r in listed} == {old.public_id}
    # service_request_id overrides the window.
    assert (
        len(client.get(f"{BASE}/requests.json", {"service_request_id": old.public_id}).json()) == 1
    )


def test_services_are_the_active_leaf_categories(client, demand_setup):
    from tests.factories import DemandCategoryFactory

    DemandCategoryFactory(code="retired", parent=demand_setup.parent_category, is_active=False)
    body = client.get(f"{BASE}/services.xml", headers={"Accept-Language": "en"})
    root = ET.fromstring(body.content)
    assert root.tag == "services"
    (service,) = root.findall("service")
    assert [c.tag for c in service] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert service.findtext("service_code") == "drinking-water"
    assert service.findtext("metadata") == "true" and service.findtext("type") == "realtime"


@pytest.mark.query_count("open311:requests", "open311:services")
def test_request_list_query_count_does_not_grow(
    client, demand_setup, submit, django_assert_max_num_queries
):
    manager = demand_setup.users["office_manager"]
    for i in range(30):
        demand = submit(description=f"{DESCRIPTION} {i}")
        if i % 2:
            services.demand_refer(demand=demand, acting_user=manager)
    with django_assert_max_num_queries(2):
        response = client.get(f"{BASE}/requests.xml")
    assert len(items(response)) == 30
    with django_assert_max_num_queries(3):
        client.get(f"{BASE}/services.json")
