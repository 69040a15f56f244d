"""Cache-Control: no-store on everything that may carry personal data."""

import json

import pytest

from tashil.accounts.models import ApiKey
from tashil.agencies.models import RoutingRule
from tests.factories import DemandCategoryFactory


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.fixture
def category(network):
    category = DemandCategoryFactory(code="drinking-water", sla_working_days=5)
    RoutingRule.objects.create(category=category, area=network.province, agency=network.agency)
    return category


def _intake(network, category):
    return {
        "category": category.code,
        "area": network.hood.code,
        "description": "آب شرب محله از دیروز قطع است",
        "submitter_mobile": "0912 765 4321",
        "channel": "phone",
    }


@pytest.mark.parametrize("role", ["province_manager", "office_manager", "facilitator"])
def test_staff_pages_and_api_are_not_stored(client, network, role):
    client.force_login(network.users[role])
    for url in ("/demands/", "/api/v1/demands/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert no_store(response), url
        assert "private" in response["Cache-Control"]


def test_api_key_answers_and_the_tracking_page_are_not_stored(client, network, category):
    _key, raw = ApiKey.create(name="Partner system")
    response = client.post(
        "/api/v1/demands/",
        data=json.dumps(_intake(network, category)),
        content_type="application/json",
        headers={"X-API-Key": raw},
    )
    assert response.status_code == 201, response.content
    assert no_store(response)

    track = client.get(f"/track/{response.json()['code']}")
    assert track.status_code == 200
    assert no_store(track)
    assert no_store(client.get("/track"))


def test_public_board_form_and_static_files_stay_cacheable(client, network):
    for url in ("/board", "/submit", "/static/tashil/css/tashil.css"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not no_store(response), url
