import datetime as dt

import pytest
from django.urls import reverse

from tashil.accounts.models import Role, RoleMembership, User
from tashil.core.models import AuditLog
from tashil.geo.models import Area
from tashil.offices.models import Office
from tests.factories import (
    SQUARE,
    AgencyFactory,
    AreaFactory,
    HazardZoneFactory,
    OfficeFactory,
    UserFactory,
    grant,
)
from tests.geo.helpers import nothing_changes
from tests.roles import ROLES

MANAGERS = {"national_admin", "province_manager"}
STAFF_MANAGERS = MANAGERS | {"office_manager"}
SEES_OFFICE = set(ROLES) - {"no_role"}


def _code(role, allowed, visible):
    if not visible:
        return 404
    return 200 if role in allowed else 403


@pytest.mark.authorization_matrix(
    "offices:create",
    "offices:detail",
    "offices:edit",
    "offices:list",
    "offices:network",
    "offices:operator_create",
    "offices:operators",
    "offices:staff",
)
@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(client, network, role):
    client.force_login(network.users[role])
    code = network.office.code
    visible = role in SEES_OFFICE
    expected = {
        reverse("offices:network"): 200 if role in MANAGERS | {"analyst"} else 403,
        reverse("offices:list"): 200 if role in SEES_OFFICE else 403,
        reverse("offices:create"): 200 if role in MANAGERS else 403,
        reverse("offices:operators"): 200 if role in MANAGERS else 403,
        reverse("offices:operator_create"): 200 if role in MANAGERS else 403,
        reverse("offices:detail", args=[code]): _code(role, SEES_OFFICE, visible),
        reverse("offices:edit", args=[code]): _code(role, MANAGERS, visible),
        reverse("offices:staff", args=[code]): _code(role, STAFF_MANAGERS, visible),
    }
    for url, status in expected.items():
        assert client.get(url).status_code == status, url


@pytest.mark.authorization_matrix(
    "offices:detail", "offices:edit", "offices:staff", "offices:status"
)
@pytest.mark.parametrize("role", ROLES)
def test_offices_of_another_province_are_not_found(client, network, role):
    client.force_login(network.users[role])
    code = network.other_office.code
    for name in ("offices:detail", "offices:edit", "offices:staff"):
        status = client.get(reverse(name, args=[code])).status_code
        if role == "national_admin":
            assert status == 200
        else:
            assert status == 404, name
    assert client.post(reverse("offices:status", args=[code]), {}).status_code == (
        200 if role == "national_admin" else 404
    )


@pytest.mark.authorization_matrix("offices:list")
@pytest.mark.parametrize("role", ROLES)
def test_list_shows_only_visible_offices(client, network, role):
    client.force_login(network.users[role])
    response = client.get(reverse("offices:list"))
    if role == "no_role":
        assert response.status_code == 403
        return
    names = {o.code for o in response.context["offices"]}
    assert network.office.code in names
    assert (network.other_office.code in names) == (role == "national_admin")


def test_status_endpoint_refuses_get_and_other_roles(client, network):
    client.force_login(network.users["province_manager"])
    assert client.get(reverse("offices:status", args=[network.office.code])).status_code == 405
    for role in ("office_manager", "facilitator", "analyst", "agency_liaison"):
        client.force_login(network.users[role])
        with nothing_changes():
            response = client.post(
                reverse("offices:status", args=[network.office.code]), {"status-status": "closed"}
            )
        assert response.status_code == 403


# --- Staff names -----------------------------------------------------------


@pytest.mark.authorization_matrix("offices:detail")
@pytest.mark.parametrize("role", ROLES)
def test_staff_names_on_the_office_page(client, network, role):
    facilitator = network.users["facilitator"]
    facilitator.first_name, facilitator.last_name = "زهرا", "نیسی"
    facilitator.save()
    client.force_login(network.users[role])
    response = client.get(reverse("offices:detail", args=[network.office.code]))
    if role == "no_role":
        assert response.status_code == 404
        return
    shown = "زهرا نیسی" in response.content.decode()
    assert shown == (
        role in {"national_admin", "province_manager", "office_manager", "facilitator"}
    )


# --- Dates -----------------------------------------------------------------


def test_office_page_shows_jalali_date_in_persian(client, network):
    Office.objects.filter(pk=network.office.pk).update(
        opened_on=dt.date(2018, 7, 15),
        contract_start=dt.date(2018, 7, 1),
        contract_end=dt.date(2019, 6, 30),
    )
    client.force_login(network.users["province_manager"])
    content = client.get(reverse("offices:detail", args=[network.office.code])).content.decode()
    assert "۲۴ تیر ۱۳۹۷" in content
    assert "۱۰ تیر ۱۳۹۷" in content and "۹ تیر ۱۳۹۸" in content


def test_office_page_in_english_has_latin_digits(client, network):
    Office.objects.filter(pk=network.office.pk).update(opened_on=dt.date(2018, 7, 15))
    client.force_login(network.users["province_manager"])
    client.cookies["django_language"] = "en"
    response = client.get(reverse("offices:detail", args=[network.office.code]))
    content = response.content.decode()
    assert 'lang="en"' in content
    assert "24 Tir 1397" in content
    assert "۱۳۹۷" not in content


def test_set_language_view_switches_to_english(client, network):
    Office.objects.filter(pk=network.office.pk).update(opened_on=dt.date(2018, 7, 15))
    client.force_login(network.users["province_manager"])
    url = reverse("offices:detail", args=[network.office.code])
    response = client.post(reverse("set_language"), {"language": "en", "next": url}, follow=True)
    assert "24 Tir 1397" in response.content.decode()


def test_network_table_shows_jalali_opening_dates(client, network):
    Office.objects.filter(pk=network.office.pk).update(opened_on=dt.date(2018, 7, 15))
    client.force_login(network.users["analyst"])
    assert "۲۴ تیر ۱۳۹۷" in client.get(reverse("offices:network")).content.decode()


# --- Create, edit, status --------------------------------------------------


def _office_post(network, **extra):
    return {
        "code": "malashieh",
        "name_fa": "دفتر ملاشیه",
        "name_en": "Malashieh",
        "province": network.province.pk,
        "county": network.county.pk,
        "status": "active",
        "opened_on": "۱۳۹۷/۰۴/۲۴",
        "contract_start": "1397/04/01",
        "contract_end": "1398/04/01",
        "areas": [network.hood.pk],
    } | extra


def test_create_office_through_the_form(client, network):
    client.force_login(network.users["province_manager"])
    response = client.post(reverse("offices:create"), _office_post(network))
    assert response.status_code == 302
    office = Office.objects.get(code="malashieh")
    assert office.opened_on == dt.date(2018, 7, 15)
    assert list(office.areas.all()) == [network.hood]
    assert AuditLog.objects.filter(action="office.create", office=office).exists()


def test_create_office_errors_name_the_field(client, network):
    client.force_login(network.users["province_manager"])
    with nothing_changes():
        response = client.post(
            reverse("offices:create"),
            _office_post(
                network,
                code=network.office.code,
                contract_start="1398/01/01",
                contract_end="1397/01/01",
            ),
        )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "code" in errors and "contract_end" in errors
    assert 'data-field="code"' in response.content.decode()


def test_create_form_offers_only_the_managers_province(client, network):
    client.force_login(network.users["province_manager"])
    form = client.get(reverse("offices:create")).context["form"]
    assert list(form.fields["province"].queryset) == [network.province]
    assert network.other_hood not in form.fields["areas"].queryset
    with nothing_changes():
        response = client.post(
            reverse("offices:create"), _office_post(network, province=network.other_province.pk)
        )
    assert "province" in response.context["form"].errors


def _edit_post(client, network, **extra):
    form = client.get(reverse("offices:edit", args=[network.office.code])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["areas"] = [a for a in data.get("areas", [])]
    data["opened_on"] = "1397/04/24"
    data.pop("contract_start", None)
    data.pop("contract_end", None)
    data["county"] = network.county.pk
    return data | extra


def test_edit_office_through_the_form(client, network):
    client.force_login(network.users["province_manager"])
    data = _edit_post(client, network, name_fa="دفتر زویه")
    response = client.post(reverse("offices:edit", args=[network.office.code]), data)
    assert response.status_code == 302
    office = Office.objects.get(pk=network.office.pk)
    assert office.name_fa == "دفتر زویه" and office.version == 2


def test_edit_conflict_is_shown_and_the_form_kept(client, network):
    client.force_login(network.users["province_manager"])
    url = reverse("offices:edit", args=[network.office.code])
    data = _edit_post(client, network, name_fa="ویرایش دوم")
    # Someone else saves in between.
    Office.objects.filter(pk=network.office.pk).update(version=5, name_fa="ویرایش اول")
    with nothing_changes():
        response = client.post(url, data)
    assert response.status_code == 409
    content = response.content.decode()
    assert response.context["form"].non_field_errors()
    assert 'data-testid="form-errors"' in content
    assert 'value="ویرایش دوم"' in content
    assert Office.objects.get(pk=network.office.pk).name_fa == "ویرایش اول"


def test_status_change_through_the_form(client, network):
    client.force_login(network.users["province_manager"])
    url = reverse("offices:status", args=[network.office.code])
    response = client.post(url, {"status-version": 1, "status-status": "suspended"})
    assert response.status_code == 302
    assert Office.objects.get(pk=network.office.pk).status == "suspended"
    with nothing_changes():
        response = client.post(url, {"status-version": 2, "status-status": "planned"})
    assert response.status_code == 200
    assert response.context["status_form"].errors


# --- Staff page ------------------------------------------------------------


def test_office_manager_adds_a_facilitator(client, network):
    newcomer = UserFactory(username="reza")
    client.force_login(network.users["office_manager"])
    url = reverse("offices:staff", args=[network.office.code])
    response = client.post(
        url, {"action": "add", "username": "reza", "role": "facilitator", "title": "تسهیلگر"}
    )
    assert response.status_code == 302
    assert RoleMembership.objects.filter(
        user=newcomer, office=network.office, role="facilitator"
    ).exists()


def test_office_manager_cannot_appoint_a_manager(client, network):
    UserFactory(username="boss")
    client.force_login(network.users["office_manager"])
    url = reverse("offices:staff", args=[network.office.code])
    assert [c for c, _l in client.get(url).context["add_form"].fields["role"].choices] == [
        "facilitator"
    ]
    with nothing_changes():
        response = client.post(url, {"action": "add", "username": "boss", "role": "office_manager"})
    assert response.status_code == 200
    assert "role" in response.context["add_form"].errors


def test_office_manager_cannot_remove_a_manager(client, network):
    second_manager = UserFactory()
    membership = grant(second_manager, Role.OFFICE_MANAGER, office=network.office)
    client.force_login(network.users["office_manager"])
    url = reverse("offices:staff", args=[network.office.code])
    assert membership.pk not in client.get(url).context["removable"]
    with nothing_changes():
        response = client.post(url, {"action": "remove", "membership": membership.pk})
    assert response.status_code == 403


def test_remove_with_htmx_returns_the_panel(client, network):
    membership = RoleMembership.objects.get(
        user=network.users["facilitator"], office=network.office
    )
    client.force_login(network.users["office_manager"])
    url = reverse("offices:staff", args=[network.office.code])
    response = client.post(
        url, {"action": "remove", "membership": membership.pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="staff-panel">')
    assert "<html" not in content
    assert not RoleMembership.objects.get(pk=membership.pk).is_active


def test_remove_a_membership_of_another_office_is_refused(client, network):
    other = grant(UserFactory(), Role.FACILITATOR, office=network.other_office)
    client.force_login(network.users["province_manager"])
    with nothing_changes():
        response = client.post(
            reverse("offices:staff", args=[network.office.code]),
            {"action": "remove", "membership": other.pk},
        )
    assert response.status_code == 200
    assert response.context["problem"]
    assert RoleMembership.objects.get(pk=other.pk).is_active


def test_create_account_shows_the_temporary_password_once(client, network):
    client.force_login(network.users["province_manager"])
    url = reverse("offices:staff", args=[network.office.code])
    response = client.post(
        url,
        {
            "action": "create",
            "new-username": "sara.h",
            "new-first_name": "سارا",
            "new-last_name": "حمیدی",
            "new-mobile": "09161234567",
            "new-role": "office_manager",
            "new-title": "مدیر دفتر",
        },
    )
    assert response.status_code == 200
    user = User.objects.get(username="sara.h")
    password = response.context["new_account"]["password"]
    assert user.check_password(password)
    assert password in response.content.decode()
    assert RoleMembership.objects.get(user=user).role == "office_manager"
    # The next visit does not show it again.
    assert password not in client.get(url).content.decode()


def test_create_account_errors_stay_on_the_form(client, network):
    client.force_login(network.users["office_manager"])
    url = reverse("offices:staff", args=[network.office.code])
    taken = network.users["facilitator"].username
    with nothing_changes():
        response = client.post(
            url,
            {
                "action": "create",
                "new-username": taken,
                "new-first_name": "x",
                "new-last_name": "y",
                "new-mobile": "12",
                "new-role": "facilitator",
            },
        )
    form = response.context["new_form"]
    assert "mobile" in form.errors
    # The mobile error stops the form before the service; the username is
    # checked once the form is otherwise valid.
    with nothing_changes():
        response = client.post(
            url,
            {
                "action": "create",
                "new-username": taken,
                "new-first_name": "x",
                "new-last_name": "y",
                "new-role": "facilitator",
            },
        )
    assert "username" in response.context["new_form"].errors


# --- Operators -------------------------------------------------------------


def test_operator_create_and_edit_pages(client, network):
    client.force_login(network.users["province_manager"])
    response = client.post(
        reverse("offices:operator_create"), {"name_fa": "مؤسسه همیاران", "kind": "ngo"}
    )
    assert response.status_code == 302
    operator = network.office.operator
    url = reverse("offices:operator_edit", args=[operator.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None} | {"name_en": "Helpers"}
    assert client.post(url, data).status_code == 302
    # An operator working in another province is the national admin's.
    other = reverse("offices:operator_edit", args=[network.other_office.operator.pk])
    assert client.get(other).status_code == 403


# --- Map and counts --------------------------------------------------------


def _grow(network, count=8):
    for i in range(count):
        county = AreaFactory(level=Area.Level.COUNTY, parent=network.province, boundary=SQUARE)
        city = AreaFactory(level=Area.Level.CITY, parent=county)
        hood = AreaFactory(
            level=Area.Level.NEIGHBOURHOOD,
            parent=city,
            boundary=SQUARE,
            centroid_lat=31.35,
            centroid_lng=48.65,
            is_marginal=True,
            population=1000,
        )
        HazardZoneFactory(area=hood)
        status = [Office.Status.ACTIVE, Office.Status.PILOT, Office.Status.PLANNED][i % 3]
        office = OfficeFactory(
            province=network.province, county=county, status=status, opened_on=dt.date(2018, 7, 15)
        )
        office.areas.add(hood)
        staff = UserFactory()
        grant(staff, Role.FACILITATOR, office=office)
        AgencyFactory(province=network.province)


def test_network_page_counts(client, network):
    _grow(network)
    client.force_login(network.users["province_manager"])
    response = client.get(reverse("offices:network"))
    summary = response.context["summary"]
    # network.office (active) + 3 active, 3 pilot, 2 planned.
    assert summary.by_status["active"] == 4
    assert summary.by_status["pilot"] == 3
    assert summary.by_status["planned"] == 2
    # The planned offices' neighbourhoods are not served yet.
    assert summary.neighbourhoods == 9
    assert summary.neighbourhoods_served == 7
    assert summary.marginal_population == 8000
    assert summary.marginal_population_covered == 6000
    assert summary.coverage_percent == 75
    assert summary.agencies == 9
    assert len(response.context["markers"]) == 9
    content = response.content.decode()
    assert reverse("geo:geojson") in content
    assert "data-tile-url" not in content


def test_a_served_city_covers_its_neighbourhoods(client, network):
    Area.objects.filter(pk=network.hood.pk).update(is_marginal=True, population=700)
    office = OfficeFactory(
        province=network.province, status=Office.Status.PILOT, opened_on=dt.date(2020, 1, 1)
    )
    office.areas.add(network.city)
    network.office.areas.clear()
    client.force_login(network.users["analyst"])
    summary = client.get(reverse("offices:network")).context["summary"]
    assert summary.neighbourhoods_served == 1
    assert summary.marginal_population_covered == 700


def test_network_page_has_no_personal_data_for_analysts(client, network):
    network.users["facilitator"].first_name = "نام‌خصوصی"
    network.users["facilitator"].save()
    client.force_login(network.users["analyst"])
    content = client.get(reverse("offices:network")).content.decode()
    assert "نام‌خصوصی" not in content


def test_map_tiles_when_configured(client, network, settings):
    settings.MAP_TILE_URL = "https://tiles.example.ir/{z}/{x}/{y}.png"
    client.force_login(network.users["province_manager"])
    content = client.get(reverse("offices:network")).content.decode()
    assert 'data-tile-url="https://tiles.example.ir/{z}/{x}/{y}.png"' in content


@pytest.mark.query_count("offices:network")
def test_network_query_count(client, network, django_assert_max_num_queries):
    _grow(network)
    client.force_login(network.users["province_manager"])
    with django_assert_max_num_queries(10):
        assert client.get(reverse("offices:network")).status_code == 200


@pytest.mark.query_count("offices:list")
def test_list_query_count(client, network, django_assert_max_num_queries):
    _grow(network)
    client.force_login(network.users["province_manager"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("offices:list"))
    assert len(response.context["offices"]) == 9
    with django_assert_max_num_queries(8):
        client.get(
            reverse("offices:list"),
            {"q": "office", "status": "active", "county": network.county.code},
        )


@pytest.mark.query_count("offices:detail")
def test_detail_query_count(client, network, django_assert_max_num_queries):
    _grow(network)
    for area in Area.objects.filter(level="neighbourhood", path__startswith=network.province.path):
        network.office.areas.add(area)
    client.force_login(network.users["province_manager"])
    with django_assert_max_num_queries(10):
        assert client.get(reverse("offices:detail", args=[network.office.code])).status_code == 200


def test_list_filters(client, network):
    _grow(network, count=3)
    client.force_login(network.users["province_manager"])
    response = client.get(reverse("offices:list"), {"status": "pilot"})
    assert {o.status for o in response.context["offices"]} == {"pilot"}
    response = client.get(reverse("offices:list"), {"county": network.county.code})
    assert [o.pk for o in response.context["offices"]] == [network.office.pk]
    # Search finds an office by the name of a neighbourhood it serves.
    Area.objects.filter(pk=network.hood.pk).update(name_fa="زویه", search_key="زویه")
    response = client.get(reverse("offices:list"), {"q": "زويه"})
    assert [o.pk for o in response.context["offices"]] == [network.office.pk]
