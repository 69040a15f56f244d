"""Property-based run of the whole API against its own OpenAPI schema.

schemathesis reads /api/v1/openapi.json and calls every operation through the
WSGI application (no server), as a province manager and as an office manager
with a session (CSRF token and all), and `POST /demands/` also with an API
key. It fails on any 5xx and on any response that does not match the schema
for its status code.

The run is bounded so that it takes a minute or two on a two-core machine:
the schema's examples and the coverage phase (boundary and out-of-range
values of every parameter, deterministic), then MAX_EXAMPLES generated cases
per operation, valid and invalid, from a fixed seed (`derandomize`); no
example database, no deadline (a shared CI machine is slow at times, which is
not a failure). The schema is read from the API object at collection, as
/api/v1/openapi.json serves it (checked below): schemathesis' lazy
`from_fixture` loader does not run under the pytest in use.

Checks, chosen deliberately:
- `not_a_server_error` and `response_schema_conformance`: the point of the run.
- `status_code_conformance` and `content_type_conformance`: every operation
  documents the error codes it answers with, in the one error shape.
- `negative_data_rejection` is off. The "schema-violating" cases it reports
  are ones the API rightly accepts: a case without credentials (each call here
  adds the real user's session, so it is not without them), and empty query
  values (`?status=&county=`), which ninja reads as the documented default of
  an optional parameter. Negative data is still *sent* (mode "all"), so a 5xx
  or an off-schema answer to bad input fails through the checks above.
- `positive_data_acceptance` is off: schema-valid input is often refused by the
  domain (an unknown area code, a stale version, a transition not allowed from
  the current state) with a documented 4xx.
- The stateful checks (`use_after_free`, `ensure_resource_availability`,
  `ignored_auth`, ...) need links between operations or several credentials
  per scheme; scope and authentication have their own tests in this folder.
"""

import json

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from ninja.responses import NinjaJSONEncoder

from tashil.accounts.models import ApiKey
from tashil.agencies.models import RoutingRule
from tashil.api.main import api
from tashil.demands import services
from tashil.wsgi import application
from tests.factories import DemandCategoryFactory

MAX_EXAMPLES = 25
API_KEY = "fuzz-key-0123456789"

CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            "mode": "all",
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
        },
    }
)


@pytest.fixture
def data(network, settings):
    settings.DEBUG = True  # the development mode that turned bad bodies into 500s
    # The run writes far more often than a person does; the limit has its own test.
    settings.API_WRITES_PER_CLIENT = (1_000_000, 60)
    parent = DemandCategoryFactory(code="water", name_fa="آب", name_en="Water")
    category = DemandCategoryFactory(
        code="drinking-water", name_fa="آب آشامیدنی", name_en="Drinking water", parent=parent
    )
    RoutingRule.objects.create(category=category, area=network.province, agency=network.agency)
    for index in range(3):
        demand = services.demand_submit(
            channel="walk_in",
            category=category,
            area=network.hood,
            description=f"آب آشامیدنی کوچه {index} سه روز است قطع است",
            submitter_name="مریم احمدی",
            submitter_mobile="09121234567",
            acting_user=network.users["office_manager"],
        ).demand
        if index:
            services.demand_accept(demand=demand, acting_user=network.users["office_manager"])
            demand.refresh_from_db()
            services.demand_refer(demand=demand, acting_user=network.users["office_manager"])
    return network


def _session(user) -> dict:
    """What a browser signed in as `user` sends: the session cookie, and the
    CSRF cookie with the same secret in X-CSRFToken (ninja checks CSRF for
    session-authenticated writes)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    csrf = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"
    cookies = {
        django_settings.SESSION_COOKIE_NAME: session,
        django_settings.CSRF_COOKIE_NAME: csrf,
    }
    return {"headers": {"X-CSRFToken": csrf}, "cookies": cookies}


def _served_schema() -> dict:
    """The schema as JSON has it (status codes are strings there)."""
    return json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))


def _load_schema():
    """The schema as /api/v1/openapi.json serves it, read once at collection
    (no database needed); the cases call the WSGI application."""
    loaded = schemathesis.openapi.from_dict(_served_schema(), config=CONFIG)
    loaded.app = application
    return loaded


schema = _load_schema()


@pytest.fixture
def keep_connection():
    """The cases call the WSGI handler itself, not Django's test client, so
    each request would close the database connection at its start and end
    (PostgreSQL's is inside the test's transaction, and would be lost). Django's
    test client keeps it the same way, for the length of the test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(data, keep_connection):
    """Headers and cookies per caller: two staff sessions; the API key is
    added for intake, the one operation it may call."""
    ApiKey.create(name="fuzz", raw_key=API_KEY)
    return {
        "province_manager": _session(data.users["province_manager"]),
        "office_manager": _session(data.users["office_manager"]),
    }


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_by_its_schema_and_never_with_a_server_error(case, credentials):
    callers = list(credentials.values())
    if case.method == "POST" and case.path == "/api/v1/demands/":
        callers.append({"headers": {"X-API-Key": API_KEY}})
    for caller in callers:
        case.call_and_validate(**caller)


@pytest.mark.django_db
def test_the_fuzzed_schema_is_the_served_one(client):
    assert client.get("/api/v1/openapi.json").json() == _served_schema()
