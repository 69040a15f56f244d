"""The demands REST API: scope per role, every action × role, intake by staff
and by API key, the version conflict, query counts and the error language."""

import datetime as dt
import json

import pytest
from django.utils import translation

from tashil.accounts.models import ApiKey
from tashil.agencies.models import RoutingRule
from tashil.core.models import AuditLog
from tashil.demands import services
from tashil.demands.models import (
    Demand,
    DemandEvent,
    DemandStatus,
    FollowUp,
    Referral,
    ReferralStatus,
)
from tests.factories import DemandCategoryFactory
from tests.roles import ROLES_AND_ANONYMOUS

OFFICE_SIDE = {"national_admin", "province_manager", "office_manager", "facilitator"}
DESCRIPTION = "آب آشامیدنی کوچه ۱۲ سه روز است قطع است"


@pytest.fixture
def setup(network):
    parent = DemandCategoryFactory(code="water", name_fa="آب", name_en="Water")
    category = DemandCategoryFactory(
        code="drinking-water",
        name_fa="آب آشامیدنی",
        name_en="Drinking water",
        parent=parent,
        sla_working_days=5,
    )
    RoutingRule.objects.create(category=category, area=network.province, agency=network.agency)
    RoutingRule.objects.create(
        category=category, area=network.other_province, agency=network.other_agency
    )
    network.office.opened_on = dt.date(2018, 7, 15)
    network.office.save()
    network.parent_category, network.category = parent, category
    return network


@pytest.fixture
def make(setup):
    """A demand in the first province (or `hood`), recorded by the national admin."""

    def demand(hood=None, **overrides):
        values = dict(
            channel="walk_in",
            category=setup.category,
            area=hood or setup.hood,
            description=DESCRIPTION,
            submitter_name="مریم احمدی",
            submitter_mobile="09121234567",
            acting_user=setup.users["national_admin"],
        )
        values.update(overrides)
        return services.demand_submit(**values).demand

    return demand


def as_role(client, network, role):
    if role != "anonymous":
        client.force_login(network.users[role])
    return client


def post(client, url, data=None, **headers):
    return client.post(
        url, data=json.dumps(data or {}), content_type="application/json", headers=headers
    )


def snapshot():
    """Everything a denied request must leave as it was."""
    return (
        list(
            Demand.objects.order_by("pk").values_list("pk", "status", "version", "supporters_count")
        ),
        list(Referral.objects.order_by("pk").values_list("pk", "status", "version")),
        DemandEvent.objects.count(),
        FollowUp.objects.count(),
        AuditLog.objects.count(),
    )


# --- reading -----------------------------------------------------------------------------------

# role -> (sees the demand of its province, sees the other province's demand)
LIST_VISIBILITY = {
    "national_admin": (True, True),
    "province_manager": (True, False),
    "office_manager": (True, False),
    "facilitator": (True, False),
    "agency_liaison": (False, False),
    "analyst": (False, False),
    "no_role": (False, False),
}


@pytest.mark.authorization_matrix("api:list_demands")
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_demand_list_is_scoped_per_role(client, setup, make, role):
    own, other = make(), make(hood=setup.other_hood)
    response = as_role(client, setup, role).get("/api/v1/demands/")
    if role == "anonymous":
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
        return
    assert response.status_code == 200
    codes = {d["code"] for d in response.json()["items"]}
    sees_own, sees_other = LIST_VISIBILITY[role]
    assert (own.code in codes) is sees_own
    assert (other.code in codes) is sees_other


@pytest.mark.authorization_matrix("api:get_demand")
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_demand_detail_per_role_and_contact_only_for_the_office_side(client, setup, make, role):
    demand = make()
    response = as_role(client, setup, role).get(f"/api/v1/demands/{demand.display_code.lower()}")
    if role == "anonymous":
        assert response.status_code == 401
    elif role in OFFICE_SIDE:
        assert response.status_code == 200
        body = response.json()
        assert body["code"] == demand.code and body["version"] == 1
        assert body["contact"] == {
            "name": "مریم احمدی",
            "mobile": "+989121234567",
            "consent": False,
        }
        assert body["events"][0]["kind"] == "submitted"
    else:
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert "09121234567" not in response.content.decode()


def test_other_provinces_demand_is_404_for_the_province_manager(client, setup, make):
    other = make(hood=setup.other_hood)
    client.force_login(setup.users["province_manager"])
    assert client.get(f"/api/v1/demands/{other.code}").status_code == 404


def test_filters_search_and_pagination(client, setup, make):
    water = make(description="آب آشامیدنی کوچه ۱۲ قطع است")
    make(description="لامپ‌های کوچه ۵ خاموش است و شب تاریک است")
    referred = make(description="فشار آب در کوچه ۷ بسیار کم است")
    services.demand_refer(demand=referred, acting_user=setup.users["office_manager"])
    client.force_login(setup.users["office_manager"])

    def codes(**params):
        response = client.get("/api/v1/demands/", params)
        assert response.status_code == 200, response.content
        return {d["code"] for d in response.json()["items"]}

    # Arabic yeh and kaf, Arabic-Indic digits: the normalised key still matches.
    assert codes(q="كوچه ١٢") == {water.code}
    assert codes(q=water.display_code) == {water.code}
    assert codes(status="referred") == {referred.code}
    assert codes(agency=setup.agency.code) == {referred.code}
    assert codes(sla_state="on_track") == {referred.code}
    assert (
        codes(category="water") == codes(category="drinking-water")
        and len(codes(category="water")) == 3
    )
    assert codes(area=setup.county.code) == codes()
    today = dt.date.today()
    assert len(codes(submitted_from=today.isoformat(), submitted_to=today.isoformat())) == 3
    assert codes(submitted_to=(today - dt.timedelta(days=2)).isoformat()) == set()

    page = client.get("/api/v1/demands/", {"page_size": 2, "page": 2, "sort": "oldest"}).json()
    assert page["count"] == 3 and page["page_size"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["code"] == referred.code

    bad = client.get("/api/v1/demands/", {"agency": "no-such-agency"})
    assert bad.status_code == 400 and bad.json()["field"] == "agency"


@pytest.mark.query_count("api:list_demands")
def test_demand_list_query_count_does_not_grow(client, setup, make, django_assert_max_num_queries):
    client.force_login(setup.users["office_manager"])
    for i in range(30):
        demand = make(description=f"{DESCRIPTION} شماره {i}")
        if i % 3 == 0:
            services.demand_refer(demand=demand, acting_user=setup.users["office_manager"])
    # The first request fills the per-process caches (the provinces' login
    # rules); the count is of a request in the steady state.
    client.get("/api/v1/demands/")
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/demands/", {"page_size": 100, "agency": setup.agency.code})
    assert response.status_code == 200 and response.json()["count"] == 10
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/demands/", {"page_size": 100})
    assert len(response.json()["items"]) == 30


@pytest.mark.query_count("api:list_referrals")
def test_referral_list_query_count_does_not_grow(
    client, setup, make, django_assert_max_num_queries
):
    for _ in range(25):
        services.demand_refer(demand=make(), acting_user=setup.users["office_manager"])
    client.force_login(setup.users["agency_liaison"])
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/referrals/", {"page_size": 100})
    assert response.status_code == 200 and len(response.json()["items"]) == 25


# --- intake ------------------------------------------------------------------------------------


def intake(setup, **overrides):
    return {
        "category": setup.category.code,
        "area": setup.hood.code,
        "description": DESCRIPTION,
        "submitter_mobile": "0912 765 4321",
        "channel": "phone",
        **overrides,
    }


@pytest.mark.authorization_matrix("api:list_demands")
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_staff_intake_per_role_and_denied_writes_nothing(client, setup, role):
    before = snapshot()
    response = post(as_role(client, setup, role), "/api/v1/demands/", intake(setup))
    if role in OFFICE_SIDE:
        assert response.status_code == 201, response.content
        demand = Demand.objects.get(code=response.json()["code"])
        assert demand.channel == "phone" and demand.office == setup.office
        assert demand.created_by == setup.users[role]
        assert demand.submitter_mobile == "+989127654321"
    else:
        assert response.status_code == (401 if role == "anonymous" else 403)
        assert snapshot() == before


def test_api_key_intake_and_its_idempotency(client, setup):
    api_key, raw = ApiKey.create(name="Partner system")
    headers = {"X-API-Key": raw, "Idempotency-Key": "req-42"}
    first = post(client, "/api/v1/demands/", intake(setup, channel="walk_in"), **headers)
    assert first.status_code == 201, first.content
    again = post(client, "/api/v1/demands/", intake(setup), **headers)
    assert again.status_code == 200
    assert again.json()["code"] == first.json()["code"] and again.json()["created"] is False
    demand = Demand.objects.get(code=first.json()["code"])
    assert demand.channel == "api" and demand.created_by is None
    assert demand.events.get(kind="submitted").data["api_client"] == "Partner system"
    assert Demand.objects.count() == 1

    before = snapshot()
    wrong = post(client, "/api/v1/demands/", intake(setup), **{"X-API-Key": "not-a-key"})
    assert wrong.status_code == 401
    api_key.is_active = False
    api_key.save()
    assert post(client, "/api/v1/demands/", intake(setup), **{"X-API-Key": raw}).status_code == 401
    assert snapshot() == before


def test_api_key_does_not_open_the_staff_endpoints(client, setup, make):
    _key, raw = ApiKey.create(name="Partner system")
    demand = make()
    assert client.get("/api/v1/demands/", headers={"X-API-Key": raw}).status_code == 401
    response = post(
        client, f"/api/v1/demands/{demand.code}/accept", {"version": 1}, **{"X-API-Key": raw}
    )
    assert response.status_code == 401
    demand.refresh_from_db()
    assert demand.status == DemandStatus.NEW


def test_intake_errors_name_the_field(client, setup):
    client.force_login(setup.users["facilitator"])
    before = snapshot()
    response = post(client, "/api/v1/demands/", intake(setup, description="<b>کم</b>"))
    assert response.status_code == 400
    assert response.json()["field"] == "description"
    response = post(client, "/api/v1/demands/", intake(setup, area="nowhere"))
    assert response.status_code == 400 and response.json()["field"] == "area"
    response = post(client, "/api/v1/demands/", intake(setup, submitter_kind="alien"))
    assert response.status_code == 422 and response.json()["field"] == "submitter_kind"
    assert snapshot() == before


# --- actions × roles -----------------------------------------------------------------------------


def _new(make, setup):
    return make()


def _accepted(make, setup):
    demand = make()
    services.demand_accept(demand=demand, acting_user=setup.users["office_manager"])
    return demand


def _with_duplicate(make, setup):
    original = make()
    setup.merge_target = original
    return make(submitter_mobile="09351112233")


def _referred(make, setup):
    demand = make()
    services.demand_refer(demand=demand, acting_user=setup.users["office_manager"])
    return demand


DEMAND_ACTIONS = {
    "accept": (_new, lambda s, d: {}, DemandStatus.ACCEPTED),
    "request-info": (
        _new,
        lambda s, d: {"message": "نشانی دقیق کوچه را بفرستید"},
        DemandStatus.NEEDS_INFO,
    ),
    "reject": (_new, lambda s, d: {"reason": "در حوزه دفتر نیست"}, DemandStatus.REJECTED),
    "merge": (
        _with_duplicate,
        lambda s, d: {"into": s.merge_target.display_code},
        DemandStatus.MERGED,
    ),
    "refer": (
        _accepted,
        lambda s, d: {"letter_number": "۱۲۳/الف", "letter_date": "1403/05/12"},
        DemandStatus.REFERRED,
    ),
    "close": (
        _referred,
        lambda s, d: {"outcome": "resolved", "reason": "آب وصل شد"},
        DemandStatus.RESOLVED,
    ),
}


@pytest.mark.authorization_matrix(
    "api:accept_demand",
    "api:close_demand",
    "api:merge_demand",
    "api:refer_demand",
    "api:reject_demand",
    "api:request_info",
)
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
@pytest.mark.parametrize("action", DEMAND_ACTIONS)
def test_demand_actions_per_role(client, setup, make, action, role):
    prepare, payload, expected = DEMAND_ACTIONS[action]
    demand = prepare(make, setup)
    demand.refresh_from_db()
    before = snapshot()
    body = {"version": demand.version, **payload(setup, demand)}
    response = post(as_role(client, setup, role), f"/api/v1/demands/{demand.code}/{action}", body)
    if role in OFFICE_SIDE:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == expected
        assert response.json()["version"] > demand.version
        demand.refresh_from_db()
        assert demand.status == expected
    else:
        assert response.status_code == (401 if role == "anonymous" else 404)
        assert snapshot() == before


def test_refer_records_the_letter_and_routes_by_default(client, setup, make):
    demand = _accepted(make, setup)
    client.force_login(setup.users["facilitator"])
    response = post(
        client,
        f"/api/v1/demands/{demand.code}/refer",
        {"version": 2, "letter_number": "۱۲۳/الف", "letter_date": "1403/05/12"},
    )
    referral = response.json()["referrals"][0]
    assert referral["agency_code"] == setup.agency.code
    assert referral["letter_number"] == "123/الف"
    assert referral["letter_date"] == "2024-08-02"
    assert referral["sla_state"] == "on_track"


def test_merge_carries_supporters_over(client, setup, make):
    duplicate = _with_duplicate(make, setup)
    client.force_login(setup.users["office_manager"])
    response = post(
        client,
        f"/api/v1/demands/{duplicate.code}/merge",
        {"version": 1, "into": setup.merge_target.code},
    )
    assert response.json()["merged_into"] == setup.merge_target.code
    setup.merge_target.refresh_from_db()
    assert setup.merge_target.supporters_count == 2


# --- referrals × roles ------------------------------------------------------------------------------

REFERRAL_VISIBILITY = {
    "national_admin": 200,
    "province_manager": 200,
    "office_manager": 200,
    "facilitator": 200,
    "agency_liaison": 200,
    "analyst": 404,
    "no_role": 404,
    "anonymous": 401,
}


@pytest.mark.authorization_matrix("api:get_referral", "api:list_referrals")
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_referral_list_and_detail_per_role(client, setup, make, role):
    referral = services.demand_refer(demand=make(), acting_user=setup.users["office_manager"])
    other = services.demand_refer(
        demand=make(hood=setup.other_hood), acting_user=setup.users["national_admin"]
    )
    as_role(client, setup, role)
    listing = client.get("/api/v1/referrals/")
    detail = client.get(f"/api/v1/referrals/{referral.pk}")
    assert detail.status_code == REFERRAL_VISIBILITY[role]
    if role == "anonymous":
        assert listing.status_code == 401
        return
    ids = {r["id"] for r in listing.json()["items"]}
    assert (referral.pk in ids) is (REFERRAL_VISIBILITY[role] == 200)
    assert (other.pk in ids) is (role == "national_admin")
    other_detail = client.get(f"/api/v1/referrals/{other.pk}")
    assert other_detail.status_code == (200 if role == "national_admin" else 404)


@pytest.mark.parametrize("consent", [False, True])
def test_liaison_sees_contact_only_with_consent_and_no_office_notes(client, setup, make, consent):
    demand = make(contact_consent=consent)
    referral = services.demand_refer(demand=demand, acting_user=setup.users["office_manager"])
    services.follow_up_log(
        referral=referral,
        kind="call",
        outcome="no_answer",
        note="یادداشت داخلی دفتر",
        acting_user=setup.users["facilitator"],
    )
    client.force_login(setup.users["agency_liaison"])
    body = client.get(f"/api/v1/referrals/{referral.pk}").json()
    assert body["demand"]["description"] == demand.description
    assert body["follow_ups"] == []
    if consent:
        assert body["contact"]["mobile"] == "+989121234567"
    else:
        assert body["contact"] is None
        assert "989121234567" not in json.dumps(body)
    client.force_login(setup.users["facilitator"])
    assert (
        client.get(f"/api/v1/referrals/{referral.pk}").json()["follow_ups"][0]["note"]
        == "یادداشت داخلی دفتر"
    )


# Moving a fresh referral to "received" is the agency's move, not the office's.
RECEIVE = {
    "national_admin": 200,
    "agency_liaison": 200,
    "province_manager": 403,
    "office_manager": 403,
    "facilitator": 403,
    "analyst": 404,
    "no_role": 404,
    "anonymous": 401,
}
FOLLOW_UP = {
    "national_admin": 201,
    "province_manager": 201,
    "office_manager": 201,
    "facilitator": 201,
    "agency_liaison": 403,
    "analyst": 404,
    "no_role": 404,
    "anonymous": 401,
}


@pytest.mark.authorization_matrix("api:move_referral")
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_referral_move_per_role(client, setup, make, role):
    referral = services.demand_refer(demand=make(), acting_user=setup.users["office_manager"])
    before = snapshot()
    response = post(
        as_role(client, setup, role),
        f"/api/v1/referrals/{referral.pk}/move",
        {"version": 1, "status": "received"},
    )
    assert response.status_code == RECEIVE[role], response.content
    referral.refresh_from_db()
    if RECEIVE[role] == 200:
        assert referral.status == ReferralStatus.RECEIVED and response.json()["version"] == 2
    else:
        assert referral.status == ReferralStatus.SENT
        assert snapshot() == before


@pytest.mark.authorization_matrix("api:add_follow_up")
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_follow_up_per_role(client, setup, make, role):
    referral = services.demand_refer(demand=make(), acting_user=setup.users["office_manager"])
    before = snapshot()
    response = post(
        as_role(client, setup, role),
        f"/api/v1/referrals/{referral.pk}/follow-ups",
        {
            "kind": "call",
            "outcome": "promised",
            "note": "قول دادند هفته آینده",
            "happened_on": "1403/05/12",
        },
    )
    assert response.status_code == FOLLOW_UP[role], response.content
    if FOLLOW_UP[role] == 201:
        follow_up = FollowUp.objects.get()
        assert follow_up.happened_on == dt.date(2024, 8, 2) and follow_up.actor == setup.users[role]
    else:
        assert snapshot() == before


def test_liaison_answers_and_office_closes_through_the_api(client, setup, make):
    demand = make(submitter_mobile="09121234567")
    liaison, manager = setup.users["agency_liaison"], setup.users["office_manager"]
    client.force_login(manager)
    body = post(client, f"/api/v1/demands/{demand.code}/refer", {"version": 1}).json()
    referral_id, version = body["referrals"][0]["id"], body["referrals"][0]["version"]

    client.force_login(liaison)
    answer = {
        "version": version,
        "status": "answered",
        "note": "لوله‌کشی تا پایان ماه",
        "expected_date": "2030-01-31",
    }
    body = post(client, f"/api/v1/referrals/{referral_id}/move", answer).json()
    assert body["status"] == "answered" and body["expected_date"] == "2030-01-31"
    body = post(
        client,
        f"/api/v1/referrals/{referral_id}/move",
        {"version": body["version"], "status": "done"},
    ).json()
    assert body["status"] == "done"

    client.force_login(manager)
    current = client.get(f"/api/v1/demands/{demand.code}").json()
    closed = post(
        client,
        f"/api/v1/demands/{demand.code}/close",
        {"version": current["version"], "outcome": "resolved", "reason": "آب وصل شد"},
    ).json()
    assert closed["status"] == "resolved" and closed["closed_at"]
    kinds = [e["kind"] for e in closed["events"]]
    assert kinds[0] == "submitted" and kinds.count("referral_status") == 2


# --- conflicts and the error language ---------------------------------------------------------------


def test_stale_version_is_a_conflict_and_changes_nothing(client, setup, make):
    demand = make()
    client.force_login(setup.users["facilitator"])
    assert post(client, f"/api/v1/demands/{demand.code}/accept", {"version": 1}).status_code == 200

    client.force_login(setup.users["office_manager"])
    before = snapshot()
    response = post(
        client, f"/api/v1/demands/{demand.code}/reject", {"version": 1, "reason": "تکراری"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict" and response.json()["field"] == "version"
    assert snapshot() == before
    demand.refresh_from_db()
    assert demand.status == DemandStatus.ACCEPTED


def test_stale_referral_version_is_a_conflict(client, setup, make):
    referral = services.demand_refer(demand=make(), acting_user=setup.users["office_manager"])
    client.force_login(setup.users["agency_liaison"])
    assert (
        post(
            client, f"/api/v1/referrals/{referral.pk}/move", {"version": 1, "status": "received"}
        ).status_code
        == 200
    )
    before = snapshot()
    response = post(
        client,
        f"/api/v1/referrals/{referral.pk}/move",
        {"version": 1, "status": "rejected", "note": "مربوط به ما نیست"},
    )
    assert response.status_code == 409
    assert snapshot() == before


def expected(message, language):
    with translation.override(language):
        return str(translation.gettext(message))


def test_errors_are_persian_by_default_and_english_on_request(client, setup, make):
    demand = make()
    client.force_login(setup.users["office_manager"])
    persian = post(client, f"/api/v1/demands/{demand.code}/reject", {"version": 1, "reason": " "})
    assert persian.status_code == 400 and persian.json()["field"] == "reason"
    assert persian["Content-Language"] == "fa"
    assert persian.json()["message"] == expected("Give the reason; the resident is told.", "fa")

    english = post(
        client,
        f"/api/v1/demands/{demand.code}/reject",
        {"version": 1, "reason": " "},
        **{"Accept-Language": "en"},
    )
    assert english["Content-Language"] == "en"
    assert english.json()["message"] == "Give the reason; the resident is told."

    missing = client.get("/api/v1/demands/ACDEFHJK")
    assert missing.json() == {
        "code": "not_found",
        "message": expected("Not found.", "fa"),
        "field": None,
    }
    assert (
        client.get("/api/v1/demands/ACDEFHJK", headers={"Accept-Language": "en"}).json()["message"]
        == "Not found."
    )


def test_schema_lists_the_demand_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/demands/",
        "/api/v1/demands/{code}/refer",
        "/api/v1/referrals/",
        "/api/v1/referrals/{referral_id}/move",
    ):
        assert path in paths


@pytest.mark.parametrize(
    ("language", "message"),
    [("fa", "بدنهٔ درخواست خوانده نشد. JSON معتبر بفرستید."), ("en", "Send valid JSON.")],
)
def test_a_body_that_is_not_json_gets_a_clear_error_and_writes_nothing(
    client, setup, language, message
):
    _key, raw = ApiKey.create(name="Partner system")
    before = snapshot()
    response = client.post(
        "/api/v1/demands/",
        data="{not json",
        content_type="application/json",
        headers={"X-API-Key": raw, "Accept-Language": language},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and message in response.json()["message"]
    assert snapshot() == before
