import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tashil.accounts.models import Role, RoleMembership, User
from tashil.accounts.scopes import scope_of
from tashil.core.errors import ConflictError
from tashil.core.models import AuditLog
from tashil.offices import services, staff
from tashil.offices.models import Office, Operator
from tests.factories import AreaFactory, OfficeFactory, OperatorFactory, UserFactory, grant
from tests.geo.helpers import nothing_changes
from tests.roles import ROLES

MANAGERS = {"national_admin", "province_manager"}
STAFF_MANAGERS = MANAGERS | {"office_manager"}
OPENED = dt.date(2018, 7, 15)


def _new_office(network, **extra):
    return {
        "code": "zoviyeh",
        "name_fa": "دفتر تسهیلگری زویه",
        "name_en": "Zoviyeh office",
        "province": network.province,
        "county": network.county,
        "areas": [network.hood],
        "status": Office.Status.ACTIVE,
        "opened_on": OPENED,
        "contract_start": dt.date(2018, 7, 1),
        "contract_end": dt.date(2019, 7, 1),
    } | extra


# --- office_create ---------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_office_create_by_role(network, role):
    user = network.users[role]
    if role in MANAGERS:
        office = services.office_create(acting_user=user, **_new_office(network))
        assert list(office.areas.all()) == [network.hood]
        entry = AuditLog.objects.get(action="office.create")
        assert entry.office == office and entry.province == network.province and entry.actor == user
        assert entry.changes["areas"] == [[], [str(network.hood.pk)]]
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            services.office_create(acting_user=user, **_new_office(network))


def test_province_manager_cannot_create_in_another_province(network):
    with nothing_changes(), pytest.raises(PermissionDenied):
        services.office_create(
            acting_user=network.users["province_manager"],
            **_new_office(network, province=network.other_province, county=None, areas=[]),
        )


@pytest.mark.parametrize(
    "extra, field",
    [
        (
            {"contract_start": dt.date(2019, 1, 1), "contract_end": dt.date(2018, 1, 1)},
            "contract_end",
        ),
        ({"opened_on": timezone.localdate() + dt.timedelta(days=10)}, "opened_on"),
        ({"opened_on": None}, "opened_on"),
        ({"status": Office.Status.PILOT, "opened_on": None}, "opened_on"),
        ({"code": "network"}, "code"),
        ({"code": "not a slug!"}, "code"),
        ({"name_fa": ""}, "name_fa"),
        ({"latitude": 95.0, "longitude": 48.0}, "latitude"),
        ({"latitude": 31.3}, "longitude"),
    ],
)
def test_office_create_validation(network, extra, field):
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.office_create(
            acting_user=network.users["province_manager"], **_new_office(network, **extra)
        )
    assert field in caught.value.message_dict


def test_office_create_duplicate_code(network):
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.office_create(
            acting_user=network.users["province_manager"],
            **_new_office(network, code=network.office.code),
        )
    assert list(caught.value.message_dict) == ["code"]


def test_office_create_areas_outside_the_province(network):
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.office_create(
            acting_user=network.users["province_manager"],
            **_new_office(network, areas=[network.hood, network.other_hood]),
        )
    assert "areas" in caught.value.message_dict
    assert network.other_hood.name in caught.value.message_dict["areas"][0]


def test_office_create_county_of_another_province(network):
    other_county = network.other_hood.parent.parent
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.office_create(
            acting_user=network.users["national_admin"], **_new_office(network, county=other_county)
        )
    assert "county" in caught.value.message_dict


def test_a_planned_office_may_have_a_future_opening_date(network):
    office = services.office_create(
        acting_user=network.users["province_manager"],
        **_new_office(
            network,
            status=Office.Status.PLANNED,
            opened_on=timezone.localdate() + dt.timedelta(days=30),
        ),
    )
    assert office.status == Office.Status.PLANNED


def test_several_errors_are_reported_together(network):
    with pytest.raises(ValidationError) as caught:
        services.office_create(
            acting_user=network.users["province_manager"],
            **_new_office(
                network,
                code=network.office.code,
                contract_start=dt.date(2019, 1, 1),
                contract_end=dt.date(2018, 1, 1),
                areas=[network.other_hood],
            ),
        )
    assert {"code", "contract_end", "areas"} <= set(caught.value.message_dict)


# --- office_update ---------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_office_update_by_role(network, role):
    user = network.users[role]
    office = network.office
    if role in MANAGERS:
        new_hood = AreaFactory(level="neighbourhood", parent=network.city)
        services.office_update(
            office=office,
            acting_user=user,
            expected_version=office.version,
            name_fa="دفتر تازه",
            areas=[network.hood, new_hood],
        )
        office.refresh_from_db()
        assert office.name_fa == "دفتر تازه" and office.version == 2
        assert set(office.areas.all()) == {network.hood, new_hood}
        entry = AuditLog.objects.get(action="office.update")
        assert entry.changes["name_fa"][1] == "دفتر تازه"
        assert entry.changes["areas"] == [
            [str(network.hood.pk)],
            sorted([str(network.hood.pk), str(new_hood.pk)]),
        ]
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            services.office_update(
                office=office, acting_user=user, expected_version=office.version, name_fa="x"
            )


def test_province_manager_cannot_update_another_provinces_office(network):
    office = network.other_office
    with nothing_changes(), pytest.raises(PermissionDenied):
        services.office_update(
            office=office,
            acting_user=network.users["province_manager"],
            expected_version=office.version,
            name_fa="x",
        )


@pytest.mark.parametrize(
    "fields, field",
    [
        (
            {"contract_start": dt.date(2019, 1, 1), "contract_end": dt.date(2018, 1, 1)},
            "contract_end",
        ),
        ({"opened_on": dt.date(2100, 1, 1)}, "opened_on"),
        ({"opened_on": None}, "opened_on"),
        ({"areas": ["other"]}, "areas"),
        ({"code": "dup"}, "code"),
    ],
)
def test_office_update_validation(network, fields, field):
    OfficeFactory(code="dup", province=network.province)
    if fields.get("areas") == ["other"]:
        fields = {"areas": [network.other_hood]}
    office = network.office
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.office_update(
            office=office,
            acting_user=network.users["province_manager"],
            expected_version=office.version,
            **fields,
        )
    assert field in caught.value.message_dict


def test_office_update_conflict(network):
    pm = network.users["province_manager"]
    first = Office.objects.get(pk=network.office.pk)
    second = Office.objects.get(pk=network.office.pk)
    services.office_update(
        office=first, acting_user=pm, expected_version=first.version, name_fa="نسخه یک"
    )
    with nothing_changes(), pytest.raises(ConflictError):
        services.office_update(
            office=second,
            acting_user=pm,
            expected_version=second.version,
            name_fa="نسخه دو",
            areas=[],
        )
    office = Office.objects.get(pk=network.office.pk)
    assert office.name_fa == "نسخه یک"
    assert list(office.areas.all()) == [network.hood]


def test_office_update_refuses_status_and_unknown_fields(network):
    with pytest.raises(TypeError):
        services.office_update(
            office=network.office,
            acting_user=network.users["national_admin"],
            expected_version=1,
            status="closed",
        )


# --- office_set_status -----------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_office_set_status_by_role(network, role):
    user = network.users[role]
    office = network.office
    if role in MANAGERS:
        services.office_set_status(
            office=office,
            acting_user=user,
            status=Office.Status.SUSPENDED,
            expected_version=office.version,
        )
        office.refresh_from_db()
        assert office.status == Office.Status.SUSPENDED
        assert AuditLog.objects.get(action="office.status").changes["status"] == [
            "active",
            "suspended",
        ]
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            services.office_set_status(
                office=office,
                acting_user=user,
                status=Office.Status.SUSPENDED,
                expected_version=office.version,
            )


def test_opening_needs_a_date(network):
    pm = network.users["province_manager"]
    office = OfficeFactory(province=network.province, status=Office.Status.PLANNED)
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.office_set_status(
            office=office, acting_user=pm, status="pilot", expected_version=office.version
        )
    assert "opened_on" in caught.value.message_dict
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.office_set_status(
            office=office,
            acting_user=pm,
            status="active",
            opened_on=timezone.localdate() + dt.timedelta(days=1),
            expected_version=office.version,
        )
    assert "opened_on" in caught.value.message_dict
    services.office_set_status(
        office=office,
        acting_user=pm,
        status="pilot",
        opened_on=OPENED,
        expected_version=office.version,
    )
    office.refresh_from_db()
    assert (office.status, office.opened_on, office.version) == ("pilot", OPENED, 2)


def test_status_transitions_are_checked(network):
    pm = network.users["province_manager"]
    office = OfficeFactory(province=network.province, status=Office.Status.CLOSED)
    for bad in ("active", "closed", "nonsense"):
        with nothing_changes(), pytest.raises(ValidationError) as caught:
            services.office_set_status(
                office=office, acting_user=pm, status=bad, expected_version=office.version
            )
        assert "status" in caught.value.message_dict


def test_status_conflict(network):
    pm = network.users["province_manager"]
    first = Office.objects.get(pk=network.office.pk)
    second = Office.objects.get(pk=network.office.pk)
    services.office_update(
        office=first, acting_user=pm, expected_version=first.version, note="تازه"
    )
    with nothing_changes(), pytest.raises(ConflictError):
        services.office_set_status(
            office=second, acting_user=pm, status="closed", expected_version=second.version
        )


# --- operators -------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_operator_create_by_role(network, role):
    user = network.users[role]
    kwargs = {"name_fa": "مؤسسه توسعه محلی", "kind": Operator.Kind.NGO, "phone": "۰۶۱۳۳۳۳۴۴۴۴"}
    if role in MANAGERS:
        operator = services.operator_create(acting_user=user, **kwargs)
        assert operator.phone == "06133334444"
        assert AuditLog.objects.filter(action="operator.create").count() == 1
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            services.operator_create(acting_user=user, **kwargs)


@pytest.mark.parametrize("role", ROLES)
def test_operator_update_by_role(network, role):
    user = network.users[role]
    operator = network.office.operator
    if role in MANAGERS:
        services.operator_update(operator=operator, acting_user=user, name_en="Local NGO")
        operator.refresh_from_db()
        assert operator.name_en == "Local NGO"
        assert AuditLog.objects.filter(action="operator.update").count() == 1
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            services.operator_update(operator=operator, acting_user=user, name_en="x")


def test_province_manager_cannot_edit_an_operator_working_elsewhere(network):
    with nothing_changes(), pytest.raises(PermissionDenied):
        services.operator_update(
            operator=network.other_office.operator,
            acting_user=network.users["province_manager"],
            name_en="x",
        )


def test_operator_validation_and_conflict(network):
    pm = network.users["province_manager"]
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.operator_create(acting_user=pm, name_fa="x", kind="cult")
    assert "kind" in caught.value.message_dict
    operator = OperatorFactory()
    v1 = services.operator_version(operator)
    services.operator_update(operator=operator, acting_user=pm, expected_version=v1, name_en="A")
    with nothing_changes(), pytest.raises(ConflictError):
        services.operator_update(
            operator=operator, acting_user=pm, expected_version=v1, name_en="B"
        )


# --- staff -----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_staff_add_facilitator_by_role(network, role):
    user = network.users[role]
    newcomer = UserFactory()
    if role in STAFF_MANAGERS:
        membership = staff.staff_add(
            office=network.office,
            acting_user=user,
            role=Role.FACILITATOR,
            username=newcomer.username.upper(),
            title="تسهیلگر محله",
        )
        assert membership.user == newcomer and membership.is_active
        assert network.office.pk in scope_of(User.objects.get(pk=newcomer.pk)).office_ids
        entry = AuditLog.objects.get(action="office.staff_add")
        assert entry.office == network.office
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            staff.staff_add(
                office=network.office, acting_user=user, role=Role.FACILITATOR, user=newcomer
            )


@pytest.mark.parametrize("role", ROLES)
def test_staff_add_manager_by_role(network, role):
    user = network.users[role]
    newcomer = UserFactory()
    if role in MANAGERS:
        staff.staff_add(
            office=network.office, acting_user=user, role=Role.OFFICE_MANAGER, user=newcomer
        )
        assert RoleMembership.objects.filter(
            user=newcomer, role=Role.OFFICE_MANAGER, office=network.office
        ).exists()
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            staff.staff_add(
                office=network.office, acting_user=user, role=Role.OFFICE_MANAGER, user=newcomer
            )


def test_office_manager_cannot_add_staff_to_another_office(network):
    newcomer = UserFactory()
    with nothing_changes(), pytest.raises(PermissionDenied):
        staff.staff_add(
            office=network.other_office,
            acting_user=network.users["office_manager"],
            role=Role.FACILITATOR,
            user=newcomer,
        )


def test_staff_add_validation(network):
    om = network.users["office_manager"]
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        staff.staff_add(
            office=network.office, acting_user=om, role=Role.FACILITATOR, username="nobody-here"
        )
    assert "username" in caught.value.message_dict
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        staff.staff_add(
            office=network.office,
            acting_user=om,
            role=Role.FACILITATOR,
            user=network.users["facilitator"],
        )
    assert "username" in caught.value.message_dict
    newcomer = UserFactory()
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        staff.staff_add(office=network.office, acting_user=om, role=Role.ANALYST, user=newcomer)
    assert "role" in caught.value.message_dict


@pytest.mark.parametrize("role", ROLES)
def test_staff_add_new_user_by_role(network, role):
    user = network.users[role]
    kwargs = {
        "office": network.office,
        "role": Role.FACILITATOR,
        "username": "maryam.k",
        "first_name": "مريم",
        "last_name": "کعبی",
        "mobile": "۰۹۱۶ ۱۲۳ ۴۵۶۷",
        "title": "تسهیلگر",
    }
    if role in STAFF_MANAGERS:
        membership, password = staff.staff_add_new_user(acting_user=user, **kwargs)
        created = membership.user
        assert created.username == "maryam.k"
        assert created.first_name == "مریم"  # Arabic yeh unified
        assert created.mobile == "+989161234567"
        assert created.check_password(password)
        assert len(password) >= 12
        entry = AuditLog.objects.get(action="user.create")
        assert entry.changes["mobile"][1] != created.mobile  # masked in the log
        assert AuditLog.objects.filter(action="office.staff_add").count() == 1
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            staff.staff_add_new_user(acting_user=user, **kwargs)


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"username": "TAKEN"}, "username"),
        ({"username": "has space"}, "username"),
        ({"mobile": "0611234567"}, "mobile"),
        ({"first_name": ""}, "first_name"),
        ({"password": "123"}, "password"),
    ],
)
def test_staff_add_new_user_validation(network, extra, field):
    UserFactory(username="taken")
    kwargs = {
        "office": network.office,
        "role": Role.FACILITATOR,
        "username": "new.person",
        "first_name": "علی",
        "last_name": "نظری",
    } | extra
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        staff.staff_add_new_user(acting_user=network.users["office_manager"], **kwargs)
    assert field in caught.value.message_dict


@pytest.mark.parametrize("role", ROLES)
def test_staff_remove_facilitator_by_role(network, role):
    user = network.users[role]
    membership = RoleMembership.objects.get(
        user=network.users["facilitator"], office=network.office
    )
    if role in STAFF_MANAGERS:
        staff.staff_remove(membership=membership, acting_user=user)
        membership.refresh_from_db()
        assert membership.is_active is False  # kept, not deleted
        assert network.office.pk not in scope_of(User.objects.get(pk=membership.user_id)).office_ids
        assert AuditLog.objects.get(action="office.staff_remove").changes == {
            "is_active": [True, False]
        }
        # Removing twice is harmless.
        staff.staff_remove(membership=membership, acting_user=user)
        assert AuditLog.objects.filter(action="office.staff_remove").count() == 1
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            staff.staff_remove(membership=membership, acting_user=user)


@pytest.mark.parametrize("role", ROLES)
def test_staff_remove_manager_by_role(network, role):
    user = network.users[role]
    membership = RoleMembership.objects.get(
        user=network.users["office_manager"], office=network.office
    )
    if role in MANAGERS:
        staff.staff_remove(membership=membership, acting_user=user)
        assert not RoleMembership.objects.get(pk=membership.pk).is_active
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            staff.staff_remove(membership=membership, acting_user=user)


def test_removed_member_can_be_taken_back(network):
    pm = network.users["province_manager"]
    facilitator = network.users["facilitator"]
    membership = RoleMembership.objects.get(user=facilitator, office=network.office)
    staff.staff_remove(membership=membership, acting_user=pm)
    again = staff.staff_add(
        office=network.office, acting_user=pm, role=Role.FACILITATOR, user=facilitator, title="x"
    )
    assert again.pk == membership.pk and again.is_active and again.title == "x"


def test_staff_remove_refuses_non_office_memberships(network):
    membership = RoleMembership.objects.get(user=network.users["analyst"])
    with nothing_changes(), pytest.raises(ValidationError):
        staff.staff_remove(membership=membership, acting_user=network.users["national_admin"])


def test_office_manager_is_not_a_province_manager(network):
    grant(network.users["office_manager"], Role.FACILITATOR, office=network.other_office)
    acting = User.objects.get(pk=network.users["office_manager"].pk)
    newcomer = UserFactory()
    # Being on another office's staff does not let them manage it.
    with nothing_changes(), pytest.raises(PermissionDenied):
        staff.staff_add(
            office=network.other_office, acting_user=acting, role=Role.FACILITATOR, user=newcomer
        )


def test_office_names_and_notes_are_stored_without_direction_controls(network):
    office = network.office
    services.office_update(
        office=office,
        acting_user=network.users["province_manager"],
        expected_version=office.version,
        name_fa="دفتر\u202e تازه",
        note="یادداشت\u2067\nخط دوم\u2069",
        address="خیابان\u202d ۱۲",
    )
    office.refresh_from_db()
    assert (office.name_fa, office.note) == ("دفتر تازه", "یادداشت\nخط دوم")
    assert office.address == "خیابان ۱۲"


@pytest.mark.parametrize(
    ("name", "source"),
    [(t.name, source) for t in services.OFFICE_STATUS.transitions for source in sorted(t.sources)],
)
def test_every_office_move_writes_its_audit_row(network, name, source):
    pm = network.users["province_manager"]
    opened = None if source in (Office.Status.PLANNED, Office.Status.CLOSED) else OPENED
    office = OfficeFactory(province=network.province, status=source, opened_on=opened)
    target = next(t.target for t in services.OFFICE_STATUS.transitions if t.name == name)
    assert target in services.OFFICE_STATUS.targets(office, pm)
    services.office_set_status(
        office=office,
        acting_user=pm,
        status=target,
        opened_on=OPENED if opened is None else None,
        expected_version=office.version,
    )
    row = AuditLog.objects.get(action="office.status")
    assert (row.object_type, row.object_id, row.actor, row.office_id) == (
        "offices.office",
        str(office.pk),
        pm,
        office.pk,
    )
    assert row.changes["status"] == [source, target]


def test_offices_moves_are_offered_to_managers_only(network):
    office = network.office
    assert services.OFFICE_STATUS.targets(office, network.users["office_manager"]) == []
    assert services.OFFICE_STATUS.targets(office, network.users["province_manager"]) == [
        Office.Status.SUSPENDED,
        Office.Status.CLOSED,
    ]
