"""No page breaks the Content-Security-Policy: every role's pages, the public
pages and the Django admin are walked in real Chromium, and the test fails on
any `securitypolicyviolation` event or console message about the policy
(an inline script, handler or style, or a file from another origin)."""

import pytest

from tashil.demands.models import Demand
from tests.browser.crawl import DEMO_USERS, crawl, inspect, login, new_page, problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_no_page_logs_a_csp_violation(demo, live_server, browser):
    base = live_server.url
    record = []
    routes = {}

    context, page = new_page(browser)
    code = Demand.objects.order_by("pk").first().code
    public = ["/accounts/login/", "/submit", "/board", "/track", f"/track/{code}"]
    routes["public"] = crawl(page, base, public, record=record, limit=30)
    inspect(page, f"{base}/admin/login/", record)
    # A page that does not exist, and a tracking code that does not.
    inspect(page, f"{base}/no-such-page/", record)
    inspect(page, f"{base}/track/ZZZZZZZZ", record)
    context.close()

    # Each route once, by the first role that reaches it: the templates are
    # the same whoever sees them.
    staff_routes = {}
    for username in DEMO_USERS:
        context, page = new_page(browser)
        login(page, base, username)
        if username == "admin":
            routes["admin"] = crawl(page, base, ["/admin/"], record=record, admin=True, limit=40)
            # The API's docs page: Swagger UI, from this site.
            visit = inspect(page, f"{base}/api/v1/docs", record)
            assert visit.status == 200
        else:
            routes[username] = crawl(page, base, ["/"], record=record, per_route=staff_routes)
        context.close()

    assert not problems(record, kinds=("csp", "console")), "\n".join(
        problems(record, kinds=("csp", "console"))
    )
    # The walk did reach the pages that matter (maps, forms, the admin).
    visited = {route for per_role in routes.values() for route in per_role}
    for route in (
        "submit",
        "board",
        "offices/network/",
        "offices/<slug:code>/",
        "areas/<slug:code>/",
        "demands/new/",
        "demands/<str:code>/",
        "demands/referrals/<int:pk>/",
        "registry/households/<int:pk>/",
        "registry/households/new/",
        "agencies/categories/",
        "system/calendar/",
        "admin/",
    ):
        assert route in visited, f"the walk never reached {route}"
    assert sum(v.overlays for v in record) > 50  # tooltips and popups were opened
