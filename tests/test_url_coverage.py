"""Every URL is checked: each has a row in an authorization matrix, and each
list has a query-count test. A new URL cannot ship unchecked.

How a test declares what it covers
----------------------------------
Put a marker on the test function that walks the roles through the URLs,
naming each URL as `reverse()` does:

    @pytest.mark.authorization_matrix("offices:list", "offices:detail")
    @pytest.mark.parametrize("role", ROLES)
    def test_pages(client, network, role): ...

and on the test that bounds a list's queries (django_assert_num_queries,
django_assert_max_num_queries or CaptureQueriesContext):

    @pytest.mark.query_count("offices:list")
    def test_the_office_list_query_count_does_not_grow(...): ...

A URL without a `name` is named by its route (for example "healthz").

When a new URL is added: add its name to the marker of the matrix test that
now requests it (the matrix's new row), and, for a list, to the marker of its
query-count test. A URL that needs no row gets an entry in EXEMPT_FROM_MATRIX
or NOT_A_LIST below, with the reason. NO_MATRIX_YET and NO_QUERY_COUNT_YET
list the URLs that were found uncovered when this test was written: a debt
that only shrinks (a URL that gets covered must leave them), never a place
for a new URL.

While a marked test runs, conftest.py records the URLs it requests; when every
case of that test has run in one process, a name that was declared but never
requested fails the test, so a marker cannot claim more than its test checks.
"""

import importlib
import pkgutil
import re

from django.urls import URLPattern, URLResolver, get_resolver

import tests

# URL name, or route prefix ending in "/", -> why no authorization matrix row.
EXEMPT_FROM_MATRIX = {
    "admin/": "Django's admin: is_staff only, guarded by Django itself",
    "healthz": "the liveness probe answers everyone the same and shows no data",
    "set_language": "the language switch is public and shows no data",
    "api:api-root": "the API's index, the same for everyone",
    "api:openapi-json": "the API's schema, the same for everyone",
    "api:openapi-view": "the API's documentation page, the same for everyone",
    "home": "sends each signed-in user to their role's start page (tests/accounts)",
    "accounts:login": "the login form is for everyone (tests/accounts/test_login.py)",
    "accounts:logout": "ends the caller's own session, whoever they are",
    "accounts:password_change": "the caller's own password, whatever their role",
    "accounts:password_change_done": "a confirmation of the caller's own change",
    "public:submitted": "the resident's confirmation, reached only with the submission's key",
    "public:feedback_code": "the resident's SMS code, keyed by the tracking code (tests/demands/test_tracking_secret.py)",
    "public:supported": "public status by public id, rate-limited (tests/demands/test_tracking_secret.py)",
    "accounts:login_code": "the login's code step, only after the password (tests/accounts/test_two_factor.py)",
    "accounts:recovery_codes": "the caller's own recovery codes (tests/accounts/test_two_factor.py)",
    "accounts:two_factor_disable": "the caller's own second factor (tests/accounts/test_two_factor.py)",
    "api/v1/": "the API's JSON 404 for unknown paths, the same for everyone",
    # Open311 has no roles: reads are public, posts need an API key (tests/demands/test_open311*.py).
    "open311:discovery": "Open311: public, the same for every caller",
    "open311:services": "Open311: public, the same for every caller",
    "open311:service": "Open311: public, the same for every caller",
    "open311:requests": "Open311: public reads; posting is by API key, tested in test_open311.py",
    "open311:request": "Open311: public, the same for every caller",
    "open311:token": "Open311: public, the same for every caller",
    "open311:not_found": "Open311's answer for an unknown path",
}

# URLs that still lack a role matrix. Each is a debt, not a reason: add the
# matrix row and remove the entry. Nothing new belongs here.
NO_MATRIX_YET = {
    "api:create_demand": "posted by one role at a time in tests/api/test_demands_api.py",
    "api:get_agency": "only the list is walked by role (tests/api/test_api.py)",
    "api:get_area": "only the list is walked by role (tests/api/test_api.py)",
    "api:list_categories": "tested for one role (tests/api/test_api.py)",
    "system:audit": "tested for a few roles, not as a matrix",
    "system:calendar": "its services are walked by role (tests/system/test_calendar_services.py)",
    "system:holiday_edit": "its services are walked by role (tests/system/test_calendar_services.py)",
    "system:closure_delete": "its services are walked by role (tests/system/test_calendar_services.py)",
    "offices:operator_edit": "tested for a manager and another province's operator only",
    "registry:export_job": "tested for the owner and one other user",
    "registry:export_download": "tested for the owner and one other user",
}

# URL names without a record parameter that are not lists -> why.
NOT_A_LIST = {
    "admin/": "Django's admin",
    "home": "redirects to the role's start page",
    "healthz": "the liveness probe",
    "set_language": "the language switch",
    "accounts:login": "a form",
    "accounts:logout": "an action",
    "accounts:password_change": "a form",
    "accounts:password_change_done": "a confirmation page",
    "accounts:login_code": "a form",
    "accounts:two_factor": "the caller's own two-factor status",
    "accounts:two_factor_setup": "a form",
    "accounts:recovery_codes": "an action (POST) on the caller's own codes",
    "accounts:two_factor_disable": "a form",
    "api/v1/": "the API's JSON 404 for unknown paths",
    "public:submit": "a form",
    "public:track_lookup": "a form",
    "public:support": "an action (POST)",
    "demands:create": "a form",
    "demands:export": "an action (POST) that starts an export",
    "geo:geojson": "a map layer: one query per level, bounded in tests/geo",
    "offices:create": "a form",
    "offices:operator_create": "a form",
    "agencies:create": "a form",
    "agencies:category_create": "a form",
    "agencies:routing_set": "an action (POST)",
    "registry:household_create": "a form",
    "registry:import_upload": "a form",
    "registry:household_export": "an action (POST) that starts an export",
    "system:calendar": "a year's calendar of one province",
    "api:api-root": "the API's index",
    "api:openapi-json": "the API's schema",
    "api:openapi-view": "the API's documentation page",
    "api:create_demand": "creates one demand (POST)",
    "open311:discovery": "Open311's fixed discovery document",
    "open311:not_found": "Open311's answer for an unknown path",
    "registry:import_template": "a blank template file",
}

# Lists that still lack a query-count test: a debt, as NO_MATRIX_YET.
NO_QUERY_COUNT_YET = {
    "api:list_agencies": "only the office list is counted (tests/api/test_api.py)",
    "api:list_areas": "only the office list is counted (tests/api/test_api.py)",
    "api:list_categories": "only the office list is counted (tests/api/test_api.py)",
    "system:audit": "not counted yet",
    "accounts:province_security": "one row per managed province; not counted yet",
    "offices:operators": "not counted yet",
    "public:neighbourhoods": "not counted yet",
    "registry:catalogue": "not counted yet",
}

# A route parameter that picks a format, not a record.
FORMAT_PARAMETERS = {"fmt", "file_format"}


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = namespace + pattern.name if pattern.name else route
            yield name, route, pattern


def all_urls():
    """(name, route, parameters) of every URL the site answers."""
    urls = []
    for name, route, pattern in _walk(get_resolver().url_patterns):
        parameters = set(pattern.pattern.converters) | set(
            re.findall(r"\(\?P<(\w+)>", pattern.pattern.regex.pattern)
        )
        urls.append((name, route, parameters - FORMAT_PARAMETERS))
    return urls


def _exempt(name, route, exemptions):
    return name in exemptions or any(
        key.endswith("/") and route.startswith(key) for key in exemptions
    )


def _marks(obj):
    marks = getattr(obj, "pytestmark", [])
    return marks if isinstance(marks, list) else [marks]


def declared(marker):
    """URL name -> the tests that declare it with `marker`, across tests/."""
    found = {}
    for info in pkgutil.walk_packages(tests.__path__, "tests."):
        if not info.name.rsplit(".", 1)[-1].startswith("test_"):
            continue
        module = importlib.import_module(info.name)
        owners = []
        for attr, value in vars(module).items():
            if getattr(value, "__module__", None) != module.__name__:
                continue
            if isinstance(value, type):
                owners += [(f"{module.__name__}.{attr}.{k}", v) for k, v in vars(value).items()]
            elif callable(value):
                owners.append((f"{module.__name__}.{attr}", value))
        for owner, obj in owners:
            for mark in _marks(obj):
                if mark.name == marker:
                    for name in mark.args:
                        found.setdefault(name, set()).add(owner)
    return found


def _report(title, missing, hint):
    lines = [f"{title} ({len(missing)}):"]
    lines += [f"  {name:40} {route}" for name, route in sorted(missing)]
    lines.append(hint)
    return "\n".join(lines)


def test_every_url_has_an_authorization_matrix_row():
    covered = declared("authorization_matrix")
    missing = [
        (name, route)
        for name, route, _params in all_urls()
        if name not in covered
        and name not in NO_MATRIX_YET
        and not _exempt(name, route, EXEMPT_FROM_MATRIX)
    ]
    assert not missing, _report(
        "URLs without a row in any authorization matrix",
        missing,
        "Add each to the @pytest.mark.authorization_matrix(...) of the matrix test that "
        "requests it as every role, or to EXEMPT_FROM_MATRIX in tests/test_url_coverage.py "
        "with the reason.",
    )


def test_every_list_url_has_a_query_count_test():
    covered = declared("query_count")
    missing = [
        (name, route)
        for name, route, params in all_urls()
        if not params
        and name not in covered
        and name not in NO_QUERY_COUNT_YET
        and not _exempt(name, route, NOT_A_LIST)
    ]
    assert not missing, _report(
        "List URLs without a query-count test",
        missing,
        "Add each to the @pytest.mark.query_count(...) of a test that bounds its queries, "
        "or to NOT_A_LIST in tests/test_url_coverage.py with the reason.",
    )


def test_declarations_name_urls_that_exist():
    names = {name for name, _route, _params in all_urls()}
    stale = {
        marker: sorted(set(declared(marker)) - names)
        for marker in ("authorization_matrix", "query_count")
    }
    stale["EXEMPT_FROM_MATRIX / NOT_A_LIST"] = sorted(
        key
        for key in EXEMPT_FROM_MATRIX.keys()
        | NOT_A_LIST.keys()
        | NO_MATRIX_YET.keys()
        | NO_QUERY_COUNT_YET.keys()
        if not key.endswith("/") and key not in names
    )
    assert not any(stale.values()), f"Declared but no such URL: {stale}"


def test_a_paid_debt_leaves_the_list():
    """A URL that now has its matrix row or query-count test is removed from
    NO_MATRIX_YET / NO_QUERY_COUNT_YET, so the lists only shrink."""
    paid = sorted(set(NO_MATRIX_YET) & set(declared("authorization_matrix"))) + sorted(
        set(NO_QUERY_COUNT_YET) & set(declared("query_count"))
    )
    assert not paid, f"Covered now, remove from the debt lists: {paid}"
