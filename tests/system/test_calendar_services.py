"""Who may change the working calendar, and what a refused or bad call leaves
behind (nothing)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tashil.core import calendar
from tashil.core.models import AuditLog, Closure, Holiday, WeekendRule
from tashil.system import calendar as calendar_services
from tests.factories import Role, user_with_role
from tests.roles import ROLES

D = dt.date
PROVINCE_EDITORS = {"national_admin", "province_manager"}


def _holiday_state(holiday):
    return (
        Holiday.objects.filter(pk=holiday.pk)
        .values("date", "source", "is_estimated", "is_active")
        .get()
    )


# --- Closures ------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_closure_create_by_role(network, role):
    user = network.users[role]
    call = dict(
        province=network.province,
        start_date=D(2025, 7, 20),
        end_date=D(2025, 7, 22),
        reason="  گرمای   شدید  ",
        acting_user=user,
    )
    if role in PROVINCE_EDITORS:
        closure = calendar_services.closure_create(**call)
        closure.refresh_from_db()
        assert closure.reason == "گرمای شدید"
        assert closure.created_by == user
        entry = AuditLog.objects.get()
        assert (entry.action, entry.actor, entry.province) == (
            "closure.create",
            user,
            network.province,
        )
        assert entry.object_id == str(closure.pk)
        assert entry.changes["end_date"] == [None, "2025-07-22"]
        assert not calendar.is_working_day(D(2025, 7, 21), network.province)
    else:
        with pytest.raises(PermissionDenied):
            calendar_services.closure_create(**call)
        assert not Closure.objects.exists()
        assert not AuditLog.objects.exists()


def test_province_manager_cannot_close_another_province(network):
    with pytest.raises(PermissionDenied):
        calendar_services.closure_create(
            province=network.other_province,
            start_date=D(2025, 7, 20),
            end_date=D(2025, 7, 20),
            reason="گرما",
            acting_user=network.users["province_manager"],
        )
    assert not Closure.objects.exists()
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_closure_delete_by_role(network, role):
    closure = Closure.objects.create(
        province=network.province, start_date=D(2025, 7, 20), end_date=D(2025, 7, 22), reason="گرما"
    )
    user = network.users[role]
    if role in PROVINCE_EDITORS:
        calendar_services.closure_delete(closure=closure, acting_user=user)
        assert not Closure.objects.exists()
        entry = AuditLog.objects.get()
        assert (entry.action, entry.actor, entry.province) == (
            "closure.delete",
            user,
            network.province,
        )
        assert entry.changes["reason"] == ["گرما", None]
    else:
        with pytest.raises(PermissionDenied):
            calendar_services.closure_delete(closure=closure, acting_user=user)
        assert Closure.objects.filter(pk=closure.pk).exists()
        assert not AuditLog.objects.exists()


def test_province_manager_cannot_delete_another_provinces_closure(network):
    closure = Closure.objects.create(
        province=network.other_province,
        start_date=D(2025, 7, 20),
        end_date=D(2025, 7, 22),
        reason="گرما",
    )
    with pytest.raises(PermissionDenied):
        calendar_services.closure_delete(
            closure=closure, acting_user=network.users["province_manager"]
        )
    assert Closure.objects.filter(pk=closure.pk).exists()
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start_date": D(2025, 7, 22), "end_date": D(2025, 7, 20)}, "end_date"),
        ({"reason": ""}, "reason"),
        ({"reason": "   \u200c "}, "reason"),
        ({"start_date": None}, "start_date"),
        ({"end_date": "1404/05/01"}, "end_date"),
    ],
)
def test_closure_bad_input_names_the_field_and_writes_nothing(network, changes, field):
    call = (
        dict(
            province=network.province,
            start_date=D(2025, 7, 20),
            end_date=D(2025, 7, 22),
            reason="گرما",
            acting_user=network.users["province_manager"],
        )
        | changes
    )
    with pytest.raises(ValidationError) as error:
        calendar_services.closure_create(**call)
    assert field in error.value.message_dict
    assert not Closure.objects.exists()
    assert not AuditLog.objects.exists()


def test_closure_must_be_for_a_province(network):
    with pytest.raises(ValidationError) as error:
        calendar_services.closure_create(
            province=network.county,
            start_date=D(2025, 7, 20),
            end_date=D(2025, 7, 20),
            reason="گرما",
            acting_user=network.users["national_admin"],
        )
    assert "province" in error.value.message_dict
    assert not Closure.objects.exists()


def test_one_day_closure_is_allowed(network):
    closure = calendar_services.closure_create(
        province=network.province,
        start_date=D(2025, 7, 20),
        end_date=D(2025, 7, 20),
        reason="گرما",
        acting_user=network.users["province_manager"],
    )
    assert closure.start_date == closure.end_date


# --- Holidays ------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_holiday_correct_by_role(network, holiday, role):
    user = network.users[role]
    if role == "national_admin":
        calendar_services.holiday_correct(
            holiday=holiday, new_date=D(2027, 3, 11), acting_user=user
        )
        holiday.refresh_from_db()
        assert holiday.date == D(2027, 3, 11)
        assert holiday.original_date == D(2027, 3, 10)
        assert holiday.source == Holiday.Source.ADMIN
        assert not holiday.is_estimated
        entry = AuditLog.objects.get()
        assert entry.action == "holiday.correct" and entry.actor == user
        assert entry.changes["date"] == ["2027-03-10", "2027-03-11"]
        assert entry.changes["source"] == ["package", "admin"]
        assert calendar.is_working_day(D(2027, 3, 10))
        assert not calendar.is_working_day(D(2027, 3, 11))
    else:
        before = _holiday_state(holiday)
        with pytest.raises(PermissionDenied):
            calendar_services.holiday_correct(
                holiday=holiday, new_date=D(2027, 3, 11), acting_user=user
            )
        assert _holiday_state(holiday) == before
        assert not AuditLog.objects.exists()


def test_holiday_correct_rejects_a_non_date(network, holiday):
    before = _holiday_state(holiday)
    with pytest.raises(ValidationError) as error:
        calendar_services.holiday_correct(
            holiday=holiday, new_date="1405/12/20", acting_user=network.users["national_admin"]
        )
    assert "date" in error.value.message_dict
    assert _holiday_state(holiday) == before
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_holiday_set_active_by_role(network, holiday, role):
    user = network.users[role]
    if role == "national_admin":
        calendar_services.holiday_set_active(holiday=holiday, is_active=False, acting_user=user)
        holiday.refresh_from_db()
        assert not holiday.is_active
        assert calendar.is_working_day(D(2027, 3, 10))
        entry = AuditLog.objects.get()
        assert entry.action == "holiday.deactivate"
        assert entry.changes == {"is_active": [True, False]}
    else:
        before = _holiday_state(holiday)
        with pytest.raises(PermissionDenied):
            calendar_services.holiday_set_active(holiday=holiday, is_active=False, acting_user=user)
        assert _holiday_state(holiday) == before
        assert not AuditLog.objects.exists()


def test_anonymous_user_is_denied(holiday):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        calendar_services.holiday_set_active(
            holiday=holiday, is_active=False, acting_user=AnonymousUser()
        )
    assert Holiday.objects.get(pk=holiday.pk).is_active


def test_inactive_national_admin_is_denied(holiday):
    admin = user_with_role(Role.NATIONAL_ADMIN)
    admin.is_active = False
    admin.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        calendar_services.holiday_set_active(holiday=holiday, is_active=False, acting_user=admin)
    assert not AuditLog.objects.exists()


# --- Weekend rules -------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_national_weekend_rule_by_role(network, role):
    user = network.users[role]
    call = dict(province=None, valid_from=D(2025, 6, 1), weekdays=[4], acting_user=user)
    if role == "national_admin":
        rule = calendar_services.weekend_rule_set(**call)
        assert rule.province is None and rule.weekdays == [4]
        assert calendar.weekend_days(D(2025, 6, 1)) == {4}
        assert AuditLog.objects.get().action == "weekend_rule.set"
    else:
        with pytest.raises(PermissionDenied):
            calendar_services.weekend_rule_set(**call)
        assert not WeekendRule.objects.exists()
        assert not AuditLog.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_province_weekend_rule_by_role(network, role):
    user = network.users[role]
    call = dict(
        province=network.province, valid_from=D(2025, 6, 1), weekdays=[3, 4, 5], acting_user=user
    )
    if role in PROVINCE_EDITORS:
        calendar_services.weekend_rule_set(**call)
        assert calendar.weekend_days(D(2025, 6, 2), network.province) == {3, 4, 5}
        assert calendar.weekend_days(D(2025, 6, 2), network.other_province) == {3, 4}
        entry = AuditLog.objects.get()
        assert entry.province == network.province
        assert entry.changes["weekdays"] == [None, [3, 4, 5]]
    else:
        with pytest.raises(PermissionDenied):
            calendar_services.weekend_rule_set(**call)
        assert not WeekendRule.objects.exists()
        assert not AuditLog.objects.exists()


def test_province_manager_cannot_set_another_provinces_weekend(network):
    with pytest.raises(PermissionDenied):
        calendar_services.weekend_rule_set(
            province=network.other_province,
            valid_from=D(2025, 6, 1),
            weekdays=[4],
            acting_user=network.users["province_manager"],
        )
    assert not WeekendRule.objects.exists()
    assert not AuditLog.objects.exists()


def test_setting_the_same_date_again_replaces_the_rule(network):
    admin = network.users["national_admin"]
    first = calendar_services.weekend_rule_set(
        province=None, valid_from=D(2025, 6, 1), weekdays=[4, 3, 4], acting_user=admin
    )
    assert first.weekdays == [3, 4]
    second = calendar_services.weekend_rule_set(
        province=None, valid_from=D(2025, 6, 1), weekdays=["۴"], acting_user=admin
    )
    assert second.pk == first.pk
    assert WeekendRule.objects.get().weekdays == [4]
    latest = AuditLog.objects.order_by("-id").first()
    assert latest.changes == {"weekdays": [[3, 4], [4]]}
    assert AuditLog.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weekdays": [7]}, "weekdays"),
        ({"weekdays": [-1, 4]}, "weekdays"),
        ({"weekdays": "34"}, "weekdays"),
        ({"weekdays": [True]}, "weekdays"),
        ({"weekdays": None}, "weekdays"),
        ({"weekdays": list(range(7))}, "weekdays"),
        ({"weekdays": []}, "weekdays"),
        ({"valid_from": None}, "valid_from"),
    ],
)
def test_weekend_rule_bad_input_names_the_field_and_writes_nothing(network, changes, field):
    call = (
        dict(
            province=network.province,
            valid_from=D(2025, 6, 1),
            weekdays=[4],
            acting_user=network.users["province_manager"],
        )
        | changes
    )
    with pytest.raises(ValidationError) as error:
        calendar_services.weekend_rule_set(**call)
    assert field in error.value.message_dict
    assert not WeekendRule.objects.exists()
    assert not AuditLog.objects.exists()
