"""A new user's first visit, in real Chromium: Persian login at phone size,
the Khuzestan network on the map, an office page with Jalali dates, and the
language switch to English and back."""

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "tashil-demo-1403"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", verbosity=0)


def login(page, base_url, username):
    page.goto(f"{base_url}/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("#login-submit")


def test_province_manager_sees_the_network_on_a_phone(demo, live_server, page_factory, screenshot):
    page = page_factory(width=360, height=780)
    page.goto(f"{live_server.url}/")
    # Deny by default: the first page is the Persian, right-to-left login.
    assert "/accounts/login/" in page.url
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "fa"
    screenshot(page, "01-login-phone")

    login(page, live_server.url, "province")
    page.wait_for_url("**/offices/network/")
    page.wait_for_selector(".leaflet-interactive")
    # Boundaries, hazard zone and office markers are all drawn without tiles.
    assert page.locator(".leaflet-interactive").count() > 20
    body = page.inner_text("body")
    assert "زویه" in body and "ملاشیه" in body
    assert "۲۴ تیر ۱۳۹۷" in body
    # Nothing overflows sideways on a 360 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 362
    screenshot(page, "02-network-phone")


def test_office_page_and_language_switch(demo, live_server, page_factory, screenshot):
    page = page_factory(width=1280, height=900)
    login(page, live_server.url, "province")
    page.wait_for_url("**/offices/network/")

    page.goto(f"{live_server.url}/offices/khz-zoviyeh/")
    body = page.inner_text("body")
    assert "زویه" in body and "۲۴ تیر ۱۳۹۷" in body
    screenshot(page, "03-office-fa")

    page.click("[data-testid=language-switch] button")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_attribute("html", "dir") == "ltr"
    body = page.inner_text("body")
    assert "Zoviyeh" in body and "24 Tir 1397" in body
    screenshot(page, "04-office-en")

    page.click("[data-testid=language-switch] button")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("html", "lang") == "fa"
    assert "۲۴ تیر ۱۳۹۷" in page.inner_text("body")


def test_liaison_lands_on_their_agencys_referrals(demo, live_server, page_factory, screenshot):
    page = page_factory(width=390, height=844)
    login(page, live_server.url, "abfa")
    page.wait_for_url("**/demands/referrals/")
    assert "فاضلاب" in page.inner_text("body")  # the demo sewage demand referred to them
    screenshot(page, "05-agency-liaison-phone")
