"""/board: aggregates only, small map cells suppressed, cached for a minute."""

import datetime as dt
import json
import re

import pytest
from django.core.cache import cache

from tashil.demands import board
from tashil.demands.models import Demand, DemandStatus
from tashil.demands.services import demand_submit
from tests.factories import AreaFactory, DemandCategoryFactory
from tests.roles import ROLES_AND_ANONYMOUS


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def make(n, *, point=None, area=None, category=None, status=None, days=None, mobile="09121234567"):
    demand = demand_submit(
        channel="public_web",
        category=category or n.category,
        area=area or n.hood,
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
        description="آب شرب کوچه قطع است",
        submitter_mobile=mobile,
        submitter_name="رضا محمدی",
    ).demand
    if status:
        values = {"status": status}
        if days is not None:
            values["closed_at"] = demand.submitted_at + dt.timedelta(days=days)
        Demand.objects.filter(pk=demand.pk).update(**values)
    return demand


@pytest.fixture
def populated(demand_setup):
    n = demand_setup
    n.second_hood = AreaFactory(level="neighbourhood", parent=n.city)
    n.second_category = DemandCategoryFactory(parent=n.parent_category)
    # One busy block: four demands within a few metres.
    for i in range(4):
        make(n, point=(31.3501 + i * 0.0001, 48.6501))
    # A lone demand elsewhere, which the map must not show.
    n.lone = make(n, point=(31.3801, 48.6801), area=n.second_hood)
    make(n, status=DemandStatus.RESOLVED, days=2)
    make(n, status=DemandStatus.RESOLVED, days=4, category=n.second_category)
    make(n, status=DemandStatus.RESOLVED, days=10, area=n.second_hood)
    make(n, status=DemandStatus.PARTLY_RESOLVED, days=1)
    make(n, status=DemandStatus.REJECTED)
    kept = make(n)
    Demand.objects.filter(pk=make(n).pk).update(status=DemandStatus.MERGED, merged_into=kept)
    return n


def test_aggregates(populated):
    n = populated
    data = board.compute_board()
    # 11 demands, the merged one left out.
    assert data.total == 11
    assert data.open == 6
    assert data.closed == 4
    assert (data.resolved, data.partly_resolved) == (3, 1)
    # 3 resolved out of the 10 that were not rejected.
    assert data.resolved_share == pytest.approx(0.3)
    assert data.resolved_percent == 30
    assert data.median_days == pytest.approx(4.0, abs=0.01)
    statuses = {row["status"]: row["count"] for row in data.by_status}
    assert statuses == {"new": 6, "resolved": 3, "partly_resolved": 1, "rejected": 1}
    areas = {row["area__code"]: (row["n"], row["open"], row["resolved"]) for row in data.by_area}
    assert areas == {n.hood.code: (9, 5, 2), n.second_hood.code: (2, 1, 1)}
    categories = {row["category__code"]: row["n"] for row in data.by_category}
    assert categories == {n.category.code: 10, n.second_category.code: 1}


def test_small_cells_are_suppressed(populated):
    data = board.compute_board()
    assert data.suppressed_cells == 1
    assert len(data.cells) == 1
    cell = data.cells[0]
    assert cell["count"] == 4 and cell["open"] == 4
    # The centre of the 0.005° cell, not any demand's own point.
    assert (cell["lat"], cell["lng"]) == (31.3525, 48.6525)


def test_no_cells_and_no_median_without_data(db):
    data = board.compute_board()
    assert (data.total, data.cells, data.median_days, data.resolved_share) == (0, [], None, None)


def test_page_shows_counts_in_persian_and_no_personal_data(client, populated):
    n = populated
    response = client.get("/board")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-card="total">۱۱<', html)
    assert re.search(r'data-card="resolved-share">۳۰٪<', html)
    assert "۴" in re.search(r'data-card="median-days">([^<]+)<', html)[1]
    assert n.hood.name_fa in html and n.category.name_fa in html
    for secret in ("رضا", "محمدی", "1234567", "۱۲۳۴۵۶۷", n.lone.code, "31.3801", "48.6801"):
        assert secret not in html, secret
    cells = json.loads(
        re.search(r'<script id="board-cells" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    assert cells == [{"lat": 31.3525, "lng": 48.6525, "count": 4, "open": 4}]


@pytest.mark.query_count("public:board")
def test_aggregates_are_cached_for_a_minute(client, populated, django_assert_num_queries):
    client.get("/board")
    make(populated)
    with django_assert_num_queries(0):
        html = client.get("/board").content.decode()
    assert re.search(r'data-card="total">۱۱<', html)
    cache.delete(board.CACHE_KEY)
    assert re.search(r'data-card="total">۱۲<', client.get("/board").content.decode())
    assert board.CACHE_SECONDS == 60


@pytest.mark.query_count("public:board")
def test_board_queries_do_not_grow_with_rows(client, demand_setup, django_assert_max_num_queries):
    n = demand_setup
    hoods = [AreaFactory(level="neighbourhood", parent=n.city) for _ in range(6)]
    categories = [DemandCategoryFactory(parent=n.parent_category) for _ in range(6)]
    for i in range(36):
        make(
            n,
            area=hoods[i % 6],
            category=categories[i % 5],
            point=(31.30 + (i % 9) * 0.01, 48.65),
            status=DemandStatus.RESOLVED if i % 3 == 0 else None,
            days=i % 7 + 1,
            mobile="",
        )
    with django_assert_max_num_queries(5):
        response = client.get("/board")
    assert response.status_code == 200
    html = response.content.decode()
    assert all(h.name_fa in html for h in hoods) and all(c.name_fa in html for c in categories[:5])


@pytest.mark.authorization_matrix("public:board")
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_every_role_sees_the_same_board(client, populated, role):
    if role != "anonymous":
        client.force_login(populated.users[role])
    html = client.get("/board").content.decode()
    assert re.search(r'data-card="total">۱۱<', html)
    assert "رضا محمدی" not in html


def test_median_uses_only_fully_resolved_demands(demand_setup):
    n = demand_setup
    for days in (1, 3):
        make(n, status=DemandStatus.RESOLVED, days=days)
    make(n, status=DemandStatus.NOT_FEASIBLE, days=100)
    make(n, status=DemandStatus.PARTLY_RESOLVED, days=100)
    assert board.median_days_to_resolution(Demand.objects.all()) == pytest.approx(2.0, abs=0.01)


def test_stale_figures_are_served_while_one_request_refreshes(populated):
    first = board.public_board()
    first.computed_at -= dt.timedelta(seconds=board.CACHE_SECONDS + 1)
    cache.set(board.CACHE_KEY, first, board.KEEP_SECONDS)
    make(populated)
    # Another process is already recomputing: this visitor gets the old figures.
    cache.add(board.REFRESH_LOCK_KEY, 1)
    assert board.public_board().total == 11
    cache.delete(board.REFRESH_LOCK_KEY)
    # Nobody is: this visitor recomputes, and frees the lock.
    assert board.public_board().total == 12
    assert cache.get(board.REFRESH_LOCK_KEY) is None
