"""Every rule a row is checked against, each reported by row and column, and
the same rules the registry's forms apply."""

# The shared fixtures are imported by name, which pyflakes reads as a redefinition.
# ruff: noqa: F811

import datetime as dt

import pytest

from tashil.registry.models import Household, ImportBatch, Membership, Person
from tashil.registry.services.households import household_create
from tashil.registry.services.memberships import membership_end
from tashil.registry.services.persons import person_create
from tests.factories import AreaFactory

from .test_import_fixtures import HEADER, code, english, family, imp, person  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.django_db

COL = {name: i for i, name in enumerate(HEADER)}


def errors_for(imp, rows, *, header=HEADER, name="rules.csv"):
    """{row number: [(column, message)]} of a checked file; nothing is written."""
    batch = imp.check(imp.csv(rows, header=header, name=name))
    assert batch.status == ImportBatch.Status.VALIDATED, batch.failure
    found = {}
    for e in batch.errors:
        found.setdefault(e["row"], []).append((e["column"], e["message"]))
    assert Person.objects.count() == 0 and Household.objects.count() == 0
    return found


def one(imp, column, value, **kw):
    """The problems of a single-person file whose `column` holds `value`."""
    row = person("H1", national=code("001234567"), **kw)
    row[COL[column]] = value
    return errors_for(imp, [row]).get(2, [])


def test_a_required_cell_left_empty(imp):
    problems = one(imp, "نام", "")
    assert problems == [("نام (B)", "This column is required, but the cell is empty.")]


@pytest.mark.parametrize(
    "value, message",
    [
        ("12345", "A national code has 10 digits."),
        ("1234567890", "This national code is not valid"),
        ("1111111111", "This national code is not valid"),
        ("00123456x9", "A national code has 10 digits."),
    ],
)
def test_national_code_rules(imp, value, message):
    problems = one(imp, "کد ملی", value)
    assert problems and problems[0][0] == "کد ملی (D)"
    assert problems[0][1].startswith(message)


def test_a_national_code_that_lost_its_leading_zeros_is_padded(imp):
    batch = imp.run([person("H1", national=code("001234567").lstrip("0"))])
    assert Person.objects.get().national_code == code("001234567")
    assert batch.committed_rows == 1


def test_a_duplicate_national_code_in_the_file_names_the_first_row(imp):
    rows = family(1, members=2)
    rows.append(person("H2", "رضا", "نوری", national=rows[0][3]))
    found = errors_for(imp, rows)
    assert list(found) == [4]
    assert found[4][0][0] == "کد ملی (D)"
    assert "also in row 2" in found[4][0][1]


@pytest.mark.parametrize(
    "value, message",
    [
        ("0912123", "Enter a mobile number such as 0912 345 6789."),
        ("02188776655", "This is a landline number."),
        ("+44 7700 900123", "Enter an Iranian mobile number"),
        ("0912abc4567", "Enter a mobile number"),
    ],
)
def test_mobile_rules(imp, value, message):
    problems = one(imp, "موبایل", value)
    assert problems[0][0] == "موبایل (H)" and problems[0][1].startswith(message)


@pytest.mark.parametrize(
    "value", ["0912 123 4567", "+98 912 123 4567", "00989121234567", "9121234567"]
)
def test_mobiles_written_any_usual_way(imp, value):
    imp.run([person("H1", national=code("001234567"), mobile=value)])
    assert Person.objects.get().mobile == "+989121234567"


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("1402/12/30", "has 29 days"),
        ("1403/13/01", "The month must be between 1 and 12."),
        ("1990-05-01", "looks like a Gregorian date"),
        ("1990/05/01", "1369/02/11"),
        ("12/04/1365", "Write the year first: 1365/04/12"),
        ("65/04/12", "Write the year in full"),
        ("دیروز", "is not a date"),
        ("1250/01/01", "too early"),
    ],
)
def test_date_rules(imp, value, fragment):
    problems = one(imp, "تاریخ تولد", value)
    assert problems[0][0] == "تاریخ تولد (G)"
    assert fragment in problems[0][1]


def test_a_future_date_is_refused(imp):
    from tashil.core import jalali

    tomorrow = jalali.today() + dt.timedelta(days=2)
    problems = one(imp, "تاریخ تولد", jalali.format_date(tomorrow, "short", lang="en"))
    assert problems[0][1] == "This date is in the future."


def test_a_leap_day_is_accepted(imp):
    imp.run([person("H1", national=code("001234567"), birth="1403/12/30")])
    assert Person.objects.get().birth_date == dt.date(2025, 3, 20)


def test_a_birth_year_alone(imp):
    imp.run([person("H1", national=code("001234567"), birth="1370")])
    p = Person.objects.get()
    assert p.birth_year == 1370 and p.birth_date is None


def test_a_gregorian_birth_year_gets_its_jalali_equivalent(imp):
    problems = one(imp, "تاریخ تولد", "1985")
    assert "1985 looks like a Gregorian year" in problems[0][1] and "1363" in problems[0][1]


def test_birth_year_and_birth_date_must_agree(imp):
    header = [*HEADER, "سال تولد"]
    row = person("H1", national=code("001234567"), birth="1360/05/12") + ["1361"]
    found = errors_for(imp, [row], header=header)
    assert found[2] == [("سال تولد (P)", "The birth year does not match the birth date.")]


@pytest.mark.parametrize(
    "column, value, stored",
    [
        ("جنسیت", "female", ("sex", "female")),
        ("جنسیت", "مونث", ("sex", "female")),
        ("نوع مسکن", "كپر", ("dwelling_type", "shack")),
        ("وضعیت تصرف", "مستأجر", ("tenure", "tenant")),
        ("بیمه درمانی", "تأمین اجتماعی", ("health_insurance", "social_security")),
        ("وضعیت اشتغال", "Unemployed", ("employment", "unemployed")),
    ],
)
def test_choices_accept_the_words_people_write(imp, column, value, stored):
    row = person("H1", national=code("001234567"))
    row[COL[column]] = value
    imp.run([row])
    field, expected = stored
    obj = Person.objects.get() if hasattr(Person, field) else Household.objects.get()
    assert getattr(obj, field) == expected


def test_an_unknown_choice_lists_the_choices(imp):
    problems = one(imp, "جنسیت", "نامعلوم")
    assert problems[0][0] == "جنسیت (F)"
    assert "“نامعلوم” is not one of: female, male." == problems[0][1]


def test_yes_no_columns(imp):
    header = [*HEADER, "کمیته امداد", "معلولیت"]
    rows = [
        person("H1", national=code("001234567")) + ["بله", "خیر"],
        person("H2", national=code("001234568".replace("8", "5")), first="رضا") + ["شاید", "x"],
    ]
    found = errors_for(imp, rows, header=header)
    assert list(found) == [3]
    assert found[3] == [("کمیته امداد (P)", "“شاید” is not yes or no.")]


def test_latitude_and_longitude_go_together(imp):
    header = [*HEADER, "عرض جغرافیایی", "طول جغرافیایی"]
    rows = [
        person("H1", national=code("001234567")) + ["31.35", ""],
        person("H2", national=code("001234575"), first="رضا") + ["عرض", "48.6"],
        person("H3", national=code("001234583"), first="حسن") + ["131.3", "48.6"],
    ]
    found = errors_for(imp, rows, header=header)
    assert found[2] == [("طول جغرافیایی (Q)", "Give both latitude and longitude, or neither.")]
    assert found[3][0][0] == "عرض جغرافیایی (P)" and "is not a number" in found[3][0][1]
    assert found[4] == [("عرض جغرافیایی (P)", "These are not valid coordinates.")]


def test_the_neighbourhood_by_name_code_or_point(imp):
    n = imp.n
    second = AreaFactory(level="neighbourhood", parent=n.city, name_fa="کوی سیاحی", code="sayyahi")
    n.office.areas.add(second)
    header = [*HEADER, "محله", "عرض جغرافیایی", "طول جغرافیایی"]
    rows = [
        person("H1", national=code("001234567")) + ["كوي سياحي", "", ""],  # by name, Arabic letters
        person("H2", national=code("001234575"), first="رضا") + ["sayyahi", "", ""],  # by code
        person("H3", national=code("001234583"), first="حسن")
        + ["", "31.35", "48.65"],  # by point (in n.hood)
        person("H4", national=code("001234591"), first="زهرا") + ["ناکجا", "", ""],
        person("H5", national=code("001234605"), first="سارا") + ["", "", ""],
        person("H6", national=code("001234613"), first="مینا") + ["", "30.0", "50.0"],
    ]
    batch = imp.check(imp.csv(rows, header=header))
    found = {e["row"]: (e["column"], e["message"]) for e in batch.errors}
    assert set(found) == {5, 6, 7}
    assert found[5][0] == "محله (P)" and "is not a neighbourhood this office serves" in found[5][1]
    assert found[6] == (
        "محله (P)",
        "Write the household's neighbourhood, or its latitude and longitude.",
    )
    assert found[7] == (
        "عرض جغرافیایی (Q)",
        "The point is outside every mapped neighbourhood; write the neighbourhood.",
    )
    imp.commit(batch)
    areas = dict(Household.objects.values_list("external_id", "area_id"))
    assert areas == {"H1": second.pk, "H2": second.pk, "H3": n.hood.pk}


def test_one_neighbourhood_offices_need_no_neighbourhood_column(imp):
    imp.run(family(1))
    assert Household.objects.get().area == imp.n.hood


def test_text_longer_than_the_field(imp):
    problems = one(imp, "نام", "م" * 101)
    assert problems == [("نام (B)", "At most 100 characters (this has 101).")]


def test_two_heads_in_one_household(imp):
    rows = family(1, members=2)
    rows[1][COL["نسبت با سرپرست"]] = "سرپرست"
    found = errors_for(imp, rows)
    assert found == {3: [("نسبت با سرپرست (E)", "Household H0000 already has a head in row 2.")]}


def test_the_same_undocumented_person_twice_in_a_household(imp):
    rows = [
        person("H1", "گل محمد", "رحیمی", "", "سرپرست", birth="1365"),
        person("H1", "گل محمد", "رحیمی", "", "فرزند", birth="1365"),
    ]
    found = errors_for(imp, rows)
    assert list(found) == [3] and "appears twice in household H1" in found[3][0][1]


# --- Rules that need the registry ------------------------------------------------------------


def test_a_person_registered_by_another_office(imp):
    n = imp.n
    other_staff = n.users["facilitator"].__class__.objects.create(username="other-staff")
    from tests.factories import grant

    grant(other_staff, "facilitator", office=n.other_office)
    h = household_create(acting_user=other_staff, office=n.other_office, area=n.other_hood)
    person_create(
        acting_user=other_staff,
        household=h,
        relation="head",
        first_name="لیلا",
        last_name="نوری",
        national_code=code("001234567"),
    )
    found = {
        e["row"]: e for e in imp.check(imp.csv([person("H1", national=code("001234567"))])).errors
    }
    assert (
        "registered by another office" in found[2]["message"] and found[2]["column"] == "کد ملی (D)"
    )
    assert Person.objects.count() == 1


def test_a_person_recorded_as_deceased(imp):
    h = household_create(acting_user=imp.user, office=imp.office, area=imp.n.hood, external_id="H1")
    p = person_create(
        acting_user=imp.user,
        household=h,
        relation="head",
        first_name="مریم",
        last_name="احمدی",
        national_code=code("001234567"),
    )
    membership_end(membership=p.memberships.get(), reason="died", acting_user=imp.user)
    batch = imp.check(imp.csv([person("H1", national=code("001234567"))]))
    assert batch.errors[0]["message"] == "This person is recorded as deceased."


def test_a_household_that_already_has_another_head(imp):
    h = household_create(acting_user=imp.user, office=imp.office, area=imp.n.hood, external_id="H1")
    person_create(
        acting_user=imp.user,
        household=h,
        relation="head",
        first_name="کریم",
        last_name="سواری",
        national_code=code("001234575"),
    )
    batch = imp.check(imp.csv([person("H1", national=code("001234567"))]))
    assert batch.errors[0]["column"] == "نسبت با سرپرست (E)"
    assert batch.errors[0]["message"].startswith("This household already has a head: کریم سواری.")


def test_the_old_head_given_another_relation_in_the_same_file_makes_way(imp):
    h = household_create(acting_user=imp.user, office=imp.office, area=imp.n.hood, external_id="H1")
    old = person_create(
        acting_user=imp.user,
        household=h,
        relation="head",
        first_name="کریم",
        last_name="سواری",
        national_code=code("001234575"),
        sex="male",
    )
    rows = [
        person("H1", national=code("001234567")),
        person("H1", "کریم", "سواری", code("001234575"), "همسر", sex="مرد"),
    ]
    batch = imp.run(rows)
    assert batch.committed_rows == 2, batch.errors
    relations = dict(Membership.objects.current().values_list("person__national_code", "relation"))
    assert relations == {code("001234567"): "head", code("001234575"): "spouse"}
    old.refresh_from_db()
    # The file's values for them are taken, as for anyone matched by national code.
    assert old.birth_year == 1360 and old.version == 2


def test_two_undocumented_members_with_the_same_name_need_codes(imp):
    h = household_create(acting_user=imp.user, office=imp.office, area=imp.n.hood, external_id="H1")
    for relation, year in (("head", 1340), ("child", 1341)):
        person_create(
            acting_user=imp.user,
            household=h,
            relation=relation,
            first_name="علی",
            last_name="رضایی",
            birth_year=year,
        )
    batch = imp.check(imp.csv([person("H1", "علی", "رضایی", "", "فرزند", birth="1341")]))
    assert "more than one member called علی رضایی" in batch.errors[0]["message"]
