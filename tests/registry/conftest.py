import pytest

from tashil.core.models import AuditLog
from tashil.geo import lookup
from tashil.registry.models import (
    Consent,
    Household,
    HouseholdReferral,
    HouseholdVulnerability,
    Membership,
    NotDuplicate,
    Person,
    PersonalDataAccess,
    VulnerabilityIndicator,
    VulnerabilityPolicy,
)
from tashil.registry.services.households import household_create
from tashil.registry.services.persons import person_create
from tests.factories import Role, user_with_role
from tests.roles import ROLES

WRITERS = {"national_admin", "province_manager", "office_manager", "facilitator"}
READERS_DENIED = set(ROLES) - WRITERS


def national_code(prefix: str) -> str:
    """A valid national code from nine digits (the check digit is computed)."""
    digits = [int(c) for c in prefix]
    remainder = sum(d * (10 - i) for i, d in enumerate(digits)) % 11
    return prefix + str(remainder if remainder < 2 else 11 - remainder)


@pytest.fixture(autouse=True)
def _fresh_geo_index():
    # The point-in-area index lives in process memory; rows rolled back by
    # one test must not be seen by the next.
    lookup.invalidate()
    yield
    lookup.invalidate()


@pytest.fixture
def reg(network):
    """The network plus helpers that write through the services."""
    n = network
    n.other_staff = user_with_role(Role.FACILITATOR, office=n.other_office)
    n.users["other_office"] = n.other_staff
    facilitator = n.users["facilitator"]

    def household(user=None, office=None, **fields):
        fields.setdefault("area", n.hood if office is None else n.other_hood)
        return household_create(
            acting_user=user or (facilitator if office is None else n.other_staff),
            office=office or n.office,
            **fields,
        )

    def person(household, relation="head", user=None, **fields):
        fields.setdefault("first_name", "مریم")
        fields.setdefault("last_name", "احمدی")
        actor = user or (facilitator if household.office_id == n.office.pk else n.other_staff)
        return person_create(acting_user=actor, household=household, relation=relation, **fields)

    n.make_household = household
    n.make_person = person
    return n


@pytest.fixture
def state():
    """Everything the registry services write, to assert that a refused call
    changed nothing."""

    def take():
        return {
            "audit": AuditLog.objects.count(),
            "households": list(
                Household.objects.order_by("pk").values_list(
                    "pk", "version", "address", "vulnerability_score"
                )
            ),
            "persons": list(
                Person.objects.order_by("pk").values_list(
                    "pk", "version", "national_code", "merged_into"
                )
            ),
            "memberships": list(
                Membership.objects.order_by("pk").values_list(
                    "pk", "person", "relation", "left_on", "end_reason"
                )
            ),
            "consents": list(Consent.objects.order_by("pk").values_list("pk", "withdrawn_on")),
            "groups": HouseholdVulnerability.objects.count(),
            "indicators": list(
                VulnerabilityIndicator.objects.order_by("pk").values_list("pk", "weight", "version")
            ),
            "policies": list(VulnerabilityPolicy.objects.values_list("pk", "threshold_score")),
            "not_duplicate": NotDuplicate.objects.count(),
            "referrals": HouseholdReferral.objects.count(),
            "accesses": PersonalDataAccess.objects.count(),
        }

    return take
