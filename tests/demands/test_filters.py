"""The one parser of the demand list's filters (`parse_demand_filters`), and
the three doors that use it: the staff list page, its exports and the API.

Areas, agencies and offices are resolved within the user's scope. A code
outside it is rejected on every door, as the list page has always done: the
page shows a field error and lists nothing, an export writes nothing and
sends the user back, and the API answers 400 naming the parameter. (The API
used to look areas up among all areas and answer an empty 200.)"""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation

from tashil.core import jalali
from tashil.core.models import ExportJob
from tashil.demands import services
from tashil.demands.filters import API_NAMES, parse_day, parse_demand_filters
from tashil.demands.models import OPEN_STATUSES, Demand, DemandStatus, SlaState

pytestmark = pytest.mark.django_db


def errors_of(user, data, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        parse_demand_filters(user, data, **kwargs)
    return caught.value.message_dict


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1403/01/15",
        "۱۴۰۳/۰۱/۱۵",
        "١٤٠٣/٠١/١٥",
        "1403-1-15",
        " 1403.01.15 ",
        "2024-04-03",
        "۲۰۲۴-۰۴-۰۳",
    ],
)
def test_a_day_is_jalali_or_iso_in_any_digits(text):
    assert parse_day(text) == dt.date(2024, 4, 3)


def test_an_empty_day_is_no_day():
    assert parse_day("") is None and parse_day(None) is None and parse_day("  ") is None


@pytest.mark.parametrize(
    "text", ["1403/13/01", "1403/07/31", "1403/01/150", "yesterday", "2024-02-30"]
)
def test_a_bad_day_says_why(text):
    with pytest.raises(ValueError) as caught:
        parse_day(text)
    assert str(caught.value)


# --- the parser ------------------------------------------------------------------------------


def test_no_input_is_no_filter(demand_setup):
    filters = parse_demand_filters(demand_setup.users["office_manager"], {})
    assert (filters.q, filters.area, filters.status, filters.sort, filters.mine) == (
        "",
        None,
        "",
        "newest",
        False,
    )


def test_every_filter_parses(demand_setup):
    n = demand_setup
    user = n.users["office_manager"]
    data = QueryDict(mutable=True)
    data.update(
        {
            "q": "  آب  ",
            "area": n.county.code,
            "category": "water",
            "agency": n.agency.code,
            "office": n.office.code,
            "status": "open",
            "sla": "at_risk",
            "date_from": "۱۴۰۳/۰۱/۰۵",
            "date_to": "1403/01/05",
            "sort": "due",
            "mine": "on",
        }
    )
    f = parse_demand_filters(user, data)
    assert (f.q, f.area, f.category.code, f.agency, f.office) == (
        "آب",
        n.county,
        "water",
        n.agency,
        n.office,
    )
    assert (f.status, f.sla, f.sort, f.mine) == ("open", "at_risk", "due", True)
    assert f.date_from == f.date_to == jalali.to_gregorian(1403, 1, 5)


@pytest.mark.parametrize("status", ["open", "closed", *DemandStatus.values])
def test_every_status_and_group_of_statuses_is_accepted(demand_setup, status):
    user = demand_setup.users["office_manager"]
    assert parse_demand_filters(user, {"status": status}).status == status


@pytest.mark.parametrize("sla", SlaState.values)
def test_every_sla_state_is_accepted(demand_setup, sla):
    assert parse_demand_filters(demand_setup.users["office_manager"], {"sla": sla}).sla == sla


@pytest.mark.parametrize(
    ("value", "on"), [("on", True), ("true", True), ("1", True), ("false", False), ("0", False)]
)
def test_mine_reads_as_a_checkbox(demand_setup, value, on):
    assert parse_demand_filters(demand_setup.users["facilitator"], {"mine": value}).mine is on


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"status": "open,closed"}, "status"),
        ({"sla": "late"}, "sla"),
        ({"sort": "zzz"}, "sort"),
        ({"q": "x" * 201}, "q"),
        ({"date_from": "1403/13/01"}, "date_from"),
        ({"date_from": "1403/02/01", "date_to": "1403/01/01"}, "date_to"),
        ({"category": "no-such-category"}, "category"),
        ({"agency": "no-such-agency"}, "agency"),
        ({"office": "no-such-office"}, "office"),
        ({"area": "no-such-area"}, "area"),
    ],
)
def test_bad_input_names_its_field(demand_setup, data, field):
    assert list(errors_of(demand_setup.users["office_manager"], data)) == [field]


def test_every_bad_field_is_reported_at_once(demand_setup):
    found = errors_of(
        demand_setup.users["office_manager"], {"status": "x", "sort": "y", "sla": "z"}
    )
    assert set(found) == {"status", "sort", "sla"}


def test_errors_carry_the_callers_parameter_names(demand_setup):
    user = demand_setup.users["office_manager"]
    data = {"sla_state": "late", "submitted_from": "1403/13/01"}
    assert set(errors_of(user, data, names=API_NAMES)) == {"sla_state", "submitted_from"}
    data = {"submitted_from": "1403/02/01", "submitted_to": "2024-01-01"}
    assert list(errors_of(user, data, names=API_NAMES)) == ["submitted_to"]


def test_errors_are_in_the_users_language(demand_setup):
    user = demand_setup.users["office_manager"]
    with translation.override("fa"):
        (fa,) = errors_of(user, {"area": demand_setup.other_hood.code})["area"]
    with translation.override("en"):
        (en,) = errors_of(user, {"area": demand_setup.other_hood.code})["area"]
    assert en == "No area you can see has this code."
    assert fa != en and re.search("[\u0600-\u06ff]", fa)


@pytest.mark.parametrize("role", ["province_manager", "office_manager", "facilitator"])
def test_areas_agencies_and_offices_resolve_within_the_users_scope(demand_setup, role):
    n = demand_setup
    user = n.users[role]
    assert parse_demand_filters(user, {"area": n.hood.code}).area == n.hood
    foreign = {
        "area": n.other_province.code,
        "agency": n.other_agency.code,
        "office": n.other_office.code,
    }
    for field, code in foreign.items():
        assert list(errors_of(user, {field: code})) == [field], field
    # The national administrator sees every province.
    national = parse_demand_filters(n.users["national_admin"], foreign)
    assert (national.area, national.agency, national.office) == (
        n.other_province,
        n.other_agency,
        n.other_office,
    )


# --- the three doors -------------------------------------------------------------------------


def page_codes(response) -> set[str]:
    return set(
        re.findall(r'data-testid="demand-row" data-code="([A-Z0-9]+)"', response.content.decode())
    )


def page_field_errors(response, field) -> list[str]:
    return re.findall(rf'data-field="{field}">([^<]+)<', response.content.decode())


def test_an_area_outside_the_scope_is_rejected_by_the_page_the_export_and_the_api(
    client, demand_setup, submit
):
    n = demand_setup
    submit()
    foreign = submit(area=n.other_hood, acting_user=n.users["national_admin"])
    client.force_login(n.users["office_manager"])
    area = n.other_hood.code

    page = client.get(reverse("demands:list"), {"area": area})
    assert page.status_code == 200
    assert page_field_errors(page, "area") and page_codes(page) == set()

    export = client.post(f"{reverse('demands:export')}?area={area}", {"format": "csv"})
    assert export.status_code == 302 and not ExportJob.objects.exists()

    api = client.get("/api/v1/demands/", {"area": area})
    assert api.status_code == 400, api.content
    assert api.json()["field"] == "area" and api.json()["code"] == "invalid"
    assert foreign.code not in api.content.decode()


@pytest.fixture
def spread(demand_setup, submit):
    n = demand_setup
    office = n.users["office_manager"]
    plain, referred, rejected = submit(), submit(description="فشار آب در کوچه ۷ کم است"), submit()
    services.demand_refer(demand=referred, acting_user=office)
    services.demand_reject(demand=rejected, acting_user=office, reason="تکراری است")
    old = submit(description="لامپ‌های کوچه ۵ خاموش است")
    Demand.objects.filter(pk=old.pk).update(
        submitted_at=timezone.make_aware(dt.datetime(2024, 3, 25, 10))
    )
    return plain, referred, rejected, old


# Page parameters; the API's names differ only for sla and the dates.
PARITY = [
    {},
    {"q": "كوچه ٧"},
    {"status": "open"},
    {"status": "closed"},
    {"status": "referred"},
    {"sla": "on_track"},
    {"category": "water"},
    {"date_from": "۱۴۰۳/۰۱/۰۵", "date_to": "1403/01/05"},
    {"date_from": "1403/01/06"},
    {"date_to": "2024-03-25"},
    {"sort": "oldest", "status": "open"},
]


@pytest.mark.parametrize("params", PARITY)
def test_the_api_lists_what_the_page_lists(client, demand_setup, spread, params):
    n = demand_setup
    client.force_login(n.users["office_manager"])
    page = client.get(reverse("demands:list"), params)
    assert page.status_code == 200 and not page_field_errors(page, "[a-z_]+")
    api_params = {API_NAMES.get(k, k): v for k, v in params.items()}
    api = client.get("/api/v1/demands/", api_params)
    assert api.status_code == 200, api.content
    assert {d["code"] for d in api.json()["items"]} == page_codes(page)


def test_the_agency_and_area_filters_match_too(client, demand_setup, spread):
    n = demand_setup
    client.force_login(n.users["office_manager"])
    for params in ({"agency": n.agency.code}, {"area": n.county.code}, {"office": n.office.code}):
        page = page_codes(client.get(reverse("demands:list"), params))
        api = client.get("/api/v1/demands/", params).json()["items"]
        assert {d["code"] for d in api} == page and page, params


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"submitted_from": "1403/13/01"}, "submitted_from"),
        ({"submitted_to": "not a date"}, "submitted_to"),
        ({"submitted_from": "1403/02/01", "submitted_to": "1403/01/01"}, "submitted_to"),
        ({"q": "x" * 201}, "q"),
        ({"office": "no-such-office"}, "office"),
    ],
)
def test_bad_api_filters_are_a_400_in_the_users_language(client, demand_setup, params, field):
    client.force_login(demand_setup.users["office_manager"])
    fa = client.get("/api/v1/demands/", params)
    en = client.get("/api/v1/demands/", params, headers={"Accept-Language": "en"})
    for response in (fa, en):
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "invalid" and response.json()["field"] == field
    assert re.search("[\u0600-\u06ff]", fa.json()["message"])
    assert not re.search("[\u0600-\u06ff]", en.json()["message"])


def test_open_lists_only_open_statuses(client, demand_setup, spread):
    client.force_login(demand_setup.users["office_manager"])
    items = client.get("/api/v1/demands/", {"status": "open"}).json()["items"]
    assert items and {d["status"] for d in items} <= set(OPEN_STATUSES)
