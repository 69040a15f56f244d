"""Dedupe: the exact national-code block, fuzzy suggestions, the
possible-duplicates list, and merging that keeps history and every link."""

import pytest
from django.core.exceptions import ValidationError

from tashil.core.errors import ConflictError
from tashil.core.models import AuditLog
from tashil.registry import dedupe
from tashil.registry.models import Membership, NotDuplicate, Person, PersonalDataAccess
from tashil.registry.services.memberships import membership_add, membership_end
from tashil.registry.services.merging import duplicate_dismiss, person_merge
from tashil.registry.services.persons import log_personal_data_access, person_update
from tests.factories import AreaFactory

from .conftest import national_code

pytestmark = pytest.mark.django_db


def test_exact_match_normalises_the_code(reg):
    h = reg.make_household()
    code = national_code("001234567")
    p = reg.make_person(h, national_code=code)
    persian = code.lstrip("0").translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert dedupe.exact_national_code_match(persian) == p
    assert dedupe.exact_national_code_match(code, exclude_pk=p.pk) is None
    assert dedupe.exact_national_code_match("123") is None
    assert dedupe.exact_national_code_match("") is None


@pytest.fixture
def hood_people(reg):
    h = reg.make_household()
    p = reg.make_person(h, first_name="محمدرضا", last_name="کعبی", birth_year=1365)
    return h, p


@pytest.mark.parametrize(
    ("first", "last", "year"),
    [
        ("محمدرضا", "كعبي", 1365),  # Arabic ي and ك
        ("محمد رضا", "کعبی", 1366),  # a space, one year later
        ("محمد\u200cرضا", "کعبی", 1364),  # ZWNJ, one year earlier
        ("مُحمّدرضا", "کعبی", 1365),  # diacritics
        ("محمدرضا", "کعبی", None),  # birth year unknown
        ("محمدرضا", "کعبي ", 1365),  # trailing space
        ("محمدرضاا", "کعبی", 1365),  # a typing slip
    ],
)
def test_fuzzy_finds_variants_in_the_same_neighbourhood(reg, hood_people, first, last, year):
    _h, p = hood_people
    found = dedupe.fuzzy_person_candidates(
        first_name=first, last_name=last, birth_year=year, area=reg.hood
    )
    assert [c.person for c in found] == [p]
    assert 0 < found[0].score <= 100


def test_fuzzy_ignores_other_years_neighbourhoods_names_and_codes(reg, hood_people):
    _h, p = hood_people
    assert (
        dedupe.fuzzy_person_candidates(
            first_name="محمدرضا", last_name="کعبی", birth_year=1367, area=reg.hood
        )
        == []
    )
    assert (
        dedupe.fuzzy_person_candidates(
            first_name="محمدرضا", last_name="کعبی", birth_year=1365, area=reg.other_hood
        )
        == []
    )
    assert (
        dedupe.fuzzy_person_candidates(
            first_name="حسین", last_name="کعبی", birth_year=1365, area=reg.hood
        )
        == []
    )
    assert (
        dedupe.fuzzy_person_candidates(
            first_name="محمدرضا", last_name="کعبی", birth_year=1365, area=reg.hood, exclude_pk=p.pk
        )
        == []
    )
    person_update(
        person=p, acting_user=reg.users["facilitator"], national_code=national_code("001234567")
    )
    assert (
        dedupe.fuzzy_person_candidates(
            first_name="محمدرضا",
            last_name="کعبی",
            birth_year=1365,
            area=reg.hood,
            national_code=national_code("002345678"),
        )
        == []
    )


def test_fuzzy_ranks_closer_matches_first(reg):
    h = reg.make_household()
    near = reg.make_person(h, first_name="علی", last_name="کریمی", birth_year=1370)
    h2 = reg.make_household()
    far = reg.make_person(h2, first_name="علی", last_name="کریمی", birth_year=1371)
    found = dedupe.fuzzy_person_candidates(
        first_name="علي", last_name="كريمي", birth_year=1370, area=reg.hood
    )
    assert [c.person for c in found] == [near, far]
    assert found[0].score > found[1].score
    assert found[0].household_id == h.pk


def test_merged_and_former_residents_are_not_suggested(reg, hood_people):
    h, p = hood_people
    membership_end(
        membership=p.memberships.get(), reason="moved", acting_user=reg.users["facilitator"]
    )
    assert (
        dedupe.fuzzy_person_candidates(
            first_name="محمدرضا", last_name="کعبی", birth_year=1365, area=reg.hood
        )
        == []
    )


def test_duplicate_pairs_and_dismissal(reg):
    a_home, b_home = reg.make_household(), reg.make_household()
    a = reg.make_person(a_home, first_name="زینب", last_name="سواری", birth_year=1369)
    b = reg.make_person(b_home, first_name="زينب", last_name="سواري", birth_year=1370)
    reg.make_person(
        b_home, relation="child", first_name="فاطمه", last_name="سواری", birth_year=1390
    )
    # Different codes are different people, however alike the names.
    c_home = reg.make_household()
    reg.make_person(
        c_home,
        first_name="زینب",
        last_name="سواری",
        birth_year=1369,
        national_code=national_code("003456789"),
    )
    other_area = AreaFactory(level="neighbourhood", parent=reg.city)
    reg.office.areas.add(other_area)
    d_home = reg.make_household(area=other_area)
    reg.make_person(d_home, first_name="زینب", last_name="سواری", birth_year=1369)

    pairs = dedupe.duplicate_pairs(reg.office.households.all())
    found = {(p.first.pk, p.second.pk) for p in pairs}
    coded = Person.objects.get(national_code=national_code("003456789"))
    assert (a.pk, b.pk) in found
    assert (a.pk, coded.pk) in found and (b.pk, coded.pk) in found  # one code is not a conflict
    assert all(d_home.pk not in (p.first_household_id, p.second_household_id) for p in pairs)

    duplicate_dismiss(first=b, second=a, acting_user=reg.users["facilitator"])
    assert NotDuplicate.objects.filter(first=a, second=b).exists()
    assert (a.pk, b.pk) not in {
        (p.first.pk, p.second.pk) for p in dedupe.duplicate_pairs(reg.office.households.all())
    }
    duplicate_dismiss(first=a, second=b, acting_user=reg.users["facilitator"])  # idempotent
    assert NotDuplicate.objects.count() == 1


@pytest.fixture
def pair(reg):
    """One woman recorded twice: as head of one household (no code), and as
    a relative in another (with code, mobile and the earlier history)."""
    home = reg.make_household()
    keep = reg.make_person(
        home, first_name="زینب", last_name="سواری", birth_year=1369, sex="female"
    )
    reg.make_person(home, relation="child", first_name="علی", last_name="سواری", birth_year=1390)
    old_home = reg.make_household()
    new_home = reg.make_household()
    reg.make_person(new_home, first_name="حسن", last_name="نیسی", birth_year=1360)
    dup = reg.make_person(
        old_home,
        first_name="زينب",
        last_name="سواري",
        birth_year=1370,
        national_code=national_code("004567891"),
        mobile="09161234567",
        has_disability=True,
    )
    membership_add(
        person=dup, household=new_home, relation="relative", acting_user=reg.users["facilitator"]
    )
    log_personal_data_access(user=reg.users["office_manager"], persons=[dup])
    return (
        reg,
        home,
        old_home,
        new_home,
        Person.objects.get(pk=keep.pk),
        Person.objects.get(pk=dup.pk),
    )


def test_merge_keeps_history_and_every_link(pair):
    reg, home, old_home, new_home, keep, dup = pair
    history_before = set(dup.memberships.values_list("pk", flat=True))
    audits_before = AuditLog.objects.filter(
        object_type="registry.person", object_id=str(dup.pk)
    ).count()

    person_merge(keep=keep, duplicate=dup, acting_user=reg.users["office_manager"])
    keep.refresh_from_db()
    dup.refresh_from_db()

    # Blanks filled from the duplicate; the code moved (it is unique).
    assert keep.national_code == national_code("004567891") and dup.national_code is None
    assert keep.mobile == "+989161234567"
    assert keep.birth_year == 1369  # not blank on the kept record: kept
    assert dup.merged_into == keep and dup.version == 2
    # The duplicate's past membership moved to the kept record; its current one ended as merged.
    moved = Membership.objects.get(household=old_home)
    assert moved.person == keep and moved.end_reason == "moved"
    ended = Membership.objects.get(household=new_home, person=dup)
    assert ended.end_reason == "merged" and ended.left_on
    assert (
        set(Membership.objects.filter(pk__in=history_before).values_list("pk", flat=True))
        == history_before
    )
    # The kept record's own place is unchanged.
    current = keep.memberships.current().get()
    assert current.household == home and current.relation == "head"
    # Other links moved too.
    assert PersonalDataAccess.objects.filter(person=keep).count() == 1
    assert not PersonalDataAccess.objects.filter(person=dup).exists()
    # Audit rows on both records; the duplicate's old rows are untouched.
    assert AuditLog.objects.filter(action="person.merge", object_id=str(keep.pk)).exists()
    assert (
        AuditLog.objects.filter(object_type="registry.person", object_id=str(dup.pk)).count()
        == audits_before + 1
    )
    # A yes/no flag is never a blank, so the kept record's answer stands; the
    # household the duplicate left was rescored without it.
    assert keep.has_disability is False
    assert not new_home.vulnerabilities.filter(indicator__code="member_disability").exists()
    # Still reachable: the duplicate's page leads to the kept record.
    assert Person.objects.visible_to(reg.users["facilitator"]).filter(pk=dup.pk).exists()


def test_merge_into_a_record_without_a_household_takes_the_place(reg):
    home = reg.make_household()
    dup = reg.make_person(home, first_name="رضا", last_name="کعبی", birth_year=1360)
    elsewhere = reg.make_household()
    keep = reg.make_person(elsewhere, first_name="رضا", last_name="کعبی", birth_year=1360)
    membership_end(
        membership=keep.memberships.get(), reason="left", acting_user=reg.users["facilitator"]
    )
    person_merge(
        keep=Person.objects.get(pk=keep.pk),
        duplicate=Person.objects.get(pk=dup.pk),
        acting_user=reg.users["facilitator"],
    )
    current = Person.objects.get(pk=keep.pk).memberships.current().get()
    assert current.household == home and current.relation == "head"
    assert Membership.objects.current().filter(household=home, relation="head").count() == 1
    assert Membership.objects.get(person=dup, household=home).end_reason == "merged"


def test_merge_chains_point_to_the_survivor(pair):
    reg, home, _old, new_home, keep, dup = pair
    third = reg.make_person(
        home, relation="relative", first_name="زینب", last_name="سواری", birth_year=1369
    )
    person_merge(keep=dup, duplicate=third, acting_user=reg.users["facilitator"])
    person_merge(
        keep=keep, duplicate=Person.objects.get(pk=dup.pk), acting_user=reg.users["facilitator"]
    )
    assert Person.objects.get(pk=third.pk).merged_into_id == keep.pk


@pytest.mark.parametrize("case", ["self", "different_codes", "already_merged"])
def test_merge_refusals_change_nothing(pair, state, case):
    reg, home, _old, _new, keep, dup = pair
    if case == "self":
        first, second = keep, keep
    elif case == "different_codes":
        person_update(
            person=keep,
            acting_user=reg.users["facilitator"],
            national_code=national_code("005678912"),
        )
        first, second = Person.objects.get(pk=keep.pk), dup
    else:
        other = reg.make_person(home, relation="relative", first_name="x", last_name="y")
        person_merge(keep=dup, duplicate=other, acting_user=reg.users["facilitator"])
        first, second = Person.objects.get(pk=keep.pk), Person.objects.get(pk=other.pk)
    before = state()
    with pytest.raises(ValidationError):
        person_merge(keep=first, duplicate=second, acting_user=reg.users["facilitator"])
    assert state() == before


def test_merge_with_a_stale_version_is_a_conflict(pair, state):
    reg, _home, _old, _new, keep, dup = pair
    before = state()
    with pytest.raises(ConflictError):
        person_merge(
            keep=keep, duplicate=dup, acting_user=reg.users["facilitator"], duplicate_version=99
        )
    assert state() == before
