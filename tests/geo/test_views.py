import json

import pytest
from django.urls import reverse

from tashil.core.models import AuditLog
from tashil.geo import services
from tashil.geo.models import Area, HazardZone
from tests.factories import SQUARE, AgencyFactory, AreaFactory, HazardZoneFactory, OfficeFactory
from tests.geo.helpers import INNER, nothing_changes
from tests.roles import ROLES

EVERYONE_WITH_A_ROLE = set(ROLES) - {"no_role"}
MANAGERS = {"national_admin", "province_manager"}


def _expect(role, allowed, *, visible=True):
    if not visible:
        return 404
    return 200 if role in allowed else 403


@pytest.mark.authorization_matrix("geo:list")
@pytest.mark.parametrize("role", ROLES)
def test_list_by_role(client, network, role):
    client.force_login(network.users[role])
    response = client.get(reverse("geo:list"))
    assert response.status_code == _expect(role, EVERYONE_WITH_A_ROLE)
    if response.status_code == 200:
        content = response.content.decode()
        assert network.hood.name in content
        if role != "national_admin":
            assert network.other_hood.name not in content


@pytest.mark.authorization_matrix("geo:detail")
@pytest.mark.parametrize("role", ROLES)
def test_detail_by_role(client, network, role):
    client.force_login(network.users[role])
    response = client.get(reverse("geo:detail", args=[network.hood.code]))
    assert response.status_code == (404 if role == "no_role" else 200)
    other = client.get(reverse("geo:detail", args=[network.other_hood.code]))
    assert other.status_code == (200 if role == "national_admin" else 404)


@pytest.mark.authorization_matrix("geo:edit")
@pytest.mark.parametrize("role", ROLES)
def test_edit_page_by_role(client, network, role):
    client.force_login(network.users[role])
    response = client.get(reverse("geo:edit", args=[network.hood.code]))
    assert response.status_code == _expect(role, MANAGERS, visible=role != "no_role")
    other = client.get(reverse("geo:edit", args=[network.other_hood.code]))
    assert other.status_code == (200 if role == "national_admin" else 404)


@pytest.mark.authorization_matrix("geo:hazard_create", "geo:hazard_edit")
@pytest.mark.parametrize("role", ROLES)
def test_hazard_pages_by_role(client, network, role):
    zone = HazardZoneFactory(area=network.hood)
    client.force_login(network.users[role])
    visible = role != "no_role"
    assert client.get(
        reverse("geo:hazard_create", args=[network.hood.code])
    ).status_code == _expect(role, MANAGERS, visible=visible)
    assert client.get(reverse("geo:hazard_edit", args=[zone.code])).status_code == _expect(
        role, MANAGERS, visible=visible
    )


@pytest.mark.authorization_matrix("geo:geojson")
@pytest.mark.parametrize("role", ROLES)
def test_geojson_by_role(client, network, role):
    client.force_login(network.users[role])
    response = client.get(reverse("geo:geojson"))
    assert response.status_code == _expect(role, EVERYONE_WITH_A_ROLE)
    if response.status_code == 200:
        codes = {f["properties"]["code"] for f in response.json()["features"]}
        assert network.hood.code in codes
        assert (network.other_hood.code in codes) == (role == "national_admin")


def test_anonymous_is_sent_to_login(client, network):
    response = client.get(reverse("geo:list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_list_search_matches_normalised_names(client, network):
    Area.objects.filter(pk=network.hood.pk).update(name_fa="کوی علوی", search_key="کوی علوی area")
    client.force_login(network.users["province_manager"])
    # Typed with Arabic yeh and kaf.
    response = client.get(reverse("geo:list"), {"q": "علوي"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "کوی علوی" in content
    assert network.city.name in content  # the trail of parents
    response = client.get(reverse("geo:list"), {"q": "nothing-like-this"})
    assert "کوی علوی" not in response.content.decode()


def test_list_shows_marginal_flag_and_population(client, network):
    Area.objects.filter(pk=network.hood.pk).update(is_marginal=True, population=5000)
    client.force_login(network.users["analyst"])
    content = client.get(reverse("geo:list")).content.decode()
    # Persian digits, grouped by thousands with the Arabic thousands separator.
    assert "۵٬۰۰۰" in content


def test_detail_lists_offices_agencies_and_hazards(client, network):
    zone = HazardZoneFactory(area=network.hood, name_fa="پهنه سیل‌گیر")
    # The agency's jurisdiction is the county: it serves the neighbourhood too.
    client.force_login(network.users["province_manager"])
    response = client.get(reverse("geo:detail", args=[network.hood.code]))
    content = response.content.decode()
    assert network.office.name in content
    assert network.agency.name in content
    assert network.other_agency.name not in content
    assert zone.name_fa in content
    assert network.county.name in content  # breadcrumb
    data = response.context["map_data"]
    assert {f["properties"]["kind"] for f in data["features"]} == {"area", "hazard"}


def test_liaison_sees_only_their_agency(client, network):
    second = AgencyFactory(province=network.province)
    second.jurisdiction.add(network.county)
    client.force_login(network.users["agency_liaison"])
    content = client.get(reverse("geo:detail", args=[network.hood.code])).content.decode()
    assert network.agency.name in content
    assert second.name not in content


def test_edit_post_saves_and_audits(client, network):
    client.force_login(network.users["province_manager"])
    url = reverse("geo:edit", args=[network.hood.code])
    form = client.get(url).context["form"]
    data = {
        "version": form.initial["version"],
        "name_fa": "زویه",
        "name_en": "Zoviyeh",
        "population": "12000",
        "households": "2500",
        "is_marginal": "on",
        "note": "",
        "boundary": json.dumps(SQUARE),
    }
    response = client.post(url, data)
    assert response.status_code == 302
    network.hood.refresh_from_db()
    assert (
        network.hood.name_fa == "زویه"
        and network.hood.population == 12000
        and network.hood.is_marginal
    )
    assert AuditLog.objects.filter(action="area.update").count() == 1


def test_edit_post_with_bad_geojson_shows_the_field_error(client, network):
    client.force_login(network.users["province_manager"])
    client.cookies["django_language"] = "en"
    url = reverse("geo:edit", args=[network.hood.code])
    with nothing_changes():
        response = client.post(
            url,
            {
                "version": "",
                "name_fa": "x",
                "boundary": json.dumps({"type": "Point", "coordinates": [1, 2]}),
            },
        )
    assert response.status_code == 200
    assert "boundary" in response.context["form"].errors
    assert "Polygon" in response.content.decode()


def test_edit_post_conflict_keeps_the_form(client, network):
    client.force_login(network.users["province_manager"])
    url = reverse("geo:edit", args=[network.hood.code])
    stale = client.get(url).context["form"].initial["version"]
    services.area_update(
        area=network.hood, acting_user=network.users["national_admin"], population=1
    )
    with nothing_changes():
        response = client.post(url, {"version": stale, "name_fa": "نام تازه", "population": "2"})
    assert response.status_code == 409
    content = response.content.decode()
    assert "نام تازه" in content
    assert response.context["form"].non_field_errors()
    assert Area.objects.get(pk=network.hood.pk).population == 1


def test_hazard_create_post(client, network):
    client.force_login(network.users["province_manager"])
    response = client.post(
        reverse("geo:hazard_create", args=[network.hood.code]),
        {
            "area": network.hood.pk,
            "code": "hasirabad",
            "name_fa": "حصیرآباد",
            "hazard_type": "flood",
            "risk_level": "4",
            "boundary": json.dumps(INNER),
        },
    )
    assert response.status_code == 302
    assert HazardZone.objects.get(code="hasirabad").area == network.hood


def test_hazard_create_cannot_choose_an_area_of_another_province(client, network):
    client.force_login(network.users["province_manager"])
    with nothing_changes():
        response = client.post(
            reverse("geo:hazard_create", args=[network.hood.code]),
            {
                "area": network.other_hood.pk,
                "code": "x",
                "name_fa": "x",
                "hazard_type": "flood",
                "risk_level": "4",
                "boundary": json.dumps(INNER),
            },
        )
    assert response.status_code == 200
    assert "area" in response.context["form"].errors


def _grow(network, count=8):
    """Several counties, neighbourhoods and hazard zones, so an N+1 shows."""
    for i in range(count):
        county = AreaFactory(level=Area.Level.COUNTY, parent=network.province, boundary=SQUARE)
        city = AreaFactory(level=Area.Level.CITY, parent=county)
        hood = AreaFactory(
            level=Area.Level.NEIGHBOURHOOD, parent=city, boundary=SQUARE, is_marginal=bool(i % 2)
        )
        HazardZoneFactory(area=hood)
        office = OfficeFactory(province=network.province, county=county)
        office.areas.add(hood)


@pytest.mark.query_count("geo:geojson")
def test_geojson_query_count_and_shape(client, network, django_assert_max_num_queries):
    _grow(network)
    client.force_login(network.users["province_manager"])
    with django_assert_max_num_queries(6):
        response = client.get(reverse("geo:geojson"), {"level": "county,neighbourhood"})
    data = response.json()
    assert data["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in data["features"]]
    assert kinds.count("hazard") == 8
    levels = {
        f["properties"]["level"] for f in data["features"] if f["properties"]["kind"] == "area"
    }
    assert levels == {"county", "neighbourhood"}
    feature = next(f for f in data["features"] if f["properties"]["code"] == network.hood.code)
    assert feature["geometry"]["type"] == "Polygon"
    assert set(feature["properties"]) >= {"name", "level", "code", "url"}
    assert feature["properties"]["url"] == reverse("geo:detail", args=[network.hood.code])


def test_geojson_within_an_area_and_without_hazards(client, network):
    HazardZoneFactory(area=network.hood)
    client.force_login(network.users["province_manager"])
    response = client.get(reverse("geo:geojson"), {"area": network.city.code, "hazards": "0"})
    assert [f["properties"]["code"] for f in response.json()["features"]] == [network.hood.code]
    assert client.get(reverse("geo:geojson"), {"area": network.other_hood.code}).status_code == 404


@pytest.mark.query_count("geo:list")
def test_list_query_count(client, network, django_assert_max_num_queries):
    _grow(network)
    client.force_login(network.users["province_manager"])
    with django_assert_max_num_queries(6):
        response = client.get(reverse("geo:list"))
    assert response.status_code == 200
    with django_assert_max_num_queries(7):
        client.get(reverse("geo:list"), {"q": "area"})


@pytest.mark.query_count("geo:detail")
def test_detail_query_count(client, network, django_assert_max_num_queries):
    _grow(network)
    client.force_login(network.users["province_manager"])
    with django_assert_max_num_queries(14):
        assert client.get(reverse("geo:detail", args=[network.province.code])).status_code == 200
