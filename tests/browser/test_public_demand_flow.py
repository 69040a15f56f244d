"""A resident's demand in real Chromium at phone size: submitted on /submit
with a point on the map, tracked by its code, backed by a neighbour through
the "already reported" panel, answered by the agency, closed by the office,
and rated by the resident. The staff steps go through the staff pages."""

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext

from tashil.core.text import to_persian_digits
from tashil.demands.models import Demand, DemandStatus, Feedback, Referral, ReferralStatus
from tashil.notifications.models import Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}
DEMO_PASSWORD = "tashil-demo-1403"


def fa(message):
    with translation.override("fa"):
        return gettext(message)


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    # The language switch is a submit button too.
    page.click("form:has(#id_password) button[type=submit]")
    page.wait_for_load_state("networkidle")


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 2


def test_resident_submits_tracks_and_rates_the_result(demo, live_server, page_factory, screenshot):
    base = live_server.url
    demo_demands = Demand.objects.count()
    page = page_factory(**PHONE)

    # --- the resident submits at phone size -----------------------------------
    page.goto(f"{base}/submit")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.locator("#mainnav").count() == 0
    page.select_option("#id_category", "drinking-water")
    page.select_option("#id_area", "khz-ahvaz-zoviyeh")
    page.click("#map-details summary")
    page.wait_for_selector("#submit-map path.leaflet-interactive")
    # Choosing the neighbourhood zoomed the map onto it: its centre is inside.
    page.wait_for_timeout(400)
    box = page.locator("#submit-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.input_value("#id_latitude") and page.input_value("#id_longitude")
    assert page.input_value("#id_area") == "khz-ahvaz-zoviyeh"
    page.fill("#id_description", "آب شرب کوچه ۱۲ زویه سه روز است قطع است <script>alert(1)</script>")
    page.fill("#id_submitter_mobile", "0912 123 4567")
    assert fits_the_screen(page)
    screenshot(page, "public-01-submit-phone")
    page.click("[data-testid=submit-button]")

    page.wait_for_selector("[data-testid=tracking-code]")
    shown = page.inner_text("[data-testid=tracking-code]")
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", shown)
    demand = Demand.objects.latest("pk")
    assert Demand.objects.count() == demo_demands + 1
    assert shown == demand.display_code
    assert demand.area.code == "khz-ahvaz-zoviyeh" and demand.latitude is not None
    assert "<script" not in demand.description
    assert page.locator("[data-testid=sms-sent]").is_visible()
    sms = Notification.objects.get(recipient="+989121234567")
    assert demand.display_code in sms.body
    assert fits_the_screen(page)
    screenshot(page, "public-02-code-phone")

    # --- tracking by the code ---------------------------------------------------
    page.click("[data-testid=track-link]")
    page.wait_for_selector("[data-testid=timeline]")
    assert page.inner_text("[data-testid=code]") == demand.display_code
    assert "زویه" in page.inner_text("body")
    assert re.search("[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2}", page.inner_text("[data-testid=timeline]"))
    screenshot(page, "public-03-track-new-phone")

    # --- a neighbour is told it is already reported, and supports it -------------
    neighbour = page_factory(**PHONE)
    neighbour.goto(f"{base}/submit")
    neighbour.select_option("#id_category", "drinking-water")
    neighbour.select_option("#id_area", "khz-ahvaz-zoviyeh")
    neighbour.fill("#id_description", "قطعی آب شرب در زویه")
    neighbour.wait_for_selector("[data-testid=similar-item]")
    assert "آب شرب کوچه" in neighbour.inner_text("[data-testid=similar]")
    assert demand.code not in neighbour.content()
    screenshot(neighbour, "public-04-already-reported-phone")
    neighbour.fill("#id_submitter_mobile", "09351234567")
    neighbour.click("[data-testid=support-button]")
    # The neighbour learns the demand's public id, never the resident's code.
    neighbour.wait_for_url(f"**/public/supported/{demand.public_id}")
    assert neighbour.inner_text("[data-testid=supporters]") == "۲"
    assert demand.code not in neighbour.content()
    assert Demand.objects.count() == demo_demands + 1

    # --- the office accepts and refers it, the agency answers, the office closes ----
    office = page_factory(width=1280, height=900)
    login(office, base, "zoviyeh")
    office.goto(f"{base}/demands/{demand.code}/")
    office.click("form[action$='/accept/'] button[type=submit]")
    office.wait_for_selector("[data-testid=refer] form")
    office.fill("#id_refer-letter_number", "۱۲۳/ز")
    office.click("[data-testid=refer] button[type=submit]")
    office.wait_for_selector("[data-testid=referral]")
    referral = Referral.objects.get(demand=demand)
    assert referral.agency.code == "abfa-ahvaz"  # from the routing table
    screenshot(office, "public-05-office-referred")

    agency = page_factory(width=390, height=844)
    login(agency, base, "abfa")
    agency.goto(f"{base}/demands/referrals/{referral.pk}/")
    agency.click("form:has(input[name=action][value=received]) button[type=submit]")
    agency.wait_for_selector("[data-testid=move-answered]")
    agency.click("[data-testid=move-answered] summary")
    agency.fill("#id_mv-answered-note", "شیر فلکه اصلی تعویض شد")
    agency.click("[data-testid=move-answered] button[type=submit]")
    agency.wait_for_load_state("networkidle")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ANSWERED
    screenshot(agency, "public-06-agency-answered-phone")

    office.goto(f"{base}/demands/{demand.code}/")
    office.click("[data-testid=close] summary")
    office.check("input[name='close-outcome'][value='resolved']")
    office.fill("#id_close-reason", "آب کوچه دوباره وصل شد")
    office.click("[data-testid=close] button[type=submit]")
    office.wait_for_load_state("networkidle")
    demand.refresh_from_db()
    assert demand.status == DemandStatus.RESOLVED

    # --- the resident sees the result and rates it --------------------------------
    page.reload()
    body = page.inner_text("body")
    with translation.override("fa"):
        resolved = str(DemandStatus.RESOLVED.label)
    assert page.inner_text("[data-testid=status]") == resolved
    assert "آب کوچه دوباره وصل شد" in body
    for private in ("zoviyeh", "abfa", "شیر فلکه", "0912", "+98912", "۰۹۱۲"):
        assert private not in body
    assert page.locator("[data-testid=feedback]").is_visible()
    assert fits_the_screen(page)
    screenshot(page, "public-07-track-resolved-phone")

    page.check("#id_satisfied_0")
    page.fill("#id_comment", "ممنون از پیگیری")
    # The code is not enough: the last four digits of the mobile go with it.
    page.fill("#id_check", "۴۵۶۷")
    page.click("[data-testid=feedback-submit]")
    page.wait_for_selector(".alert-success")
    assert fa("Thank you for your feedback.") in page.inner_text(".alert-success")
    assert page.locator("[data-testid=feedback]").count() == 0
    feedback = Feedback.objects.get(demand=demand)
    assert feedback.satisfied and feedback.comment == "ممنون از پیگیری"
    demand.refresh_from_db()
    assert demand.status == DemandStatus.RESOLVED
    screenshot(page, "public-08-feedback-phone")

    # --- the public board counts it, with no personal data ---------------------------
    page.goto(f"{base}/board")
    page.wait_for_selector("[data-testid=by-area]")
    # The demo demands and this one.
    assert page.inner_text("[data-card=total]") == to_persian_digits(demo_demands + 1)
    assert "زویه" in page.inner_text("[data-testid=by-area]")
    assert "0912" not in page.content()
    assert fits_the_screen(page)
    screenshot(page, "public-09-board-phone")
