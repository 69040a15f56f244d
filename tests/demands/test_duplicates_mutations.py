"""Duplicate suggestions at their edges: the distance formula in every
direction, the bounding box, and the exact score of each part (see
docs/benchmarks.md, Mutation testing)."""

import datetime as dt

import pytest
from django.db.models import Q

from tashil.demands import duplicates
from tashil.demands.models import Demand
from tashil.geo import lookup
from tests.factories import AreaFactory, DemandCategoryFactory

from .test_duplicates import CLOSE, FAIRLY_CLOSE, FAR, HERE, make


@pytest.fixture
def other_hood(demand_setup):
    """The next neighbourhood, its centre 2 km north of HERE."""
    return AreaFactory(
        level="neighbourhood", parent=demand_setup.city, centroid_lat=31.368, centroid_lng=48.65
    )


@pytest.fixture(autouse=True)
def _fresh_geo_index():
    lookup.invalidate()
    yield
    lookup.invalidate()


# Reference values from the spherical law of cosines (R = 6,371 km), which
# agrees with the haversine formula to well under a metre at these distances.
@pytest.mark.parametrize(
    ("a", "b", "metres"),
    [
        ((31.0, 48.0), (32.0, 48.0), 111_194.93),  # north–south
        ((31.0, 48.0), (31.0, 49.0), 95_312.33),  # east–west at Ahvaz's latitude
        ((0.0, 0.0), (0.0, 1.0), 111_194.93),  # east–west on the equator
        ((31.0, 48.0), (32.0, 49.0), 146_125.15),  # diagonal
        ((31.35, 48.65), (31.351, 48.651), 146.23),  # a short diagonal
        ((31.35, 48.65), (31.35, 48.6526), 246.90),  # a short step east
        ((-33.8688, 151.2093), (51.5074, -0.1278), 16_993_933.46),  # Sydney–London
    ],
)
def test_distance_in_every_direction(a, b, metres):
    assert duplicates.distance_m(*a, *b) == pytest.approx(metres, abs=0.05)
    assert duplicates.distance_m(*b, *a) == pytest.approx(metres, abs=0.05)


def test_antipodes_do_not_break_the_formula():
    half_way_round = duplicates.distance_m(0.0, 0.0, 0.0, 180.0)
    assert half_way_round == pytest.approx(3.141592653589793 * 6_371_000)


def test_deltas_and_bounding_box():
    assert duplicates._deltas(0.0, 111_320) == pytest.approx((1.0, 1.0))
    assert duplicates._deltas(60.0, 111_320) == pytest.approx((1.0, 2.0))
    # Near a pole the longitude span is capped instead of dividing by zero.
    assert duplicates._deltas(90.0, 111_320) == pytest.approx((1.0, 100.0))
    assert duplicates._bbox(0.0, 10.0, 111_320) == Q(
        latitude__gte=-1.0, latitude__lte=1.0, longitude__gte=9.0, longitude__lte=11.0
    )


def test_nearby_neighbourhoods_search_the_radius_plus_their_reach(monkeypatch):
    calls = []

    class Index:
        def neighbourhoods_centred_in(self, *box):
            calls.append(box)
            return [7]

    monkeypatch.setattr(duplicates, "get_index", lambda: Index())
    assert duplicates._neighbourhoods_near(0.0, 10.0, 300) == [7]
    span = (300 + duplicates.NEIGHBOURHOOD_REACH_M) / duplicates.METRES_PER_DEGREE_LAT
    assert calls == [pytest.approx((-span, span, 10.0 - span, 10.0 + span))]


def test_jaccard_and_terms():
    assert duplicates.jaccard(frozenset("ab"), frozenset("bc")) == pytest.approx(1 / 3)
    assert duplicates.jaccard(frozenset("ab"), frozenset("ab")) == 1.0
    assert duplicates.jaccard(frozenset(), frozenset("ab")) == 0.0
    assert duplicates.jaccard(frozenset("ab"), frozenset()) == 0.0
    assert duplicates.terms("آب در کوچه قطع است") == {"آب", "قطع"}
    assert duplicates.stored_terms("") == frozenset()
    assert duplicates.stored_terms("آب در قطع") == {"آب", "قطع"}


def _match(found, demand):
    return next(d.duplicate for d in found if d.pk == demand.pk)


def test_each_part_of_the_score(demand_setup):
    n = demand_setup
    text = "آب شرب قطع"
    close = make(n, point=CLOSE, text="آب شرب قطع است")
    fairly_close = make(n, point=FAIRLY_CLOSE, text="لوله شکسته است")
    no_point = make(n, text="آب در کوچه قطع است")
    found = duplicates.similar_open_demands(
        category=n.category, area=n.hood, latitude=HERE[0], longitude=HERE[1], text=text
    )
    # Two words of three in common outweigh a point 250 m away.
    assert [d.pk for d in found] == [close.pk, no_point.pk, fairly_close.pk]

    d_close = duplicates.distance_m(*HERE, *CLOSE)
    m = _match(found, close)
    assert m.distance_m == round(d_close, 1)
    assert m.same_area is True
    assert m.text_similarity == 1.0
    assert m.score == round(0.45 * (1 - d_close / 300) + 0.15 + 0.40, 4)

    d_fair = duplicates.distance_m(*HERE, *FAIRLY_CLOSE)
    m = _match(found, fairly_close)
    assert m.distance_m == round(d_fair, 1)
    assert m.text_similarity == 0.0
    assert m.score == round(0.45 * (1 - d_fair / 300) + 0.15, 4)

    m = _match(found, no_point)
    assert m.distance_m is None
    assert m.same_area is True
    assert m.text_similarity == 0.6667  # 2 / 3, to four places
    assert m.score == round(0.15 + 0.40 * (2 / 3), 4)


def test_a_point_alone_scores_proximity_only(demand_setup, other_hood):
    n = demand_setup
    near_elsewhere = make(n, area=other_hood, point=CLOSE, text="چاله بزرگ کوچه")
    far = make(n, point=FAR, text="چاله بزرگ کوچه")
    found = duplicates.similar_open_demands(
        category=n.category, latitude=HERE[0], longitude=HERE[1]
    )
    assert [d.pk for d in found] == [near_elsewhere.pk]
    m = found[0].duplicate
    d = duplicates.distance_m(*HERE, *CLOSE)
    assert m.same_area is False and m.text_similarity == 0.0
    assert m.score == round(0.45 * (1 - d / 300), 4)
    assert far.pk not in [x.pk for x in found]


def test_an_area_alone_finds_its_demands_with_or_without_points(demand_setup, other_hood):
    n = demand_setup
    with_point = make(n, point=FAR, text="چاله بزرگ کوچه")
    without = make(n, text="چاله بزرگ کوچه")
    make(n, area=other_hood, text="چاله بزرگ کوچه")
    found = duplicates.similar_open_demands(category=n.category, area=n.hood)
    assert {d.pk for d in found} == {with_point.pk, without.pk}
    for d in found:
        assert d.duplicate.score == 0.15
        assert d.duplicate.distance_m is None
        assert d.duplicate.same_area is True


def test_a_candidate_without_a_point_is_not_near(demand_setup, other_hood):
    n = demand_setup
    make(n, area=other_hood, text="چاله بزرگ کوچه")
    assert (
        duplicates.similar_open_demands(
            category=n.category, area=n.hood, latitude=HERE[0], longitude=HERE[1]
        )
        == []
    )


def test_ties_go_to_more_supporters_then_the_newest(demand_setup):
    n = demand_setup
    older = make(n, text="چاله بزرگ کوچه")
    newer = make(n, text="چاله بزرگ کوچه")
    supported = make(n, text="چاله بزرگ کوچه")
    assert [d.pk for d in duplicates.similar_open_demands(category=n.category, area=n.hood)] == [
        supported.pk,
        newer.pk,
        older.pk,
    ]
    Demand.objects.filter(pk=older.pk).update(supporters_count=3)
    Demand.objects.filter(pk=supported.pk).update(supporters_count=1)
    found = duplicates.similar_open_demands(category=n.category, area=n.hood)
    assert [d.pk for d in found] == [older.pk, supported.pk, newer.pk]
    assert [
        d.pk for d in duplicates.similar_open_demands(category=n.category, area=n.hood, limit=1)
    ] == [older.pk]


def test_text_only_threshold(demand_setup, other_hood):
    n = demand_setup
    # Query {آب, شرب, قطع, فوری}: one word in common of seven is below 0.25,
    # one of four (exactly 0.25) is enough.
    one_of_four = make(n, area=other_hood, text="آب در کوچه است")
    make(n, area=other_hood, text="آب لوله شکسته مدرسه")
    found = duplicates.similar_open_demands(category=n.category, text="آب شرب قطع فوری")
    assert [d.pk for d in found] == [one_of_four.pk]
    assert found[0].duplicate.text_similarity == 0.25
    assert found[0].duplicate.score == 0.1
    assert found[0].duplicate.distance_m is None and found[0].duplicate.same_area is False


def test_the_excluded_demand_is_left_out_wherever_it_is(demand_setup):
    n = demand_setup
    first = make(n, point=CLOSE)
    second = make(n, point=CLOSE)
    found = duplicates.similar_open_demands(
        category=n.category, area=n.hood, latitude=HERE[0], longitude=HERE[1], exclude_pk=first.pk
    )
    assert [d.pk for d in found] == [second.pk]
    found = duplicates.similar_open_demands(
        category=n.category, text="آب شرب کوچه قطع است", exclude_pk=second.pk
    )
    assert [d.pk for d in found] == [first.pk]


def test_a_merged_demand_left_open_is_not_suggested(demand_setup):
    n = demand_setup
    kept = make(n, point=CLOSE)
    merged = make(n, point=CLOSE)
    # The status says open, the link says merged: the link wins.
    Demand.objects.filter(pk=merged.pk).update(merged_into=kept)
    found = duplicates.similar_open_demands(
        category=n.category, area=n.hood, latitude=HERE[0], longitude=HERE[1]
    )
    assert [d.pk for d in found] == [kept.pk]


def test_half_a_point_is_no_point(demand_setup):
    n = demand_setup
    only_lat = make(n, point=CLOSE)
    Demand.objects.filter(pk=only_lat.pk).update(longitude=None)
    # Asked with half a point, the area alone decides.
    found = duplicates.similar_open_demands(category=n.category, area=n.hood, latitude=HERE[0])
    assert [(d.pk, d.duplicate.score) for d in found] == [(only_lat.pk, 0.15)]
    found = duplicates.similar_open_demands(category=n.category, area=n.hood, longitude=HERE[1])
    assert [(d.pk, d.duplicate.score) for d in found] == [(only_lat.pk, 0.15)]
    # A candidate with half a point is not near, only in the same area.
    found = duplicates.similar_open_demands(
        category=n.category, area=n.hood, latitude=HERE[0], longitude=HERE[1]
    )
    assert [(d.pk, d.duplicate.distance_m, d.duplicate.score) for d in found] == [
        (only_lat.pk, None, 0.15)
    ]


def test_exactly_the_radius_away_is_still_near(demand_setup, other_hood, monkeypatch):
    n = demand_setup
    edge = make(n, area=other_hood, point=CLOSE)
    monkeypatch.setattr(duplicates, "distance_m", lambda *points: 300.0)
    found = duplicates.similar_open_demands(
        category=n.category, latitude=HERE[0], longitude=HERE[1]
    )
    assert [(d.pk, d.duplicate.distance_m, d.duplicate.score) for d in found] == [
        (edge.pk, 300.0, 0.0)
    ]


def test_equal_candidates_go_newest_submitted_first_then_highest_id(demand_setup):
    n = demand_setup
    first, second, third = (make(n, text="چاله بزرگ کوچه") for _ in range(3))
    # The first one entered was submitted last (a paper form typed in late).
    Demand.objects.filter(pk=first.pk).update(submitted_at=second.submitted_at + dt.timedelta(1))
    Demand.objects.filter(pk=third.pk).update(submitted_at=second.submitted_at)
    found = duplicates.similar_open_demands(category=n.category, area=n.hood)
    assert [d.pk for d in found] == [first.pk, third.pk, second.pk]


def test_without_text_no_candidate_scores_on_text(demand_setup):
    n = demand_setup
    demand = make(n, text="XXXX آب شرب قطع است")
    found = duplicates.similar_open_demands(category=n.category, area=n.hood)
    assert [(d.pk, d.duplicate.text_similarity) for d in found] == [(demand.pk, 0.0)]
    assert duplicates.similar_open_demands(category=n.category) == []


def test_a_candidate_too_far_does_not_hide_the_ones_after_it(demand_setup):
    n = demand_setup
    near = make(n, point=CLOSE)
    # Inside the bounding box but about 400 m away, and newer, so read first.
    make(n, point=(HERE[0] + 0.0025, HERE[1] + 0.0030))
    found = duplicates.similar_open_demands(
        category=n.category, latitude=HERE[0], longitude=HERE[1]
    )
    assert [d.pk for d in found] == [near.pk]


def test_the_second_query_loads_the_winners_only(demand_setup, django_assert_num_queries):
    n = demand_setup
    winner = make(n, point=CLOSE)
    make(n, category=DemandCategoryFactory(code="roads"), point=CLOSE)
    with django_assert_num_queries(2) as queries:
        found = duplicates.similar_open_demands(category=n.category, area=n.hood)
    assert [d.pk for d in found] == [winner.pk]
    winners_sql = queries.captured_queries[-1]["sql"]
    assert "WHERE" in winners_sql and str(winner.pk) in winners_sql
