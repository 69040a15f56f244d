import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tashil.agencies import services
from tashil.agencies.models import Agency, RoutingRule
from tashil.core.errors import ConflictError
from tashil.core.models import AuditLog
from tashil.geo.models import Area
from tests.agencies.conftest import serving_agency
from tests.factories import RoutingRuleFactory, area_chain
from tests.roles import ROLES

pytestmark = pytest.mark.django_db

MANAGERS = {"national_admin", "province_manager"}


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- every service × every role --------------------------------------------------------
#
# Each entry: (allowed roles, call(network, tree, user) -> result, audit action).


def _create_agency(n, t, user):
    return services.agency_create(
        acting_user=user,
        code="new-agency",
        name_fa="اداره تازه",
        province=n.province,
        jurisdiction=[n.county],
    )


def _update_agency(n, t, user):
    return services.agency_update(
        agency=fresh(n.agency),
        acting_user=user,
        expected_version=n.agency.version,
        name_fa="نام تازه",
        jurisdiction=[n.county, n.hood],
    )


def _update_contact(n, t, user):
    return services.agency_update_contact(
        agency=fresh(n.agency),
        acting_user=user,
        expected_version=n.agency.version,
        phone="061-33334444",
        email="info@example.ir",
    )


def _create_category(n, t, user):
    return services.category_create(
        acting_user=user, code="paving", name_fa="آسفالت", sla_working_days=20
    )


def _update_category(n, t, user):
    return services.category_update(
        category=t.sewage, acting_user=user, sla_working_days=30, parent=None
    )


def _set_rule(n, t, user):
    return services.routing_rule_set(
        category=t.water, area=n.hood, agency=n.agency, acting_user=user
    )


def _delete_rule(n, t, user):
    rule = RoutingRule.objects.get(category=t.power, area=n.county)
    return services.routing_rule_delete(rule=rule, acting_user=user)


SERVICES = {
    "agency_create": (MANAGERS, _create_agency, "agency.create"),
    "agency_update": (MANAGERS, _update_agency, "agency.update"),
    "agency_update_contact": (
        MANAGERS | {"agency_liaison"},
        _update_contact,
        "agency.update_contact",
    ),
    "category_create": (MANAGERS, _create_category, "category.create"),
    "category_update": (MANAGERS, _update_category, "category.update"),
    "routing_rule_set": (MANAGERS, _set_rule, "routing_rule.create"),
    "routing_rule_delete": (MANAGERS, _delete_rule, "routing_rule.delete"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_for_every_role(network, tree, db_state, service, role):
    allowed, call, action = SERVICES[service]
    RoutingRuleFactory(category=tree.power, area=network.county, agency=network.agency)
    user = network.users[role]
    before = db_state()

    if role in allowed:
        call(network, tree, user)
        after = db_state()
        assert after != before
        assert after["audit"] == before["audit"] + 1
        entry = AuditLog.objects.first()
        assert entry.action == action and entry.actor == user
    else:
        with pytest.raises(PermissionDenied):
            call(network, tree, user)
        assert db_state() == before


@pytest.mark.parametrize("role", ["province_manager", "agency_liaison"])
def test_no_one_but_national_admin_reaches_another_province(network, tree, db_state, role):
    n = network
    user = n.users[role]
    other_area = n.other_hood
    n.other_agency.jurisdiction.add(other_area)
    rule = RoutingRuleFactory(category=tree.power, area=other_area, agency=n.other_agency)
    before = db_state()
    calls = [
        lambda: services.agency_create(
            acting_user=user, code="x-1", name_fa="ا", province=n.other_province
        ),
        lambda: services.agency_update(
            agency=n.other_agency, acting_user=user, expected_version=1, name_fa="ب"
        ),
        lambda: services.agency_update_contact(
            agency=n.other_agency, acting_user=user, expected_version=1, phone="0611", email=""
        ),
        lambda: services.routing_rule_set(
            category=tree.water, area=other_area, agency=n.other_agency, acting_user=user
        ),
        lambda: services.routing_rule_delete(rule=rule, acting_user=user),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert db_state() == before


def test_liaison_may_not_change_more_than_contact(network):
    with pytest.raises(PermissionDenied):
        services.agency_update(
            agency=network.agency,
            acting_user=network.users["agency_liaison"],
            expected_version=1,
            phone="0611",
        )


def test_national_admin_manages_any_province(network, tree):
    admin = network.users["national_admin"]
    agency = services.agency_create(
        acting_user=admin,
        code="far-away",
        name_fa="دور",
        province=network.other_province,
        jurisdiction=[network.other_hood],
    )
    rule = services.routing_rule_set(
        category=tree.water, area=network.other_hood, agency=agency, acting_user=admin
    )
    assert rule.agency == agency


# --- what the services write ---------------------------------------------------------------


def test_agency_create_normalises_and_audits(network):
    pm = network.users["province_manager"]
    agency = services.agency_create(
        acting_user=pm,
        code=" ABFA-Ahvaz ",
        name_fa="شركت آب و فاضلاب اهواز",  # Arabic kaf
        short_name="آبفا",
        province=network.province,
        phone="۰۶۱-۳۳۳۳ ۴۴۴۴",
        jurisdiction=[network.city],
    )
    agency.refresh_from_db()
    assert agency.code == "abfa-ahvaz"
    assert agency.name_fa == "شرکت آب و فاضلاب اهواز"
    assert agency.phone == "061-3333 4444"
    assert agency.search_key and "شرکت" in agency.search_key
    assert list(agency.jurisdiction.all()) == [network.city]
    entry = AuditLog.objects.get(action="agency.create")
    assert entry.province == network.province and entry.object_id == str(agency.pk)
    assert entry.changes["jurisdiction"] == [None, [str(network.city.pk)]]


def test_agency_update_bumps_version_and_records_changes(network):
    pm = network.users["province_manager"]
    agency = services.agency_update(
        agency=fresh(network.agency),
        acting_user=pm,
        expected_version=1,
        short_name="آبفا",
        phone="06133334444",
        jurisdiction=[network.county, network.hood],
    )
    assert agency.version == 2
    stored = fresh(network.agency)
    assert stored.version == 2 and stored.short_name == "آبفا"
    assert set(stored.jurisdiction.all()) == {network.county, network.hood}
    entry = AuditLog.objects.get(action="agency.update")
    assert entry.changes["short_name"] == ["", "آبفا"]
    assert entry.changes["phone"][1] != "06133334444"  # masked: phone numbers are personal data
    assert sorted(entry.changes["jurisdiction"][1]) == sorted(
        [str(network.county.pk), str(network.hood.pk)]
    )
    assert entry.province == network.province


def test_liaison_updates_contact(network):
    liaison = network.users["agency_liaison"]
    agency = services.agency_update_contact(
        agency=fresh(network.agency),
        acting_user=liaison,
        expected_version=1,
        phone="+98 61 3333 4444",
        email="abfa@example.ir",
    )
    stored = fresh(network.agency)
    assert (stored.phone, stored.email, stored.version) == (
        "+98 61 3333 4444",
        "abfa@example.ir",
        2,
    )
    assert stored.name_fa == network.agency.name_fa
    assert agency.version == 2


def test_optimistic_lock_conflict_on_agency_edit(network, db_state):
    pm = network.users["province_manager"]
    first, second = fresh(network.agency), fresh(network.agency)
    services.agency_update(
        agency=first, acting_user=pm, expected_version=first.version, name_fa="نام اول"
    )
    before = db_state()

    with pytest.raises(ConflictError):
        services.agency_update(
            agency=second,
            acting_user=pm,
            expected_version=second.version,
            name_fa="نام دوم",
            jurisdiction=[network.hood],
        )
    assert db_state() == before
    stored = fresh(network.agency)
    assert stored.name_fa == "نام اول" and stored.version == 2
    assert list(stored.jurisdiction.all()) == [network.county]
    # The caller's copy still shows what was loaded.
    assert second.name_fa == network.agency.name_fa and second.version == 1


def test_contact_update_conflicts_too(network, db_state):
    liaison = network.users["agency_liaison"]
    stale = fresh(network.agency)
    services.agency_update(
        agency=fresh(network.agency),
        acting_user=network.users["province_manager"],
        expected_version=1,
        phone="0611",
    )
    before = db_state()
    with pytest.raises(ConflictError):
        services.agency_update_contact(
            agency=stale, acting_user=liaison, expected_version=1, phone="0612", email=""
        )
    assert db_state() == before


# --- bad input: ValidationError naming the field, nothing written -------------------------


def _assert_invalid(field, call, db_state):
    before = db_state()
    with pytest.raises(ValidationError) as info:
        call()
    assert field in info.value.message_dict, info.value.message_dict
    assert info.value.message_dict[field][0]
    assert db_state() == before


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("code", {"code": ""}),
        ("code", {"code": "has space"}),
        ("code", {"code": "new"}),
        ("name_fa", {"name_fa": "   "}),
        ("phone", {"phone": "call us"}),
        ("email", {"email": "not-an-email"}),
        ("province", {"province": "county"}),
        ("jurisdiction", {"jurisdiction": "other_hood"}),
    ],
)
def test_agency_create_rejects_bad_input(network, db_state, field, overrides):
    n = network
    values = {
        "code": "fine",
        "name_fa": "اداره",
        "province": n.province,
        "jurisdiction": [n.county],
    }
    values |= overrides
    if values["province"] == "county":
        values["province"] = n.county
    if values["jurisdiction"] == "other_hood":
        values["jurisdiction"] = [n.county, n.other_hood]
    _assert_invalid(
        field,
        lambda: services.agency_create(acting_user=n.users["national_admin"], **values),
        db_state,
    )


def test_agency_create_rejects_a_duplicate_code(network, db_state):
    _assert_invalid(
        "code",
        lambda: services.agency_create(
            acting_user=network.users["province_manager"],
            code=network.agency.code,
            name_fa="ا",
            province=network.province,
        ),
        db_state,
    )


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("name_fa", {"name_fa": ""}),
        ("email", {"email": "x@"}),
        ("code", {"code": "routing"}),
        ("jurisdiction", {"jurisdiction": "other"}),
    ],
)
def test_agency_update_rejects_bad_input(network, db_state, field, fields):
    if fields.get("jurisdiction") == "other":
        fields = {"jurisdiction": [network.other_hood]}
    agency = fresh(network.agency)
    _assert_invalid(
        field,
        lambda: services.agency_update(
            agency=agency,
            acting_user=network.users["province_manager"],
            expected_version=1,
            **fields,
        ),
        db_state,
    )
    assert agency.version == 1 and agency.name_fa == network.agency.name_fa


def test_agency_update_refuses_to_orphan_routing_rules(network, tree, db_state):
    RoutingRuleFactory(category=tree.water, area=network.hood, agency=network.agency)
    _assert_invalid(
        "jurisdiction",
        lambda: services.agency_update(
            agency=fresh(network.agency),
            acting_user=network.users["province_manager"],
            expected_version=1,
            jurisdiction=[],
        ),
        db_state,
    )
    # Narrowing to an area that still contains the rule's area is fine.
    services.agency_update(
        agency=fresh(network.agency),
        acting_user=network.users["province_manager"],
        expected_version=1,
        jurisdiction=[network.city],
    )


def test_agency_update_rejects_unknown_fields(network):
    with pytest.raises(TypeError):
        services.agency_update(
            agency=network.agency,
            acting_user=network.users["national_admin"],
            expected_version=1,
            version=9,
        )


@pytest.mark.parametrize("days", [0, 366, -1, None, "many"])
def test_category_sla_must_be_within_a_year(network, db_state, days):
    pm = network.users["province_manager"]
    _assert_invalid(
        "sla_working_days",
        lambda: services.category_create(
            acting_user=pm, code="x", name_fa="ا", sla_working_days=days
        ),
        db_state,
    )


def test_category_sla_bounds_are_inclusive(network):
    pm = network.users["province_manager"]
    assert services.category_create(acting_user=pm, code="one", name_fa="ا", sla_working_days=1)
    assert services.category_create(acting_user=pm, code="year", name_fa="ب", sla_working_days=365)


def test_category_create_rejects_a_duplicate_code_and_empty_name(network, tree, db_state):
    pm = network.users["province_manager"]
    _assert_invalid(
        "code",
        lambda: services.category_create(acting_user=pm, code="water", name_fa="آب"),
        db_state,
    )
    _assert_invalid(
        "name_fa", lambda: services.category_create(acting_user=pm, code="ok", name_fa=""), db_state
    )


def test_category_tree_cannot_get_a_cycle(network, tree, db_state):
    pm = network.users["province_manager"]
    grandchild = services.category_create(
        acting_user=pm, code="tankers", name_fa="تانکر", parent=tree.drinking
    )
    for parent in (tree.water, tree.drinking, grandchild):
        _assert_invalid(
            "parent",
            lambda parent=parent: services.category_update(
                category=tree.water, acting_user=pm, parent=parent
            ),
            db_state,
        )
    _assert_invalid(
        "sla_working_days",
        lambda: services.category_update(category=tree.water, acting_user=pm, sla_working_days=400),
        db_state,
    )


def test_category_update_moves_a_subtree_and_audits(network, tree):
    pm = network.users["province_manager"]
    moved = services.category_update(
        category=tree.sewage, acting_user=pm, parent=tree.power, name_fa="فاضلاب"
    )
    assert moved.parent == tree.power and fresh(tree.sewage).name_fa == "فاضلاب"
    entry = AuditLog.objects.get(action="category.update")
    assert entry.changes["parent"] == [tree.water.pk, tree.power.pk]
    # A province manager finds their taxonomy changes in their province's log.
    assert entry.province == network.province


def test_category_update_without_changes_writes_nothing(network, tree, db_state):
    before = db_state()
    services.category_update(
        category=tree.water,
        acting_user=network.users["national_admin"],
        sla_working_days=tree.water.sla_working_days,
    )
    assert db_state() == before


# --- routing rules -------------------------------------------------------------------------


def test_routing_rule_set_creates_then_replaces(network, tree):
    pm = network.users["province_manager"]
    rule = services.routing_rule_set(
        category=tree.water, area=network.hood, agency=network.agency, acting_user=pm
    )
    other = serving_agency(network.province, network.city)

    replaced = services.routing_rule_set(
        category=tree.water, area=network.hood, agency=other, acting_user=pm
    )
    assert replaced.pk == rule.pk
    assert RoutingRule.objects.get().agency == other
    assert list(AuditLog.objects.order_by("id").values_list("action", flat=True)) == [
        "routing_rule.create",
        "routing_rule.replace",
    ]
    # Setting the same agency again is a no-op.
    services.routing_rule_set(category=tree.water, area=network.hood, agency=other, acting_user=pm)
    assert AuditLog.objects.count() == 2


def test_routing_rule_needs_an_agency_serving_the_area(network, tree, db_state):
    pm = network.users["province_manager"]
    _prov, second_county, _city, second_hood = area_chain(province=network.province)
    _assert_invalid(
        "agency",
        lambda: services.routing_rule_set(
            category=tree.water, area=second_hood, agency=network.agency, acting_user=pm
        ),
        db_state,
    )
    # Serving the county of the neighbourhood is enough; the province area itself is not covered.
    assert services.routing_rule_set(
        category=tree.water, area=network.hood, agency=network.agency, acting_user=pm
    )
    _assert_invalid(
        "agency",
        lambda: services.routing_rule_set(
            category=tree.water, area=network.province, agency=network.agency, acting_user=pm
        ),
        db_state,
    )
    assert second_county.level == Area.Level.COUNTY


def test_routing_rule_refuses_an_inactive_agency(network, tree, db_state):
    Agency.objects.filter(pk=network.agency.pk).update(is_active=False)
    _assert_invalid(
        "agency",
        lambda: services.routing_rule_set(
            category=tree.water,
            area=network.hood,
            agency=fresh(network.agency),
            acting_user=network.users["province_manager"],
        ),
        db_state,
    )


def test_routing_rule_delete_audits_the_rule(network, tree):
    rule = RoutingRuleFactory(category=tree.water, area=network.hood, agency=network.agency)
    services.routing_rule_delete(rule=rule, acting_user=network.users["province_manager"])
    assert not RoutingRule.objects.exists()
    entry = AuditLog.objects.get(action="routing_rule.delete")
    assert entry.changes["agency"] == [str(network.agency.pk), None]
    assert entry.province == network.province


def test_inactive_user_is_denied(network, tree, db_state):
    pm = network.users["province_manager"]
    pm.is_active = False
    pm.save()
    pm = type(pm).objects.get(pk=pm.pk)
    before = db_state()
    with pytest.raises(PermissionDenied):
        services.category_create(acting_user=pm, code="x", name_fa="ا")
    assert db_state() == before


def test_anonymous_user_is_denied(network, tree, db_state):
    from django.contrib.auth.models import AnonymousUser

    before = db_state()
    with pytest.raises(PermissionDenied):
        services.routing_rule_set(
            category=tree.water,
            area=network.hood,
            agency=network.agency,
            acting_user=AnonymousUser(),
        )
    assert db_state() == before
