"""The demands API's JSON, field by field, against a recorded copy: the
schemas resolve from model instances, and this pins that every key, its
order and its value stay as clients read them. Values that differ per run
(codes, ids, dates) are replaced by placeholders before comparing."""

import json
import re
from pathlib import Path

import pytest
from django.test import Client

from tashil.accounts.models import ApiKey
from tashil.demands import services
from tests.api.test_demands_api import make, post, setup  # noqa: F401 - fixtures

RECORDED = Path(__file__).parent / "data" / "demand_responses.json"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def normalise(value, tokens: dict):
    if isinstance(value, dict):
        return {k: normalise(v, tokens) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, tokens) for v in value]
    if isinstance(value, str):
        for token, name in tokens.items():
            value = value.replace(token, name)
        if DATETIME.match(value):
            return "<datetime>"
        if DATE.match(value):
            return "<date>"
    return value


def responses(client, setup, make):  # noqa: F811
    demand = make(contact_consent=True)
    second = make(description="لامپ‌های کوچه ۵ خاموش است و شب تاریک است")
    office = setup.users["office_manager"]
    referral = services.demand_refer(demand=demand, acting_user=office, letter_number="۱۲/۳۴")
    services.follow_up_log(
        referral=referral, kind="call", outcome="no_answer", note="تماس", acting_user=office
    )
    client.force_login(office)
    out = {
        "list": client.get("/api/v1/demands/", {"sort": "oldest"}),
        "detail": client.get(f"/api/v1/demands/{demand.code}"),
        "accept": post(client, f"/api/v1/demands/{second.code}/accept", {"version": 1}),
        "referrals": client.get("/api/v1/referrals/"),
        "referral": client.get(f"/api/v1/referrals/{referral.pk}"),
        "follow_up": post(
            client,
            f"/api/v1/referrals/{referral.pk}/follow-ups",
            {"kind": "visit", "outcome": "promised", "note": "بازدید"},
        ),
    }
    liaison = Client()
    liaison.force_login(setup.users["agency_liaison"])
    out["liaison_referral"] = liaison.get(f"/api/v1/referrals/{referral.pk}")
    out["liaison_move"] = post(
        liaison,
        f"/api/v1/referrals/{referral.pk}/move",
        {"version": referral.version, "status": "received"},
    )
    _key, raw = ApiKey.create(name="Partner system")
    out["intake"] = Client().post(
        "/api/v1/demands/",
        data=json.dumps(
            {
                "category": setup.category.code,
                "area": setup.hood.code,
                "description": "آب آشامیدنی کوچه ۹ دو روز است قطع است",
            }
        ),
        content_type="application/json",
        headers={"X-API-Key": raw},
    )
    from tashil.demands.models import Demand

    tokens = {}
    for n, d in enumerate(Demand.objects.order_by("pk")):
        tokens[d.code] = f"<code{n}>"
        tokens[d.display_code] = f"<display{n}>"
        tokens[d.public_id] = f"<public{n}>"
    for name in ("agency", "other_agency"):
        tokens[getattr(setup, name).code] = f"<{name}>"
    for name in ("hood", "county", "province", "other_hood"):
        tokens[getattr(setup, name).code] = f"<{name}>"
    tokens[setup.office.code] = "<office>"
    # Names come from factory sequences, which run on across the suite.
    tokens[setup.agency.name] = "<agency_name>"
    tokens[setup.hood.name] = "<hood_name>"
    for role, user in setup.users.items():
        tokens[user.get_full_name() or user.username] = f"<{role}>"
    tokens = dict(sorted(tokens.items(), key=lambda item: -len(item[0])))
    statuses = {name: r.status_code for name, r in out.items()}
    bodies = {name: normalise(r.json(), tokens) for name, r in out.items()}
    return statuses, bodies, referral


def _ids(body, referral_pk):
    """Ids are the database's; compared by what they point to."""
    text = json.dumps(body, ensure_ascii=False)
    return json.loads(re.sub(rf'"(id|referral_id)": {referral_pk}\b', r'"\1": "<referral>"', text))


@pytest.mark.django_db
def test_responses_keep_their_recorded_shape_and_values(client, setup, make):  # noqa: F811
    statuses, bodies, referral = responses(client, setup, make)
    bodies = _ids(bodies, referral.pk)
    for body in bodies.values():
        for item in [body, *body.get("items", [])]:
            for ref in item.get("referrals", []) + [item]:
                for f in ref.get("follow_ups", []):
                    f["id"] = "<follow_up>"
        if "id" in body and body["id"] != "<referral>":
            body["id"] = "<follow_up>"
    got = {"statuses": statuses, "bodies": bodies}
    if not RECORDED.exists():  # pragma: no cover - writes the record once
        RECORDED.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n")
    recorded = json.loads(RECORDED.read_text())
    assert got == recorded
    # Key order is part of what clients read.
    for name, body in bodies.items():
        assert list(body) == list(recorded["bodies"][name]), name
