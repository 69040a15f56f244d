"""Every move of a demand and of a referral writes its timeline row and its
audit row; a refused move writes nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tashil.core.errors import ConflictError
from tashil.core.models import AuditLog
from tashil.demands import services
from tashil.demands.models import DemandEvent, DemandStatus, EventKind, ReferralStatus
from tashil.demands.workflow import DEMAND, REFERRAL
from tests.factories import AgencyFactory

D, R = DemandStatus, ReferralStatus


def written():
    return (
        set(DemandEvent.objects.values_list("pk", flat=True)),
        set(AuditLog.objects.values_list("pk", flat=True)),
    )


def new_rows(before):
    events, audits = before
    return (
        list(DemandEvent.objects.exclude(pk__in=events).order_by("pk")),
        list(AuditLog.objects.exclude(pk__in=audits).order_by("pk")),
    )


def in_state(n, submit, state):
    """A demand brought to `state` through the services."""
    manager = n.users["office_manager"]
    demand = submit()
    if state == D.NEW:
        return demand
    if state in (D.ACCEPTED, D.RESOLVED):
        services.demand_accept(demand=demand, acting_user=manager)
    if state == D.REFERRED:
        services.demand_refer(demand=demand, acting_user=manager)
    if state == D.RESOLVED:
        services.demand_close(
            demand=demand, outcome=D.RESOLVED, acting_user=manager, reason="انجام شد"
        )
    demand.refresh_from_db()
    return demand


# name → (from state, the call, the state it ends in, who acts: a role or None)
DEMAND_MOVES = {
    "accept": (D.NEW, lambda d, u, n: services.demand_accept(demand=d, acting_user=u)),
    "take_back": (D.REFERRED, lambda d, u, n: services.demand_accept(demand=d, acting_user=u)),
    "request_info": (
        D.NEW,
        lambda d, u, n: services.demand_request_info(demand=d, acting_user=u, message="نشانی؟"),
    ),
    "reject": (
        D.NEW,
        lambda d, u, n: services.demand_reject(demand=d, acting_user=u, reason="تکراری"),
    ),
    "merge": (
        D.NEW,
        lambda d, u, n: services.demand_merge(demand=d, into=n.into, acting_user=u),
    ),
    "refer": (D.ACCEPTED, lambda d, u, n: services.demand_refer(demand=d, acting_user=u)),
    "resolve": (
        D.ACCEPTED,
        lambda d, u, n: services.demand_close(
            demand=d, outcome=D.RESOLVED, acting_user=u, reason="انجام شد"
        ),
    ),
    "resolve_partly": (
        D.REFERRED,
        lambda d, u, n: services.demand_close(
            demand=d, outcome=D.PARTLY_RESOLVED, acting_user=u, reason="بخشی انجام شد"
        ),
    ),
    "not_feasible": (
        D.ACCEPTED,
        lambda d, u, n: services.demand_close(
            demand=d, outcome=D.NOT_FEASIBLE, acting_user=u, reason="بودجه نیست"
        ),
    ),
    "reopen": (
        D.RESOLVED,
        lambda d, u, n: services.feedback_submit(demand=d, satisfied=False),
    ),
}
TARGETS = {t.name: t.target for t in DEMAND.transitions}


def test_every_demand_transition_is_tested():
    assert {t.name for t in DEMAND.transitions} == {*DEMAND_MOVES, "reopen_referred"}
    assert {t.name for t in REFERRAL.transitions} == {name for name, *_ in REFERRAL_MOVES}


@pytest.mark.parametrize("name", sorted(DEMAND_MOVES))
def test_a_demand_move_writes_its_timeline_and_audit_rows(demand_setup, submit, name):
    n = demand_setup
    source, call = DEMAND_MOVES[name]
    demand = in_state(n, submit, source)
    n.into = submit()
    actor = None if name == "reopen" else n.users["office_manager"]
    before = written()

    call(demand, actor, n)

    demand.refresh_from_db()
    target = TARGETS[name]
    assert demand.status == target
    events, audits = new_rows(before)
    moved = [e for e in events if e.kind == EventKind.STATUS]
    assert [(e.demand_id, e.from_status, e.to_status) for e in moved] == [
        (demand.pk, source, target)
    ]
    assert moved[0].actor == actor and moved[0].is_public
    row = next(a for a in audits if a.action == f"demand.{target}")
    assert (row.object_type, row.object_id, row.actor) == (
        "demands.demand",
        str(demand.pk),
        actor,
    )
    assert row.changes == {"status": [source, target]}
    assert row.office_id == demand.office_id and row.province_id == demand.province_id


def test_a_new_demand_referred_is_accepted_then_referred(demand_setup, submit):
    n = demand_setup
    manager = n.users["office_manager"]
    demand = submit()
    before = written()

    referral = services.demand_refer(demand=demand, acting_user=manager)

    events, audits = new_rows(before)
    assert [(e.kind, e.from_status, e.to_status) for e in events] == [
        (EventKind.STATUS, D.NEW, D.ACCEPTED),
        (EventKind.STATUS, D.ACCEPTED, D.REFERRED),
        (EventKind.REFERRED, "", R.SENT),
    ]
    assert [(a.action, a.actor) for a in audits] == [
        ("demand.accepted", manager),
        ("demand.referred", manager),
        ("referral.create", manager),
    ]
    assert audits[2].object_id == str(referral.pk)


def test_a_second_referral_moves_no_status(demand_setup, submit):
    n = demand_setup
    manager = n.users["office_manager"]
    demand = in_state(n, submit, D.REFERRED)
    other = AgencyFactory(province=n.province)
    before = written()

    services.demand_refer(demand=demand, acting_user=manager, agency=other)

    events, audits = new_rows(before)
    assert [e.kind for e in events] == [EventKind.REFERRED]
    assert [a.action for a in audits] == ["referral.create"]


def test_reopened_while_a_referral_is_open(demand_setup, submit):
    n = demand_setup
    demand = in_state(n, submit, D.REFERRED)
    services.demand_close(
        demand=demand, outcome=D.PARTLY_RESOLVED, acting_user=n.users["office_manager"], reason="x"
    )
    before = written()

    services.feedback_submit(demand=demand, satisfied=False)

    events, audits = new_rows(before)
    assert [(e.kind, e.to_status) for e in events] == [
        (EventKind.FEEDBACK, ""),
        (EventKind.STATUS, D.REFERRED),
    ]
    assert [(a.action, a.actor) for a in audits] == [("demand.referred", None)]


def test_support_is_audited(demand_setup, submit):
    demand = submit()
    before = written()
    services.demand_support(demand=demand, mobile="09120000001")
    events, audits = new_rows(before)
    assert [e.kind for e in events] == [EventKind.SUPPORTED]
    assert [(a.action, a.object_id, a.actor) for a in audits] == [
        ("demand.support", str(demand.pk), None)
    ]
    # The supporter's mobile is not in the log.
    assert "0912" not in str(audits[0].changes)


@pytest.mark.parametrize(
    ("role", "call", "error"),
    [
        # Not the office's: may not.
        ("analyst", lambda d, u: services.demand_accept(demand=d, acting_user=u), PermissionDenied),
        (
            "agency_liaison",
            lambda d, u: services.demand_reject(demand=d, acting_user=u, reason="x"),
            PermissionDenied,
        ),
        # The office's, but not from this state.
        (
            "office_manager",
            lambda d, u: services.demand_close(
                demand=d, outcome=D.RESOLVED, acting_user=u, reason="x"
            ),
            ValidationError,
        ),
        # A stale version.
        (
            "office_manager",
            lambda d, u: services.demand_accept(demand=d, acting_user=u, expected_version=0),
            ConflictError,
        ),
    ],
)
def test_a_refused_demand_move_writes_nothing(demand_setup, submit, role, call, error):
    n = demand_setup
    demand = submit()
    before = written()
    with pytest.raises(error):
        call(demand, n.users[role])
    assert new_rows(before) == ([], [])
    demand.refresh_from_db()
    assert demand.status == D.NEW and demand.version == 1


# --- referrals ---------------------------------------------------------------------------------

# (transition, from state, acting role, note)
REFERRAL_MOVES = [
    ("receive", R.SENT, "agency_liaison", ""),
    ("start", R.RECEIVED, "agency_liaison", ""),
    ("answer", R.IN_PROGRESS, "agency_liaison", "پاسخ"),
    ("done", R.IN_PROGRESS, "agency_liaison", ""),
    ("reject", R.SENT, "agency_liaison", "مربوط به ما نیست"),
    ("not_responsible", R.RECEIVED, "agency_liaison", "با شهرداری است"),
    ("confirm_done", R.ANSWERED, "office_manager", ""),
    ("send_back", R.ANSWERED, "facilitator", "ناکافی"),
]
PATH = {
    R.SENT: [],
    R.RECEIVED: [R.RECEIVED],
    R.IN_PROGRESS: [R.IN_PROGRESS],
    R.ANSWERED: [R.ANSWERED],
}


def referral_in(n, submit, state):
    demand = in_state(n, submit, D.ACCEPTED)
    referral = services.demand_refer(demand=demand, acting_user=n.users["office_manager"])
    for step in PATH[state]:
        services.referral_move(
            referral=referral, to_status=step, acting_user=n.users["agency_liaison"], note="x"
        )
    referral.refresh_from_db()
    return referral


@pytest.mark.parametrize(("name", "source", "role", "note"), REFERRAL_MOVES)
def test_a_referral_move_writes_its_timeline_and_audit_rows(
    demand_setup, submit, name, source, role, note
):
    n = demand_setup
    referral = referral_in(n, submit, source)
    actor = n.users[role]
    target = next(t.target for t in REFERRAL.transitions if t.name == name)
    assert target in REFERRAL.targets(referral, actor)
    before = written()

    services.referral_move(referral=referral, to_status=target, acting_user=actor, note=note)

    referral.refresh_from_db()
    assert referral.status == target
    events, audits = new_rows(before)
    assert [(e.kind, e.referral_id, e.from_status, e.to_status, e.actor) for e in events] == [
        (EventKind.REFERRAL_STATUS, referral.pk, source, target, actor)
    ]
    assert events[0].note == note and events[0].data["agency"] == referral.agency.code
    assert [(a.action, a.object_type, a.object_id, a.actor) for a in audits] == [
        (f"referral.{target}", "demands.referral", str(referral.pk), actor)
    ]
    assert audits[0].changes == {"status": [source, target]}


@pytest.mark.parametrize(
    ("source", "role", "target", "error"),
    [
        # Acknowledging stays the agency's word.
        (R.SENT, "office_manager", R.RECEIVED, PermissionDenied),
        # The office confirms only work the agency reports.
        (R.SENT, "office_manager", R.DONE, ValidationError),
        (R.SENT, "analyst", R.RECEIVED, PermissionDenied),
        (R.ANSWERED, "agency_liaison", R.RECEIVED, ValidationError),
    ],
)
def test_a_refused_referral_move_writes_nothing(demand_setup, submit, source, role, target, error):
    n = demand_setup
    referral = referral_in(n, submit, source)
    version = referral.version
    before = written()
    with pytest.raises(error):
        services.referral_move(
            referral=referral, to_status=target, acting_user=n.users[role], note="x"
        )
    assert new_rows(before) == ([], [])
    referral.refresh_from_db()
    assert (referral.status, referral.version) == (source, version)


def test_available_moves_by_side(demand_setup, submit):
    n = demand_setup
    referral = referral_in(n, submit, R.ANSWERED)
    admin = n.users["national_admin"]
    assert REFERRAL.targets(referral, n.users["agency_liaison"]) == [R.IN_PROGRESS, R.DONE]
    assert REFERRAL.targets(referral, n.users["facilitator"]) == [R.DONE, R.IN_PROGRESS]
    assert REFERRAL.targets(referral, admin, side="office") == [R.DONE, R.IN_PROGRESS]
    assert REFERRAL.targets(referral, n.users["analyst"]) == []
