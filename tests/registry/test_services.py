"""Every registry service × every role: who may write, and that a refused
call changes nothing. Then what each service does."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from tashil.agencies.models import RoutingRule
from tashil.core.errors import ConflictError
from tashil.core.models import AuditLog
from tashil.demands.models import Demand, ReferralStatus
from tashil.registry.models import (
    Consent,
    Household,
    HouseholdReferral,
    Membership,
    VulnerabilityIndicator,
    VulnerabilityPolicy,
)
from tashil.registry.services.catalogue import catalogue_prepare, indicator_update, threshold_update
from tashil.registry.services.consent import consent_record, consent_withdraw
from tashil.registry.services.households import household_create, household_refer, household_update
from tashil.registry.services.memberships import (
    membership_add,
    membership_end,
    membership_set_relation,
)
from tashil.registry.services.merging import duplicate_dismiss, person_merge
from tashil.registry.services.persons import person_create, person_update
from tests.factories import DemandCategoryFactory, HazardZoneFactory
from tests.roles import ROLES

from .conftest import national_code

pytestmark = pytest.mark.django_db

ALL = [*ROLES, "other_office", "anonymous"]
WRITERS = {"national_admin", "province_manager", "office_manager", "facilitator"}
CATALOGUE = {"national_admin", "province_manager"}


@pytest.fixture
def world(reg):
    """A household with a head and a child, a consent, and a second household
    holding a likely duplicate of the head."""
    h = reg.make_household(address="کوچه ۵", latitude=31.35, longitude=48.65)
    head = reg.make_person(h, national_code=national_code("001234567"), birth_year=1360)
    child = reg.make_person(h, relation="child", first_name="علی", birth_year=1392)
    h2 = reg.make_household(address="کوچه ۶")
    twin = reg.make_person(h2, first_name="مريم", last_name="احمدي", birth_year=1361)
    consent = consent_record(
        household=h,
        given_by="مریم احمدی",
        purpose=Consent.Purpose.SHARING,
        acting_user=reg.users["facilitator"],
    )
    parent = DemandCategoryFactory(code="welfare")
    category = DemandCategoryFactory(code="women-children", parent=parent)
    RoutingRule.objects.create(category=category, area=reg.province, agency=reg.agency)
    reg.h, reg.h2, reg.head, reg.child, reg.twin, reg.consent, reg.category = (
        h,
        h2,
        head,
        child,
        twin,
        consent,
        category,
    )
    return reg


def _fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


OPERATIONS = {
    "household_create": (
        WRITERS,
        lambda w, u: household_create(acting_user=u, office=w.office, area=w.hood, address="تازه"),
    ),
    "household_update": (
        WRITERS,
        lambda w, u: household_update(household=_fresh(w.h), acting_user=u, address="نشانی تازه"),
    ),
    "person_create": (
        WRITERS,
        lambda w, u: person_create(
            acting_user=u,
            household=_fresh(w.h),
            relation="child",
            first_name="زهرا",
            last_name="احمدی",
        ),
    ),
    "person_update": (
        WRITERS,
        lambda w, u: person_update(person=_fresh(w.child), acting_user=u, employment="student"),
    ),
    "membership_add": (
        WRITERS,
        lambda w, u: membership_add(
            person=_fresh(w.twin), household=_fresh(w.h), relation="relative", acting_user=u
        ),
    ),
    "membership_end": (
        WRITERS,
        lambda w, u: membership_end(
            membership=w.child.memberships.get(), reason="left", acting_user=u
        ),
    ),
    "membership_set_relation": (
        WRITERS,
        lambda w, u: membership_set_relation(
            membership=w.child.memberships.get(), relation="grandchild", acting_user=u
        ),
    ),
    "consent_record": (
        WRITERS,
        lambda w, u: consent_record(
            household=_fresh(w.h), given_by="علی", purpose="contact", acting_user=u
        ),
    ),
    "consent_withdraw": (
        WRITERS,
        lambda w, u: consent_withdraw(consent=_fresh(w.consent), acting_user=u),
    ),
    "person_merge": (
        WRITERS,
        lambda w, u: person_merge(keep=_fresh(w.head), duplicate=_fresh(w.twin), acting_user=u),
    ),
    "duplicate_dismiss": (
        WRITERS,
        lambda w, u: duplicate_dismiss(first=_fresh(w.head), second=_fresh(w.twin), acting_user=u),
    ),
    "household_refer": (
        WRITERS,
        lambda w, u: household_refer(
            household=_fresh(w.h), category=w.category, acting_user=u, note="نیاز به پیگیری"
        ),
    ),
    "indicator_update": (
        CATALOGUE,
        lambda w, u: indicator_update(
            indicator=VulnerabilityIndicator.objects.get(
                province=w.province, code="large_household"
            ),
            acting_user=u,
            weight=4,
            parameter=6,
            is_active=True,
        ),
    ),
    "threshold_update": (
        CATALOGUE,
        lambda w, u: threshold_update(province=w.province, threshold_score=5, acting_user=u),
    ),
    "catalogue_prepare": (
        CATALOGUE,
        lambda w, u: catalogue_prepare(province=w.province, acting_user=u),
    ),
}


def _user(world, role):
    return AnonymousUser() if role == "anonymous" else world.users[role]


@pytest.mark.parametrize("role", ALL)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_service_permission_matrix(world, state, operation, role):
    allowed, call = OPERATIONS[operation]
    if operation == "catalogue_prepare":
        # A province without a catalogue yet, so preparing it writes one.
        VulnerabilityIndicator.objects.filter(province=world.province).delete()
    before = state()
    if role in allowed:
        call(world, _user(world, role))
        assert state() != before
    else:
        with pytest.raises(PermissionDenied):
            call(world, _user(world, role))
        assert state() == before


def test_other_office_staff_cannot_reach_this_office_even_by_moving_a_person(world, state):
    """Adding to their own household a person who lives in this office's
    household would end that membership: refused, nothing changes."""
    theirs = world.make_household(office=world.other_office)
    before = state()
    with pytest.raises(PermissionDenied):
        membership_add(
            person=_fresh(world.child),
            household=theirs,
            relation="child",
            acting_user=world.other_staff,
        )
    assert state() == before


# --- Households -------------------------------------------------------------------------


def test_household_create_writes_audit_computes_hazard_and_search_key(reg):
    HazardZoneFactory(area=reg.hood, risk_level=2, code="low-zone")
    severe = HazardZoneFactory(area=reg.hood, risk_level=4, code="severe-zone")
    h = reg.make_household(address="پشت مسجد", external_id="۱۲۳", latitude=31.35, longitude=48.65)
    assert h.hazard_zone == severe  # the most dangerous zone the point is in
    assert h.external_id == "123"
    assert "پشت مسجد" in h.search_key and "123" in h.search_key
    entry = AuditLog.objects.get(action="household.create", object_id=str(h.pk))
    assert entry.office == reg.office and entry.province == reg.province
    # The address is personal data: masked in the log.
    assert entry.changes["address"][1] != "پشت مسجد" and "*" in entry.changes["address"][1]


def test_household_area_found_from_the_point(reg):
    h = reg.make_household(area=None, latitude=31.35, longitude=48.65)
    assert h.area == reg.hood


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"area": None}, "area"),
        ({"latitude": 31.35}, "latitude"),
        ({"latitude": 95.0, "longitude": 48.0}, "latitude"),
        ({"dwelling_type": "castle"}, "dwelling_type"),
        ({"water": "piped"}, "water"),
    ],
)
def test_household_validation_names_the_field(reg, state, fields, field):
    before = state()
    with pytest.raises(ValidationError) as exc:
        reg.make_household(**fields)
    assert field in exc.value.message_dict
    assert state() == before


def test_household_area_must_be_served_by_the_office(reg, state):
    before = state()
    with pytest.raises(ValidationError) as exc:
        household_create(
            acting_user=reg.users["province_manager"], office=reg.office, area=reg.other_hood
        )
    assert "area" in exc.value.message_dict
    with pytest.raises(ValidationError):
        household_create(
            acting_user=reg.users["province_manager"], office=reg.office, area=reg.city
        )
    assert state() == before


def test_external_id_is_unique_within_the_office(reg):
    reg.make_household(external_id="H-1")
    with pytest.raises(ValidationError) as exc:
        reg.make_household(external_id="H-1")
    assert "external_id" in exc.value.message_dict
    # Another office may use the same id.
    reg.make_household(office=reg.other_office, external_id="H-1")


def test_household_update_is_optimistically_locked(reg, state):
    h = reg.make_household()
    stale = h.version
    household_update(
        household=_fresh(h),
        acting_user=reg.users["office_manager"],
        address="یک",
        expected_version=stale,
    )
    before = state()
    with pytest.raises(ConflictError):
        household_update(
            household=_fresh(h),
            acting_user=reg.users["facilitator"],
            address="دو",
            expected_version=stale,
        )
    assert state() == before
    assert _fresh(h).address == "یک"


def test_moving_the_point_recomputes_the_hazard_zone(reg):
    zone = HazardZoneFactory(area=reg.hood)
    h = reg.make_household()
    assert h.hazard_zone is None
    h = household_update(
        household=h, acting_user=reg.users["facilitator"], latitude=31.35, longitude=48.65
    )
    assert _fresh(h).hazard_zone == zone
    assert _fresh(h).vulnerabilities.filter(indicator__code="hazard_zone").exists()


# --- Persons -------------------------------------------------------------------------------


def test_person_create_normalises_and_audits_with_pii_masked(reg):
    h = reg.make_household()
    p = reg.make_person(
        h,
        first_name="علي",
        last_name="كريمي",
        national_code="۰۰۱۲۳۴۵۶۷" + national_code("001234567")[-1],
        mobile="۰۹۱۲ ۳۴۵ ۶۷۸۹",
        birth_date=dt.date(1990, 3, 21),
    )
    assert p.first_name == "علی" and p.last_name == "کریمی"  # Arabic ي/ك stored as Persian
    assert p.national_code == national_code("001234567")
    assert p.mobile == "+989123456789"
    assert p.birth_year == 1369  # kept in step with the date
    entry = AuditLog.objects.get(action="person.create", object_id=str(p.pk))
    for field in ("national_code", "mobile", "birth_date"):
        assert "*" in entry.changes[field][1]
    assert p.national_code not in str(entry.changes)
    assert Membership.objects.get(person=p).relation == "head"


def test_national_code_padding_restores_dropped_leading_zeros(reg):
    h = reg.make_household()
    code = national_code("001234567")
    p = reg.make_person(h, national_code=code.lstrip("0"))
    assert p.national_code == code


@pytest.mark.parametrize("value", ["1234567890", "12345", "abcdefghij", "1111111111", "۱۲۳۴۵۶۷۸۹۰"])
def test_invalid_national_codes_are_refused(reg, state, value):
    h = reg.make_household()
    before = state()
    with pytest.raises(ValidationError) as exc:
        reg.make_person(h, national_code=value)
    assert "national_code" in exc.value.message_dict
    assert state() == before


@pytest.mark.parametrize("value", ["021-8888-8888", "0912", "+44 7700 900123", "abc"])
def test_invalid_mobiles_are_refused(reg, state, value):
    h = reg.make_household()
    before = state()
    with pytest.raises(ValidationError) as exc:
        reg.make_person(h, mobile=value)
    assert "mobile" in exc.value.message_dict
    assert state() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"first_name": "  "}, "first_name"),
        ({"birth_year": 1200}, "birth_year"),
        ({"birth_year": 1500}, "birth_year"),
        ({"birth_date": dt.date.today() + dt.timedelta(days=3)}, "birth_date"),
        ({"birth_date": dt.date(1990, 3, 21), "birth_year": 1375}, "birth_year"),
        ({"sex": "x"}, "sex"),
        ({"nationality": "martian"}, "nationality"),
    ],
)
def test_person_validation_names_the_field(reg, state, fields, field):
    h = reg.make_household()
    before = state()
    with pytest.raises(ValidationError) as exc:
        reg.make_person(h, **fields)
    assert field in exc.value.message_dict
    assert state() == before


def test_one_current_head(reg, state):
    h = reg.make_household()
    reg.make_person(h)
    before = state()
    with pytest.raises(ValidationError) as exc:
        reg.make_person(h, first_name="حسن")
    assert "relation" in exc.value.message_dict
    assert state() == before


def test_exact_national_code_blocks_a_second_record_and_names_the_household(reg, state):
    h = reg.make_household(external_id="Z-9")
    code = national_code("001234567")
    reg.make_person(h, national_code=code)
    h2 = reg.make_household()
    before = state()
    with pytest.raises(ValidationError) as exc:
        reg.make_person(h2, national_code=code.lstrip("0"), first_name="دیگری")
    error = exc.value.error_dict["national_code"][0]
    assert error.code == "duplicate_national_code"
    assert error.params["household_id"] == h.pk
    assert "Z-9" in exc.value.message_dict["national_code"][0]
    assert state() == before


def test_duplicate_code_in_another_office_does_not_reveal_the_household(reg):
    theirs = reg.make_household(office=reg.other_office, external_id="SECRET-1")
    code = national_code("001234567")
    reg.make_person(theirs, national_code=code)
    h = reg.make_household()
    with pytest.raises(ValidationError) as exc:
        reg.make_person(h, national_code=code)
    message = exc.value.message_dict["national_code"][0]
    assert "SECRET-1" not in message and "مریم" not in message
    assert not exc.value.error_dict["national_code"][0].params


def test_person_update_refreshes_name_key_search_and_vulnerability(reg):
    h = reg.make_household()
    p = reg.make_person(h)
    person_update(
        person=p, acting_user=reg.users["facilitator"], last_name="كاظمي", has_disability=True
    )
    h.refresh_from_db()
    assert "کاظمی" in h.search_key
    assert _fresh(p).name_key == "مریم کاظمی"
    assert h.vulnerabilities.filter(indicator__code="member_disability").exists()


def test_person_update_conflict(reg, state):
    h = reg.make_household()
    p = reg.make_person(h)
    person_update(
        person=_fresh(p),
        acting_user=reg.users["facilitator"],
        father_name="الف",
        expected_version=1,
    )
    before = state()
    with pytest.raises(ConflictError):
        person_update(
            person=_fresh(p),
            acting_user=reg.users["office_manager"],
            father_name="ب",
            expected_version=1,
        )
    assert state() == before


# --- Memberships ---------------------------------------------------------------------------------


def test_membership_end_keeps_history_and_rescores(reg):
    h = reg.make_household()
    head = reg.make_person(h, birth_year=1320)
    wife = reg.make_person(h, relation="spouse", first_name="زهرا", birth_year=1325)
    assert not h.vulnerabilities.filter(indicator__code="elderly_alone").exists()
    membership_end(
        membership=wife.memberships.get(),
        reason="died",
        left_on=dt.date(2024, 1, 1),
        acting_user=reg.users["facilitator"],
    )
    m = wife.memberships.get()
    assert m.end_reason == "died" and m.left_on == dt.date(2024, 1, 1)
    assert h.vulnerabilities.filter(indicator__code="elderly_alone").exists()
    assert Membership.objects.filter(household=h).count() == 2
    assert AuditLog.objects.filter(action="membership.end", object_id=str(h.pk)).exists()
    with pytest.raises(ValidationError):
        membership_end(membership=m, reason="left", acting_user=reg.users["facilitator"])
    assert head.memberships.get().is_current


@pytest.mark.parametrize(
    ("reason", "left_on", "field"),
    [
        ("merged", None, "reason"),
        ("left", dt.date.today() + dt.timedelta(days=2), "left_on"),
        ("left", dt.date(2000, 1, 1), "left_on"),  # before joining
    ],
)
def test_membership_end_validation(reg, state, reason, left_on, field):
    h = reg.make_household()
    p = reg.make_person(h, joined_on=dt.date(2010, 1, 1))
    before = state()
    with pytest.raises(ValidationError) as exc:
        membership_end(
            membership=p.memberships.get(),
            reason=reason,
            left_on=left_on,
            acting_user=reg.users["facilitator"],
        )
    assert field in exc.value.message_dict
    assert state() == before


def test_membership_add_moves_a_person_and_keeps_history(reg):
    old = reg.make_household()
    p = reg.make_person(old)
    new = reg.make_household()
    membership_add(
        person=p, household=new, relation="head", acting_user=reg.users["office_manager"]
    )
    rows = list(p.memberships.order_by("pk"))
    assert rows[0].household == old and rows[0].end_reason == "moved" and rows[0].left_on
    assert rows[1].household == new and rows[1].is_current
    with pytest.raises(ValidationError) as exc:
        membership_add(
            person=p, household=new, relation="child", acting_user=reg.users["office_manager"]
        )
    assert "person" in exc.value.message_dict


def test_head_change_needs_the_old_heads_new_relation(reg, state):
    h = reg.make_household()
    head = reg.make_person(h)
    son = reg.make_person(h, relation="child", first_name="رضا")
    before = state()
    with pytest.raises(ValidationError) as exc:
        membership_set_relation(
            membership=son.memberships.get(), relation="head", acting_user=reg.users["facilitator"]
        )
    assert "previous_head_relation" in exc.value.message_dict
    assert state() == before
    membership_set_relation(
        membership=son.memberships.get(),
        relation="head",
        previous_head_relation="parent",
        acting_user=reg.users["facilitator"],
    )
    assert head.memberships.get().relation == "parent"
    assert son.memberships.get().relation == "head"
    assert Membership.objects.filter(household=h, relation="head").count() == 1


# --- Consent -------------------------------------------------------------------------------------


def test_consent_record_and_withdraw(reg):
    h = reg.make_household()
    c = consent_record(
        household=h,
        given_by="  علي  ",
        purpose="registry",
        given_on=dt.date(2025, 1, 1),
        acting_user=reg.users["facilitator"],
    )
    assert c.given_by == "علی" and c.recorded_by == reg.users["facilitator"]
    consent_withdraw(
        consent=c, acting_user=reg.users["facilitator"], withdrawn_on=dt.date(2025, 2, 1)
    )
    assert _fresh(c).withdrawn_on == dt.date(2025, 2, 1)
    with pytest.raises(ValidationError):
        consent_withdraw(consent=_fresh(c), acting_user=reg.users["facilitator"])
    with pytest.raises(ValidationError) as exc:
        consent_record(
            household=h, given_by="", purpose="nope", acting_user=reg.users["facilitator"]
        )
    assert {"given_by", "purpose"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        consent_record(
            household=h,
            given_by="x",
            purpose="registry",
            given_on=dt.date.today() + dt.timedelta(days=1),
            acting_user=reg.users["facilitator"],
        )
    assert "given_on" in exc.value.message_dict


# --- Referral ------------------------------------------------------------------------------------


def test_refer_creates_a_referred_demand_carrying_no_pii_without_consent(world):
    h = world.make_household(address="نشانی محرمانه", latitude=31.35, longitude=48.65)
    world.make_person(h, national_code=national_code("002345678"), mobile="09121234567")
    link = household_refer(
        household=h,
        category=world.category,
        acting_user=world.users["facilitator"],
        note="کودک بازمانده از تحصیل",
    )
    demand = link.demand
    assert isinstance(demand, Demand) and link.household == h
    referral = demand.referrals.get()
    assert referral.agency == world.agency and referral.status == ReferralStatus.SENT
    carried = (
        f"{demand.title} {demand.description} {demand.submitter_name} {demand.submitter_mobile}"
    )
    assert (
        "نشانی محرمانه" not in carried
        and national_code("002345678") not in carried
        and "مریم" not in carried
    )
    assert demand.latitude is None and not demand.contact_consent
    assert AuditLog.objects.filter(action="household.refer", object_id=str(h.pk)).exists()


def test_refer_with_sharing_consent_carries_the_head_and_the_point(world):
    link = household_refer(
        household=_fresh(world.h),
        category=world.category,
        acting_user=world.users["office_manager"],
    )
    demand = link.demand
    assert demand.submitter_name == str(world.head) and demand.contact_consent
    assert demand.latitude == 31.35
    assert demand.submitter_mobile == ""  # contact consent was not given


def test_refer_failure_writes_nothing(world, state):
    inactive = DemandCategoryFactory(code="inactive", is_active=False)
    before = state()
    demands = Demand.objects.count()
    with pytest.raises(ValidationError):
        household_refer(
            household=_fresh(world.h), category=inactive, acting_user=world.users["facilitator"]
        )
    assert (
        state() == before
        and Demand.objects.count() == demands
        and HouseholdReferral.objects.count() == 0
    )


# --- Catalogue -----------------------------------------------------------------------------------


def test_threshold_and_indicator_changes_rescore_the_province(world):
    world.make_person(_fresh(world.h), relation="child", first_name="زهرا")
    assert not _fresh(world.h).vulnerabilities.filter(indicator__code="large_household").exists()
    threshold_update(
        province=world.province, threshold_score=1, acting_user=world.users["province_manager"]
    )
    indicator_update(
        indicator=VulnerabilityIndicator.objects.get(
            province=world.province, code="large_household"
        ),
        acting_user=world.users["province_manager"],
        weight=5,
        parameter=3,
        is_active=True,
    )
    h = _fresh(world.h)
    assert h.vulnerabilities.filter(indicator__code="large_household").exists()
    assert h.vulnerability_score >= 5 and h.is_vulnerable
    assert VulnerabilityPolicy.objects.get(province=world.province).threshold_score == 1
    assert AuditLog.objects.filter(action="vulnerability.indicator").exists()


@pytest.mark.parametrize(
    ("weight", "parameter", "field"),
    [(21, 7, "weight"), (2, 1, "parameter"), (2, None, "parameter")],
)
def test_indicator_validation(world, state, weight, parameter, field):
    indicator = VulnerabilityIndicator.objects.get(province=world.province, code="large_household")
    before = state()
    with pytest.raises(ValidationError) as exc:
        indicator_update(
            indicator=indicator,
            acting_user=world.users["province_manager"],
            weight=weight,
            parameter=parameter,
            is_active=True,
        )
    assert field in exc.value.message_dict
    assert state() == before


def test_threshold_validation(world, state):
    before = state()
    with pytest.raises(ValidationError) as exc:
        threshold_update(
            province=world.province, threshold_score=0, acting_user=world.users["province_manager"]
        )
    assert "threshold_score" in exc.value.message_dict
    assert state() == before


def test_province_manager_cannot_edit_another_provinces_catalogue(world, state):
    other = world.make_household(office=world.other_office)
    indicator = VulnerabilityIndicator.objects.get(
        province=world.other_province, code="female_headed"
    )
    assert other.pk
    before = state()
    with pytest.raises(PermissionDenied):
        indicator_update(
            indicator=indicator,
            acting_user=world.users["province_manager"],
            weight=9,
            parameter=None,
            is_active=True,
        )
    assert state() == before


def test_a_head_added_concurrently_is_a_conflict_not_a_crash(reg, state):
    """Another user made someone head between this user's check and write:
    the database's one-head rule catches it and the user sees a conflict."""
    from unittest import mock

    from tashil.registry.services import memberships as membership_services

    h = reg.make_household()
    reg.make_person(h)
    lodger = reg.make_person(reg.make_household(), first_name="رضا")
    before = state()
    # As if the check ran before the other user's head was saved.
    with mock.patch.object(membership_services, "relation_errors"), pytest.raises(ConflictError):
        membership_add(
            person=lodger,
            household=Household.objects.get(pk=h.pk),
            relation="head",
            acting_user=reg.users["facilitator"],
        )
    assert state() == before
