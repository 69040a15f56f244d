"""No text a person typed ever becomes markup in the browser.

A province manager types a script into a neighbourhood's name through the
area form, as in the reported attack; then every free-text column people
fill in (names of people, households, areas, offices, operators, agencies,
hazard zones, categories; demand titles and descriptions; notes, answers,
follow-ups, feedback, reasons...) gets a payload in front of its value. Every
role's pages, the public pages and the admin are then walked in real
Chromium with every map tooltip and popup opened. The test fails if a dialog
opens, `window.__xss` is set, or an element a payload would create appears
in the page; none of the pages may log a Content-Security-Policy violation
either."""

import datetime

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import F, Value
from django.db.models.functions import Concat, Left

from tashil.core.models import Closure, Holiday
from tashil.demands.models import Demand, Feedback, FollowUp, Referral
from tashil.geo.models import Area
from tests.browser.crawl import DEMO_USERS, crawl, inspect, login, new_page, problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each shape is one the crawl looks for (tests/browser/crawl.py): an <img> with
# a failing src and a handler, a <script>, an <svg> with a handler after an
# attribute break-out, and a marked element.
PAYLOAD = (
    "\"'><img src=x onerror=alert(document.domain)>"
    "<script>window.__xss=1</script><svg onload=window.__xss=2><b data-xss>"
)
SHORT_PAYLOAD = "<img src=x onerror=window.__xss=3>"

# Every column a person types free text into.
FREE_TEXT = {
    "core.Holiday": ["name_fa", "name_en"],
    "core.Closure": ["reason"],
    "core.WeekendRule": ["note"],
    "core.AuditLog": ["object_repr"],
    "accounts.User": ["first_name", "last_name"],
    "accounts.RoleMembership": ["title"],
    "accounts.ApiKey": ["name"],
    "geo.Area": ["name_fa", "name_en", "note"],
    "geo.HazardZone": ["name_fa", "name_en", "description"],
    "offices.Operator": ["name_fa", "name_en"],
    "offices.Office": ["name_fa", "name_en", "address", "note"],
    "agencies.Agency": ["name_fa", "name_en", "short_name"],
    "agencies.DemandCategory": ["name_fa", "name_en", "description"],
    "demands.Demand": ["title", "description", "submitter_name", "status_reason"],
    "demands.Referral": ["letter_number", "note", "answer", "status_reason"],
    "demands.FollowUp": ["note"],
    "demands.Feedback": ["comment"],
    "demands.Supporter": ["name"],
    "demands.DemandEvent": ["note", "public_note"],
    "registry.Household": ["external_id", "address", "support_other", "note"],
    "registry.Person": ["first_name", "last_name", "father_name", "disability_note"],
    "registry.Membership": ["note"],
    "registry.Consent": ["given_by"],
    "registry.VulnerabilityIndicator": ["name_fa", "name_en"],
}
# Tables that must hold rows for the walk to mean anything.
MUST_HAVE_ROWS = {
    "geo.Area",
    "geo.HazardZone",
    "offices.Office",
    "agencies.Agency",
    "agencies.DemandCategory",
    "demands.Demand",
    "demands.Referral",
    "demands.FollowUp",
    "demands.Feedback",
    "demands.DemandEvent",
    "registry.Household",
    "registry.Person",
}


def plant_payloads():
    """Put a payload in front of every free-text value, within the column's
    length: what a person could have typed, or an import brought in."""
    for label, names in FREE_TEXT.items():
        model = apps.get_model(label)
        if label in MUST_HAVE_ROWS:
            assert model.objects.exists(), f"no {label} rows to plant a payload in"
        updates = {}
        for name in names:
            size = model._meta.get_field(name).max_length
            payload = PAYLOAD if size is None or size >= len(PAYLOAD) + 20 else SHORT_PAYLOAD
            value = Concat(Value(payload + " "), F(name))
            updates[name] = Left(value, size) if size else value
        model.objects.update(**updates)


def add_rows_the_demo_lacks():
    User = get_user_model()
    office_manager = User.objects.get(username="zoviyeh")
    province = Area.objects.get(level=Area.Level.PROVINCE, code="khz")
    today = datetime.date.today()
    Holiday.objects.create(date=today + datetime.timedelta(days=3), name_fa="تعطیل", name_en="Off")
    Closure.objects.create(
        province=province,
        start_date=today + datetime.timedelta(days=10),
        end_date=today + datetime.timedelta(days=11),
        reason="سیل",
        created_by=office_manager,
    )
    referral = Referral.objects.order_by("pk").first()
    FollowUp.objects.create(
        referral=referral,
        kind=FollowUp.Kind.values[0],
        outcome=FollowUp.Outcome.values[0],
        note="تماس گرفته شد",
        happened_on=today,
        actor=office_manager,
    )
    for demand in Demand.objects.filter(feedback__isnull=True):
        Feedback.objects.create(demand=demand, satisfied=False, comment="راضی نیستم")


def test_no_user_text_is_html(demo, live_server, browser):
    base = live_server.url
    record = []

    # --- the reported attack: a neighbourhood renamed through the area form --
    hood = Area.objects.get(code="khz-ahvaz-zoviyeh")
    context, page = new_page(browser)
    login(page, base, "province")
    page.goto(f"{base}/areas/{hood.code}/edit/")
    page.fill("#id_name_fa", "زویه <img src=x onerror=alert(document.domain)>")
    page.click("form:has(#id_name_fa) button[type=submit]")
    page.wait_for_load_state("networkidle")
    hood.refresh_from_db()
    assert "<img src=x" in hood.name_fa  # stored as typed: it is text
    context.close()
    cache.clear()

    context, page = new_page(browser)
    visit = inspect(page, f"{base}/submit", record)
    # Leaflet is loaded when the map opens; every neighbourhood got a tooltip.
    assert visit.overlays > 0
    assert not problems([visit]), "\n".join(problems([visit]))
    context.close()

    # --- every free-text column, on every page --------------------------------
    add_rows_the_demo_lacks()
    plant_payloads()
    cache.clear()

    context, page = new_page(browser)
    code = Demand.objects.order_by("pk").first().code
    public = ["/submit", "/board", "/track", f"/track/{code}"]
    crawl(page, base, public, record=record, limit=20)
    # The "already reported" panel lists open demands' titles (htmx).
    page.goto(f"{base}/submit")
    demand = Demand.objects.filter(status="new").select_related("category", "area").first()
    page.select_option("#id_category", demand.category.code)
    page.select_option("#id_area", demand.area.code)
    page.wait_for_load_state("networkidle")
    assert not page.evaluate("() => window.__findInjected()")
    context.close()

    routes = {}
    for username in DEMO_USERS:
        context, page = new_page(browser)
        login(page, base, username)
        if username == "admin":
            routes[username] = crawl(page, base, ["/admin/"], record=record, admin=True, limit=40)
        else:
            routes[username] = crawl(page, base, ["/"], record=record)
        context.close()

    found = problems(record)
    assert not found, "\n".join(found)
    # The walk reached the pages that show people's text, as the roles who see them.
    assert "offices/network/" in routes["province"]
    assert "registry/persons/<int:pk>/" in routes["zoviyeh"]
    assert "demands/<str:code>/" in routes["zoviyeh"]
    assert "demands/referrals/<int:pk>/" in routes["abfa"]
    assert "registry/households/<int:pk>/" in routes["facilitator"]
    assert "system/audit/" in routes["province"]
    assert sum(v.overlays for v in record) > 50
