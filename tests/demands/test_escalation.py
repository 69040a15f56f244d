"""The escalation ladder: who is told, when, and that no rung is ever recorded
or sent twice, even when two runs overlap."""

import datetime as dt
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tashil.agencies.models import RoutingRule
from tashil.core.calendar import add_working_days
from tashil.core.models import Closure
from tashil.demands import escalation, services
from tashil.demands.escalation import escalate_referrals
from tashil.demands.models import DemandEvent, EventKind, Referral, ReferralStatus
from tashil.notifications.models import Notification
from tests.factories import AgencyFactory, DemandCategoryFactory, Role, user_with_role

D = dt.date
# Referred on Saturday 3 May 2025 with a 5-working-day SLA (Thursdays and
# Fridays off, no holidays loaded): at risk from Wed 7 May, due Sat 10 May.
SENT = D(2025, 5, 3)
AT_RISK = D(2025, 5, 7)
DUE = D(2025, 5, 10)
ONE_DAY_LATE = D(2025, 5, 11)
FIVE_DAYS_LATE = D(2025, 5, 17)  # 11, 12, 13, 14, 17
TEN_DAYS_LATE = D(2025, 5, 24)  # 18, 19, 20, 21, 24

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ladder(demand_setup):
    """The demand network plus everyone the ladder can reach, each with a mobile,
    and the governorate agency the routing table names for "escalation"."""
    n = demand_setup
    mobiles = {
        "agency_liaison": "+989120000001",
        "office_manager": "+989120000002",
        "province_manager": "+989120000003",
    }
    for role, mobile in mobiles.items():
        n.users[role].mobile = mobile
        n.users[role].save(update_fields=["mobile"])
    n.governorate = AgencyFactory(province=n.province, code="governorate-test")
    n.governorate_liaison = user_with_role(Role.AGENCY_LIAISON, agency=n.governorate)
    n.governorate_liaison.mobile = "+989120000004"
    n.governorate_liaison.email = "governorate@example.org"
    n.governorate_liaison.save(update_fields=["mobile", "email"])
    n.escalation_category = DemandCategoryFactory(code=escalation.ESCALATION_CATEGORY_CODE)
    RoutingRule.objects.create(
        category=n.escalation_category, area=n.province, agency=n.governorate
    )
    return n


def refer(n, submit, *, on=SENT):
    """A referral sent on `on`, as the office manager would make it that day."""
    demand = submit()
    due, at_risk = services.due_dates(sent_on=on, category=n.category, province=n.province)
    referral = services.demand_refer(demand=demand, acting_user=n.users["office_manager"])
    # demand_refer stamps today's date; move the clock to the scenario's date.
    Referral.objects.filter(pk=referral.pk).update(sent_on=on, due_date=due, at_risk_date=at_risk)
    referral.refresh_from_db()
    return referral


def rungs(referral):
    return list(
        DemandEvent.objects.filter(referral=referral, kind=EventKind.ESCALATED)
        .order_by("id")
        .values_list("data__level", "data__rung")
    )


def sms_to(user):
    return Notification.objects.filter(user=user, channel="sms").count()


def test_the_ladder_climbs_one_rung_at_a_time(ladder, submit):
    n = ladder
    referral = refer(n, submit)
    assert (referral.at_risk_date, referral.due_date) == (AT_RISK, DUE)
    liaison, manager, province = (
        n.users["agency_liaison"],
        n.users["office_manager"],
        n.users["province_manager"],
    )
    before = {u.pk: sms_to(u) for u in (liaison, manager, province, n.governorate_liaison)}

    assert escalate_referrals(today=AT_RISK - dt.timedelta(days=1)) == 0
    assert rungs(referral) == []

    # At risk: the agency's liaison gets a reminder, nobody else.
    assert escalate_referrals(today=AT_RISK) == 1
    assert rungs(referral) == [(1, "liaison")]
    assert sms_to(liaison) == before[liaison.pk] + 1
    assert sms_to(manager) == before[manager.pk]
    referral.refresh_from_db()
    assert referral.escalation_level == 1 and referral.last_escalated_at is not None

    # The due date itself is still in time.
    assert escalate_referrals(today=DUE) == 0

    assert escalate_referrals(today=ONE_DAY_LATE) == 1
    assert rungs(referral)[-1] == (2, "office_manager")
    assert sms_to(manager) == before[manager.pk] + 1
    assert sms_to(province) == before[province.pk]

    assert (
        escalate_referrals(today=FIVE_DAYS_LATE - dt.timedelta(days=1)) == 0
    )  # 4 working days late
    assert escalate_referrals(today=FIVE_DAYS_LATE) == 1
    assert rungs(referral)[-1] == (3, "province_manager")
    assert sms_to(province) == before[province.pk] + 1

    assert escalate_referrals(today=TEN_DAYS_LATE - dt.timedelta(days=1)) == 0  # a Friday
    assert escalate_referrals(today=TEN_DAYS_LATE) == 1
    assert rungs(referral)[-1] == (4, "governorate")
    assert sms_to(n.governorate_liaison) == before[n.governorate_liaison.pk] + 1
    assert Notification.objects.filter(user=n.governorate_liaison, channel="email").count() == 1
    # Nobody was told twice along the way.
    assert sms_to(liaison) == before[liaison.pk] + 1
    assert sms_to(manager) == before[manager.pk] + 1
    assert sms_to(province) == before[province.pk] + 1


def test_each_rung_is_on_the_timeline_with_what_and_when(ladder, submit):
    n = ladder
    referral = refer(n, submit)
    escalate_referrals(today=TEN_DAYS_LATE)
    events = list(
        DemandEvent.objects.filter(referral=referral, kind=EventKind.ESCALATED).order_by("id")
    )
    assert [e.data["level"] for e in events] == [1, 2, 3, 4]
    notified = {e.data["rung"]: e.data["notified"] for e in events}
    assert notified == {
        "liaison": [n.users["agency_liaison"].username],
        "office_manager": [n.users["office_manager"].username],
        "province_manager": [n.users["province_manager"].username],
        "governorate": [n.governorate_liaison.username],
    }
    for event in events:
        assert event.demand_id == referral.demand_id
        assert event.data["agency"] == n.agency.code and event.data["due_date"] == DUE.isoformat()
        assert event.at is not None
    # Reminders stay internal; the resident sees that the province was involved.
    assert [e.is_public for e in events] == [False, False, True, True]
    assert all(e.public_note for e in events if e.is_public)


def test_running_twice_records_and_sends_nothing_more(ladder, submit):
    n = ladder
    referrals = [refer(n, submit) for _ in range(3)]
    assert escalate_referrals(today=TEN_DAYS_LATE) == 12
    events = DemandEvent.objects.filter(kind=EventKind.ESCALATED).count()
    notifications = Notification.objects.count()

    assert escalate_referrals(today=TEN_DAYS_LATE) == 0
    assert escalate_referrals(today=TEN_DAYS_LATE + dt.timedelta(days=30)) == 0  # top of the ladder
    assert DemandEvent.objects.filter(kind=EventKind.ESCALATED).count() == events == 12
    assert Notification.objects.count() == notifications
    for referral in referrals:
        assert [level for level, _rung in rungs(referral)] == [1, 2, 3, 4]


def test_a_run_that_lost_the_race_records_nothing(ladder, submit):
    """Two runs read the same row: the one whose conditional update finds the
    level already moved must not record or send anything."""
    n = ladder
    referral = refer(n, submit)
    stale = Referral.objects.select_related("demand", "agency").get(pk=referral.pk)
    escalate_referrals(today=ONE_DAY_LATE)
    events, notifications = DemandEvent.objects.count(), Notification.objects.count()

    assert escalation._escalate_one(stale, ONE_DAY_LATE, timezone.now()) == 0
    assert DemandEvent.objects.count() == events and Notification.objects.count() == notifications
    assert rungs(referral) == [(1, "liaison"), (2, "office_manager")]


@pytest.mark.parametrize(
    "to_statuses",
    [
        [ReferralStatus.ANSWERED],
        [ReferralStatus.IN_PROGRESS, ReferralStatus.DONE],
        [ReferralStatus.REJECTED],
        [ReferralStatus.NOT_RESPONSIBLE],
    ],
)
def test_answered_or_closed_referrals_are_not_escalated(ladder, submit, to_statuses):
    n = ladder
    referral = refer(n, submit)
    for status in to_statuses:
        services.referral_move(
            referral=referral,
            to_status=status,
            acting_user=n.users["agency_liaison"],
            note="پاسخ اداره",
        )
    notifications = Notification.objects.count()
    assert escalate_referrals(today=TEN_DAYS_LATE) == 0
    assert rungs(referral) == []
    assert Notification.objects.count() == notifications


def test_an_answer_after_a_reminder_stops_the_ladder(ladder, submit):
    n = ladder
    referral = refer(n, submit)
    escalate_referrals(today=AT_RISK)
    referral.refresh_from_db()
    services.referral_move(
        referral=referral,
        to_status=ReferralStatus.ANSWERED,
        acting_user=n.users["agency_liaison"],
        note="تا پایان ماه انجام می‌شود",
    )
    assert escalate_referrals(today=TEN_DAYS_LATE) == 0
    assert rungs(referral) == [(1, "liaison")]


def test_a_received_or_in_progress_referral_keeps_climbing(ladder, submit):
    n = ladder
    referral = refer(n, submit)
    services.referral_move(
        referral=referral,
        to_status=ReferralStatus.IN_PROGRESS,
        acting_user=n.users["agency_liaison"],
    )
    assert escalate_referrals(today=FIVE_DAYS_LATE) == 3


def test_batches_cover_every_referral_once(ladder, submit):
    n = ladder
    referrals = [refer(n, submit) for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        assert escalate_referrals(today=TEN_DAYS_LATE, batch_size=2) == 20
    batch_reads = [
        q["sql"] for q in queries if 'FROM "demands_referral"' in q["sql"] and "LIMIT 2" in q["sql"]
    ]
    # 2 + 2 + 1, then an empty read ends the run.
    assert len(batch_reads) == 4
    for referral in referrals:
        assert [level for level, _rung in rungs(referral)] == [1, 2, 3, 4]
    assert escalate_referrals(today=TEN_DAYS_LATE, batch_size=2) == 0


def test_batches_skip_referrals_not_yet_at_risk(ladder, submit):
    n = ladder
    late = [refer(n, submit) for _ in range(3)]
    fresh = [refer(n, submit, on=D(2025, 5, 21)) for _ in range(2)]
    assert escalate_referrals(today=ONE_DAY_LATE, batch_size=2) == 6
    assert all(len(rungs(r)) == 2 for r in late)
    assert all(rungs(r) == [] for r in fresh)


def test_a_closure_delays_the_next_rung(ladder, submit):
    n = ladder
    referral = refer(n, submit)
    Closure.objects.create(
        province=n.province, start_date=D(2025, 5, 11), end_date=D(2025, 5, 14), reason="گرما"
    )
    # Only Sat 17 May counts: one working day late, not five.
    assert escalate_referrals(today=FIVE_DAYS_LATE) == 2
    assert rungs(referral)[-1] == (2, "office_manager")


def test_without_an_escalation_route_the_province_manager_is_told(ladder, submit):
    n = ladder
    RoutingRule.objects.filter(category=n.escalation_category).delete()
    referral = refer(n, submit)
    escalate_referrals(today=TEN_DAYS_LATE)
    last = (
        DemandEvent.objects.filter(referral=referral, kind=EventKind.ESCALATED)
        .order_by("id")
        .last()
    )
    assert last.data["rung"] == "governorate"
    assert last.data["notified"] == [n.users["province_manager"].username]


def test_command_runs_the_ladder_for_today(ladder, submit, capsys):
    n = ladder
    sent = timezone.localdate() - dt.timedelta(days=60)
    referral = refer(n, submit, on=sent)
    assert add_working_days(referral.due_date, 10, n.province) <= timezone.localdate()
    call_command("escalate_referrals")
    assert capsys.readouterr().out.split()[0] == "4"
    assert [level for level, _rung in rungs(referral)] == [1, 2, 3, 4]
    call_command("escalate_referrals")
    assert capsys.readouterr().out.startswith("0 ")


# --- two runs at the same moment ------------------------------------------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers, so two runs cannot overlap there; "
    "the sequential double run above covers idempotency on SQLite",
)


def _last_notification_id():
    return Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _assert_each_rung_once(referrals, users_by_rung, since_id):
    for referral in referrals:
        assert sorted(level for level, _rung in rungs(referral)) == [1, 2, 3, 4], referral.pk
        referral.refresh_from_db()
        assert referral.escalation_level == 4
    sent = Notification.objects.filter(pk__gt=since_id)
    for rung, user in users_by_rung.items():
        # One message per referral for this rung: none lost, none doubled.
        assert sent.filter(user=user, channel="sms").count() == len(referrals), rung
        assert sorted(
            sent.filter(user=user, channel="sms").values_list("topic", flat=True)
        ) == sorted(f"referral:{r.pk}" for r in referrals), rung


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_record_every_rung_exactly_once(ladder, submit):
    n = ladder
    referrals = [refer(n, submit) for _ in range(24)]
    since_id = _last_notification_id()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(escalate_referrals(today=TEN_DAYS_LATE, batch_size=3))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    # Between them the two runs did everything exactly once.
    assert len(results) == 2
    assert sum(results) == 24 * 4
    assert DemandEvent.objects.filter(kind=EventKind.ESCALATED).count() == 24 * 4
    _assert_each_rung_once(
        referrals,
        {
            "liaison": n.users["agency_liaison"],
            "office_manager": n.users["office_manager"],
            "province_manager": n.users["province_manager"],
            "governorate": n.governorate_liaison,
        },
        since_id,
    )
    # Each delivered once, after its run's transaction committed.
    delivered = Notification.objects.filter(pk__gt=since_id)
    assert delivered.count() == 24 * 5  # one email to the governorate liaison too
    assert set(delivered.values_list("status", "attempts").distinct()) == {
        (Notification.Status.SENT, 1)
    }


def _database_url():
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_processes_running_the_command_at_once(ladder, submit):
    n = ladder
    sent = timezone.localdate() - dt.timedelta(days=60)
    referrals = [refer(n, submit, on=sent) for _ in range(12)]
    since_id = _last_notification_id()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "TASHIL_TASKS_BACKEND": "immediate",
        "TASHIL_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "tashil.settings",
    }
    command = [sys.executable, "manage.py", "escalate_referrals"]
    processes = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    recorded = sum(
        int(re.search(r"^(\d+) escalation step", out, re.M).group(1)) for out, _err in outputs
    )
    assert recorded == 12 * 4
    assert DemandEvent.objects.filter(kind=EventKind.ESCALATED).count() == 12 * 4
    _assert_each_rung_once(
        referrals,
        {
            "liaison": n.users["agency_liaison"],
            "office_manager": n.users["office_manager"],
            "province_manager": n.users["province_manager"],
            "governorate": n.governorate_liaison,
        },
        since_id,
    )
