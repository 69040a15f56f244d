"""Who sees what in the audit log (the rule in core.audit): names only for a
viewer who may open the resident's record, identifiers always masked, health
never shown."""

import pytest
from django.urls import reverse

from tashil.core import audit
from tashil.core.models import AuditLog
from tashil.core.text import to_persian_digits
from tashil.registry.services.households import household_create
from tashil.registry.services.persons import person_create
from tashil.system import audit as system_audit
from tests.factories import Role, user_with_role

URL = "/system/audit/"
FIRST, LAST = "مهشید", "کرمانی‌زاده"
NATIONAL_CODE = "0499370899"
MOBILE = "09161234567"


@pytest.fixture
def resident(network):
    facilitator = network.users["facilitator"]
    household = household_create(acting_user=facilitator, office=network.office, area=network.hood)
    person = person_create(
        acting_user=facilitator,
        household=household,
        relation="head",
        first_name=FIRST,
        last_name=LAST,
        national_code=NATIONAL_CODE,
        mobile=MOBILE,
        has_disability=True,
        disability_note="نابینایی",
        chronic_illness=True,
    )
    return person


@pytest.fixture
def outsider(network):
    """A resident of the other province, whose row ended up in this
    province's log: nobody here may open the record."""
    staff = user_with_role(Role.FACILITATOR, office=network.other_office)
    household = household_create(
        acting_user=staff, office=network.other_office, area=network.other_hood
    )
    person = person_create(
        acting_user=staff, household=household, relation="head", first_name="رضا", last_name="غریبه"
    )
    audit.record(
        actor=staff,
        action="person.update",
        obj=person,
        changes={"first_name": ["رضا", "رضاقلی"], "chronic_illness": [False, True]},
        province=network.province,
        office=network.office,
    )
    return person


def page(client, user):
    client.force_login(user)
    response = client.get(URL)
    return response, response.content.decode()


@pytest.mark.parametrize("role", ["national_admin", "province_manager", "office_manager"])
def test_managers_see_names_of_residents_they_may_open_but_never_health(
    client, network, resident, role
):
    response, html = page(client, network.users[role])
    assert response.status_code == 200
    assert FIRST in html and LAST in html
    # Identifiers were masked when the row was written.
    assert NATIONAL_CODE not in html and MOBILE not in html
    assert "04******99" in html
    # Health: the log says the field changed, never to what.
    assert "نابینایی" not in html
    row = html.split("person.create")[1].split("</tr>")[0]
    assert "chronic_illness" in row and "True" not in row and "False" not in row
    assert "has_disability" in row
    assert "تغییر کرد" in row  # "changed (not shown in the log)"


@pytest.mark.parametrize("role", ["province_manager", "office_manager"])
def test_a_resident_the_viewer_may_not_open_is_masked(client, network, resident, outsider, role):
    response, html = page(client, network.users[role])
    assert response.status_code == 200
    assert "غریبه" not in html and "رضاقلی" not in html
    assert f"#{to_persian_digits(outsider.pk)}" in html
    assert FIRST in html  # their own resident is still named


@pytest.mark.parametrize("role", ["province_manager", "office_manager"])
def test_a_masked_name_cannot_be_found_by_searching(client, network, resident, outsider, role):
    client.force_login(network.users[role])
    html = client.get(URL, {"q": "غریبه"}).content.decode()
    assert f"#{to_persian_digits(outsider.pk)}" not in html
    assert "person.update" not in html
    # Searching by action still finds the row, masked.
    html = client.get(URL, {"q": "person.update"}).content.decode()
    assert f"#{to_persian_digits(outsider.pk)}" in html and "غریبه" not in html


def test_the_national_admin_may_open_every_record(client, network, resident, outsider):
    _response, html = page(client, network.users["national_admin"])
    assert "غریبه" in html and "رضاقلی" in html


@pytest.mark.parametrize("role", ["facilitator", "agency_liaison", "analyst", "no_role"])
def test_other_roles_do_not_see_the_log(client, network, resident, role):
    response, html = page(client, network.users[role])
    assert response.status_code == 403
    assert FIRST not in html


def test_the_admin_shows_the_same_rule(client, network, resident):
    admin = network.users["national_admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    entry = AuditLog.objects.get(action="person.create")
    html = client.get(reverse("admin:core_auditlog_change", args=[entry.pk])).content.decode()
    assert FIRST in html
    assert "نابینایی" not in html and NATIONAL_CODE not in html
    assert "chronic_illness" in html


def test_present_withholds_health_and_masks_names_per_viewer(network, resident, outsider):
    rows = system_audit.present(
        AuditLog.objects.filter(action="person.update"), network.users["office_manager"]
    )
    (row,) = rows
    changes = {c["field"]: c for c in row["changes"]}
    assert changes["chronic_illness"] == {
        "field": "chronic_illness",
        "old": None,
        "new": None,
        "withheld": True,
    }
    assert changes["first_name"]["new"] == audit.mask("رضاقلی")
    assert "غریبه" not in str(row["object"])
