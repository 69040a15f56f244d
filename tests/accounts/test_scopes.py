"""Scope answers questions about a user's reach, and turns a model's declared
ScopePaths into the queryset filter its visible_to / manageable_by use."""

import pytest
from django.db.models import Q

from tashil.accounts.models import Role
from tashil.accounts.scopes import EMPTY, Scope, ScopePaths, Subtree, scope_of
from tashil.agencies.models import Agency, RoutingRule
from tashil.geo.models import Area, HazardZone
from tashil.offices.models import Office
from tests.factories import (
    DemandCategoryFactory,
    HazardZoneFactory,
    UserFactory,
    grant,
    user_with_role,
)

MANAGER = Scope(managed_province_ids=frozenset({1}), province_ids=frozenset({1}))
STAFF = Scope(
    office_ids=frozenset({10, 11}),
    managed_office_ids=frozenset({10}),
    staffed_province_ids=frozenset({2}),
    province_ids=frozenset({2}),
)
LIAISON = Scope(agency_ids=frozenset({20}), liaison_province_ids=frozenset({3}))
NATIONAL = Scope(is_national=True)


# --- questions ---------------------------------------------------------------------------------


def test_province_questions():
    assert MANAGER.manages_province(1) and not MANAGER.manages_province(2)
    assert MANAGER.manages_any_province and not STAFF.manages_any_province
    assert NATIONAL.manages_province(99) and NATIONAL.manages_any_province
    assert STAFF.works_in_province(2) and not STAFF.works_in_province(1)
    assert NATIONAL.works_in_province(99)
    assert Scope(analyst_province_ids=frozenset({4})).analyses_province(4)
    assert not MANAGER.analyses_province(1)


def test_office_questions():
    assert STAFF.staffs_office(10) and STAFF.staffs_office(11)
    assert not STAFF.staffs_office(12) and not STAFF.staffs_office(None)
    # A national admin manages every office but staffs none.
    assert not NATIONAL.staffs_office(10) and NATIONAL.manages_office(10)
    assert STAFF.manages_office(10) and not STAFF.manages_office(11)
    assert STAFF.works_on_office(11, 99) and MANAGER.works_on_office(99, 1)
    assert not MANAGER.works_on_office(99, 2) and not LIAISON.works_on_office(10, 3)


def test_agency_and_record_questions():
    assert LIAISON.liaises_agency(20) and not LIAISON.liaises_agency(21)
    assert not NATIONAL.liaises_agency(20) and not LIAISON.liaises_agency(None)
    assert STAFF.works_on_records and MANAGER.works_on_records and NATIONAL.works_on_records
    assert not LIAISON.works_on_records and not EMPTY.works_on_records


# --- declarative filters -----------------------------------------------------------------------


def test_each_declared_path_meets_its_reach():
    paths = ScopePaths(
        offices="office",
        managed_offices="office",
        agencies="agency",
        managed_provinces="province",
        analysed_provinces="province",
        staffed_provinces="office__province",
        liaison_provinces="agency__province",
        provinces="area__province",
    )
    assert paths.q(MANAGER) == Q(province__in=frozenset({1})) | Q(area__province__in=frozenset({1}))
    assert paths.q(STAFF) == (
        Q(office__in=frozenset({10, 11}))
        | Q(office__in=frozenset({10}))
        | Q(office__province__in=frozenset({2}))
        | Q(area__province__in=frozenset({2}))
    )
    assert paths.q(LIAISON) == Q(agency__in=frozenset({20})) | Q(
        agency__province__in=frozenset({3})
    )
    assert paths.q(EMPTY) is None


def test_under_prefixes_every_path_and_keeps_subtrees():
    paths = ScopePaths(offices="office", provinces=Subtree("path")).under("household")
    assert paths.paths == {"offices": "household__office", "provinces": Subtree("household__path")}
    assert not paths.distinct
    assert ScopePaths(offices="pk").under("memberships", distinct=True).distinct


def test_unknown_reaches_and_empty_declarations_are_refused():
    with pytest.raises(TypeError):
        ScopePaths(office="office")
    with pytest.raises(TypeError):
        ScopePaths()


@pytest.mark.django_db
def test_a_path_through_a_foreign_key(network):
    """RoutingRule reaches its scope through its agency."""
    rule_here = RoutingRule.objects.create(
        category=_category(), area=network.province, agency=network.agency
    )
    RoutingRule.objects.create(
        category=_category(), area=network.other_province, agency=network.other_agency
    )
    for role in ("province_manager", "facilitator", "agency_liaison", "analyst"):
        assert list(RoutingRule.objects.visible_to(network.users[role])) == [rule_here], role
    assert RoutingRule.objects.visible_to(network.users["national_admin"]).count() == 2
    assert not RoutingRule.objects.visible_to(network.users["no_role"]).exists()


@pytest.mark.django_db
def test_a_subtree_path(network):
    """Areas and hazard zones are reached through the area tree."""
    zone_here = HazardZoneFactory(area=network.hood)
    HazardZoneFactory(area=network.other_hood)
    liaison = network.users["agency_liaison"]
    assert list(HazardZone.objects.visible_to(liaison)) == [zone_here]
    areas = set(Area.objects.visible_to(liaison))
    assert {network.province, network.county, network.city, network.hood} <= areas
    assert network.other_hood not in areas and network.other_province not in areas


@pytest.mark.django_db
def test_a_pk_path_and_province_paths(network):
    assert set(Office.objects.visible_to(network.users["facilitator"])) == {network.office}
    assert set(Agency.objects.visible_to(network.users["facilitator"])) == {network.agency}
    assert set(Agency.objects.visible_to(network.users["agency_liaison"])) == {network.agency}
    assert set(Office.objects.manageable_by(network.users["province_manager"])) == {network.office}
    assert not Office.objects.manageable_by(network.users["office_manager"]).exists()


@pytest.mark.django_db
def test_provinces_managed_by(network):
    assert list(Area.objects.provinces_managed_by(network.users["province_manager"])) == [
        network.province
    ]
    assert set(Area.objects.provinces_managed_by(network.users["national_admin"])) >= {
        network.province,
        network.other_province,
    }
    assert not Area.objects.provinces_managed_by(network.users["analyst"]).exists()


# --- scope_of ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_scope_reads_office_and_agency_provinces_in_one_query(network, django_assert_num_queries):
    user = user_with_role(Role.FACILITATOR, office=network.office)
    grant(user, Role.AGENCY_LIAISON, agency=network.other_agency)
    with django_assert_num_queries(1):
        scope = scope_of(user)
    assert scope.staffed_province_ids == {network.province.pk}
    assert scope.liaison_province_ids == {network.other_province.pk}
    assert scope.province_ids == {network.province.pk, network.other_province.pk}
    assert scope.office_ids == {network.office.pk} and scope.agency_ids == {network.other_agency.pk}


@pytest.mark.django_db
def test_inactive_memberships_and_users_reach_nothing(network):
    user = UserFactory()
    grant(user, Role.PROVINCE_MANAGER, province=network.province).__class__.objects.filter(
        user=user
    ).update(is_active=False)
    assert scope_of(user) == EMPTY
    assert scope_of(None) is EMPTY


def _category():
    return DemandCategoryFactory()
