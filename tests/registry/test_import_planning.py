"""Each step of Planner.plan on its own: rows built by hand, checked against
a registry written through the services."""

from types import SimpleNamespace

import pytest

from tashil.registry.dedupe import person_name_key
from tashil.registry.importer.planning import Plan, Planner
from tashil.registry.importer.validation import ImportContext, Row

from .conftest import national_code

pytestmark = pytest.mark.django_db

COLUMNS = {"household_id": 0, "first_name": 1, "national_code": 3, "relation": 4, "latitude": 8}


def planner(office, *, lock=False):
    batch = SimpleNamespace(pk=None, office=office, uploaded_by_id=None)
    cleaner = SimpleNamespace(column_of=COLUMNS.get)
    return Planner(batch=batch, context=ImportContext(office), cleaner=cleaner, lock=lock)


def row(number, ext_id, first, *, relation="head", code=None, household=None, last="احمدی"):
    return Row(
        number=number,
        ext_id=ext_id,
        relation=relation,
        household=household or {},
        person={"first_name": first, "last_name": last},
        code=code,
        name_key=person_name_key(first, last),
    )


@pytest.fixture
def registered(reg):
    """A household of the office with a head who has a national code."""
    code = national_code("001234567")
    household = reg.make_household(external_id="H1")
    head = reg.make_person(household, national_code=code)
    return SimpleNamespace(household=household, head=head, code=code)


def test_load_reads_the_blocks_households_persons_and_memberships(reg, registered):
    p = planner(reg.office)
    known = p.load([row(2, "H1", "مریم", code=registered.code), row(3, "H9", "رضا")])
    assert set(known.households) == {"H1"}
    assert known.by_code == {registered.code: registered.head.pk}
    assert known.persons[registered.head.pk]["first_name"] == "مریم"
    assert [m["person_id"] for m in known.members[registered.household.pk]] == [registered.head.pk]
    assert known.current[registered.head.pk]["household__external_id"] == "H1"
    assert known.deceased == set()


def test_match_persons_finds_by_code_or_name_and_refuses_a_second_claim(reg, registered):
    p = planner(reg.office)
    rows = [
        row(2, "H1", "مریم", code=registered.code),
        row(3, "H1", "مریم", relation="child"),
        row(4, "H2", "رضا", relation="head"),
    ]
    plan = Plan()
    resolved = p.match_persons(rows, p.load(rows), plan)
    assert [(r.number, person and person["pk"]) for r, person in resolved] == [
        (2, registered.head.pk),
        (4, None),
    ]
    # Row 3 matched the same member by name: one person cannot be two rows.
    assert list(plan.errors) == [3]
    assert plan.errors[3][0][0] == COLUMNS["first_name"]


def test_match_persons_refuses_a_person_of_another_office(reg):
    code = national_code("007654321")
    reg.make_person(reg.make_household(office=reg.other_office), national_code=code)
    p = planner(reg.office)
    rows = [row(2, "H1", "مریم", code=code)]
    plan = Plan()
    assert p.match_persons(rows, p.load(rows), plan) == []
    assert plan.errors[2][0][0] == COLUMNS["national_code"]


def test_drop_uncreatable_takes_all_rows_of_a_household_without_a_neighbourhood(reg):
    p = planner(reg.office)
    p.context.single_area = None  # an office serving several neighbourhoods
    rows = [
        row(2, "H5", "مریم"),
        row(3, "H5", "رضا", relation="child"),
        row(4, "H6", "زهره", household={"area_id": reg.hood.pk}),
    ]
    plan = Plan()
    known = p.load(rows)
    kept, new = p.drop_uncreatable([(r, None) for r in rows], known, plan)
    assert [r.number for r, _p in kept] == [4]
    assert set(new) == {"H6"}
    assert new["H6"][0]["area_id"] == reg.hood.pk and new["H6"][1] is True
    assert sorted(plan.errors) == [2, 3]


def test_keep_one_head_refuses_a_second_head_unless_the_current_one_steps_down(reg, registered):
    p = planner(reg.office)
    newcomer = row(3, "H1", "رضا", code=national_code("002345678"))
    alone = [newcomer]
    plan = Plan()
    known = p.load(alone)
    assert p.keep_one_head(p.match_persons(alone, known, plan), known, plan) == []
    assert plan.errors[3][0][0] == COLUMNS["relation"]

    stepping_down = row(2, "H1", "مریم", relation="spouse", code=registered.code)
    both = [stepping_down, newcomer]
    plan = Plan()
    known = p.load(both)
    kept = p.keep_one_head(p.match_persons(both, known, plan), known, plan)
    assert [r.number for r, _p in kept] == [2, 3]
    assert plan.errors == {}


def test_plan_households_creates_new_ones_and_fills_in_from_the_head_row(reg, registered):
    p = planner(reg.office)
    rows = [
        row(2, "H1", "مریم", code=registered.code, household={"address": "کوچه ۷"}),
        row(3, "H2", "رضا", household={"area_id": reg.hood.pk}),
    ]
    plan = Plan()
    known = p.load(rows)
    resolved, new = p.drop_uncreatable(p.match_persons(rows, known, plan), known, plan)
    refs = p.plan_households(resolved, known, new, plan)
    assert refs == {"H1": registered.household.pk, "H2": ("new", 0)}
    assert [ext_id for ext_id, _values in plan.household_creates] == ["H2"]
    [(pk, _version, changes, old)] = plan.household_updates
    assert pk == registered.household.pk and changes["address"] == "کوچه ۷"
    assert old["address"] == registered.household.address
    assert plan.stats == {"households_created": 1, "households_updated": 1}


def test_plan_persons_creates_new_people_and_moves_known_ones(reg, registered):
    p = planner(reg.office)
    rows = [
        row(2, "H2", "مریم", code=registered.code, household={"area_id": reg.hood.pk}),
        row(3, "H2", "رضا", relation="child"),
    ]
    plan = Plan()
    known = p.load(rows)
    resolved, new = p.drop_uncreatable(p.match_persons(rows, known, plan), known, plan)
    refs = p.plan_households(resolved, known, new, plan)
    p.plan_persons(resolved, refs, known, plan)
    assert plan.rows == 2
    assert [values["first_name"] for values in plan.person_creates] == ["رضا"]
    # The registered head leaves H1 for the new household H2.
    [(membership_id, household_id, _left_on)] = plan.membership_ends
    assert household_id == registered.household.pk
    assert plan.membership_creates == [
        (("new", 0), registered.head.pk, "head", None),
        (("new", 0), ("new", 0), "child", None),
    ]
    assert registered.household.pk in plan.touched
    assert plan.stats["persons_moved"] == 1 and plan.stats["persons_created"] == 1


def test_plan_runs_the_steps_in_order(reg, registered):
    rows = [row(2, "H1", "مریم", code=registered.code, household={"address": "کوچه ۷"})]
    plan = planner(reg.office).plan(rows)
    assert plan.errors == {}
    assert plan.stats == {"households_updated": 1, "persons_unchanged": 1}
    assert plan.touched == {registered.household.pk}
