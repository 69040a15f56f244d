import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tashil.agencies.models import Agency, DemandCategory, RoutingRule
from tashil.core import jalali
from tashil.core.models import AuditLog
from tests.agencies.conftest import serving_agency
from tests.factories import (
    AgencyFactory,
    AreaFactory,
    DemandCategoryFactory,
    Role,
    RoutingRuleFactory,
    UserFactory,
    grant,
)
from tests.roles import ROLES

pytestmark = pytest.mark.django_db

STAFF = set(ROLES) - {"no_role"}
MANAGERS = {"national_admin", "province_manager"}


@pytest.fixture
def as_role(client, network):
    def login(role):
        client.force_login(network.users[role])
        return client

    return login


@pytest.fixture
def rules(network, tree):
    own = RoutingRuleFactory(category=tree.water, area=network.county, agency=network.agency)
    network.other_agency.jurisdiction.add(network.other_hood)
    other = RoutingRuleFactory(
        category=tree.water, area=network.other_hood, agency=network.other_agency
    )
    return own, other


def _expected(role, allowed, hidden=frozenset()):
    """200 for allowed roles, 404 where the object is out of scope, else 403.
    Users without any role are refused before anything is looked up."""
    if role == "no_role":
        return 403
    if role in allowed:
        return 200
    return 404 if role in hidden else 403


# --- every page × every role -------------------------------------------------------------

PAGES = [
    # (name, url builder, roles that get 200, roles that get 404 rather than 403)
    ("list", lambda n, t, r: reverse("agencies:list"), STAFF, set()),
    (
        "detail",
        lambda n, t, r: reverse("agencies:detail", kwargs={"code": n.agency.code}),
        STAFF,
        set(),
    ),
    (
        "detail-other-province",
        lambda n, t, r: reverse("agencies:detail", kwargs={"code": n.other_agency.code}),
        {"national_admin"},
        STAFF,
    ),
    ("create", lambda n, t, r: reverse("agencies:create"), MANAGERS, set()),
    (
        "edit",
        lambda n, t, r: reverse("agencies:edit", kwargs={"code": n.agency.code}),
        MANAGERS | {"agency_liaison"},
        set(),
    ),
    (
        "edit-other-province",
        lambda n, t, r: reverse("agencies:edit", kwargs={"code": n.other_agency.code}),
        {"national_admin"},
        STAFF,
    ),
    ("categories", lambda n, t, r: reverse("agencies:categories"), STAFF, set()),
    ("category_create", lambda n, t, r: reverse("agencies:category_create"), MANAGERS, set()),
    (
        "category_edit",
        lambda n, t, r: reverse("agencies:category_edit", kwargs={"code": t.water.code}),
        MANAGERS,
        set(),
    ),
    ("routing", lambda n, t, r: reverse("agencies:routing"), STAFF, set()),
    (
        "routing-tester",
        lambda n, t, r: (
            reverse("agencies:routing") + f"?t-category={t.drinking.code}&t-area={n.hood.code}"
        ),
        STAFF,
        set(),
    ),
]


@pytest.mark.authorization_matrix(
    "agencies:categories",
    "agencies:category_create",
    "agencies:category_edit",
    "agencies:create",
    "agencies:detail",
    "agencies:edit",
    "agencies:list",
    "agencies:routing",
)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("page", "url", "allowed", "hidden"), PAGES, ids=[p[0] for p in PAGES])
def test_page_status_for_every_role(
    as_role, network, tree, rules, role, page, url, allowed, hidden
):
    response = as_role(role).get(url(network, tree, rules))
    assert response.status_code == _expected(role, allowed, hidden)


@pytest.mark.parametrize(
    "name", ["agencies:list", "agencies:categories", "agencies:routing", "agencies:create"]
)
def test_anonymous_users_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_unknown_codes_are_404(as_role):
    client = as_role("national_admin")
    assert client.get(reverse("agencies:detail", kwargs={"code": "nope"})).status_code == 404
    assert client.get(reverse("agencies:edit", kwargs={"code": "nope"})).status_code == 404
    assert client.get(reverse("agencies:category_edit", kwargs={"code": "nope"})).status_code == 404


def test_liaison_sees_own_agency_and_not_the_other(as_role, network):
    client = as_role("agency_liaison")
    assert (
        client.get(reverse("agencies:detail", kwargs={"code": network.agency.code})).status_code
        == 200
    )
    assert (
        client.get(
            reverse("agencies:detail", kwargs={"code": network.other_agency.code})
        ).status_code
        == 404
    )
    listed = client.get(reverse("agencies:list")).content.decode()
    assert network.agency.name_fa in listed and network.other_agency.name_fa not in listed


# --- actions × roles (POST) -----------------------------------------------------------------


@pytest.mark.authorization_matrix("agencies:routing_set")
@pytest.mark.parametrize("role", ROLES)
def test_routing_set_by_role(as_role, network, tree, db_state, role):
    before = db_state()
    response = as_role(role).post(
        reverse("agencies:routing_set"),
        {
            "set-category": tree.water.code,
            "set-area": network.hood.code,
            "set-agency": network.agency.code,
        },
    )
    if role in MANAGERS:
        assert response.status_code == 302
        assert RoutingRule.objects.get().agency == network.agency
    else:
        assert response.status_code == 403
        assert db_state() == before


@pytest.mark.authorization_matrix("agencies:routing_delete")
@pytest.mark.parametrize("role", ROLES)
def test_routing_delete_by_role(as_role, network, rules, db_state, role):
    own, other = rules
    client = as_role(role)
    before = db_state()
    response = client.post(reverse("agencies:routing_delete", kwargs={"pk": own.pk}))
    if role in MANAGERS:
        assert response.status_code == 302
        assert not RoutingRule.objects.filter(pk=own.pk).exists()
    else:
        # The liaison, office staff and analyst see the rule but may not change it.
        assert response.status_code == 403
        assert db_state() == before
    # A rule of another province is not even visible outside the national level.
    before = db_state()
    response = client.post(reverse("agencies:routing_delete", kwargs={"pk": other.pk}))
    assert response.status_code == {"national_admin": 302, "no_role": 403}.get(role, 404)
    if role != "national_admin":
        assert db_state() == before


@pytest.mark.authorization_matrix("agencies:create")
@pytest.mark.parametrize("role", ROLES)
def test_agency_create_post_by_role(as_role, network, db_state, role):
    before = db_state()
    response = as_role(role).post(
        reverse("agencies:create"),
        {
            "province": network.province.code,
            "code": "abfa",
            "name_fa": "آبفا",
            "is_active": "on",
            "jurisdiction": [network.county.code],
        },
    )
    if role in MANAGERS:
        assert response.status_code == 302
        assert Agency.objects.filter(code="abfa").exists()
    else:
        assert response.status_code == 403
        assert db_state() == before


@pytest.mark.authorization_matrix("agencies:category_create")
@pytest.mark.parametrize("role", ROLES)
def test_category_create_post_by_role(as_role, network, tree, db_state, role):
    before = db_state()
    response = as_role(role).post(
        reverse("agencies:category_create"),
        {
            "parent": tree.water.code,
            "code": "tankers",
            "name_fa": "تانکر",
            "sla_working_days": "5",
            "sort_order": "0",
        },
    )
    if role in MANAGERS:
        assert response.status_code == 302
        assert DemandCategory.objects.get(code="tankers").parent == tree.water
    else:
        assert response.status_code == 403
        assert db_state() == before


@pytest.mark.authorization_matrix("agencies:edit")
@pytest.mark.parametrize("role", ROLES)
def test_agency_edit_post_by_role(as_role, network, db_state, role):
    before = db_state()
    response = as_role(role).post(
        reverse("agencies:edit", kwargs={"code": network.agency.code}),
        {
            "code": network.agency.code,
            "name_fa": "نام تازه",
            "phone": "06133334444",
            "email": "",
            "is_active": "on",
            "jurisdiction": [network.county.code],
            "version": "1",
        },
    )
    stored = Agency.objects.get(pk=network.agency.pk)
    if role in MANAGERS:
        assert response.status_code == 302
        assert stored.name_fa == "نام تازه"
    elif role == "agency_liaison":
        # The liaison's form has contact fields only; the name stays.
        assert response.status_code == 302
        assert stored.phone == "06133334444" and stored.name_fa == network.agency.name_fa
    else:
        assert response.status_code == 403
        assert db_state() == before


# --- forms: errors, conflicts ----------------------------------------------------------------


def test_agency_form_names_the_bad_field_and_keeps_input(as_role, network, db_state):
    before = db_state()
    response = as_role("province_manager").post(
        reverse("agencies:create"),
        {
            "province": network.province.code,
            "code": "bad code",
            "name_fa": "آبفا",
            "phone": "call me",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-field="code"' in html and 'data-field="phone"' in html
    assert 'value="آبفا"' in html
    assert db_state() == before


def test_agency_form_shows_service_errors_on_the_field(as_role, network, db_state):
    before = db_state()
    response = as_role("province_manager").post(
        reverse("agencies:create"),
        {"province": network.province.code, "code": "new", "name_fa": "آبفا"},
    )
    assert response.status_code == 200
    assert 'data-field="code"' in response.content.decode()
    assert db_state() == before


def test_agency_edit_conflict_is_shown_and_form_kept(as_role, network, db_state):
    client = as_role("province_manager")
    url = reverse("agencies:edit", kwargs={"code": network.agency.code})
    # Someone else saves first.
    Agency.objects.filter(pk=network.agency.pk).update(version=2, name_fa="نام همکار")
    before = db_state()

    response = client.post(
        url,
        {
            "code": network.agency.code,
            "name_fa": "نام من",
            "phone": "",
            "email": "",
            "is_active": "on",
            "jurisdiction": [network.county.code],
            "version": "1",
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="conflict"' in html
    assert 'value="نام من"' in html  # the user's input is kept
    assert "نام همکار" in html  # and the saved value is shown
    assert re.search(r'name="version" value="2"', html)
    assert db_state() == before

    # Saving again, now knowingly over the current version, goes through.
    response = client.post(
        url,
        {
            "code": network.agency.code,
            "name_fa": "نام من",
            "phone": "",
            "email": "",
            "is_active": "on",
            "jurisdiction": [network.county.code],
            "version": "2",
        },
    )
    assert response.status_code == 302
    assert Agency.objects.get(pk=network.agency.pk).name_fa == "نام من"


def test_liaison_contact_form_has_only_contact_fields(as_role, network):
    html = (
        as_role("agency_liaison")
        .get(reverse("agencies:edit", kwargs={"code": network.agency.code}))
        .content.decode()
    )
    assert 'name="phone"' in html and 'name="email"' in html and 'name="version"' in html
    assert 'name="name_fa"' not in html and 'name="jurisdiction"' not in html


def test_category_form_rejects_out_of_range_sla(as_role, tree, db_state):
    before = db_state()
    response = as_role("province_manager").post(
        reverse("agencies:category_edit", kwargs={"code": tree.water.code}),
        {"code": "water", "name_fa": "آب", "sla_working_days": "400", "sort_order": "0"},
    )
    assert response.status_code == 200
    assert 'data-field="sla_working_days"' in response.content.decode()
    assert db_state() == before


def test_category_form_offers_no_parent_that_would_make_a_cycle(as_role, tree):
    html = (
        as_role("province_manager")
        .get(reverse("agencies:category_edit", kwargs={"code": tree.water.code}))
        .content.decode()
    )
    parent_select = html[
        html.index('name="parent"') : html.index("</select>", html.index('name="parent"'))
    ]
    assert f'value="{tree.power.code}"' in parent_select
    assert (
        f'value="{tree.drinking.code}"' not in parent_select
        and f'value="{tree.water.code}"' not in parent_select
    )


def test_routing_set_shows_why_the_agency_cannot_serve(as_role, network, tree, db_state):
    outside = AreaFactory(level="county", parent=network.province)
    before = db_state()
    response = as_role("province_manager").post(
        reverse("agencies:routing_set"),
        {
            "set-category": tree.water.code,
            "set-area": outside.code,
            "set-agency": network.agency.code,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-field="agency"' in html
    assert db_state() == before


def test_routing_delete_over_htmx_removes_the_row(as_role, rules):
    own, _other = rules
    response = as_role("province_manager").post(
        reverse("agencies:routing_delete", kwargs={"pk": own.pk}), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and response.content == b""
    assert AuditLog.objects.filter(action="routing_rule.delete").count() == 1


def test_routing_delete_never_redirects_off_site(as_role, rules):
    own, _other = rules
    response = as_role("province_manager").post(
        reverse("agencies:routing_delete", kwargs={"pk": own.pk}), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("agencies:routing")


def test_routing_get_is_read_only(as_role):
    assert as_role("national_admin").get(reverse("agencies:routing_set")).status_code == 405


# --- content ----------------------------------------------------------------------------------


def test_detail_shows_jurisdiction_routes_and_liaison_names_to_whom_it_may(
    network, rules, tree, client
):
    liaison = network.users["agency_liaison"]
    url = reverse("agencies:detail", kwargs={"code": network.agency.code})
    for role in ("national_admin", "province_manager", "agency_liaison"):
        client.force_login(network.users[role])
        html = client.get(url).content.decode()
        assert liaison.last_name in html, role
        assert network.county.name_fa in html and tree.water.name_fa in html
    for role in ("office_manager", "facilitator", "analyst"):
        client.force_login(network.users[role])
        html = client.get(url).content.decode()
        assert liaison.last_name not in html, role
        assert 'data-testid="liaison-count"' in html and "۱" in html


def test_pages_are_persian_and_right_to_left_by_default(as_role, network):
    html = (
        as_role("province_manager")
        .get(reverse("agencies:detail", kwargs={"code": network.agency.code}))
        .content
    )
    html = html.decode()
    assert 'lang="fa" dir="rtl"' in html
    assert jalali.format_date(network.agency.updated_at) in html  # Jalali, Persian digits
    assert re.search("[۰-۹]", jalali.format_date(network.agency.updated_at))


def test_list_counts_in_persian_digits(as_role, network):
    for _ in range(11):
        AgencyFactory(province=network.province)
    html = as_role("province_manager").get(reverse("agencies:list")).content.decode()
    assert "۱۲" in html


def test_english_is_left_to_right(as_role, client):
    as_role("province_manager")
    client.cookies["django_language"] = "en"
    html = client.get(reverse("agencies:list")).content.decode()
    assert 'lang="en" dir="ltr"' in html


def test_list_filters_by_county_served_and_search(as_role, network):
    n = network
    second_county = AreaFactory(level="county", parent=n.province)
    province_wide = serving_agency(n.province, n.province, name_fa="آموزش و پرورش")
    elsewhere = serving_agency(n.province, second_county, name_fa="برق")
    in_city = serving_agency(n.province, n.city, name_fa="شهرداری")
    client = as_role("province_manager")

    html = client.get(reverse("agencies:list"), {"county": n.county.code}).content.decode()
    for agency in (n.agency, province_wide, in_city):
        assert agency.name_fa in html
    assert elsewhere.name_fa not in html

    # Arabic yeh and kaf in the query still match.
    html = client.get(reverse("agencies:list"), {"q": "شهرداري"}).content.decode()
    assert (
        in_city.name_fa in html and elsewhere.name_fa not in html and n.agency.name_fa not in html
    )


def test_route_tester_without_js_and_with_htmx(as_role, network, tree, rules):
    client = as_role("facilitator")
    url = reverse("agencies:routing")
    params = {"t-category": tree.drinking.code, "t-area": network.hood.code}

    html = client.get(url, params).content.decode()
    assert 'data-testid="route-agency"' in html and network.agency.name_fa in html
    assert "<html" in html

    partial = client.get(
        url, params, headers={"HX-Request": "true", "HX-Target": "route-result"}
    ).content.decode()
    assert "<html" not in partial
    assert 'id="route-result"' in partial and network.agency.name_fa in partial

    nothing = client.get(
        url, {"t-category": tree.power.code, "t-area": network.hood.code}
    ).content.decode()
    assert 'data-testid="route-none"' in nothing


def test_routing_table_filters_by_category_subtree_and_area(as_role, network, tree, rules):
    own, other = rules
    drinking_rule = RoutingRuleFactory(
        category=tree.drinking, area=network.hood, agency=network.agency
    )
    power_rule = RoutingRuleFactory(category=tree.power, area=network.city, agency=network.agency)
    client = as_role("national_admin")

    def shown(params):
        html = client.get(reverse("agencies:routing"), params).content.decode()
        return {int(pk) for pk in re.findall(r'id="rule-(\d+)"', html)}

    assert shown({}) == {own.pk, other.pk, drinking_rule.pk, power_rule.pk}
    assert shown({"category": tree.water.code}) == {own.pk, other.pk, drinking_rule.pk}
    assert shown({"area": network.hood.code}) == {own.pk, drinking_rule.pk, power_rule.pk}
    assert shown({"area": network.county.code, "category": tree.drinking.code}) == {
        drinking_rule.pk
    }


def test_routing_page_hides_management_from_readers(as_role, rules):
    html = as_role("office_manager").get(reverse("agencies:routing")).content.decode()
    assert (
        'data-testid="rule-form"' not in html
        and "routing_delete" not in html
        and "/delete/" not in html
    )
    html = as_role("province_manager").get(reverse("agencies:routing")).content.decode()
    assert 'data-testid="rule-form"' in html and "/delete/" in html


# --- query counts --------------------------------------------------------------------------------
#
# Each page is measured with a few rows and again with many: the count must
# not grow (no N+1), and must stay under a fixed ceiling.


def _count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def _add_agencies(network, count):
    areas = [network.county] + [
        AreaFactory(level="county", parent=network.province) for _ in range(2)
    ]
    for i in range(count):
        agency = serving_agency(network.province, *areas, name_fa=f"اداره شماره {i}")
        grant(UserFactory(), Role.AGENCY_LIAISON, agency=agency)


def _add_categories(count):
    parent = None
    for i in range(count):
        # A mix of roots and children so the tree has depth.
        parent = DemandCategoryFactory(parent=parent if i % 3 else None)


def _add_rules(network, count):
    agencies = [serving_agency(network.province, network.province) for _ in range(4)]
    for i in range(count):
        category = DemandCategoryFactory()
        RoutingRuleFactory(
            category=category,
            area=network.hood if i % 2 else network.county,
            agency=agencies[i % 4],
        )


@pytest.mark.query_count("agencies:list")
@pytest.mark.authorization_matrix("agencies:list")
@pytest.mark.parametrize(
    "role", ["national_admin", "province_manager", "agency_liaison", "facilitator"]
)
@pytest.mark.parametrize(
    "params", [{}, {"county": "COUNTY", "q": "اداره"}], ids=["all", "filtered"]
)
def test_list_page_queries_do_not_grow_with_rows(
    as_role, network, django_assert_max_num_queries, role, params
):
    client = as_role(role)
    params = {k: (network.county.code if v == "COUNTY" else v) for k, v in params.items()}
    url = reverse("agencies:list")
    _add_agencies(network, 2)
    few, _response = _count_queries(client, url, params)
    _add_agencies(network, 25)
    with django_assert_max_num_queries(12):
        many, response = _count_queries(client, url, params)
    assert many == few
    if role != "agency_liaison":
        assert response.content.decode().count("اداره شماره") >= 27


@pytest.mark.query_count("agencies:detail")
def test_detail_page_queries_do_not_grow_with_rows(as_role, network, django_assert_max_num_queries):
    client = as_role("province_manager")
    url = reverse("agencies:detail", kwargs={"code": network.agency.code})

    def add(count):
        network.agency.jurisdiction.add(
            *[AreaFactory(level="city", parent=network.county) for _ in range(count)]
        )
        for _ in range(count):
            RoutingRuleFactory(
                category=DemandCategoryFactory(), area=network.hood, agency=network.agency
            )
            grant(UserFactory(), Role.AGENCY_LIAISON, agency=network.agency)

    add(1)
    few, _response = _count_queries(client, url)
    add(20)
    with django_assert_max_num_queries(10):
        many, _response = _count_queries(client, url)
    assert many == few


@pytest.mark.query_count("agencies:categories")
def test_categories_page_queries_do_not_grow_with_rows(
    as_role, network, django_assert_max_num_queries
):
    client = as_role("province_manager")
    url = reverse("agencies:categories")
    _add_categories(3)
    few, _response = _count_queries(client, url)
    _add_categories(37)
    with django_assert_max_num_queries(6):
        many, response = _count_queries(client, url)
    assert many == few
    assert response.content.decode().count('id="cat-') == 40


@pytest.mark.query_count("agencies:routing")
@pytest.mark.authorization_matrix("agencies:routing")
@pytest.mark.parametrize(
    "role", ["national_admin", "province_manager", "facilitator", "agency_liaison"]
)
def test_routing_page_queries_do_not_grow_with_rows(
    as_role, network, tree, django_assert_max_num_queries, role
):
    client = as_role(role)
    url = reverse("agencies:routing")
    params = {"t-category": tree.water.code, "t-area": network.hood.code}
    _add_rules(network, 2)
    few, _response = _count_queries(client, url, params)
    _add_rules(network, 26)
    with django_assert_max_num_queries(15):
        many, response = _count_queries(client, url, params)
    assert many == few
    if role != "agency_liaison":
        assert len(re.findall(r'id="rule-\d+"', response.content.decode())) == 28


def test_national_admin_with_several_provinces_chooses_areas_after_creating(as_role, network):
    client = as_role("national_admin")
    assert 'name="jurisdiction"' not in client.get(reverse("agencies:create")).content.decode()
    response = client.post(
        reverse("agencies:create"),
        {
            "province": network.other_province.code,
            "code": "far",
            "name_fa": "دور",
            "is_active": "on",
        },
    )
    assert response["Location"] == reverse("agencies:edit", kwargs={"code": "far"})
    html = client.get(response["Location"]).content.decode()
    # Only the agency's own province is offered.
    assert (
        f'value="{network.other_hood.code}"' in html and f'value="{network.hood.code}"' not in html
    )


def test_province_manager_picks_areas_when_creating(as_role, network):
    html = as_role("province_manager").get(reverse("agencies:create")).content.decode()
    assert (
        f'value="{network.hood.code}"' in html and f'value="{network.other_hood.code}"' not in html
    )


def test_list_is_paginated(as_role, network):
    for i in range(35):
        serving_agency(network.province, name_fa=f"اداره صفحه {i:02d}")
    client = as_role("province_manager")
    first = client.get(reverse("agencies:list")).content.decode()
    assert "?page=2" in first
    second = client.get(reverse("agencies:list"), {"page": 2}).content.decode()
    assert second.count("اداره صفحه") == 36 - 30


def test_category_rule_counts_only_count_rules_the_user_sees(as_role, network, tree, rules):
    # One water rule in each province; the province manager sees only theirs.
    def count_for(role):
        html = as_role(role).get(reverse("agencies:categories")).content.decode()
        water = html[html.index(f'id="cat-{tree.water.code}"') :]
        return re.search(r'data-rule-count="(\d+)"', water).group(1)

    assert count_for("province_manager") == "1"
    assert count_for("national_admin") == "2"
