"""One way to fetch a demand or a referral: `access_demand` / `access_referral`
answer 404 alike for a key that does not exist and for one that is not the
user's, and the pages, the API and Open311 all go through them."""

import pytest
from django.http import Http404
from django.urls import reverse

from tashil.agencies.models import RoutingRule
from tashil.demands import services
from tashil.demands.permissions import access_demand, access_referral

ABSENT_CODE = "ACDE3479"
ABSENT_PUBLIC_ID = "PACDE34797"


@pytest.fixture
def demands(demand_setup, submit):
    n = demand_setup
    RoutingRule.objects.create(category=n.category, area=n.other_province, agency=n.other_agency)
    admin = n.users["national_admin"]
    here = submit(acting_user=admin, is_listed=True)
    there = submit(area=n.other_hood, acting_user=admin, is_listed=False)
    services.demand_refer(demand=here, acting_user=admin)
    services.demand_refer(demand=there, acting_user=admin)
    return n, here, there


def test_access_demand_returns_what_is_visible_and_404s_the_rest(demands):
    n, here, there = demands
    manager = n.users["province_manager"]
    assert access_demand(manager, here.display_code.lower()) == here
    for key in (there.code, ABSENT_CODE, "not a code", "", None):
        with pytest.raises(Http404):
            access_demand(manager, key)
    for role in ("agency_liaison", "analyst", "no_role"):
        with pytest.raises(Http404):
            access_demand(n.users[role], here.code)


def test_access_referral_returns_what_is_visible_and_404s_the_rest(demands):
    n, here, there = demands
    mine, theirs = here.referrals.get(), there.referrals.get()
    liaison = n.users["agency_liaison"]
    assert access_referral(liaison, mine.pk) == mine
    assert access_referral(liaison, str(mine.pk), demand=here) == mine
    for pk in (theirs.pk, theirs.pk + 1000, 0, -1, 2**70, "x", None):
        with pytest.raises(Http404):
            access_referral(liaison, pk)
    with pytest.raises(Http404):
        access_referral(liaison, mine.pk, demand=there)


def test_pages_answer_404_alike(client, demands):
    n, here, there = demands
    client.force_login(n.users["facilitator"])
    assert client.get(reverse("demands:detail", args=[here.code])).status_code == 200
    absent = client.get(reverse("demands:detail", args=[ABSENT_CODE]))
    foreign = client.get(reverse("demands:detail", args=[there.code]))
    assert absent.status_code == foreign.status_code == 404
    theirs = there.referrals.get()
    assert client.get(reverse("demands:referral", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("demands:referral", args=[theirs.pk + 1000])).status_code == 404


def test_the_api_answers_404_alike(client, demands):
    n, here, there = demands
    client.force_login(n.users["facilitator"])
    assert client.get(f"/api/v1/demands/{here.code}").status_code == 200
    absent = client.get(f"/api/v1/demands/{ABSENT_CODE}")
    foreign = client.get(f"/api/v1/demands/{there.code}")
    assert absent.status_code == foreign.status_code == 404
    assert absent.json() == foreign.json()
    assert absent.json()["code"] == "not_found"


def test_open311_answers_404_alike(client, demands):
    _n, here, there = demands
    url = "/open311/v2/requests/{}.json"
    assert client.get(url.format(here.public_id)).status_code == 200
    absent = client.get(url.format(ABSENT_PUBLIC_ID))
    unlisted = client.get(url.format(there.public_id))
    # Neither the tracking code nor an unlisted demand is published.
    by_code = client.get(url.format(here.code))
    assert absent.status_code == unlisted.status_code == by_code.status_code == 404
    assert there.public_id in unlisted.content.decode()
    assert absent.json()[0]["code"] == unlisted.json()[0]["code"] == 404
