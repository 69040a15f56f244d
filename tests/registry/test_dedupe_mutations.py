"""Duplicate suggestions at their edges: the caller's scope, the scoring
arithmetic and the similarity threshold (see docs/benchmarks.md, Mutation
testing)."""

import datetime as dt

import pytest

from tashil.registry import dedupe
from tashil.registry.dedupe import compact
from tashil.registry.models import Household, Membership, Person
from tashil.registry.services.memberships import membership_add
from tashil.registry.services.merging import duplicate_dismiss

from .conftest import national_code

pytestmark = pytest.mark.django_db


def test_pairs_stay_within_the_households_the_caller_scoped(reg):
    inside = reg.make_household()
    also_inside = reg.make_household()
    outside = reg.make_household()  # same office and neighbourhood, left out of scope
    a = reg.make_person(inside, first_name="زینب", last_name="سواری", birth_year=1369)
    b = reg.make_person(also_inside, first_name="زينب", last_name="سواري", birth_year=1369)
    c = reg.make_person(outside, first_name="زینب", last_name="سواری", birth_year=1370)

    scoped = Household.objects.filter(pk__in=[inside.pk, also_inside.pk])
    pairs = dedupe.duplicate_pairs(scoped)
    assert [(p.first, p.second) for p in pairs] == [(a, b)]
    assert (pairs[0].first_household_id, pairs[0].second_household_id) == (
        inside.pk,
        also_inside.pk,
    )
    assert pairs[0].score == 100

    # One household alone has nobody to pair with, however many duplicates
    # sit next door.
    assert dedupe.duplicate_pairs(Household.objects.filter(pk=inside.pk)) == []
    assert dedupe.duplicate_pairs(Household.objects.none()) == []

    everyone = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[inside.pk, outside.pk]))
    assert [(p.first, p.second, p.score) for p in everyone] == [(a, c, 90)]


def test_pairs_come_best_first_then_by_id_and_respect_the_limit(reg):
    homes = [reg.make_household() for _ in range(4)]
    first = reg.make_person(homes[0], first_name="زینب", last_name="سواری", birth_year=1369)
    same_year = reg.make_person(homes[1], first_name="زینب", last_name="سواری", birth_year=1369)
    year_later = reg.make_person(homes[2], first_name="زینب", last_name="سواری", birth_year=1370)
    unknown = reg.make_person(homes[3], first_name="زینب", last_name="سواری", birth_year=None)

    pairs = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[h.pk for h in homes]))
    got = [(p.first, p.second, p.score) for p in pairs]
    assert got == [
        (first, same_year, 100),
        (first, year_later, 90),
        (same_year, year_later, 90),
        (first, unknown, 85),
        (same_year, unknown, 85),
        (year_later, unknown, 85),
    ]
    limited = dedupe.duplicate_pairs(
        Household.objects.filter(pk__in=[h.pk for h in homes]), limit=2
    )
    assert [(p.first, p.second) for p in limited] == [(first, same_year), (first, year_later)]


def test_pairs_skip_far_years_other_codes_and_other_surnames(reg):
    homes = [reg.make_household() for _ in range(4)]
    a = reg.make_person(
        homes[0],
        first_name="زینب",
        last_name="سواری",
        birth_year=1369,
        national_code=national_code("001112223"),
    )
    reg.make_person(homes[1], first_name="زینب", last_name="سواری", birth_year=1371)
    reg.make_person(
        homes[2],
        first_name="زینب",
        last_name="سواری",
        birth_year=1369,
        national_code=national_code("003334445"),
    )
    same_code = reg.make_person(homes[3], first_name="زینب", last_name="سواری", birth_year=1368)
    pairs = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[h.pk for h in homes]))
    found = {(p.first.pk, p.second.pk) for p in pairs}
    assert (a.pk, same_code.pk) in found
    # 1369 against 1371, and the two different codes, are never pairs.
    assert all(abs((p.first.birth_year or 0) - (p.second.birth_year or 0)) <= 1 for p in pairs)
    assert not any(p.first.national_code and p.second.national_code for p in pairs)


def test_fuzzy_candidates_score_and_limit(reg):
    homes = [reg.make_household() for _ in range(3)]
    exact = reg.make_person(homes[0], first_name="علی", last_name="کریمی", birth_year=1370)
    later = reg.make_person(homes[1], first_name="علی", last_name="کریمی", birth_year=1371)
    unknown = reg.make_person(homes[2], first_name="علی", last_name="کریمی", birth_year=None)
    found = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood
    )
    assert [(c.person, c.score, c.household_id) for c in found] == [
        (exact, 100, homes[0].pk),
        (later, 90, homes[1].pk),
        (unknown, 85, homes[2].pk),
    ]
    top = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood, limit=1
    )
    assert [c.person for c in top] == [exact]
    # Without a birth year every year qualifies, at the unknown-year score.
    anyone = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=None, area=reg.hood
    )
    assert {(c.person, c.score) for c in anyone} == {(exact, 85), (later, 85), (unknown, 85)}
    assert (
        dedupe.fuzzy_person_candidates(first_name="", last_name="", birth_year=1370, area=reg.hood)
        == []
    )
    assert (
        dedupe.fuzzy_person_candidates(
            first_name="علی", last_name="کریمی", birth_year=1370, area=None
        )
        == []
    )


def test_the_same_code_in_any_digits_is_compatible(reg):
    home = reg.make_household()
    code = national_code("005556667")
    person = reg.make_person(
        home, first_name="علی", last_name="کریمی", birth_year=1370, national_code=code
    )
    found = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood, national_code=code
    )
    assert [c.person for c in found] == [person]


@pytest.mark.parametrize(
    ("similarity", "year_a", "year_b", "score"),
    [
        (1.0, 1370, 1370, 100),
        (1.0, 1370, 1371, 90),
        (1.0, 1371, 1370, 90),
        (1.0, 1370, 1372, 75),
        (1.0, None, 1370, 85),
        (1.0, 1370, None, 85),
        (0.8, 1370, 1370, 85),
        (0.8, 1370, 1380, 60),
    ],
)
def test_match_score(similarity, year_a, year_b, score):
    assert dedupe.match_score(similarity, year_a, year_b) == score


def test_name_similarity_threshold_and_early_exit():
    assert dedupe.name_similarity("", "علی") == 0.0
    assert dedupe.name_similarity("علی", "") == 0.0
    assert dedupe.name_similarity("علی رضا", "علیرضا") == 1.0
    # Exactly at the threshold counts.
    assert dedupe.name_similarity("abcde", "abcdx") == pytest.approx(0.8)
    # Same length, too few letters in common: no score at all, not a low one.
    assert dedupe.name_similarity("abcdefghij", "abcdexxxxx") == 0.0
    assert dedupe.name_similarity("ab", "abcdefghij") == 0.0
    assert dedupe.name_similarity("abcdefghij", "abcdefghix") == pytest.approx(0.9)


def test_compatibility_rules():
    assert dedupe.years_compatible(None, 1370)
    assert dedupe.years_compatible(1370, None)
    assert dedupe.years_compatible(1370, 1371)
    assert dedupe.years_compatible(1371, 1370)
    assert not dedupe.years_compatible(1370, 1372)
    assert dedupe.codes_compatible("", "0012345678")
    assert dedupe.codes_compatible("0012345678", None)
    assert dedupe.codes_compatible("0012345678", "0012345678")
    assert not dedupe.codes_compatible("0012345678", "0023456789")


def test_name_key_is_searchable_and_bounded():
    assert dedupe.person_name_key("علي", "كريمي") == "علی کریمی"
    assert len(dedupe.person_name_key("ا" * 200, "ب" * 200)) == 220
    assert dedupe.compact("علی رضا کریمی") == "علیرضاکریمی"
    assert dedupe.MIN_NAME_SIMILARITY == 0.8
    assert dedupe.MAX_PAIRS == 200


def test_merged_records_are_never_paired(reg):
    homes = [reg.make_household() for _ in range(3)]
    a = reg.make_person(homes[0], first_name="زینب", last_name="سواری", birth_year=1369)
    b = reg.make_person(homes[1], first_name="زینب", last_name="سواری", birth_year=1369)
    c = reg.make_person(homes[2], first_name="زینب", last_name="سواری", birth_year=1369)
    type(c).objects.filter(pk=c.pk).update(merged_into=a)
    pairs = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[h.pk for h in homes]))
    assert [(p.first, p.second) for p in pairs] == [(a, b)]


def test_pairs_are_blocked_by_the_first_letter_of_the_surname(reg):
    homes = [reg.make_household() for _ in range(3)]
    a = reg.make_person(homes[0], first_name="زینب", last_name="سواری", birth_year=1369)
    # Same first letter, a different second one: still compared, and similar.
    b = reg.make_person(homes[1], first_name="زینب", last_name="سیاری", birth_year=1369)
    # A different first letter is another block, however alike the rest.
    reg.make_person(homes[2], first_name="زینب", last_name="ثواری", birth_year=1369)
    pairs = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[h.pk for h in homes]))
    assert [(p.first, p.second) for p in pairs] == [(a, b)]


def test_a_scope_without_members_costs_one_query(reg, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert dedupe.duplicate_pairs(Household.objects.filter(pk=-1)) == []


def test_the_lower_id_comes_first_whatever_the_order_of_the_rows(reg):
    outside, home, later_home = reg.make_household(), reg.make_household(), reg.make_household()
    older = reg.make_person(outside, first_name="زینب", last_name="سواری", birth_year=1369)
    newer = reg.make_person(home, first_name="زینب", last_name="سواری", birth_year=1369)
    # The older record joins a household in scope after the newer one.
    membership_add(
        person=older,
        household=later_home,
        relation="relative",
        acting_user=reg.users["facilitator"],
    )
    pairs = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[home.pk, later_home.pk]))
    assert [(p.first, p.second) for p in pairs] == [(older, newer)]
    assert (pairs[0].first_household_id, pairs[0].second_household_id) == (later_home.pk, home.pk)


def test_a_dismissed_or_dissimilar_pair_does_not_hide_the_next_one(reg):
    homes = [reg.make_household() for _ in range(4)]
    a = reg.make_person(homes[0], first_name="زینب", last_name="سواری", birth_year=1369)
    reg.make_person(homes[1], first_name="محمد", last_name="سلیمانی", birth_year=1369)
    b = reg.make_person(homes[2], first_name="زینب", last_name="سواری", birth_year=1369)
    c = reg.make_person(homes[3], first_name="زینب", last_name="سواری", birth_year=1369)
    duplicate_dismiss(first=a, second=b, acting_user=reg.users["facilitator"])
    pairs = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[h.pk for h in homes]))
    assert [(p.first, p.second) for p in pairs] == [(a, c), (b, c)]


def test_equal_scores_are_ordered_by_the_first_then_the_second_id(reg):
    homes = [reg.make_household() for _ in range(4)]
    p1 = reg.make_person(homes[0], first_name="محمد", last_name="کریمی", birth_year=1369)
    p2 = reg.make_person(homes[1], first_name="علی", last_name="سواری", birth_year=1369)
    p3 = reg.make_person(homes[2], first_name="علی", last_name="سواری", birth_year=1369)
    p4 = reg.make_person(homes[3], first_name="محمد", last_name="کریمی", birth_year=1369)
    pairs = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[h.pk for h in homes]))
    assert [(p.first, p.second, p.score) for p in pairs] == [(p1, p4, 100), (p2, p3, 100)]


def test_fuzzy_candidates_default_to_ten(reg):
    for _ in range(11):
        reg.make_person(reg.make_household(), first_name="علی", last_name="کریمی", birth_year=1370)
    found = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood
    )
    assert len(found) == 10


def test_fuzzy_candidates_from_one_name_field_alone(reg):
    home = reg.make_household()
    person = reg.make_person(home, first_name="علی", last_name="کریمی", birth_year=1370)
    for first, last in (("", "علی کریمی"), ("علی کریمی", ""), (None, "علی کریمی")):
        found = dedupe.fuzzy_person_candidates(
            first_name=first, last_name=last, birth_year=1370, area=reg.hood
        )
        assert [(c.person, c.score) for c in found] == [(person, 100)]


def test_fuzzy_candidates_without_a_name_or_an_area_cost_no_query(reg, django_assert_num_queries):
    reg.make_person(reg.make_household(), first_name="علی", last_name="کریمی", birth_year=1370)
    with django_assert_num_queries(0):
        assert (
            dedupe.fuzzy_person_candidates(
                first_name=" ", last_name="", birth_year=1370, area=reg.hood
            )
            == []
        )
        assert (
            dedupe.fuzzy_person_candidates(
                first_name="علی", last_name="کریمی", birth_year=1370, area=None
            )
            == []
        )


def test_fuzzy_candidates_are_current_unmerged_residents_only(reg):
    homes = [reg.make_household() for _ in range(4)]
    people = [
        reg.make_person(home, first_name="علی", last_name="کریمی", birth_year=1370)
        for home in homes
    ]
    # Either half of an ending is enough to make a membership a past one.
    Membership.objects.filter(person=people[0]).update(left_on=dt.date(2025, 1, 1))
    Membership.objects.filter(person=people[1]).update(end_reason="moved")
    Person.objects.filter(pk=people[2].pk).update(merged_into=people[3])
    found = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood
    )
    assert [c.person for c in found] == [people[3]]


def test_fuzzy_candidates_are_born_within_a_year(reg):
    years = [1367, 1368, 1369, 1370, 1371, 1372, 1373]
    people = {
        year: reg.make_person(
            reg.make_household(), first_name="علی", last_name="کریمی", birth_year=year
        )
        for year in years
    }
    found = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood
    )
    assert [(c.person, c.score) for c in found] == [
        (people[1370], 100),
        (people[1369], 90),
        (people[1371], 90),
    ]


def test_an_other_code_does_not_hide_the_candidates_after_it(reg):
    code = national_code("003334445")
    compatible = []
    for other in ("001112223", "001112224"):
        reg.make_person(
            reg.make_household(),
            first_name="علی",
            last_name="کریمی",
            birth_year=1370,
            national_code=national_code(other),
        )
        compatible.append(
            reg.make_person(
                reg.make_household(), first_name="علی", last_name="کریمی", birth_year=1370
            )
        )
    found = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood, national_code=code
    )
    assert [c.person for c in found] == compatible


def test_a_name_exactly_at_the_threshold_is_suggested(reg):
    # "علیکریمی" is 8 letters of "علیکریمینژاد"'s 12: 2 × 8 / 20 = 0.8.
    assert dedupe.name_similarity("علی کریمی", "علی کریمی نژاد") == 0.8
    homes = [reg.make_household() for _ in range(2)]
    a = reg.make_person(homes[0], first_name="علی", last_name="کریمی", birth_year=1370)
    b = reg.make_person(homes[1], first_name="علی", last_name="کریمی نژاد", birth_year=1370)
    found = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood
    )
    assert [(c.person, c.score) for c in found] == [(a, 100), (b, 85)]
    pairs = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[h.pk for h in homes]))
    assert [(p.first, p.second, p.score) for p in pairs] == [(a, b, 85)]


def test_a_dissimilar_name_does_not_hide_the_candidates_after_it(reg):
    reg.make_person(reg.make_household(), first_name="محمد", last_name="سلیمانی", birth_year=1370)
    match = reg.make_person(
        reg.make_household(), first_name="علی", last_name="کریمی", birth_year=1370
    )
    found = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood
    )
    assert [c.person for c in found] == [match]


def test_equal_candidates_come_in_id_order_not_household_order(reg):
    first_home, second_home = reg.make_household(), reg.make_household()
    older = reg.make_person(second_home, first_name="علی", last_name="کریمی", birth_year=1370)
    newer = reg.make_person(first_home, first_name="علی", last_name="کریمی", birth_year=1370)
    found = dedupe.fuzzy_person_candidates(
        first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood
    )
    assert [(c.person, c.household_id) for c in found] == [
        (older, second_home.pk),
        (newer, first_home.pk),
    ]


def test_no_candidate_costs_one_query(reg, django_assert_num_queries):
    reg.make_person(reg.make_household(), first_name="محمد", last_name="سلیمانی", birth_year=1370)
    with django_assert_num_queries(1):
        assert (
            dedupe.fuzzy_person_candidates(
                first_name="علی", last_name="کریمی", birth_year=1370, area=reg.hood
            )
            == []
        )


def test_equal_pairs_of_one_person_are_ordered_by_the_second_id_not_name(reg):
    homes = [reg.make_household() for _ in range(3)]
    a = reg.make_person(homes[0], first_name="علی", last_name="کریمی", birth_year=1370)
    # Both 0.8 like "علی کریمی"; their names sort the other way round from their ids.
    b = reg.make_person(homes[1], first_name="علی", last_name="کریمی نژاد", birth_year=1370)
    c = reg.make_person(homes[2], first_name="علی", last_name="کریمی دوست", birth_year=1370)
    assert c.name_key < b.name_key
    pairs = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[h.pk for h in homes]))
    assert [(p.first, p.second, p.score) for p in pairs] == [(a, b, 85), (a, c, 85)]


def test_the_lower_id_comes_first_whichever_row_order_the_database_picks(reg):
    # Two blocks: in one the older person's household is the newer one, in
    # the other the older person's membership is the newer one.
    first_home, second_home = reg.make_household(), reg.make_household()
    older = reg.make_person(second_home, first_name="زینب", last_name="سواری", birth_year=1369)
    newer = reg.make_person(first_home, first_name="زینب", last_name="سواری", birth_year=1369)
    outside, home, later_home = reg.make_household(), reg.make_household(), reg.make_household()
    older_too = reg.make_person(outside, first_name="علی", last_name="کریمی", birth_year=1370)
    newer_too = reg.make_person(home, first_name="علی", last_name="کریمی", birth_year=1370)
    membership_add(
        person=older_too,
        household=later_home,
        relation="relative",
        acting_user=reg.users["facilitator"],
    )
    scope = [first_home, second_home, home, later_home]
    pairs = dedupe.duplicate_pairs(Household.objects.filter(pk__in=[h.pk for h in scope]))
    assert [(p.first, p.second) for p in pairs] == [(older, newer), (older_too, newer_too)]
    assert [(p.first_household_id, p.second_household_id) for p in pairs] == [
        (second_home.pk, first_home.pk),
        (later_home.pk, home.pk),
    ]


def test_long_names_are_compared_letter_by_letter():
    # From 200 letters on, difflib's "autojunk" would ignore every letter
    # that is common in the name, and one extra letter in the middle would
    # halve the score.
    name = "علیرضا" * 17 + "محمدرضا" * 14
    slip = "علیرضا" * 17 + "ب" + "محمدرضا" * 14
    assert len(compact(name)) == 200
    assert dedupe.name_similarity(name, slip) == pytest.approx(400 / 401)
