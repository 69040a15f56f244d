"""The read API: authentication, scope per role, the error shape, the schema."""

import pytest

from tests.roles import ROLES


@pytest.mark.django_db
def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Tashil API"
    assert "/api/v1/offices/" in schema["paths"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/api/v1/offices/", "/api/v1/areas/", "/api/v1/agencies/", "/api/v1/agencies/categories"],
)
def test_anonymous_calls_get_a_json_401_in_persian(client, url):
    response = client.get(url)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthenticated"
    assert body["field"] is None
    assert "وارد" in body["message"]


# role -> (sees own office, sees other province's office)
OFFICE_VISIBILITY = {
    "national_admin": (True, True),
    "province_manager": (True, False),
    "office_manager": (True, False),
    "facilitator": (True, False),
    "agency_liaison": (True, False),
    "analyst": (True, False),
    "no_role": (False, False),
}


@pytest.mark.authorization_matrix("api:get_office", "api:list_offices")
@pytest.mark.parametrize("role", ROLES)
def test_offices_are_scoped_per_role(client, network, role):
    client.force_login(network.users[role])
    codes = {o["code"] for o in client.get("/api/v1/offices/").json()}
    own, other = OFFICE_VISIBILITY[role]
    assert (network.office.code in codes) is own
    assert (network.other_office.code in codes) is other
    detail = client.get(f"/api/v1/offices/{network.other_office.code}")
    assert detail.status_code == (200 if other else 404)
    if not other:
        assert detail.json() == {
            "code": "not_found",
            "message": detail.json()["message"],
            "field": None,
        }


AGENCY_VISIBILITY = {
    "national_admin": (True, True),
    "province_manager": (True, False),
    "office_manager": (True, False),
    "facilitator": (True, False),
    "agency_liaison": (True, False),
    "analyst": (True, False),
    "no_role": (False, False),
}


@pytest.mark.authorization_matrix("api:list_agencies")
@pytest.mark.parametrize("role", ROLES)
def test_agencies_are_scoped_per_role(client, network, role):
    client.force_login(network.users[role])
    codes = {a["code"] for a in client.get("/api/v1/agencies/").json()}
    own, other = AGENCY_VISIBILITY[role]
    assert (network.agency.code in codes) is own
    assert (network.other_agency.code in codes) is other


@pytest.mark.authorization_matrix("api:list_areas")
@pytest.mark.parametrize("role", ROLES)
def test_areas_are_scoped_to_the_users_provinces(client, network, role):
    client.force_login(network.users[role])
    codes = {a["code"] for a in client.get("/api/v1/areas/").json()}
    sees_own = role != "no_role"
    assert (network.hood.code in codes) is sees_own
    assert (network.other_hood.code in codes) is (role == "national_admin")


def test_area_search_uses_normalised_keys(client, network):
    from tashil.geo.models import Area

    network.hood.name_fa = "کوی سیاحی"
    network.hood.refresh_derived_fields()
    network.hood.save()
    client.force_login(network.users["province_manager"])
    # Arabic yeh and kaf in the query still find the Persian spelling.
    codes = [a["code"] for a in client.get("/api/v1/areas/", {"q": "كوي سياحي"}).json()]
    assert codes == [network.hood.code]
    assert Area.objects.count() > 1


@pytest.mark.query_count("api:list_offices")
def test_office_list_query_count_does_not_grow(client, network, django_assert_max_num_queries):
    from tests.factories import OfficeFactory

    for _ in range(15):
        office = OfficeFactory(province=network.province, county=network.county)
        office.areas.add(network.hood)
    client.force_login(network.users["province_manager"])
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/offices/")
    assert len(response.json()) == 16


def test_english_error_messages_for_english_users(client):
    response = client.get("/api/v1/offices/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["message"] == "Log in to use the API."
