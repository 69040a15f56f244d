"""What the calendar services say and record, word for word: the messages a
refused or bad call shows, and the audit rows of the moves the role tests
only count (see docs/benchmarks.md, Mutation testing)."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from tashil.core import calendar
from tashil.core.models import AuditLog, Closure, Holiday, WeekendRule
from tashil.system import calendar as calendar_services

D = dt.date


@pytest.fixture
def holiday(holiday):
    """Switched off, so that switching it on is a change the audit row records."""
    holiday.is_active = False
    holiday.save(update_fields=["is_active"])
    return holiday


def _refused(call, **kwargs):
    with translation.override("en"):
        with pytest.raises(PermissionDenied) as error:
            call(**kwargs)
        return str(error.value)


def _invalid(call, **kwargs):
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            call(**kwargs)
        return {
            field: [str(m) for m in messages]
            for field, messages in error.value.message_dict.items()
        }


def test_refusals_say_who_may(network, holiday):
    manager = network.users["province_manager"]
    facilitator = network.users["facilitator"]
    holidays_msg = "Only a national administrator can change official holidays."
    assert (
        _refused(
            calendar_services.holiday_correct,
            holiday=holiday,
            new_date=D(2027, 3, 11),
            acting_user=manager,
        )
        == holidays_msg
    )
    assert (
        _refused(
            calendar_services.holiday_set_active,
            holiday=holiday,
            is_active=True,
            acting_user=manager,
        )
        == holidays_msg
    )
    assert (
        _refused(
            calendar_services.closure_create,
            province=network.other_province,
            start_date=D(2025, 7, 20),
            end_date=D(2025, 7, 20),
            reason="گرما",
            acting_user=manager,
        )
        == "Only the province's manager can declare closures for it."
    )
    closure = Closure.objects.create(
        province=network.province, start_date=D(2025, 7, 20), end_date=D(2025, 7, 22), reason="گرما"
    )
    assert (
        _refused(calendar_services.closure_delete, closure=closure, acting_user=facilitator)
        == "Only the province's manager can remove its closures."
    )
    assert (
        _refused(
            calendar_services.weekend_rule_set,
            province=None,
            valid_from=D(2025, 6, 1),
            weekdays=[4],
            acting_user=manager,
        )
        == "Only a national administrator can set the national weekend."
    )
    assert (
        _refused(
            calendar_services.weekend_rule_set,
            province=network.other_province,
            valid_from=D(2025, 6, 1),
            weekdays=[4],
            acting_user=manager,
        )
        == "Only the province's manager can set its weekend."
    )
    assert not AuditLog.objects.exists()


def test_closure_messages(network):
    admin = network.users["national_admin"]
    call = dict(
        province=network.province,
        start_date=D(2025, 7, 20),
        end_date=D(2025, 7, 22),
        reason="گرما",
        acting_user=admin,
    )
    assert _invalid(calendar_services.closure_create, **call | {"province": network.county}) == {
        "province": ["Choose a province."]
    }
    assert _invalid(
        calendar_services.closure_create,
        **call | {"start_date": None, "end_date": None, "reason": " "},
    ) == {
        "start_date": ["Enter the first day of the closure."],
        "end_date": ["Enter the last day of the closure."],
        "reason": ["Enter the reason for the closure."],
    }
    # A bad first day is reported once, not as "before the first day" too.
    assert _invalid(calendar_services.closure_create, **call | {"start_date": "1404/05/01"}) == {
        "start_date": ["Enter the first day of the closure."]
    }
    assert _invalid(calendar_services.closure_create, **call | {"end_date": D(2025, 7, 19)}) == {
        "end_date": ["The last day cannot be before the first day."]
    }
    assert not Closure.objects.exists()


def test_weekend_rule_messages(network):
    admin = network.users["national_admin"]
    call = dict(
        province=network.province, valid_from=D(2025, 6, 1), weekdays=[4], acting_user=admin
    )
    assert _invalid(calendar_services.weekend_rule_set, **call | {"province": network.county}) == {
        "province": ["Choose a province."]
    }
    assert _invalid(calendar_services.weekend_rule_set, **call | {"valid_from": "1404/03/11"}) == {
        "valid_from": ["Enter the date the rule starts on."]
    }
    assert _invalid(calendar_services.weekend_rule_set, **call | {"weekdays": [9]}) == {
        "weekdays": ["Weekend days must be weekday numbers from 0 (Monday) to 6 (Sunday)."]
    }
    assert _invalid(calendar_services.weekend_rule_set, **call | {"weekdays": []}) == {
        "weekdays": ["Choose at least one weekend day."]
    }
    assert _invalid(calendar_services.weekend_rule_set, **call | {"weekdays": list(range(7))}) == {
        "weekdays": ["At least one day of the week must be a working day."]
    }
    # Six days are allowed.
    rule = calendar_services.weekend_rule_set(
        **call | {"weekdays": list(range(6)), "note": "  آزمایش  "}
    )
    assert rule.weekdays == [0, 1, 2, 3, 4, 5] and rule.note == "آزمایش"
    entry = AuditLog.objects.get()
    assert (entry.action, entry.actor, entry.province) == (
        "weekend_rule.set",
        admin,
        network.province,
    )
    assert entry.object_id == str(rule.pk)
    assert entry.changes["note"] == [None, "آزمایش"]


def test_a_holiday_date_must_be_a_date(network, holiday):
    admin = network.users["national_admin"]
    for bad in ("1405/12/20", dt.datetime(2027, 3, 11, 10, 0), None):
        assert _invalid(
            calendar_services.holiday_correct, holiday=holiday, new_date=bad, acting_user=admin
        ) == {"date": ["Enter a valid date."]}
    assert not AuditLog.objects.exists()


def test_switching_a_holiday_on_and_off_is_audited(network, holiday):
    admin = network.users["national_admin"]
    calendar_services.holiday_set_active(holiday=holiday, is_active=1, acting_user=admin)
    assert Holiday.objects.get(pk=holiday.pk).is_active is True
    assert not calendar.is_working_day(D(2027, 3, 10))
    calendar_services.holiday_set_active(holiday=holiday, is_active=0, acting_user=admin)
    assert Holiday.objects.get(pk=holiday.pk).is_active is False
    on, off = AuditLog.objects.order_by("id")
    assert (on.action, on.actor, on.changes) == (
        "holiday.activate",
        admin,
        {"is_active": [False, True]},
    )
    assert (off.action, off.actor, off.changes) == (
        "holiday.deactivate",
        admin,
        {"is_active": [True, False]},
    )
    assert on.object_id == str(holiday.pk)


def test_deleting_a_closure_is_audited_with_everything_it_held(network):
    manager = network.users["province_manager"]
    closure = Closure.objects.create(
        province=network.province, start_date=D(2025, 7, 20), end_date=D(2025, 7, 22), reason="گرما"
    )
    pk = closure.pk
    calendar_services.closure_delete(closure=closure, acting_user=manager)
    entry = AuditLog.objects.get()
    assert (entry.action, entry.actor, entry.province, entry.object_id) == (
        "closure.delete",
        manager,
        network.province,
        str(pk),
    )
    assert entry.changes == {
        "province": [network.province.pk, None],
        "start_date": ["2025-07-20", None],
        "end_date": ["2025-07-22", None],
        "reason": ["گرما", None],
    }
    assert not Closure.objects.exists()


def test_only_a_saved_user_is_recorded_as_the_creator():
    assert calendar_services._actor(AnonymousUser()) is None
    assert calendar_services._actor(None) is None
    assert calendar_services._actor(object()) is None


def test_weekend_rules_are_kept_apart_by_province_and_date(network):
    admin = network.users["national_admin"]
    national = calendar_services.weekend_rule_set(
        province=None, valid_from=D(2025, 6, 1), weekdays=[4], acting_user=admin
    )
    provincial = calendar_services.weekend_rule_set(
        province=network.province, valid_from=D(2025, 6, 1), weekdays=[3, 4], acting_user=admin
    )
    later = calendar_services.weekend_rule_set(
        province=None, valid_from=D(2025, 6, 2), weekdays=[5], acting_user=admin
    )
    assert len({national.pk, provincial.pk, later.pk}) == 3
    assert WeekendRule.objects.count() == 3
    assert AuditLog.objects.filter(action="weekend_rule.set").count() == 3
