"""Finding the same person twice.

An exact match on the normalised national code blocks a second record (the
column is unique). Everyone else — the undocumented, children, records typed
without a code — is matched on a normalised name plus the birth year (±1) in
the same neighbourhood: such matches are only suggestions, shown on the
person form and on the possible-duplicates page, and staff decide.

Names are compared on their search key with the spaces removed, so Arabic
ي/ك, ZWNJ, diacritics and "علی رضا" against "علیرضا" make no difference;
what differs after that is scored by similarity.
"""

from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations

from django.core.exceptions import ValidationError
from django.db.models import F, Q

from tashil.core.text import search_key
from tashil.core.validators import normalize_national_code

from .models import Membership, NotDuplicate, Person

# Below this name similarity two records are not suggested at all.
MIN_NAME_SIMILARITY = 0.8
MAX_PAIRS = 200


def person_name_key(first_name: str, last_name: str) -> str:
    """The stored `Person.name_key`: searchable, words kept apart."""
    return search_key(f"{first_name} {last_name}")[:220]


def compact(key: str) -> str:
    return key.replace(" ", "")


def exact_national_code_match(code, *, exclude_pk=None) -> Person | None:
    """The person already holding this national code, typed in any digits;
    None for no match or a code that is not valid."""
    if not code:
        return None
    try:
        code = normalize_national_code(code)
    except ValidationError:
        return None
    qs = Person.objects.filter(national_code=code)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def name_similarity(a: str, b: str) -> float:
    a, b = compact(a), compact(b)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if (
        matcher.real_quick_ratio() < MIN_NAME_SIMILARITY
        or matcher.quick_ratio() < MIN_NAME_SIMILARITY
    ):
        return 0.0
    return matcher.ratio()


def match_score(similarity: float, year_a: int | None, year_b: int | None) -> int:
    """0–100: mostly the name, then how well the birth years agree. Both
    are already in the same neighbourhood."""
    if year_a is None or year_b is None:
        year = 0.4
    else:
        year = {0: 1.0, 1: 0.6}.get(abs(year_a - year_b), 0.0)
    return round(100 * (0.75 * similarity + 0.25 * year))


def years_compatible(year_a, year_b) -> bool:
    return year_a is None or year_b is None or abs(year_a - year_b) <= 1


def codes_compatible(code_a, code_b) -> bool:
    """Two different national codes are two different people."""
    return not (code_a and code_b and code_a != code_b)


@dataclass
class Candidate:
    person: Person
    score: int
    household_id: int | None


def fuzzy_person_candidates(
    *,
    first_name: str,
    last_name: str,
    birth_year: int | None,
    area,
    exclude_pk=None,
    limit: int = 10,
    national_code: str | None = None,
) -> list[Candidate]:
    """Current residents of `area` whose name is close to this one and whose
    birth year is within a year of it (or unknown), best match first."""
    key = person_name_key(first_name or "", last_name or "")
    if not compact(key) or area is None:
        return []
    current = Q(memberships__left_on__isnull=True, memberships__end_reason="")
    qs = Person.objects.filter(current, merged_into__isnull=True, memberships__household__area=area)
    if birth_year:
        qs = qs.filter(
            Q(birth_year__range=(birth_year - 1, birth_year + 1)) | Q(birth_year__isnull=True)
        )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    rows = qs.annotate(current_household_id=F("memberships__household_id")).values_list(
        "pk", "name_key", "birth_year", "national_code", "current_household_id"
    )
    scored = []
    for pk, other_key, other_year, other_code, household_id in rows:
        if not codes_compatible(national_code, other_code):
            continue
        similarity = name_similarity(key, other_key)
        if similarity < MIN_NAME_SIMILARITY:
            continue
        scored.append((match_score(similarity, birth_year, other_year), pk, household_id))
    scored.sort(key=lambda row: (-row[0], row[1]))
    scored = scored[:limit]
    people = Person.objects.in_bulk([pk for _s, pk, _h in scored])
    return [Candidate(people[pk], score, household_id) for score, pk, household_id in scored]


@dataclass
class Pair:
    first: Person
    second: Person
    score: int
    first_household_id: int
    second_household_id: int


def duplicate_pairs(households, *, limit: int = MAX_PAIRS) -> list[Pair]:
    """Possible duplicates among the current members of `households` (a
    queryset the caller has already scoped), best first.

    Records are compared only within one neighbourhood, birth years at most
    one apart, and the first letter of the surname, which keeps the work
    close to linear for a whole office."""
    members = Membership.objects.current().filter(
        household__in=households, person__merged_into__isnull=True
    )
    rows = list(
        members.values_list(
            "person_id",
            "person__name_key",
            "person__last_name",
            "person__birth_year",
            "person__national_code",
            "household_id",
            "household__area_id",
        )
    )
    blocks = defaultdict(list)
    for row in rows:
        surname = compact(search_key(row[2]))
        blocks[(row[6], surname[:1])].append(row)
    person_ids = members.values("person_id")
    dismissed = (
        set(
            NotDuplicate.objects.filter(
                Q(first_id__in=person_ids) | Q(second_id__in=person_ids)
            ).values_list("first_id", "second_id")
        )
        if rows
        else set()
    )
    found = []
    for block in blocks.values():
        for a, b in combinations(block, 2):
            if a[0] == b[0] or not years_compatible(a[3], b[3]) or not codes_compatible(a[4], b[4]):
                continue
            low, high = (a, b) if a[0] < b[0] else (b, a)
            if (low[0], high[0]) in dismissed:
                continue
            similarity = name_similarity(a[1], b[1])
            if similarity < MIN_NAME_SIMILARITY:
                continue
            found.append((match_score(similarity, a[3], b[3]), low, high))
    found.sort(key=lambda f: (-f[0], f[1][0], f[2][0]))
    found = found[:limit]
    people = Person.objects.in_bulk({p for _s, low, high in found for p in (low[0], high[0])})
    return [
        Pair(people[low[0]], people[high[0]], score, low[5], high[5]) for score, low, high in found
    ]
