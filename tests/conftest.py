import pytest

from tests.factories import (
    AgencyFactory,
    OfficeFactory,
    Role,
    UserFactory,
    area_chain,
    grant,
    user_with_role,
)


@pytest.fixture(scope="session")
def _media_root(tmp_path_factory):
    """Uploaded and exported files go to a directory of this test process, never
    to var/media: parallel workers (pytest -n) and runs do not share files."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _persian_by_default(settings, _media_root):
    settings.LANGUAGE_CODE = "fa"
    settings.MEDIA_ROOT = _media_root
    # Real hashing costs ~0.3 s per user; the suite creates hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _no_province_login_rules():
    """Which provinces require two-factor login is cached per process; a rule
    one test writes is rolled back with it, so each test starts from none
    (the test database holds none), without a query to find that out."""
    from django.core.cache import cache

    from tashil.accounts.two_factor import PROVINCES_CACHE_KEY

    cache.set(PROVINCES_CACHE_KEY, frozenset(), None)
    yield
    cache.set(PROVINCES_CACHE_KEY, frozenset(), None)


@pytest.fixture
def network(db):
    """Two provinces, each with an office and an agency, and a user per role.

    The second province exists so every test can check that scope holds."""
    province, county, city, hood = area_chain()
    other_province, _oc, _ocity, other_hood = area_chain()

    office = OfficeFactory(province=province, county=county)
    office.areas.add(hood)
    other_office = OfficeFactory(province=other_province)
    other_office.areas.add(other_hood)

    agency = AgencyFactory(province=province)
    agency.jurisdiction.add(county)
    other_agency = AgencyFactory(province=other_province)

    admin = user_with_role(Role.NATIONAL_ADMIN)
    users = {
        "national_admin": admin,
        "province_manager": user_with_role(Role.PROVINCE_MANAGER, province=province),
        "office_manager": user_with_role(Role.OFFICE_MANAGER, office=office),
        "facilitator": user_with_role(Role.FACILITATOR, office=office),
        "agency_liaison": user_with_role(Role.AGENCY_LIAISON, agency=agency),
        "analyst": user_with_role(Role.ANALYST, province=province),
        "no_role": UserFactory(),
    }

    class Network:
        pass

    n = Network()
    n.province, n.county, n.city, n.hood = province, county, city, hood
    n.other_province, n.other_hood = other_province, other_hood
    n.office, n.other_office = office, other_office
    n.agency, n.other_agency = agency, other_agency
    n.users = users
    n.grant = grant
    return n


# --- URL coverage: what a matrix or query-count test declares, it requests ---------------------
# tests/test_url_coverage.py reads the declarations; this makes sure they are true.

URL_MARKERS = ("authorization_matrix", "query_count")
_CASES = pytest.StashKey[dict]()
_SEEN = pytest.StashKey[dict]()
_FAILED = pytest.StashKey[bool]()


def _url_group(item):
    """The test function a case belongs to (all its parametrized cases)."""
    return item.nodeid.split("[", 1)[0]


def _declared_urls(item):
    # Only the function's own markers: a test declares what it requests.
    function = getattr(item, "function", None)
    marks = getattr(function, "pytestmark", [])
    return {name for m in marks if m.name in URL_MARKERS for name in m.args}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    cases = {}
    for item in items:
        if _declared_urls(item):
            cases[_url_group(item)] = cases.get(_url_group(item), 0) + 1
    config.stash[_CASES] = cases
    config.stash[_SEEN] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed or report.skipped:
        item.stash[_FAILED] = True
    return report


@pytest.fixture(autouse=True)
def _declared_urls_are_requested(request):
    item = request.node
    declared = _declared_urls(item)
    if not declared:
        yield
        return
    from django.core.handlers.base import BaseHandler

    from tests.test_url_coverage import all_urls

    names_by_route = {}
    for name, route, _params in all_urls():
        names_by_route.setdefault(route, set()).add(name)
    requested = set()
    resolve = BaseHandler.resolve_request

    def recording(self, http_request):
        match = resolve(self, http_request)
        # Several operations can share one path (the API's list and create).
        requested.update(names_by_route.get(match.route, {match.view_name}))
        return match

    BaseHandler.resolve_request = recording
    try:
        yield
    finally:
        BaseHandler.resolve_request = resolve
    group = _url_group(item)
    seen = request.config.stash[_SEEN].setdefault(group, {"cases": 0, "urls": set(), "ok": True})
    seen["cases"] += 1
    seen["urls"] |= requested
    seen["ok"] &= not item.stash.get(_FAILED, False)
    # Checked once every case of the test has run here (a run with -k, or one that
    # spreads a file's cases over workers, checks nothing rather than guess).
    if seen["ok"] and seen["cases"] == request.config.stash[_CASES].get(group):
        never = declared - seen["urls"]
        if never:
            pytest.fail(
                f"{group} declares URLs it never requests: {sorted(never)}. "
                "Remove them from its marker or add the rows that request them."
            )
