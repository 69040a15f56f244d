"""Duplicate suggestions: same category, open, near or in the same
neighbourhood, ranked by proximity, place and text."""

import pytest

from tashil.demands import duplicates
from tashil.demands.models import Demand, DemandStatus
from tashil.demands.services import demand_submit
from tashil.geo import lookup
from tests.factories import AreaFactory, DemandCategoryFactory

# Inside the factories' square neighbourhood (48.60–48.70 E, 31.30–31.40 N).
HERE = (31.3500, 48.6500)
# ~110 m north of HERE.
CLOSE = (31.3510, 48.6500)
# ~250 m east: still within the 300 m radius.
FAIRLY_CLOSE = (31.3500, 48.6526)
# ~1.1 km away.
FAR = (31.3600, 48.6500)


def make(setup, *, category=None, area=None, point=None, text="آب شرب کوچه قطع است", status=None):
    demand = demand_submit(
        channel="public_web",
        category=category or setup.category,
        area=area or setup.hood,
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
        description=text,
    ).demand
    if status:
        Demand.objects.filter(pk=demand.pk).update(status=status)
    return demand


@pytest.fixture
def other_hood(demand_setup):
    """The next neighbourhood, its centre 2 km from HERE."""
    return AreaFactory(
        level="neighbourhood", parent=demand_setup.city, centroid_lat=31.368, centroid_lng=48.65
    )


def test_near_same_category_and_similar_text_rank_first(demand_setup, other_hood):
    n = demand_setup
    best = make(n, point=CLOSE, text="آب شرب کوچه دوازده سه روز است قطع است")
    near_other_text = make(n, point=FAIRLY_CLOSE, text="لوله شکسته جلوی مدرسه نشت دارد")
    same_area_no_point = make(n, text="آب آشامیدنی قطع است")
    far_elsewhere = make(n, area=other_hood, point=FAR, text="آب شرب کوچه دوازده قطع است")
    other_category = make(n, category=DemandCategoryFactory(), point=CLOSE)
    closed = make(n, point=CLOSE, status=DemandStatus.RESOLVED)
    rejected = make(n, point=CLOSE, status=DemandStatus.REJECTED)

    found = duplicates.similar_open_demands(
        category=n.category,
        area=n.hood,
        latitude=HERE[0],
        longitude=HERE[1],
        text="آب شرب کوچه ۱۲ قطع شده",
    )
    ids = [d.pk for d in found]
    assert ids[0] == best.pk
    assert set(ids) == {best.pk, near_other_text.pk, same_area_no_point.pk}
    for excluded in (far_elsewhere, other_category, closed, rejected):
        assert excluded.pk not in ids
    top = found[0].duplicate
    assert top.same_area and top.distance_m == pytest.approx(111, abs=5)
    assert top.text_similarity > 0
    assert [d.duplicate.score for d in found] == sorted(
        (d.duplicate.score for d in found), reverse=True
    )
    # The area is loaded with the row (the panel shows its name).
    assert found[0].area.name_fa == n.hood.name_fa


def test_a_point_alone_finds_neighbours_across_a_boundary(demand_setup, other_hood):
    n = demand_setup
    across = make(n, area=other_hood, point=CLOSE)
    found = duplicates.similar_open_demands(
        category=n.category, latitude=HERE[0], longitude=HERE[1]
    )
    assert [d.pk for d in found] == [across.pk]
    assert found[0].duplicate.same_area is False


def test_merged_and_excluded_demands_are_not_suggested(demand_setup):
    n = demand_setup
    kept = make(n, point=CLOSE)
    merged = make(n, point=CLOSE)
    Demand.objects.filter(pk=merged.pk).update(status=DemandStatus.MERGED, merged_into=kept)
    found = duplicates.similar_open_demands(
        category=n.category, area=n.hood, latitude=HERE[0], longitude=HERE[1], exclude_pk=kept.pk
    )
    assert found == []


def test_a_neighbourhood_added_later_is_searched_across_its_boundary(demand_setup):
    n = demand_setup
    lookup.get_index()
    later = AreaFactory(
        level="neighbourhood", parent=n.city, centroid_lat=31.368, centroid_lng=48.65
    )
    across = make(n, area=later, point=CLOSE)
    found = duplicates.similar_open_demands(
        category=n.category, latitude=HERE[0], longitude=HERE[1]
    )
    assert [d.pk for d in found] == [across.pk]
    # Its centre moved far away: no longer a neighbour of the point.
    later.centroid_lat = 35.0
    later.save()
    assert (
        duplicates.similar_open_demands(category=n.category, latitude=HERE[0], longitude=HERE[1])
        == []
    )


def test_text_only_needs_real_overlap(demand_setup, other_hood):
    n = demand_setup
    similar = make(n, area=other_hood, text="آب شرب کوچه قطع است از دیروز")
    make(n, text="درخواست تعمیر پل عابر پیاده")
    found = duplicates.similar_open_demands(category=n.category, text="قطع آب شرب در کوچه")
    assert [d.pk for d in found] == [similar.pk]


def test_matching_ignores_arabic_letters_digits_and_zwnj():
    from tashil.core.text import search_key

    typed = duplicates.terms("كوچه ۱۲ آب‌ها قطع است")
    stored = duplicates.stored_terms(search_key("کوچه 12 آبها قطع"))
    assert typed == stored == {"12", "آبها", "قطع"}  # "alley" says nothing
    assert duplicates.jaccard(typed, stored) == 1.0


def test_no_category_or_limit(demand_setup):
    n = demand_setup
    for _ in range(4):
        make(n, point=CLOSE)
    assert duplicates.similar_open_demands(category=None, area=n.hood) == []
    assert len(duplicates.similar_open_demands(category=n.category, area=n.hood, limit=2)) == 2


def test_queries_do_not_grow_with_candidates(demand_setup, django_assert_num_queries):
    n = demand_setup
    for i in range(40):
        make(n, point=(HERE[0] + i * 0.00002, HERE[1]), text=f"آب شرب قطع است مورد {i}")
    lookup.get_index()  # built once per process, not per suggestion
    # The candidates, then the five winners; nearby neighbourhoods come from
    # the point index.
    with django_assert_num_queries(2):
        found = duplicates.similar_open_demands(
            category=n.category, area=n.hood, latitude=HERE[0], longitude=HERE[1], text="آب شرب قطع"
        )
        # Reading what the panel shows costs nothing more.
        [(d.title, d.area.name, d.supporters_count, d.submitted_at) for d in found]
    assert len(found) == 5


def test_distance_is_haversine():
    # One degree of latitude is ~111.2 km everywhere.
    assert duplicates.distance_m(31.0, 48.0, 32.0, 48.0) == pytest.approx(111_195, rel=1e-3)
    assert duplicates.distance_m(*HERE, *HERE) == 0
