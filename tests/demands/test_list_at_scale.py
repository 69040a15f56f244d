"""What keeps the staff list and the Open311 reads fast on a province's
demands, without changing what they answer: the SLA filter's plain
conditions, the demand's nearest due date kept by the services, the capped
count, and the queries a page issues."""

import datetime as dt
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.models import Exists, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tashil.core.pagination import CappedPaginator
from tashil.demands import selectors, services
from tashil.demands.escalation import escalate_referrals
from tashil.demands.models import (
    CLOCK_RUNNING_STATUSES,
    OPEN_REFERRAL_STATUSES,
    Demand,
    DemandStatus,
    Referral,
    ReferralStatus,
    SlaState,
    new_public_id,
)
from tashil.demands.open311.selectors import find_requests
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def listed(response) -> list[str]:
    return re.findall(
        r'data-testid="demand-row" data-code="([A-Z0-9]+)"', response.content.decode()
    )


def running_min_due(demand):
    """The nearest due date as the list computed it before it had a column."""
    return Referral.objects.filter(demand=demand, status__in=CLOCK_RUNNING_STATUSES).aggregate(
        d=Min("due_date")
    )["d"]


def stored_next_due(demand):
    return Demand.objects.values_list("next_due_date", flat=True).get(pk=demand.pk)


@pytest.fixture
def second_agency(demand_setup):
    agency = AgencyFactory(province=demand_setup.province)
    agency.jurisdiction.add(demand_setup.county)
    return agency


# --- the SLA filter ----------------------------------------------------------------------------


@pytest.fixture
def sla_cases(demand_setup, submit, second_agency):
    """Demands whose referrals sit on every edge between the SLA states:
    (days from today to the due date, to the at-risk date, status) per referral."""
    n = demand_setup
    today = timezone.localdate()
    cases = {
        "breached": [(-1, -3, ReferralStatus.SENT)],
        "due_today": [(0, -2, ReferralStatus.RECEIVED)],
        "at_risk_today": [(4, 0, ReferralStatus.IN_PROGRESS)],
        "at_risk_tomorrow": [(4, 1, ReferralStatus.SENT)],
        "answered_late": [(-5, -7, ReferralStatus.ANSWERED)],
        "done_late": [(-5, -7, ReferralStatus.DONE)],
        "rejected": [(3, 1, ReferralStatus.REJECTED)],
        "stopped_and_on_track": [(-2, -4, ReferralStatus.ANSWERED), (3, 1, ReferralStatus.SENT)],
        "breached_and_at_risk": [(-1, -3, ReferralStatus.SENT), (2, 0, ReferralStatus.RECEIVED)],
        "no_referral": [],
    }
    demands = {}
    for name, referrals in cases.items():
        demand = submit(description=f"آب آشامیدنی کوچه {name} قطع است")
        for (due, at_risk, status), agency in zip(
            referrals, (n.agency, second_agency), strict=False
        ):
            referral = services.demand_refer(
                demand=demand, acting_user=n.users["office_manager"], agency=agency
            )
            Referral.objects.filter(pk=referral.pk).update(
                due_date=today + due * DAY, at_risk_date=today + at_risk * DAY, status=status
            )
            demand.refresh_from_db()
        services.sync_next_due_date(demand)
        demands[name] = demand
    return demands


def reference_sla(user, state, today) -> set[str]:
    """The demands the filter found before: any referral whose CASE state
    (Referral.with_sla_state) is `state`."""
    states = Referral.objects.with_sla_state(today).filter(demand=OuterRef("pk"), sla_state=state)
    return set(
        Demand.objects.visible_to(user).filter(Exists(states)).values_list("code", flat=True)
    )


@pytest.mark.parametrize("state", [s.value for s in SlaState] + ["nonsense"])
@pytest.mark.parametrize("shift", [-1, 0, 1, 5])
def test_sla_filter_finds_the_same_demands_as_the_case_expression(
    demand_setup, sla_cases, state, shift
):
    user = demand_setup.users["office_manager"]
    today = timezone.localdate() + shift * DAY
    found = selectors.demand_list(
        user=user, filters=selectors.DemandFilters(sla=state), today=today
    )
    assert set(found.values_list("code", flat=True)) == reference_sla(user, state, today)


def test_each_sla_state_has_its_demands(client, demand_setup, sla_cases):
    """The cases above do reach every state, through the page itself."""
    client.force_login(demand_setup.users["facilitator"])
    names = {d.code: name for name, d in sla_cases.items()}

    def states(sla):
        return {names[c] for c in listed(client.get(reverse("demands:list"), {"sla": sla}))}

    assert states("breached") == {"breached", "breached_and_at_risk"}
    assert states("at_risk") == {"due_today", "at_risk_today", "breached_and_at_risk"}
    assert states("on_track") == {"at_risk_tomorrow", "stopped_and_on_track"}


def test_rows_show_the_worst_state_of_their_running_referrals(demand_setup, sla_cases):
    user, today = demand_setup.users["office_manager"], timezone.localdate()
    rows = selectors.demand_list(user=user, filters=selectors.DemandFilters())
    shown = {d.code: selectors.row_sla_state(d, today) for d in rows}
    for demand in sla_cases.values():
        running = Referral.objects.filter(demand=demand, status__in=CLOCK_RUNNING_STATUSES)
        worst = [r.sla_state_on(today) for r in running]
        expected = next(
            (s for s in (SlaState.BREACHED, SlaState.AT_RISK, SlaState.ON_TRACK) if s in worst), ""
        )
        assert shown[demand.code] == expected, demand.code


# --- the nearest due date -------------------------------------------------------------------


def test_the_services_keep_the_nearest_due_date(monkeypatch, demand_setup, submit, second_agency):
    n = demand_setup
    manager, liaison = n.users["office_manager"], n.users["agency_liaison"]
    today = timezone.localdate()
    demand = submit()
    assert stored_next_due(demand) is None

    # The first referral is sent later, so it falls due after the second one.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: today + 10 * DAY)
    later = services.demand_refer(demand=demand, acting_user=manager)
    assert stored_next_due(demand) == later.due_date == demand.next_due_date
    monkeypatch.undo()
    demand.refresh_from_db()
    sooner = services.demand_refer(demand=demand, acting_user=manager, agency=second_agency)
    assert sooner.due_date < later.due_date
    assert stored_next_due(demand) == sooner.due_date == demand.next_due_date

    second_liaison = n.users["national_admin"]

    def move(referral, to_status, user, **kwargs):
        referral.refresh_from_db()
        services.referral_move(referral=referral, to_status=to_status, acting_user=user, **kwargs)
        return stored_next_due(demand)

    # Moves that keep the clock running change nothing.
    assert move(sooner, ReferralStatus.RECEIVED, second_liaison) == sooner.due_date
    # An answer stops the clock: the other referral is now the nearest.
    assert move(sooner, ReferralStatus.ANSWERED, second_liaison, note="پاسخ") == later.due_date
    # The office sends the answer back: the clock runs again.
    assert move(sooner, ReferralStatus.IN_PROGRESS, manager) == sooner.due_date
    assert move(sooner, ReferralStatus.DONE, second_liaison) == later.due_date
    # The last running referral closes: no due date.
    assert move(later, ReferralStatus.NOT_RESPONSIBLE, liaison, note="مربوط نیست") is None
    assert stored_next_due(demand) == running_min_due(demand)

    # Re-routed, then rejected.
    demand.refresh_from_db()
    again = services.demand_refer(demand=demand, acting_user=manager)
    assert stored_next_due(demand) == again.due_date
    assert move(again, ReferralStatus.REJECTED, liaison, note="رد شد") is None


def test_closing_merging_and_escalating_keep_it_right(demand_setup, submit):
    n = demand_setup
    manager = n.users["office_manager"]
    demand, other = submit(), submit()
    referral = services.demand_refer(demand=demand, acting_user=manager)
    services.demand_refer(demand=other, acting_user=manager)
    # Late, so the escalation job records rungs.
    Referral.objects.filter(pk=referral.pk).update(
        due_date=timezone.localdate() - 10 * DAY, at_risk_date=timezone.localdate() - 12 * DAY
    )
    services.sync_next_due_date(demand)
    assert escalate_referrals() > 0
    demand.refresh_from_db()
    services.demand_close(
        demand=demand, outcome=DemandStatus.NOT_FEASIBLE, acting_user=manager, reason="بودجه نیست"
    )
    other.refresh_from_db()
    third = submit()
    services.demand_merge(demand=third, into=other, acting_user=manager)
    for d in (demand, other, third):
        assert stored_next_due(d) == running_min_due(d), d.code
    assert stored_next_due(demand) == timezone.localdate() - 10 * DAY


def test_the_migration_fills_the_demands_that_were_there(demand_setup, sla_cases):
    migration = importlib.import_module("tashil.demands.migrations.0003_demand_next_due_date")
    Demand.objects.update(next_due_date=None)
    migration.fill(django_apps, None)
    for demand in sla_cases.values():
        assert stored_next_due(demand) == running_min_due(demand), demand.code
    assert stored_next_due(sla_cases["breached_and_at_risk"]) == timezone.localdate() - DAY
    assert stored_next_due(sla_cases["answered_late"]) is None


def test_sort_by_due_date_puts_the_nearest_first_and_the_rest_last(client, demand_setup, sla_cases):
    client.force_login(demand_setup.users["facilitator"])
    codes = listed(client.get(reverse("demands:list"), {"sort": "due"}))
    names = {d.code: name for name, d in sla_cases.items()}
    order = [names[c] for c in codes]
    with_due = [name for name in order if stored_next_due(sla_cases[name]) is not None]
    assert order[: len(with_due)] == with_due
    dues = [stored_next_due(sla_cases[name]) for name in with_due]
    assert dues == sorted(dues)
    assert with_due[0] in ("breached", "breached_and_at_risk")
    # Without a running referral: newest first, after every dated one.
    undated = order[len(with_due) :]
    assert set(undated) == {"answered_late", "done_late", "rejected", "no_referral"}
    assert undated == [
        names[c]
        for c in Demand.objects.filter(code__in=[sla_cases[u].code for u in undated])
        .order_by("-submitted_at", "-id")
        .values_list("code", flat=True)
    ]


# --- the page count ----------------------------------------------------------------------------


def _clone(demand, count):
    """`count` copies of a demand, written in one go (the services would take minutes)."""
    rows = []
    for i in range(count):
        copy = Demand.objects.get(pk=demand.pk)
        copy.pk, copy.code, copy.idempotency_key = None, f"C{i:07d}", None
        copy.public_id = new_public_id()
        copy.submitted_at = demand.submitted_at - dt.timedelta(minutes=i + 1)
        rows.append(copy)
    Demand.objects.bulk_create(rows, batch_size=500)


@pytest.mark.parametrize(
    ("page", "number", "count", "capped", "pages"),
    [
        (None, 1, 6, True, 3),
        ("x", 1, 6, True, 3),
        ("3", 3, 7, True, 4),
        ("4", 4, 8, False, 4),
        ("99", 4, 8, False, 4),
    ],
)
def test_the_paginator_counts_only_as_far_as_it_needs(submit, page, number, count, capped, pages):
    _clone(submit(), 7)
    paginator = CappedPaginator(Demand.objects.order_by("-submitted_at"), 2, cap=5, page=page)
    shown = paginator.get_page(page)
    assert (shown.number, paginator.count, paginator.capped, paginator.num_pages) == (
        number,
        count,
        capped,
        pages,
    )
    assert shown.has_next() == (number < pages)
    assert len(shown.object_list) == 2


def test_a_list_paginator_is_never_capped():
    paginator = CappedPaginator(list(range(10)), 2, cap=5)
    assert (paginator.count, paginator.capped) == (10, False)


@pytest.fixture
def many(demand_setup, submit):
    _clone(submit(), 1000)  # 1,001 demands in all


@pytest.mark.query_count("demands:list")
def test_more_than_a_thousand_demands_are_not_counted_to_the_end(client, demand_setup, many):
    client.force_login(demand_setup.users["facilitator"])
    url = reverse("demands:list")
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(url).content.decode()
    assert "بیش از ۱٬۰۰۰ مطالبه" in body
    assert "صفحه ۱<" in body and "صفحه ۱ از" not in body
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 1001" in counts[0]

    client.cookies["django_language"] = "en"
    body = client.get(url).content.decode()
    assert "More than 1,000 demands" in body
    assert "Page 1<" in body
    # The Next link as the browser follows it: relative to the list's URL.
    next_link = re.search(r'<a class="page-link" href="([^"]+)">Next<', body).group(1)
    assert next_link == "?page=2"
    assert set(listed(client.get(url + next_link))).isdisjoint(listed(client.get(url)))

    # Paging on still works, to the last row.
    seen = set()
    for number in range(1, 36):
        codes = listed(client.get(url, {"page": number}))
        if not codes or set(codes) <= seen:
            break
        seen |= set(codes)
    assert len(seen) == 1001
    last = client.get(url, {"page": 34}).content.decode()
    assert "1,001 demands" in last and "Page 34 of 34" in last


def test_an_exact_count_below_the_cap(client, demand_setup, submit):
    client.force_login(demand_setup.users["facilitator"])
    _clone(submit(), 30)
    body = client.get(reverse("demands:list")).content.decode()
    assert "۳۱ مطالبه" in body and "بیش از" not in body
    assert "صفحه ۱ از ۲" in body


# --- queries -------------------------------------------------------------------------------


@pytest.mark.query_count("demands:list")
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sla": "breached", "sort": "due"},
        {"sla": "at_risk", "sort": "due", "status": "open"},
        {"q": "آب", "sla": "on_track", "sort": "due"},
    ],
)
def test_the_list_page_issues_a_fixed_number_of_queries(
    client, demand_setup, sla_cases, params, django_assert_num_queries
):
    client.force_login(demand_setup.users["facilitator"])
    # The session, the user and their scope (one read: the offices' and
    # agencies' provinces come through the memberships), the filter form's
    # choices, one capped count, the page of rows, and the page's links: none
    # per row.
    with django_assert_num_queries(11) as ctx:
        response = client.get(reverse("demands:list"), params)
    assert response.status_code == 200
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    # The SLA state is no longer a CASE over every referral.
    assert "CASE" not in sql.upper()


@pytest.mark.query_count("open311:request", "open311:requests")
def test_open311_requests_read_columns_not_areas(client, demand_setup, submit):
    manager = demand_setup.users["office_manager"]
    for i in range(6):
        demand = submit(description=f"آب آشامیدنی کوچه {i} سه روز است قطع است", is_listed=True)
        if i % 2:
            services.demand_refer(demand=demand, acting_user=manager)
    for url in ("/open311/v2/requests.json", "/open311/v2/requests.xml"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        assert len(ctx.captured_queries) == 2
        assert not any("boundary" in q["sql"] for q in ctx.captured_queries)
    public_id = demand.public_id
    with CaptureQueriesContext(connection) as ctx:
        (row,) = client.get(f"/open311/v2/requests/{public_id}.json").json()
    assert row["service_request_id"] == public_id and row["agency_responsible"]
    assert not any("boundary" in q["sql"] for q in ctx.captured_queries)


def test_open311_rows_match_the_subqueries_they_replace(
    monkeypatch, demand_setup, submit, second_agency
):
    n = demand_setup
    manager, liaison = n.users["office_manager"], n.users["agency_liaison"]
    today = timezone.localdate()
    plain = submit(is_listed=True)
    # An open referral sent first, then a later one the agency rejected.
    mixed = submit(is_listed=True)
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: today - 3 * DAY)
    older = services.demand_refer(demand=mixed, acting_user=manager, agency=second_agency)
    monkeypatch.undo()
    mixed.refresh_from_db()
    newer = services.demand_refer(demand=mixed, acting_user=manager)
    services.referral_move(
        referral=newer, to_status=ReferralStatus.REJECTED, acting_user=liaison, note="رد شد"
    )
    answered = submit(is_listed=True)
    referral = services.demand_refer(demand=answered, acting_user=manager)
    services.referral_move(
        referral=referral,
        to_status=ReferralStatus.ANSWERED,
        acting_user=liaison,
        note="پاسخ",
        expected_date=today + 20 * DAY,
    )

    latest = Referral.objects.filter(demand=OuterRef("pk")).order_by("-sent_on", "-id")
    reference = Demand.objects.annotate(
        agency=Subquery(latest.values("agency__name_fa")[:1]),
        expected=Subquery(
            latest.filter(status__in=OPEN_REFERRAL_STATUSES)
            .annotate(d=Coalesce("expected_date", "due_date"))
            .values("d")[:1]
        ),
    )
    rows = {
        r.public_id: r
        for r in find_requests(ids=[plain.public_id, mixed.public_id, answered.public_id])
    }
    assert len(rows) == 3
    for demand in reference:
        row = rows[demand.public_id]
        assert (row.agency_responsible, row.expected_on) == (demand.agency, demand.expected)
    assert rows[mixed.public_id].agency_responsible == n.agency.name_fa
    assert rows[mixed.public_id].expected_on == older.due_date
    assert rows[answered.public_id].expected_on == today + 20 * DAY
    assert (rows[plain.public_id].agency_responsible, rows[plain.public_id].expected_on) == (
        None,
        None,
    )
