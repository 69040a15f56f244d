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


@pytest.fixture(autouse=True)
def _persian_by_default(settings):
    settings.LANGUAGE_CODE = "fa"
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
