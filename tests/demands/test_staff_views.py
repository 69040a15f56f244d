"""The staff side: the demand list with its filters, search and sorting, the
intake form, and the demand page with its timeline and action forms."""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from PIL import Image

from tashil.agencies.models import RoutingRule
from tashil.core import jalali
from tashil.core.errors import ConflictError
from tashil.core.text import to_ascii_digits
from tashil.demands import services
from tashil.demands.models import (
    Attachment,
    Demand,
    DemandEvent,
    DemandStatus,
    EventKind,
    FollowUp,
    Referral,
    ReferralStatus,
)
from tashil.geo.lookup import invalidate
from tashil.geo.models import Area
from tests.factories import AgencyFactory, AreaFactory, DemandCategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff(client, demand_setup):
    client.force_login(demand_setup.users["facilitator"])
    return client


def png(name="photo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (20, 120, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def listed(response) -> list[str]:
    return re.findall(
        r'data-testid="demand-row" data-code="([A-Z0-9]+)"', response.content.decode()
    )


def field_errors(response, field) -> list[str]:
    return re.findall(rf'data-field="{field}">([^<]+)<', response.content.decode())


def jdate(value) -> str:
    return jalali.format_date(value, "short", lang="en")


# --- the list ----------------------------------------------------------------------------------


def test_list_shows_the_offices_demands_and_not_another_provinces(staff, demand_setup, submit):
    n = demand_setup
    mine = submit()
    other_category = DemandCategoryFactory()
    elsewhere = submit(
        area=n.other_hood, category=other_category, acting_user=n.users["national_admin"]
    )
    response = staff.get(reverse("demands:list"))
    assert response.status_code == 200
    assert listed(response) == [mine.code]
    assert elsewhere.code not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "آب آشامیدنی",  # as stored
        "آب آشاميدني",  # Arabic yeh
        "كوچه ۱۲",  # Arabic kaf, Persian digits
        "کوچه 12",  # ASCII digits
        "كوچه ١٢",  # Arabic-Indic digits
        "آب‌آشامیدنی قطع",  # a ZWNJ where the stored text has a space
        "آشامیدنی آب",  # words in any order
    ],
)
def test_search_finds_letter_digit_and_zwnj_variants(staff, submit, query):
    wanted = submit(description="آب آشامیدنی کوچه ۱۲ قطع است")
    submit(description="برق محله سه شب است قطع است")
    assert listed(staff.get(reverse("demands:list"), {"q": query})) == [wanted.code]


def test_search_ignores_zwnj_inside_a_word(staff, submit):
    wanted = submit(description="خانه‌ها آب ندارند و مردم ناراضی هستند")
    submit(description="برق محله سه شب است قطع است")
    for query in ("خانهها", "خانه‌ها", "خانه ها", "خانه‌ها آب"):
        assert listed(staff.get(reverse("demands:list"), {"q": query})) == [wanted.code], query


def test_search_by_tracking_code_in_any_form(staff, submit):
    wanted = submit()
    submit()
    for query in (wanted.code, wanted.display_code, wanted.code.lower()):
        assert listed(staff.get(reverse("demands:list"), {"q": query})) == [wanted.code]


@pytest.fixture
def spread(demand_setup, submit):
    """Demands that differ in one respect each, for the filters."""
    n = demand_setup
    other_hood = AreaFactory(level=Area.Level.NEIGHBOURHOOD, parent=n.city)
    n.office.areas.add(other_hood)
    sibling = DemandCategoryFactory(code="sewage", parent=n.parent_category)
    RoutingRule.objects.create(category=sibling, area=n.province, agency=n.agency)
    second_agency = AgencyFactory(province=n.province)
    second_agency.jurisdiction.add(n.county)

    class S:
        pass

    s = S()
    s.plain = submit()
    s.other_hood = submit(area=other_hood)
    s.sewage = submit(category=sibling)
    s.referred = submit()
    s.referral = services.demand_refer(demand=s.referred, acting_user=n.users["office_manager"])
    s.second = submit()
    s.second_referral = services.demand_refer(
        demand=s.second, acting_user=n.users["office_manager"], agency=second_agency
    )
    s.rejected = submit()
    services.demand_reject(
        demand=s.rejected, acting_user=n.users["office_manager"], reason="تکراری است"
    )
    s.resolved = submit()
    services.demand_accept(demand=s.resolved, acting_user=n.users["office_manager"])
    services.demand_close(
        demand=s.resolved,
        outcome=DemandStatus.RESOLVED,
        acting_user=n.users["office_manager"],
        reason="لوله کشی انجام شد",
    )
    s.second_agency, s.other_hood_area, s.sibling = second_agency, other_hood, sibling
    return s


def _codes(client, **params):
    response = client.get(reverse("demands:list"), params)
    assert response.status_code == 200
    return set(listed(response))


def test_filter_by_area_takes_the_area_and_everything_inside(staff, demand_setup, spread):
    n = demand_setup
    everything = _codes(staff)
    assert _codes(staff, area=n.county.code) == everything
    assert _codes(staff, area=spread.other_hood_area.code) == {spread.other_hood.code}
    assert spread.other_hood.code not in _codes(staff, area=n.hood.code)


def test_filter_by_category_includes_subcategories(staff, demand_setup, spread):
    n = demand_setup
    assert _codes(staff, category=spread.sibling.code) == {spread.sewage.code}
    assert _codes(staff, category=n.parent_category.code) == _codes(staff)
    assert spread.sewage.code not in _codes(staff, category=n.category.code)


def test_filter_by_agency(staff, demand_setup, spread):
    assert _codes(staff, agency=demand_setup.agency.code) == {spread.referred.code}
    assert _codes(staff, agency=spread.second_agency.code) == {spread.second.code}


def test_filter_by_status(staff, spread):
    assert _codes(staff, status="rejected") == {spread.rejected.code}
    assert _codes(staff, status="referred") == {spread.referred.code, spread.second.code}
    assert _codes(staff, status="closed") == {spread.resolved.code}
    assert _codes(staff, status="open") == {
        spread.plain.code,
        spread.other_hood.code,
        spread.sewage.code,
        spread.referred.code,
        spread.second.code,
    }


def test_filter_by_sla_state_of_running_referrals(staff, spread):
    today = timezone.localdate()
    Referral.objects.filter(pk=spread.referral.pk).update(
        at_risk_date=today - dt.timedelta(days=5), due_date=today - dt.timedelta(days=1)
    )
    Referral.objects.filter(pk=spread.second_referral.pk).update(
        at_risk_date=today, due_date=today + dt.timedelta(days=3)
    )
    # A raw update bypasses the services, which keep the demand's nearest due date.
    services.sync_next_due_date(spread.referred)
    services.sync_next_due_date(spread.second)
    assert _codes(staff, sla="breached") == {spread.referred.code}
    assert _codes(staff, sla="at_risk") == {spread.second.code}
    assert _codes(staff, sla="on_track") == set()
    # An answered referral waits on the office: its clock is stopped.
    services.referral_move(
        referral=spread.referral,
        to_status=ReferralStatus.ANSWERED,
        acting_user=spread.referral.agency.memberships.first().user,
        note="پاسخ",
    )
    assert _codes(staff, sla="breached") == set()


def test_filter_by_jalali_date_range(staff, spread):
    old_day = dt.date(2024, 3, 24)  # 5 Farvardin 1403
    Demand.objects.filter(pk=spread.plain.pk).update(
        submitted_at=timezone.make_aware(dt.datetime.combine(old_day, dt.time(23, 30)))
    )
    assert _codes(staff, date_from="1403/01/05", date_to="۱۴۰۳/۰۱/۰۵") == {spread.plain.code}
    assert spread.plain.code not in _codes(staff, date_from="1403/01/06")
    assert _codes(staff, date_to="1403/01/04") == set()


def test_filter_recorded_by_me_and_by_office(client, demand_setup, spread, submit):
    n = demand_setup
    by_manager = submit(acting_user=n.users["office_manager"])
    client.force_login(n.users["office_manager"])
    assert _codes(client, mine="on") == {by_manager.code}
    client.force_login(n.users["province_manager"])
    assert by_manager.code in _codes(client, office=n.office.code)


def test_an_invalid_filter_shows_the_error_and_lists_nothing(staff, spread):
    response = staff.get(reverse("demands:list"), {"date_from": "1403/13/01"})
    assert response.status_code == 200
    assert field_errors(response, "date_from")
    assert listed(response) == []
    response = staff.get(
        reverse("demands:list"), {"date_from": "1403/02/01", "date_to": "1403/01/01"}
    )
    assert field_errors(response, "date_to")
    # Every field says what is wrong, including those outside "More filters".
    for params in ({"sort": "zzz"}, {"status": "bogus"}, {"q": "x" * 201}):
        response = staff.get(reverse("demands:list"), params)
        (name,) = params
        assert field_errors(response, name), name
        assert 'data-testid="empty"' in response.content.decode()
        assert "No demands yet" not in response.content.decode()
        assert "هنوز مطالبه‌ای ثبت نشده است" not in response.content.decode()


def test_sorting(staff, spread, demand_setup):
    Demand.objects.filter(pk=spread.sewage.pk).update(supporters_count=9)
    Demand.objects.filter(pk=spread.plain.pk).update(supporters_count=4)
    codes = listed(staff.get(reverse("demands:list"), {"sort": "supporters"}))
    assert codes[:2] == [spread.sewage.code, spread.plain.code]

    today = timezone.localdate()
    Referral.objects.filter(pk=spread.second_referral.pk).update(
        due_date=today + dt.timedelta(days=1)
    )
    Referral.objects.filter(pk=spread.referral.pk).update(due_date=today + dt.timedelta(days=9))
    # A raw update bypasses the services, which keep the demand's nearest due date.
    services.sync_next_due_date(spread.second)
    services.sync_next_due_date(spread.referred)
    codes = listed(staff.get(reverse("demands:list"), {"sort": "due"}))
    assert codes[:2] == [spread.second.code, spread.referred.code]
    # The other way round, so the order is not the submission order by chance.
    Referral.objects.filter(pk=spread.second_referral.pk).update(
        due_date=today + dt.timedelta(days=12)
    )
    services.sync_next_due_date(spread.second)
    codes = listed(staff.get(reverse("demands:list"), {"sort": "due"}))
    assert codes[:2] == [spread.referred.code, spread.second.code]

    newest = listed(staff.get(reverse("demands:list"), {"sort": "newest"}))
    assert listed(staff.get(reverse("demands:list"), {"sort": "oldest"})) == list(reversed(newest))


def _list_queries(client, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("demands:list"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.query_count("demands:list")
def test_list_queries_do_not_grow_with_rows(
    staff, demand_setup, submit, django_assert_max_num_queries
):
    n = demand_setup
    for _ in range(3):
        services.demand_refer(demand=submit(), acting_user=n.users["office_manager"])
    few = _list_queries(staff, status="open", sort="due")
    for _ in range(35):
        services.demand_refer(demand=submit(), acting_user=n.users["office_manager"])
    many = _list_queries(staff, status="open", sort="due")
    assert many == few
    with django_assert_max_num_queries(16):
        staff.get(
            reverse("demands:list"),
            {"q": "آب", "sla": "on_track", "category": n.parent_category.code},
        )


# --- intake --------------------------------------------------------------------------------------


def intake(n, **overrides):
    data = {
        "area": n.hood.code,
        "category": n.category.code,
        "description": "آب آشامیدنی کوچه ۱۲ سه روز است قطع است",
        "submitter_kind": "group",
        "channel": "phone",
        "submitter_name": "<b>مریم</b> احمدی",
        "submitter_mobile": "۰۹۱۲ ۱۲۳ ۴۵۶۷",
        "contact_consent": "on",
        "idempotency_key": "staff-abc123",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_intake_form_offers_the_offices_neighbourhoods_and_leaf_categories(staff, demand_setup):
    n = demand_setup
    response = staff.get(reverse("demands:create"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{n.hood.code}"' in html
    assert f'value="{n.other_hood.code}"' not in html
    assert f'value="{n.category.code}"' in html
    assert f'value="{n.parent_category.code}"' not in html  # a parent is a group, not a choice
    assert 'name="idempotency_key" value="staff-' in html
    assert "multiple" in html and 'name="photos"' in html


def test_staff_record_a_demand_with_photos(staff, demand_setup):
    n = demand_setup
    data = intake(n, photos=[png("a.png"), png("b.png")])
    response = staff.post(reverse("demands:create"), data)
    demand = Demand.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("demands:detail", kwargs={"code": demand.code})
    assert demand.channel == "phone" and demand.submitter_kind == "group"
    assert demand.submitter_name == "مریم احمدی"
    assert demand.submitter_mobile == "+989121234567"
    assert demand.contact_consent is True
    assert demand.created_by == n.users["facilitator"]
    assert demand.office == n.office
    assert Attachment.objects.filter(demand=demand, kind="photo").count() == 2


def test_a_double_tap_records_one_demand(staff, demand_setup):
    data = intake(demand_setup)
    first = staff.post(reverse("demands:create"), data)
    second = staff.post(reverse("demands:create"), data)
    assert Demand.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_map_point_picks_the_neighbourhood(staff, demand_setup):
    invalidate()
    response = staff.post(
        reverse("demands:create"),
        intake(demand_setup, area="", latitude="31.35", longitude="48.65"),
    )
    assert response.status_code == 302
    demand = Demand.objects.get()
    assert demand.area == demand_setup.hood and demand.latitude == 31.35


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"area": ""}, "area"),
        ({"area": "no-such-area"}, "area"),
        ({"category": ""}, "category"),
        ({"description": "کوتاه"}, "description"),
        ({"submitter_mobile": "021-1234"}, "submitter_mobile"),
        ({"channel": "open311"}, "channel"),
        ({"latitude": "31.35"}, "area"),
        ({"area": "", "latitude": "10", "longitude": "10"}, "area"),
        ({"photos": "not-a-photo"}, "photos"),
    ],
)
def test_bad_intake_input_names_the_field_and_writes_nothing(staff, demand_setup, overrides, field):
    n = demand_setup
    invalidate()
    if overrides.get("photos") == "not-a-photo":
        overrides = {
            "photos": SimpleUploadedFile(
                "x.png", b"<script>alert(1)</script>", content_type="image/png"
            )
        }
    before = (Demand.objects.count(), DemandEvent.objects.count(), Attachment.objects.count())
    response = staff.post(reverse("demands:create"), intake(n, **overrides))
    assert response.status_code == 200
    assert field_errors(response, field), response.content.decode()[:500]
    assert (
        Demand.objects.count(),
        DemandEvent.objects.count(),
        Attachment.objects.count(),
    ) == before


def test_a_neighbourhood_of_another_office_is_not_offered_nor_accepted(staff, demand_setup):
    response = staff.post(
        reverse("demands:create"), intake(demand_setup, area=demand_setup.other_hood.code)
    )
    assert field_errors(response, "area")
    assert not Demand.objects.exists()


# --- the demand page ---------------------------------------------------------------------------


def detail(client, demand, **kwargs):
    return client.get(reverse("demands:detail", kwargs={"code": demand.code}), **kwargs)


def test_demand_page_shows_summary_contact_photos_and_timeline(staff, demand_setup, submit):
    n = demand_setup
    demand = submit(photos=[png()], latitude=31.35, longitude=48.65)
    referral = services.demand_refer(
        demand=demand, acting_user=n.users["office_manager"], letter_number="45/ب"
    )
    services.follow_up_log(
        referral=referral,
        kind="call",
        outcome="promised",
        acting_user=n.users["facilitator"],
        note="قول اقدام دادند",
    )
    response = detail(staff, demand)
    html = response.content.decode()
    assert response.status_code == 200
    assert demand.display_code in html
    assert "مریم احمدی" in html
    assert "0912 123 4567" in to_ascii_digits(html)
    photo = Attachment.objects.get(demand=demand)
    assert reverse("demands:attachment", kwargs={"pk": photo.pk}) in html
    assert "/media/" not in html  # files only through the checked view
    kinds = re.findall(r'data-testid="event" data-kind="([a-z_]+)"', html)
    assert kinds == ["submitted", "status", "status", "referred", "follow_up"]
    assert n.users["office_manager"].get_full_name() in html  # who
    assert "قول اقدام دادند" in html  # what
    assert 'data-sla="on_track"' in html


def test_the_page_accepts_the_code_as_printed(staff, submit):
    demand = submit()
    assert (
        staff.get(
            reverse("demands:detail", kwargs={"code": demand.display_code.lower()})
        ).status_code
        == 200
    )


def test_residents_text_is_stored_with_one_kind_of_digit_and_shown_in_the_pages(
    staff, submit, settings
):
    # Stored normalised (ASCII digits, so search and dedupe match), shown in
    # Persian digits on Persian pages and unchanged on English ones.
    demand = submit(description="آب آشامیدنی کوچه ۱۲ سه روز است قطع است")
    assert "کوچه 12" in demand.description
    fa = detail(staff, demand).content.decode()
    description = re.search(r'data-testid="description">([^<]*)<', fa).group(1)
    assert "کوچه ۱۲" in description
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = detail(staff, demand).content.decode()
    assert "کوچه 12" in re.search(r'data-testid="description">([^<]*)<', en).group(1)


@pytest.mark.query_count("demands:detail")
def test_demand_page_queries_do_not_grow_with_events(staff, demand_setup, submit):
    n = demand_setup
    demand = submit(photos=[png()])
    referral = services.demand_refer(demand=demand, acting_user=n.users["office_manager"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert detail(staff, demand).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(40):
        services.follow_up_log(
            referral=referral,
            kind="visit",
            outcome="no_answer",
            acting_user=n.users[("facilitator", "office_manager")[i % 2]],
            note=f"بار {i}",
        )
    second = services.demand_refer(
        demand=Demand.objects.get(pk=demand.pk),
        acting_user=n.users["office_manager"],
        agency=AgencyFactory(province=n.province),
    )
    services.follow_up_log(
        referral=second, kind="call", outcome="promised", acting_user=n.users["facilitator"]
    )
    assert DemandEvent.objects.filter(demand=demand).count() > 40
    # One more referral costs its own due-date window, nothing per event.
    assert count() <= few + 4


# --- triage and the other actions ----------------------------------------------------------------


def post(client, name, demand, data, **kwargs):
    return client.post(reverse(f"demands:{name}", kwargs={"code": demand.code, **kwargs}), data)


def test_accept(staff, submit):
    demand = submit()
    response = post(staff, "accept", demand, {"accept-version": "1"})
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.status == DemandStatus.ACCEPTED and demand.version == 2


def test_request_info_needs_a_message(staff, submit):
    demand = submit()
    response = post(staff, "request_info", demand, {"info-version": "1", "info-message": ""})
    assert response.status_code == 200 and field_errors(response, "message")
    assert Demand.objects.get(pk=demand.pk).status == DemandStatus.NEW
    response = post(
        staff, "request_info", demand, {"info-version": "1", "info-message": "نشانی دقیق را بگویید"}
    )
    assert response.status_code == 302
    demand.refresh_from_db()
    assert (
        demand.status == DemandStatus.NEEDS_INFO and demand.status_reason == "نشانی دقیق را بگویید"
    )


def test_reject_needs_a_reason(staff, submit):
    demand = submit()
    events = DemandEvent.objects.count()
    response = post(
        staff, "reject", demand, {"reject-version": "1", "reject-reason": "<script></script>"}
    )
    assert response.status_code == 200 and field_errors(response, "reason")
    assert DemandEvent.objects.count() == events
    response = post(
        staff, "reject", demand, {"reject-version": "1", "reject-reason": "در حوزه دفتر نیست"}
    )
    assert response.status_code == 302
    assert Demand.objects.get(pk=demand.pk).status == DemandStatus.REJECTED


def test_duplicates_are_offered_and_merge_carries_supporters(staff, demand_setup, submit):
    original = submit(description="آب آشامیدنی کوچه ۱۲ قطع است و فشار ندارد")
    services.demand_support(demand=original, mobile="09351112233")
    duplicate = submit(description="آب آشامیدنی کوچه ۱۲ قطع است", submitter_mobile="09127654321")
    html = detail(staff, duplicate).content.decode()
    assert f'data-testid="duplicate" data-code="{original.code}"' in html

    response = post(
        staff, "merge", duplicate, {"merge-version": "1", "merge-into": original.display_code}
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    original.refresh_from_db()
    assert duplicate.status == DemandStatus.MERGED and duplicate.merged_into == original
    assert original.supporters_count == 3


def test_merge_into_an_unknown_or_foreign_code_is_refused(staff, demand_setup, submit):
    n = demand_setup
    demand = submit()
    foreign = submit(
        area=n.other_hood, category=DemandCategoryFactory(), acting_user=n.users["national_admin"]
    )
    for code in ("XXXXXXXX", foreign.code, demand.code):
        response = post(staff, "merge", demand, {"merge-version": "1", "merge-into": code})
        assert response.status_code == 200 and field_errors(response, "into")
    assert Demand.objects.get(pk=demand.pk).status == DemandStatus.NEW


def test_refer_preselects_the_routed_agency_and_shows_the_due_date(staff, demand_setup, submit):
    n = demand_setup
    demand = submit()
    html = detail(staff, demand).content.decode()
    assert re.search(rf'<option value="{n.agency.code}" selected', html)
    due, _at_risk = services.due_dates(
        sent_on=timezone.localdate(), category=n.category, province=n.province
    )
    assert 'data-testid="due-preview"' in html
    assert jalali.format_date(due) in html


def test_refer_with_an_override_letter_number_and_jalali_date(staff, demand_setup, submit):
    n = demand_setup
    other = AgencyFactory(province=n.province)
    demand = submit()
    response = post(
        staff,
        "refer",
        demand,
        {
            "refer-version": "1",
            "refer-agency": other.code,
            "refer-letter_number": "۱۲۳/الف",
            "refer-letter_date": "۱۴۰۳/۰۲/۱۰",
            "refer-note": "لطفا پیگیری شود",
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get(demand=demand)
    assert referral.agency == other
    assert referral.letter_number == "123/الف"
    assert referral.letter_date == jalali.to_gregorian(1403, 2, 10)
    assert Demand.objects.get(pk=demand.pk).status == DemandStatus.REFERRED


def test_refer_to_an_agency_of_another_province_is_refused(staff, demand_setup, submit):
    demand = submit()
    response = post(
        staff,
        "refer",
        demand,
        {"refer-version": "1", "refer-agency": demand_setup.other_agency.code},
    )
    assert response.status_code == 200 and field_errors(response, "agency")
    assert not Referral.objects.exists()


def test_refer_with_a_bad_letter_date(staff, submit, demand_setup):
    demand = submit()
    response = post(
        staff,
        "refer",
        demand,
        {
            "refer-version": "1",
            "refer-agency": demand_setup.agency.code,
            "refer-letter_date": "1403/02/40",
        },
    )
    assert response.status_code == 200 and field_errors(response, "letter_date")
    assert not Referral.objects.exists()


def test_follow_up_logging(staff, demand_setup, submit):
    n = demand_setup
    demand = submit()
    referral = services.demand_refer(demand=demand, acting_user=n.users["office_manager"])
    url_kwargs = {"pk": referral.pk}
    prefix = f"fu-{referral.pk}"
    tomorrow = jdate(timezone.localdate() + dt.timedelta(days=1))
    response = post(
        staff,
        "follow_up",
        demand,
        {
            f"{prefix}-kind": "call",
            f"{prefix}-outcome": "promised",
            f"{prefix}-happened_on": tomorrow,
        },
        **url_kwargs,
    )
    assert response.status_code == 200 and field_errors(response, "happened_on")
    assert not FollowUp.objects.exists()
    response = post(
        staff,
        "follow_up",
        demand,
        {
            f"{prefix}-kind": "meeting",
            f"{prefix}-outcome": "in_progress",
            f"{prefix}-note": "جلسه با مدیر",
        },
        **url_kwargs,
    )
    assert response.status_code == 302
    follow_up = FollowUp.objects.get()
    assert (follow_up.kind, follow_up.outcome, follow_up.actor) == (
        "meeting",
        "in_progress",
        n.users["facilitator"],
    )


def test_office_accepts_the_agencys_answer(staff, demand_setup, submit):
    n = demand_setup
    demand = submit()
    referral = services.demand_refer(demand=demand, acting_user=n.users["office_manager"])
    # Before the agency answers, only the agency moves the referral.
    response = post(
        staff,
        "office_referral_move",
        demand,
        {"action": "in_progress", f"mv-{referral.pk}-in_progress-version": "1"},
        pk=referral.pk,
    )
    assert response.status_code == 403
    services.referral_move(
        referral=referral,
        to_status=ReferralStatus.ANSWERED,
        acting_user=n.users["agency_liaison"],
        note="انجام می‌شود",
    )
    html = detail(staff, demand).content.decode()
    assert f"mv-{referral.pk}-done-version" in html
    response = post(
        staff,
        "office_referral_move",
        demand,
        {"action": "done", f"mv-{referral.pk}-done-version": "2"},
        pk=referral.pk,
    )
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.DONE


def test_close_resolved_with_evidence(staff, demand_setup, submit):
    n = demand_setup
    demand = submit()
    services.demand_accept(demand=demand, acting_user=n.users["office_manager"])
    response = staff.post(
        reverse("demands:close", kwargs={"code": demand.code}),
        {
            "close-version": "2",
            "close-outcome": "resolved",
            "close-evidence": [png("after.png")],
        },
    )
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.status == DemandStatus.RESOLVED and demand.closed_at
    assert Attachment.objects.get(demand=demand).kind == Attachment.Kind.EVIDENCE


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"close-outcome": "not_feasible"}, "reason"),
        ({"close-outcome": "resolved"}, "reason"),
        ({"close-outcome": "rejected", "close-reason": "x"}, "outcome"),
        ({"close-outcome": "resolved", "close-evidence": "fake"}, "evidence"),
    ],
)
def test_close_bad_input(staff, demand_setup, submit, data, field):
    demand = submit()
    services.demand_accept(demand=demand, acting_user=demand_setup.users["office_manager"])
    if data.get("close-evidence") == "fake":
        data = {
            **data,
            "close-evidence": [SimpleUploadedFile("a.png", b"GIF89a-not-really", "image/png")],
        }
    events = DemandEvent.objects.count()
    response = staff.post(
        reverse("demands:close", kwargs={"code": demand.code}), {"close-version": "2", **data}
    )
    assert response.status_code == 200
    assert field_errors(response, field)
    demand.refresh_from_db()
    assert demand.status == DemandStatus.ACCEPTED
    assert DemandEvent.objects.count() == events and not Attachment.objects.exists()


# --- concurrency -----------------------------------------------------------------------------------


def test_a_conflict_through_the_form_keeps_the_input_and_changes_nothing(
    client, staff, demand_setup, submit
):
    n = demand_setup
    demand = submit()
    page = detail(staff, demand).content.decode()
    assert 'name="reject-version" value="1"' in page
    # Meanwhile the office manager accepts it.
    services.demand_accept(
        demand=Demand.objects.get(pk=demand.pk),
        acting_user=n.users["office_manager"],
        expected_version=1,
    )
    events = DemandEvent.objects.count()
    response = post(staff, "reject", demand, {"reject-version": "1", "reject-reason": "تکراری است"})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="conflict"' in html
    demand.refresh_from_db()
    assert demand.status == DemandStatus.ACCEPTED and demand.version == 2
    assert DemandEvent.objects.count() == events
    # The accepted demand shows no reject form any more, but the close form
    # appears; a stale refer form keeps its text and takes the new version.
    response = post(
        staff,
        "refer",
        demand,
        {"refer-version": "1", "refer-agency": n.agency.code, "refer-letter_number": "77/د"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert 'value="77/د"' in html and 'name="refer-version" value="2"' in html
    assert not Referral.objects.exists()
    # Sending it again is now a deliberate choice, and it goes through.
    response = post(
        staff,
        "refer",
        demand,
        {"refer-version": "2", "refer-agency": n.agency.code, "refer-letter_number": "77/د"},
    )
    assert response.status_code == 302
    assert Referral.objects.get().letter_number == "77/د"


def test_the_timeline_names_escalations(staff, demand_setup, submit):
    n = demand_setup
    demand = submit()
    referral = services.demand_refer(demand=demand, acting_user=n.users["office_manager"])
    DemandEvent.objects.create(
        demand=demand,
        referral=referral,
        kind=EventKind.ESCALATED,
        at=timezone.now(),
        data={"level": 2, "rung": "office_manager", "notified": ["a", "b"]},
    )
    html = detail(staff, demand).content.decode()
    assert 'data-kind="escalated"' in html


def fa(message):
    """What a Persian reader sees for `message`."""
    with translation.override("fa"):
        return gettext(message)


def test_errors_read_in_persian_and_name_the_field(staff, demand_setup, submit):
    response = staff.post(
        reverse("demands:create"), intake(demand_setup, area="", description="آب قطع است")
    )
    assert field_errors(response, "area") == [
        fa("Choose a neighbourhood or mark the place on the map.")
    ]
    demand = submit()
    response = post(staff, "merge", demand, {"merge-version": "1", "merge-into": "XXXXXXXX"})
    assert field_errors(response, "into") == [
        fa("No demand of your offices has this tracking code.")
    ]
    services.demand_accept(
        demand=Demand.objects.get(pk=demand.pk), acting_user=demand_setup.users["office_manager"]
    )
    response = post(staff, "reject", demand, {"reject-version": "1", "reject-reason": "تکراری"})
    assert response.status_code == 409
    with translation.override("fa"):
        assert str(ConflictError().message) in response.content.decode()


def test_pages_render_in_english_too(client, demand_setup, submit):
    n = demand_setup
    demand = submit()
    referral = services.demand_refer(demand=demand, acting_user=n.users["office_manager"])
    client.force_login(n.users["office_manager"])
    client.cookies["django_language"] = "en"
    for url in (
        reverse("demands:list"),
        reverse("demands:create"),
        reverse("demands:detail", kwargs={"code": demand.code}),
        reverse("demands:referrals"),
        reverse("demands:referral", kwargs={"pk": referral.pk}),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert '<html lang="en" dir="ltr">' in response.content.decode()
