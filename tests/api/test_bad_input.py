"""Input the API cannot use is a 4xx in the one error shape, in the client's
language, and writes nothing: page numbers and sizes out of range, bodies that
cannot be read, URLs that name no operation. And writes are rate-limited per
API key and per signed-in user."""

# The shared fixtures are imported by name, which pyflakes reads as a redefinition.
# ruff: noqa: F811

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from tashil.accounts.models import ApiKey
from tashil.demands.models import Demand, DemandEvent, FollowUp, Referral
from tests.api.test_demands_api import intake, make, setup  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
HUGE = "4351311700476778173918565367808"


def snapshot():
    return (
        Demand.objects.count(),
        DemandEvent.objects.count(),
        Referral.objects.count(),
        FollowUp.objects.count(),
    )


def in_language(message: str, language: str) -> str:
    with translation.override(language):
        return str(translation.gettext(message))


def error(response) -> dict:
    body = response.json()
    assert set(body) == {"code", "message", "field"}, body
    return body


def session_client(user) -> Client:
    """A browser's session: CSRF is checked, as for a real signed-in user."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = "a" * 32
    return client


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/demands/", "/api/v1/referrals/"])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": HUGE}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "-3"}, "page"),
        ({"page": "10001"}, "page"),
        ({"page": HUGE, "page_size": "-5"}, "page"),
        ({"page_size": "-5"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": HUGE}, "page_size"),
        ({"page": "1e400"}, "page"),
        ({"page": "9" * 5000}, "page"),
    ],
)
def test_page_and_page_size_out_of_range_are_a_400(client, setup, make, url, query, field):
    make()
    client.force_login(setup.users["province_manager"])
    response = client.get(url, query)
    assert response.status_code == 400, response.content
    body = error(response)
    assert body["code"] == "invalid" and body["field"] == field


def test_the_page_bounds_are_in_the_schema_and_the_message(client, setup, make):
    make()
    client.force_login(setup.users["office_manager"])
    response = client.get("/api/v1/demands/", {"page_size": "201"})
    assert error(response)["message"] == "بیشترین مقدار مجاز ۲۰۰ است."
    english = client.get("/api/v1/demands/", {"page": "0"}, headers={"Accept-Language": "en"})
    assert error(english)["message"] == "The smallest allowed value is 1."
    last = client.get("/api/v1/demands/", {"page": "10000", "page_size": "200"})
    assert last.status_code == 200 and last.json()["items"] == []

    params = {
        p["name"]: p["schema"]
        for p in client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/demands/"]["get"][
            "parameters"
        ]
    }
    assert (params["page"]["minimum"], params["page"]["maximum"]) == (1, 10000)
    assert (params["page_size"]["minimum"], params["page_size"]["maximum"]) == (1, 200)


def test_a_referral_id_out_of_range_or_not_a_number_is_a_json_404(client, setup):
    client.force_login(setup.users["office_manager"])
    for url in (
        f"/api/v1/referrals/{HUGE}",
        "/api/v1/referrals/null,null",
        "/api/v1/no-such-thing/",
    ):
        response = client.get(url, headers={"Accept-Language": "en"})
        assert response.status_code == 404, url
        assert error(response) == {"code": "not_found", "message": "Not found.", "field": None}
    # A GET that only lacks its final slash still finds its operation.
    assert client.get("/api/v1/demands?page=2")["Location"] == "/api/v1/demands/?page=2"


@pytest.mark.parametrize(
    "url",
    ["/demands/", "/areas/", "/offices/", "/agencies/", "/registry/households/", "/system/audit/"],
)
def test_html_lists_never_fail_on_a_page_number(client, setup, make, url):
    make()
    client.force_login(setup.users["national_admin"])
    for page in (HUGE, "-1", "0", "1e400", "abc", "9" * 5000):
        assert client.get(url, {"page": page}).status_code == 200, (url, page)


# --- bodies ----------------------------------------------------------------------------------

UNREADABLE = "The request body could not be read. Send valid JSON."


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("multipart/form-data", b"abc"),
        ("multipart/form-data; boundary=", b"abc"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nbroken"),
        ("application/x-www-form-urlencoded", b"version=1"),
        ("text/plain", b"version=1"),
        ("application/json", b"\xff\xfe\x00{"),
        ("application/json", b'{"version": 1' + b"0" * 5000 + b"}"),
        ("application/json", b'{"version": 1e999}'),
    ],
)
@pytest.mark.parametrize("language", ["fa", "en"])
def test_bodies_that_cannot_be_read_are_a_400_and_write_nothing(
    setup, make, settings, content_type, data, language
):
    settings.DEBUG = True  # django-ninja answered these with a 500 traceback in development
    demand = make()
    client = session_client(setup.users["office_manager"])
    client.raise_request_exception = False
    before = snapshot()
    for url in ("/api/v1/demands/", f"/api/v1/demands/{demand.code}/accept"):
        response = client.post(
            url,
            data=data,
            content_type=content_type,
            headers={"X-CSRFToken": "a" * 32, "Accept-Language": language},
        )
        assert response.status_code in (400, 422), (url, response.content)
        assert response["Content-Language"] == language
        if response.status_code == 400:
            assert error(response) == {
                "code": "invalid",
                "message": in_language(UNREADABLE, language),
                "field": None,
            }
        else:
            assert error(response)["code"] == "invalid"
    assert snapshot() == before


def test_a_multipart_body_without_boundary_from_an_api_key_is_a_400(client, setup, settings):
    settings.DEBUG = True
    _key, raw = ApiKey.create(name="Partner system")
    response = client.post(
        "/api/v1/demands/",
        data=b"abc",
        content_type="multipart/form-data",
        headers={"X-API-Key": raw, "Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert error(response)["message"] == UNREADABLE
    assert Demand.objects.count() == 0


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "42"])
def test_json_that_is_not_an_object_is_refused_and_writes_nothing(client, setup, body):
    _key, raw = ApiKey.create(name="Partner system")
    response = client.post(
        "/api/v1/demands/",
        data=body,
        content_type="application/json",
        headers={"X-API-Key": raw},
    )
    assert response.status_code == 400
    assert error(response) == {
        "code": "invalid",
        "message": in_language(UNREADABLE, "fa"),
        "field": None,
    }
    assert Demand.objects.count() == 0


def test_a_missing_csrf_token_is_a_403_in_the_clients_language(setup):
    client = Client(enforce_csrf_checks=True)
    client.force_login(setup.users["office_manager"])
    response = client.post(
        "/api/v1/demands/",
        data=json.dumps(intake(setup)),
        content_type="application/json",
        headers={"Accept-Language": "fa"},
    )
    assert response.status_code == 403
    assert error(response) == {
        "code": "forbidden",
        "message": in_language("The CSRF token is missing or not valid. Reload the page.", "fa"),
        "field": None,
    }
    assert Demand.objects.count() == 0


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_coordinates_that_are_not_finite_numbers_are_refused(client, setup, value):
    _key, raw = ApiKey.create(name="Partner system")
    body = json.dumps(intake(setup, area=None))[:-1] + f', "latitude": {value}, "longitude": 48.6}}'
    response = client.post(
        "/api/v1/demands/", data=body, content_type="application/json", headers={"X-API-Key": raw}
    )
    assert response.status_code in (400, 422), response.content
    assert error(response)["field"] in ("latitude", None)
    assert Demand.objects.count() == 0


# --- rate limit ------------------------------------------------------------------------------


def test_writes_with_an_api_key_are_limited_per_key(client, setup, settings):
    settings.API_WRITES_PER_CLIENT = (3, 60)
    _key, raw = ApiKey.create(name="Partner system")
    _other, other_raw = ApiKey.create(name="Another system")
    for n in range(3):
        response = client.post(
            "/api/v1/demands/",
            data=json.dumps(intake(setup, description=f"آب آشامیدنی کوچه {n} سه روز است قطع است")),
            content_type="application/json",
            headers={"X-API-Key": raw},
        )
        assert response.status_code == 201, response.content
    before = snapshot()
    limited = client.post(
        "/api/v1/demands/",
        data=json.dumps(intake(setup)),
        content_type="application/json",
        headers={"X-API-Key": raw, "Accept-Language": "en"},
    )
    assert limited.status_code == 429
    assert error(limited) == {
        "code": "rate_limited",
        "message": "Too many requests. Wait a minute and try again.",
        "field": None,
    }
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert snapshot() == before
    # Another key has its own allowance.
    response = client.post(
        "/api/v1/demands/",
        data=json.dumps(intake(setup)),
        content_type="application/json",
        headers={"X-API-Key": other_raw},
    )
    assert response.status_code == 201


def test_writes_with_a_session_are_limited_per_user_and_reads_are_not(
    client, setup, make, settings
):
    settings.API_WRITES_PER_CLIENT = (2, 60)
    demands = [make(), make(), make()]
    client.force_login(setup.users["office_manager"])
    for demand in demands[:2]:
        response = client.post(
            f"/api/v1/demands/{demand.code}/accept",
            data=json.dumps({"version": 1}),
            content_type="application/json",
        )
        assert response.status_code == 200
    limited = client.post(
        f"/api/v1/demands/{demands[2].code}/accept",
        data=json.dumps({"version": 1}),
        content_type="application/json",
    )
    assert limited.status_code == 429
    assert error(limited)["message"] == in_language(
        "Too many requests. Wait a minute and try again.", "fa"
    )
    demands[2].refresh_from_db()
    assert demands[2].status == "new"
    for _ in range(5):
        assert client.get("/api/v1/demands/").status_code == 200
    # Another person at the same office is not held up.
    client.force_login(setup.users["facilitator"])
    response = client.post(
        f"/api/v1/demands/{demands[2].code}/accept",
        data=json.dumps({"version": 1}),
        content_type="application/json",
    )
    assert response.status_code in (200, 403)
    assert response.status_code != 429


def test_the_write_limit_comes_from_the_environment():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASHIL_")}
    script = "from django.conf import settings; print(settings.API_WRITES_PER_CLIENT)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**env, "TASHIL_API_WRITES_PER_MINUTE": "7"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip().splitlines()[-1] == "(7, 60)", result.stderr


# --- NUL characters (PostgreSQL can neither store nor compare them) --------------------------


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        ("/api/v1/demands/", {"q": "آب\x00"}, "q"),
        ("/api/v1/demands/", {"area": "\x00"}, "area"),
        ("/api/v1/referrals/", {"agency": "a\x00"}, "agency"),
        ("/api/v1/areas/", {"parent": "\x00", "q": "x"}, "parent"),
        ("/api/v1/offices/", {"county": "\x00"}, "county"),
    ],
)
def test_a_nul_character_in_a_query_is_a_400(client, setup, url, query, field):
    client.force_login(setup.users["province_manager"])
    response = client.get(url, query)
    assert response.status_code == 400, response.content
    assert error(response)["field"] == field


@pytest.mark.parametrize(
    "url",
    ["/api/v1/areas/%00", "/api/v1/offices/a%00b", "/api/v1/agencies/%00", "/api/v1/demands/%00"],
)
def test_a_nul_character_in_a_path_is_a_json_404(client, setup, url):
    client.force_login(setup.users["province_manager"])
    response = client.get(url)
    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_a_nul_character_in_a_body_is_a_400_and_writes_nothing(client, setup):
    _key, raw = ApiKey.create(name="Partner system")
    for body in (
        intake(setup, description="آب\x00 قطع است کوچه ۱۲ سه روز"),
        intake(setup, area="\x00"),
    ):
        response = client.post(
            "/api/v1/demands/",
            data=json.dumps(body),
            content_type="application/json",
            headers={"X-API-Key": raw},
        )
        assert response.status_code == 400
        assert error(response)["message"] == in_language(UNREADABLE, "fa")
    assert Demand.objects.count() == 0
