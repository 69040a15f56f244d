"""The tracking code is a secret between the office and the resident.

Open311, the board, the agency side and exports name a demand by its public
id; Open311 lists only what the resident made public; feedback needs a second
factor besides the code; and every lookup by code or id counts its misses."""

import re
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tashil.demands import services
from tashil.demands.models import (
    Demand,
    DemandEvent,
    DemandStatus,
    Feedback,
)
from tashil.demands.tracking import CODE_ALPHABET, PUBLIC_ID_LENGTH
from tashil.notifications.models import Notification

BASE = "/open311/v2"
MOBILE = "09121234567"  # on file as +989121234567: last four 4567


def fa(message, **params):
    with translation.override("fa"):
        text = gettext(message)
    return text % params if params else text


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def public(demand_setup):
    """A demand a resident sent through the public form."""
    return services.demand_submit(
        channel="public_web",
        category=demand_setup.category,
        area=demand_setup.hood,
        description="آب آشامیدنی کوچه ۱۲ سه روز است قطع است",
        submitter_mobile=MOBILE,
    ).demand


def close(demand, n):
    services.demand_accept(demand=demand, acting_user=n.users["office_manager"])
    demand.refresh_from_db()
    services.demand_close(
        demand=demand,
        outcome=DemandStatus.RESOLVED,
        acting_user=n.users["office_manager"],
        reason="لوله‌کشی انجام شد",
    )
    demand.refresh_from_db()
    return demand


def snapshot(demand):
    demand.refresh_from_db()
    return (
        demand.status,
        demand.version,
        demand.closed_at,
        DemandEvent.objects.filter(demand=demand).count(),
        Feedback.objects.filter(demand=demand).count(),
    )


# --- the public id ------------------------------------------------------------------------


def test_every_demand_has_its_own_public_id(public, submit):
    other = submit()
    for demand in (public, other):
        assert len(demand.public_id) == PUBLIC_ID_LENGTH and demand.public_id.startswith("P")
        assert set(demand.public_id) <= set(CODE_ALPHABET)
        assert demand.public_id != demand.code
    assert public.public_id != other.public_id


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_carries_the_public_id_and_never_the_tracking_code(client, public, fmt):
    for url in (f"{BASE}/requests.{fmt}", f"{BASE}/requests/{public.public_id}.{fmt}"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        if fmt == "json":
            ids = [r["service_request_id"] for r in response.json()]
        else:
            ids = [r.findtext("service_request_id") for r in ET.fromstring(response.content)]
        assert ids == [public.public_id]
        assert public.code not in body and public.display_code not in body
    token = client.get(f"{BASE}/tokens/{public.public_id}.{fmt}")
    assert token.status_code == 200 and public.code not in token.content.decode()


def test_the_tracking_code_is_not_an_open311_id(client, public):
    for url in (
        f"{BASE}/requests/{public.code}.json",
        f"{BASE}/requests/{public.display_code}.json",
        f"{BASE}/tokens/{public.code}.json",
    ):
        assert client.get(url).status_code == 404
    assert client.get(f"{BASE}/requests.json", {"service_request_id": public.code}).json() == []


def test_staff_walk_ins_are_not_listed_unless_the_resident_agreed(client, public, submit):
    walk_in, agreed = submit(), submit(is_listed=True)
    assert (walk_in.is_listed, agreed.is_listed, public.is_listed) == (False, True, True)
    listed = {r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()}
    assert listed == {public.public_id, agreed.public_id}
    # Not listed answers exactly like missing.
    hidden = client.get(f"{BASE}/requests/{walk_in.public_id}.json")
    missing = client.get(f"{BASE}/requests/PACDEFHJKM.json")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()[0]["code"] == missing.json()[0]["code"] == 404
    assert client.get(f"{BASE}/tokens/{walk_in.public_id}.json").status_code == 404
    by_id = client.get(f"{BASE}/requests.json", {"service_request_id": walk_in.public_id})
    assert by_id.json() == []


def test_open311_post_answers_the_public_id(client, demand_setup):
    from tashil.demo.api_keys import DEMO_RAW_KEY, load_api_keys

    load_api_keys()
    response = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": DEMO_RAW_KEY,
            "service_code": "drinking-water",
            "address_id": demand_setup.hood.code,
            "description": "آب آشامیدنی کوچه ۱۲ سه روز است قطع است",
        },
    )
    assert response.status_code == 200, response.content
    demand = Demand.objects.get()
    (created,) = response.json()
    assert created["service_request_id"] == demand.public_id
    assert demand.is_listed
    # Only the client that sent it on the resident's behalf is told the code.
    assert demand.display_code in created["service_notice"]


def test_staff_intake_form_asks_whether_to_publish(client, demand_setup):
    n = demand_setup
    client.force_login(n.users["facilitator"])
    page = client.get(reverse("demands:create")).content.decode()
    assert 'name="is_listed"' in page
    assert re.search(r'<input type="checkbox" name="is_listed"[^>]*>', page)
    assert "checked" not in re.search(r'<input type="checkbox" name="is_listed"[^>]*>', page)[0]
    data = {
        "area": n.hood.code,
        "category": n.category.code,
        "description": "چراغ‌های خیابان اصلی خاموش است",
        "submitter_kind": "resident",
        "channel": "walk_in",
        "idempotency_key": "staff-one",
    }
    client.post(reverse("demands:create"), data)
    client.post(
        reverse("demands:create"), {**data, "idempotency_key": "staff-two", "is_listed": "on"}
    )
    assert dict(Demand.objects.values_list("idempotency_key", "is_listed")) == {
        "staff-one": False,
        "staff-two": True,
    }


def test_the_board_carries_no_codes(client, public, submit):
    demands = [public, submit(), submit(is_listed=True)]
    html = client.get("/board").content.decode()
    for demand in demands:
        assert demand.code not in html and demand.display_code not in html


def test_supporting_reveals_the_public_id_not_the_code(client, public):
    from tashil.demands.public_forms import support_token

    response = client.post(
        "/public/support", {"token": support_token(public), "submitter_mobile": "09351112233"}
    )
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and public.public_id in html
    assert public.code not in html and public.display_code not in html


def test_the_agency_side_sees_the_public_id(client, demand_setup, submit):
    n = demand_setup
    demand = submit()
    referral = services.demand_refer(demand=demand, acting_user=n.users["office_manager"])
    client.force_login(n.users["agency_liaison"])
    for url in (reverse("demands:referrals"), reverse("demands:referral", args=[referral.pk])):
        html = client.get(url).content.decode()
        assert demand.public_id in html, url
        assert demand.code not in html and demand.display_code not in html, url
    api = [client.get("/api/v1/referrals/"), client.get(f"/api/v1/referrals/{referral.pk}")]
    for response in api:
        assert response.status_code == 200
        body = response.content.decode()
        assert demand.public_id in body and demand.code not in body
    # The office still sees the code it gives the resident.
    client.force_login(n.users["office_manager"])
    item = client.get("/api/v1/referrals/").json()["items"][0]
    assert item["demand_code"] == demand.code and item["demand_public_id"] == demand.public_id
    html = client.get(reverse("demands:referral", args=[referral.pk])).content.decode()
    assert demand.display_code in html


# --- feedback needs a second factor -----------------------------------------------------------


def feedback(client, demand, ip="10.0.0.1", **data):
    return client.post(
        reverse("public:feedback", args=[demand.code]),
        {"satisfied": "no", "comment": "هنوز آب نیست", **data},
        REMOTE_ADDR=ip,
    )


def test_the_code_alone_does_not_reopen(client, demand_setup, public):
    demand = close(public, demand_setup)
    before = snapshot(demand)
    response = feedback(client, demand)
    assert response.status_code == 400
    assert (
        fa("Enter the last four digits of the mobile number you gave.") in response.content.decode()
    )
    assert snapshot(demand) == before


@pytest.mark.parametrize("wrong", ["1234", "0000", "123456", "4566"])
def test_a_wrong_factor_changes_nothing(client, demand_setup, public, wrong):
    demand = close(public, demand_setup)
    before = snapshot(demand)
    response = feedback(client, demand, check=wrong)
    assert response.status_code == 400
    assert (
        fa(
            "This does not match the mobile number on file for this demand, or the SMS code has "
            "expired. Nothing was changed."
        )
        in response.content.decode()
    )
    assert snapshot(demand) == before


@pytest.mark.parametrize("check", ["4567", "۴۵۶۷", " 45 67 "])
def test_the_last_four_digits_are_accepted(client, demand_setup, public, check):
    demand = close(public, demand_setup)
    response = feedback(client, demand, check=check)
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.status == DemandStatus.ACCEPTED and demand.closed_at is None
    assert Feedback.objects.get(demand=demand).satisfied is False


def test_a_code_by_sms_works_once(client, demand_setup, public):
    demand = close(public, demand_setup)
    page = client.get(reverse("public:track", args=[demand.code])).content.decode()
    assert reverse("public:feedback_code", args=[demand.code]) in page
    response = client.post(reverse("public:feedback_code", args=[demand.code]))
    assert response.status_code == 302
    sms = Notification.objects.filter(topic=f"demand:{demand.pk}:feedback-code").get()
    assert sms.recipient == "+989121234567" and sms.channel == "sms"
    code = re.search(r"\b(\d{6})\b", sms.body)[1]
    before = snapshot(demand)
    # A wrong six-digit code is refused.
    wrong = str((int(code) + 1) % 1_000_000).zfill(6)
    assert feedback(client, demand, check=wrong).status_code == 400
    assert snapshot(demand) == before
    assert feedback(client, demand, check=code, satisfied="yes").status_code == 302
    assert Feedback.objects.get(demand=demand).satisfied is True


def test_a_used_sms_code_is_spent(client, demand_setup, public):
    from tashil.demands import resident_factor

    demand = close(public, demand_setup)
    client.post(reverse("public:feedback_code", args=[demand.code]))
    code = re.search(r"\b(\d{6})\b", Notification.objects.latest("pk").body)[1]
    assert resident_factor.verify(demand, code, ip="10.0.0.9")
    assert not resident_factor.verify(demand, code, ip="10.0.0.9")


def test_sms_codes_are_limited_per_demand(client, demand_setup, public, settings):
    settings.PUBLIC_FEEDBACK_SMS_PER_DEMAND = (2, 3600)
    demand = close(public, demand_setup)
    url = reverse("public:feedback_code", args=[demand.code])
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        client.post(url, REMOTE_ADDR=ip)
    assert Notification.objects.filter(topic=f"demand:{demand.pk}:feedback-code").count() == 2


def test_without_a_mobile_feedback_is_not_taken_online(client, demand_setup, submit):
    demand = close(submit(submitter_mobile=""), demand_setup)
    html = client.get(reverse("public:track", args=[demand.code])).content.decode()
    assert 'data-testid="feedback-offline"' in html and 'data-testid="feedback"' not in html
    assert (
        fa(
            "No mobile number is on file for this demand, so feedback cannot be given online. "
            "Please contact the office."
        )
        in html
    )
    before = snapshot(demand)
    for check in ("", "0000", "123456"):
        feedback(client, demand, check=check)
    client.post(reverse("public:feedback_code", args=[demand.code]))
    assert snapshot(demand) == before
    assert not Notification.objects.filter(topic=f"demand:{demand.pk}:feedback-code").exists()


# --- rate limits on every lookup -------------------------------------------------------------


@pytest.fixture
def tight(settings):
    settings.PUBLIC_TRACK_MISSES_PER_IP = (3, 600)
    return 3


def test_wrong_factors_count_and_end_in_a_429(client, demand_setup, public, tight):
    demand = close(public, demand_setup)
    before = snapshot(demand)
    for wrong in ("0000", "1111", "2222"):
        assert feedback(client, demand, check=wrong).status_code == 400
    # Even the right digits are refused from this address now.
    blocked = feedback(client, demand, check="4567")
    assert blocked.status_code == 429
    assert snapshot(demand) == before
    assert (
        client.get(reverse("public:track", args=[demand.code]), REMOTE_ADDR="10.0.0.1").status_code
        == 429
    )


def test_wrong_factors_from_many_addresses_lock_the_demand(client, demand_setup, public, settings):
    settings.PUBLIC_FEEDBACK_FACTOR_MISSES_PER_DEMAND = (3, 3600)
    demand = close(public, demand_setup)
    before = snapshot(demand)
    for i in range(3):
        assert feedback(client, demand, ip=f"10.0.1.{i}", check=f"{i}{i}{i}{i}").status_code == 400
    locked = feedback(client, demand, ip="10.0.2.1", check="4567")
    assert locked.status_code == 429
    assert (
        fa(
            "Too many wrong answers were given for this demand. Please try again in "
            "%(minutes)s minutes, or contact the office.",
            minutes="۶۰",
        )
        in locked.content.decode()
    )
    assert snapshot(demand) == before


def test_unknown_codes_on_feedback_count(client, demand_setup, public, tight):
    for guess in ("ACDEFHJK", "ACDEFHJM", "ACDEFHJN"):
        response = client.post(f"/track/{guess}/feedback", {"satisfied": "no"})
        assert response.status_code == 404
    assert client.post(f"/track/{public.code}/feedback", {"satisfied": "no"}).status_code == 429


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/requests/PACDEFHJK{{i}}.json",
        f"{BASE}/tokens/PACDEFHJK{{i}}.json",
        f"{BASE}/requests.json?service_request_id=PACDEFHJK{{i}}",
    ],
)
def test_open311_lookups_by_id_count_misses(client, public, tight, url):
    for i in "347":
        response = client.get(url.format(i=i))
        assert response.status_code in (200, 404)
    blocked = client.get(f"{BASE}/requests/{public.public_id}.json")
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "600"
    (error,) = blocked.json()
    assert error["code"] == 429
    assert error["description"] == fa(
        "Too many requests. Try again in %(minutes)s minutes.", minutes=10
    )
    english = client.get(
        f"{BASE}/requests/{public.public_id}.xml", headers={"Accept-Language": "en"}
    )
    assert english.status_code == 429 and b"Too many requests" in english.content
    # The list without ids is not a lookup, and other addresses are not affected.
    assert client.get(f"{BASE}/requests.json").status_code == 200
    assert (
        client.get(f"{BASE}/requests/{public.public_id}.json", REMOTE_ADDR="10.9.9.9").status_code
        == 200
    )


def test_open311_and_track_share_one_budget(client, public, tight):
    client.get(f"{BASE}/requests/PACDEFHJK3.json")
    client.get("/track/ACDEFHJK")
    client.get(f"{BASE}/tokens/PACDEFHJK3.json")
    assert client.get(f"/track/{public.code}").status_code == 429


def test_hits_never_count(client, public, tight):
    for _ in range(10):
        assert client.get(f"{BASE}/requests/{public.public_id}.json").status_code == 200
        assert client.get(f"/track/{public.code}").status_code == 200


def test_api_lookups_by_code_count_misses(client, demand_setup, submit, settings):
    settings.API_LOOKUP_MISSES_PER_USER = (3, 600)
    demand = submit()
    client.force_login(demand_setup.users["office_manager"])
    assert client.get(f"/api/v1/demands/{demand.code}").status_code == 200
    for guess in ("ACDEFHJK", "ACDEFHJM", "ACDEFHJN"):
        assert client.get(f"/api/v1/demands/{guess}").status_code == 404
    blocked = client.get(f"/api/v1/demands/{demand.code}", headers={"Accept-Language": "fa"})
    assert blocked.status_code == 429
    assert blocked.json()["message"] == fa(
        "Too many tracking codes that were not found. Try again in %(minutes)s minutes.",
        minutes=10,
    )
    # Another user is not affected.
    client.force_login(demand_setup.users["province_manager"])
    assert client.get(f"/api/v1/demands/{demand.code}").status_code == 200


def test_one_open311_list_cannot_try_many_ids(client, public, tight):
    guesses = [f"PACDEFHJ{a}{b}" for a in "3479" for b in "3479"]
    response = client.get(
        f"{BASE}/requests.json", {"service_request_id": ",".join([*guesses, public.public_id])}
    )
    assert response.status_code == 429
    assert public.public_id not in response.content.decode()
