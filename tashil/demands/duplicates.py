"""Duplicate suggestions: open demands that probably describe the same problem.

Used on the public form ("already reported — support it instead") and by
staff while they triage. One indexed query fetches a bounded candidate set
as plain tuples, the ranking is done in Python, and a second query loads the
few winners:

    score = 0.45 × proximity + 0.15 × same neighbourhood + 0.40 × text similarity

- proximity is 1 at the same point and falls linearly to 0 at RADIUS_M
  (0 when either side has no point);
- same neighbourhood is 1 or 0;
- text similarity is the Jaccard index of the two sets of normalised words
  (search_key words, without the commonest function words; exact words,
  no stemming, so that it stays cheap on hundreds of candidates).

A candidate qualifies when it is within RADIUS_M, or in the same
neighbourhood, or (when no place is given at all) its text similarity is at
least TEXT_ONLY_MIN. Ties go to the demand with more supporters, then the
newest. Similar text elsewhere is not a duplicate: a water cut in another
neighbourhood is another demand.
"""

import math
from dataclasses import dataclass
from functools import lru_cache

from django.db.models import Q

from tashil.core.text import search_terms
from tashil.geo.lookup import get_index

from .models import OPEN_STATUSES, Demand

RADIUS_M = 300
# Rows fetched at most; the newest win when a place has more open demands.
CANDIDATE_LIMIT = 300
TEXT_ONLY_MIN = 0.25
W_NEAR, W_AREA, W_TEXT = 0.45, 0.15, 0.40
EARTH_RADIUS_M = 6_371_000
METRES_PER_DEGREE_LAT = 111_320

# Words that appear in almost every demand and say nothing about which
# problem it is (normalised form: Persian ی and ک, no ZWNJ).
STOP_WORDS = frozenset(
    """
    و در به از که این آن را با برای تا یا هم نیز است هست نیست بود شد شده می
    میشود نمیشود دارد ندارد داریم نداریم هستند کنید کنیم کرد کرده بسیار خیلی
    ما ها های ای یک هر چند همه اما ولی پس بر روی زیر کوچه محله لطفا
    """.split()
)

# How far a neighbourhood's edge may lie from its centre: the deprived
# neighbourhoods the offices serve are a few kilometres across at most.
NEIGHBOURHOOD_REACH_M = 3000
# Stored texts whose matching words are kept, about 2 KB each: the
# suggestions for one place, refreshed while a resident types, rank the same
# candidates again and again.
TERMS_CACHE_SIZE = 4096
# What the suggestion shows, fetched for the few winners only.
ONLY_FIELDS = (
    "id",
    "code",
    "title",
    "latitude",
    "longitude",
    "area_id",
    "category_id",
    "status",
    "supporters_count",
    "submitted_at",
    "area__code",
    "area__name_fa",
    "area__name_en",
)


def terms(text: str) -> frozenset[str]:
    """Matching words of a user's text: normalised words without the
    commonest function words."""
    return frozenset(search_terms(text)) - STOP_WORDS


@lru_cache(maxsize=TERMS_CACHE_SIZE)
def stored_terms(key: str) -> frozenset[str]:
    """The same for a stored search_key, which is normalised already:
    splitting it is far cheaper than normalising it again. This runs for
    every candidate of every suggestion, and the same open demands are
    candidates again and again, so the answers are kept."""
    return frozenset(key.split(" ")) - STOP_WORDS if key else frozenset()


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _deltas(lat: float, radius_m: float) -> tuple[float, float]:
    """Degrees of latitude and of longitude that span radius_m at `lat`."""
    dlat = radius_m / METRES_PER_DEGREE_LAT
    dlng = radius_m / (METRES_PER_DEGREE_LAT * max(0.01, math.cos(math.radians(lat))))
    return dlat, dlng


def _bbox(lat: float, lng: float, radius_m: float) -> Q:
    dlat, dlng = _deltas(lat, radius_m)
    return Q(
        latitude__gte=lat - dlat,
        latitude__lte=lat + dlat,
        longitude__gte=lng - dlng,
        longitude__lte=lng + dlng,
    )


def _neighbourhoods_near(lat: float, lng: float, radius_m: float) -> list[int]:
    """Ids of neighbourhoods that may hold a point within radius_m: those
    whose centre lies within radius_m plus NEIGHBOURHOOD_REACH_M. Restricting
    the bounding-box search to them lets the database combine its
    (category, …) and (area, status) indexes instead of reading every open
    demand of the category. The centres come from the point index in
    memory, which follows the area table; a neighbourhood with no mapped
    centre is reached through `area` only."""
    dlat, dlng = _deltas(lat, radius_m + NEIGHBOURHOOD_REACH_M)
    return get_index().neighbourhoods_centred_in(lat - dlat, lat + dlat, lng - dlng, lng + dlng)


@dataclass
class Match:
    """Why a demand was suggested; attached to it as `demand.duplicate`."""

    score: float
    distance_m: float | None
    same_area: bool
    text_similarity: float


def similar_open_demands(
    *,
    category,
    area=None,
    latitude: float | None = None,
    longitude: float | None = None,
    text: str = "",
    limit: int = 5,
    exclude_pk: int | None = None,
) -> list[Demand]:
    """Open demands of `category` that may be the same problem, best first.

    Each returned demand carries `.duplicate` (a Match) and its `area`
    loaded; only ONLY_FIELDS are fetched. Two queries: candidates, then the
    winners (a point's nearby neighbourhoods come from the point index)."""
    if category is None:
        return []
    has_point = latitude is not None and longitude is not None
    place = Q()
    area_ids: set[int] = set()
    if area is not None:
        place |= Q(area_id=area.pk)
        area_ids.add(area.pk)
    if has_point:
        near = _neighbourhoods_near(latitude, longitude, RADIUS_M)
        place |= _bbox(latitude, longitude, RADIUS_M)
        area_ids.update(near)
    queryset = Demand.objects.filter(
        category=category, status__in=OPEN_STATUSES, merged_into__isnull=True
    )
    if place:
        if area_ids:
            # Redundant with `place`, but it lets the database AND two indexes.
            queryset = queryset.filter(area_id__in=sorted(area_ids))
        queryset = queryset.filter(place)
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    wanted = terms(text)
    area_id = getattr(area, "pk", None)
    # What ranking reads of each candidate: plain tuples, no join, and only
    # the columns this call compares. The rows come newest first, so their
    # position settles ties without reading submitted_at.
    fields = ["id", "supporters_count"]
    if has_point:
        fields += ["latitude", "longitude"]
    if area_id is not None:
        fields.append("area_id")
    if wanted:
        fields.append("search_key")
    rows = queryset.order_by("-submitted_at", "-id").values_list(*fields)[:CANDIDATE_LIMIT]

    ranked = []
    for position, row in enumerate(rows):
        pk, supporters = row[0], row[1]
        rest = 2
        distance = None
        if has_point:
            lat, lng = row[2], row[3]
            rest = 4
            if lat is not None and lng is not None:
                distance = distance_m(latitude, longitude, lat, lng)
        near = distance is not None and distance <= RADIUS_M
        same_area = area_id is not None and row[rest] == area_id
        similarity = jaccard(wanted, stored_terms(row[-1])) if wanted else 0.0
        if place:
            if not (near or same_area):
                continue
        elif similarity < TEXT_ONLY_MIN:
            continue
        proximity = 1 - distance / RADIUS_M if near else 0.0
        score = round(W_NEAR * proximity + W_AREA * same_area + W_TEXT * similarity, 4)
        # Best score, then most supporters, then newest: the rows come newest first.
        ranked.append((-score, -supporters, position, pk, distance, same_area, similarity))
    ranked.sort(key=lambda item: item[:3])
    best = ranked[:limit]
    if not best:
        return []
    demands = Demand.objects.select_related("area").only(*ONLY_FIELDS).in_bulk([i[3] for i in best])
    found = []
    for neg_score, _supporters, _position, pk, distance, same_area, similarity in best:
        demand = demands.get(pk)
        if demand is not None:
            demand.duplicate = Match(
                score=-neg_score,
                distance_m=None if distance is None else round(distance, 1),
                same_area=same_area,
                text_similarity=round(similarity, 4),
            )
            found.append(demand)
    return found
