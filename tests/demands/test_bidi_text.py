"""Direction controls (U+202A-U+202E, U+2066-U+2069) never reach stored text,
whichever way a demand and its notes come in, so no title, list or Open311
answer shows an override that runs on into the text around it."""

import json
import uuid

import pytest
from django.core.cache import cache

from tashil.accounts.models import ApiKey
from tashil.core.text import BIDI_CONTROLS
from tashil.demands import services
from tashil.demands.models import Demand
from tashil.demo.api_keys import DEMO_RAW_KEY, load_api_keys
from tashil.geo import lookup

RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"
# A resident's name that would show as "Ahmadi Maryam" read backwards, and a
# description whose override is never closed.
NAME = f"مریم {RLO}احمدی{PDF}"
DESCRIPTION = f"آب آشامیدنی کوچه ۱۲ {RLO}سه روز است قطع است {LRI}0912"


def has_controls(text: str) -> bool:
    return any(c in text for c in BIDI_CONTROLS)


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    lookup.invalidate()
    yield
    cache.clear()


def stored(demand: Demand) -> str:
    demand.refresh_from_db()
    return " ".join([demand.title, demand.description, demand.submitter_name])


def test_staff_intake_stores_no_direction_controls(demand_setup):
    demand = services.demand_submit(
        channel="walk_in",
        category=demand_setup.category,
        area=demand_setup.hood,
        description=DESCRIPTION,
        title=f"{RLO}قطعی آب",
        submitter_name=NAME,
        acting_user=demand_setup.users["facilitator"],
    ).demand
    assert not has_controls(stored(demand))
    assert demand.description == "آب آشامیدنی کوچه 12 سه روز است قطع است 0912"
    assert demand.submitter_name == "مریم احمدی"
    assert demand.title == "قطعی آب"


def test_notes_reasons_and_follow_ups_store_no_direction_controls(demand_setup, submit):
    manager = demand_setup.users["office_manager"]
    demand = submit()
    services.demand_accept(demand=demand, acting_user=manager)
    demand.refresh_from_db()
    referral = services.demand_refer(demand=demand, acting_user=manager, note=f"فوری{RLO} است")
    follow_up = services.follow_up_log(
        referral=referral,
        kind="call",
        outcome="promised",
        acting_user=manager,
        note=f"{LRI}تماس گرفته شد",
    )
    referral.refresh_from_db()
    follow_up.refresh_from_db()
    assert referral.note == "فوری است"
    assert follow_up.note == "تماس گرفته شد"
    assert not any(has_controls(e.note + e.public_note) for e in demand.events.all())


def test_api_intake_stores_no_direction_controls(client, demand_setup):
    _key, raw = ApiKey.create(name="Partner system")
    response = client.post(
        "/api/v1/demands/",
        data=json.dumps(
            {
                "category": demand_setup.category.code,
                "area": demand_setup.hood.code,
                "description": DESCRIPTION,
                "submitter_name": NAME,
            }
        ),
        content_type="application/json",
        headers={"X-API-Key": raw},
    )
    assert response.status_code == 201, response.content
    assert not has_controls(stored(Demand.objects.get(code=response.json()["code"])))


def test_public_form_stores_no_direction_controls(client, demand_setup):
    response = client.post(
        "/submit",
        {
            "category": demand_setup.category.code,
            "area": demand_setup.hood.code,
            "description": DESCRIPTION,
            "submitter_name": NAME,
            "submitter_mobile": "09121234567",
            "idempotency_key": str(uuid.uuid4()),
            "website": "",
        },
    )
    assert response.status_code == 302, response.content
    assert not has_controls(stored(Demand.objects.get()))


def test_open311_intake_and_output_carry_no_direction_controls(client, demand_setup):
    load_api_keys()
    created = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": DEMO_RAW_KEY,
            "service_code": demand_setup.category.code,
            "lat": "31.35",
            "long": "48.65",
            "description": DESCRIPTION,
            "first_name": f"{RLO}مریم",
        },
    )
    assert created.status_code in (200, 201), created.content
    request_id = created.json()[0]["service_request_id"]
    demand = Demand.objects.get()
    assert not has_controls(stored(demand))

    published = client.get(f"/open311/v2/requests/{request_id}.json")
    assert published.status_code == 200
    body = published.content.decode()
    assert not has_controls(json.loads(body)[0]["description"])
    assert not has_controls(body) and not any(f"\\u{ord(c):04x}" in body for c in BIDI_CONTROLS)
    assert "سه روز است قطع است" in json.loads(body)[0]["description"]
