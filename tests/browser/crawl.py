"""Walks the pages each role can reach, in real Chromium, and reports what went
wrong on each: Content-Security-Policy violations, dialogs, and markup that
came from people's text (the payloads the XSS test plants).

Every page is reached by following the links the role is shown, starting from
its home page, so a new page is covered as soon as a menu or a list links to
it. A route (Django's URL pattern) is visited once per role, or a few times
where the objects behind it differ a lot (a demand, an area). On each page the
closed <details> are opened (lazy maps start then) and every tooltip and popup
of every Leaflet map is opened, because Leaflet writes their content into the
page only when they open."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.urls import Resolver404, resolve

# The demo accounts the walks sign in as, one per role.
DEMO_USERS = ["province", "zoviyeh", "facilitator", "abfa", "analyst", "admin"]

DEMO_PASSWORD = "tashil-demo-1403"

# Installed before any page script: records CSP violations and every Leaflet
# map created, so the crawl can open their tooltips and popups.
INIT_SCRIPT = r"""
(() => {
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} ` +
      `at ${e.sourceFile || location.pathname}:${e.lineNumber} ${e.sample || ""}`);
  });
  // What a payload leaves in the page when it was taken as markup; the
  // payloads (test_no_user_text_is_html.py) have exactly these shapes.
  window.__findInjected = () => {
    const found = [];
    const describe = (el) => el.outerHTML.slice(0, 120);
    document.querySelectorAll('img[src="x"], svg[onload], [data-xss]').forEach((el) => found.push(describe(el)));
    document.querySelectorAll("script:not([src])").forEach((el) => {
      if (el.type !== "application/json" && el.textContent.includes("__xss")) found.push(describe(el));
    });
    document.querySelectorAll("*").forEach((el) => {
      for (const attr of el.attributes) {
        if (/^on/i.test(attr.name)) { found.push(describe(el)); break; }
      }
    });
    if (window.__xss) found.push("window.__xss = " + window.__xss);
    return found;
  };
  window.__maps = [];
  let real;
  Object.defineProperty(window, "L", {
    configurable: true,
    get() { return real; },
    set(value) {
      real = value;
      try { value.Map.addInitHook(function () { window.__maps.push(this); }); } catch (e) {}
    },
  });
})();
"""

# Opens every tooltip and popup of every map, at the map's zoom and zoomed
# out (where neighbourhoods become dots with their own tooltips), checking the
# page after each one: a popup closes the previous one.
OPEN_MAP_OVERLAYS = r"""
() => {
  const find = window.__findInjected;
  const found = new Set();
  let opened = 0;
  const visit = (map) => {
    const layers = [];
    map.eachLayer((layer) => layers.push(layer));
    for (const layer of layers) {
      for (const [get, open, close] of [
        ["getTooltip", "openTooltip", "closeTooltip"],
        ["getPopup", "openPopup", "closePopup"],
      ]) {
        if (typeof layer[get] !== "function" || !layer[get]()) continue;
        try { layer[open](); opened += 1; } catch (e) { continue; }
        find().forEach((item) => found.add(item));
        try { layer[close](); } catch (e) {}
      }
    }
  };
  for (const map of window.__maps || []) {
    visit(map);
    map.setZoom(Math.max(map.getMinZoom() || 0, 6), { animate: false });
    map.fire("zoomend");
    visit(map);
  }
  return { opened, found: [...found] };
}
"""

SKIP_PARTS = (
    "/accounts/logout/",
    "/i18n/",
    "/api/",
    "/open311/",
    "/static/",
    "/media/",
    "/export",
    "/download",
    "/attachments/",
    "/template.",
    ".xlsx",
    ".csv",
    ".geojson",
    "/delete/",
    "/history/",
)
# Routes whose pages differ enough from one object to the next to visit more.
MANY = {"demands/<str:code>/": 4, "areas/<slug:code>/": 3, "demands/referrals/<int:pk>/": 2}


@dataclass
class Visit:
    url: str
    csp: list[str] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    overlays: int = 0
    status: int | None = None


def new_page(browser, **context_options):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="fa-IR", **context_options
    )
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form:has(#id_password) button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/accounts/login/" not in page.url, f"{username} could not log in"


def _route(path):
    try:
        return resolve(path).route
    except Resolver404:
        return None


def inspect(page, url, record):
    """Load `url`, open what opens, and record what went wrong there."""
    visit = Visit(url=url)
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(message):
        if "Content Security Policy" in message.text:
            visit.console.append(message.text[:300])

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    try:
        response = page.goto(url, wait_until="load")
        visit.status = response.status if response else None
        # Lazy content: maps inside <details>, the similar-demands panel.
        page.evaluate(
            "() => document.querySelectorAll('details:not([open])').forEach((d) => { d.open = true; })"
        )
        # Maps fetch their GeoJSON and htmx loads parts after the page.
        if page.evaluate(
            "() => !!document.querySelector('[data-map], [data-demand-map], [data-submit-map],"
            " [data-board-map], [hx-get], [hx-post], [hx-trigger]')"
        ):
            page.wait_for_load_state("networkidle")
        # The Jalali date picker draws itself when a date field gets focus.
        date_input = page.locator("input[data-jdp]:visible").first
        if date_input.count():
            date_input.focus()
        if page.evaluate("() => (window.__maps || []).length"):
            result = page.evaluate(OPEN_MAP_OVERLAYS)
            visit.overlays = result["opened"]
            visit.injected.extend(result["found"])
        # Handlers run after a tick (an <img> fails to load first).
        page.wait_for_timeout(50)
        visit.injected.extend(page.evaluate("() => window.__findInjected()"))
        visit.csp.extend(page.evaluate("() => window.__csp || []"))
    finally:
        page.remove_listener("dialog", on_dialog)
        page.remove_listener("console", on_console)
    visit.dialogs = dialogs
    record.append(visit)
    return visit


def links(page, base):
    hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map((a) => a.href)")
    origin = urlsplit(base).netloc
    out = []
    for href in hrefs:
        parts = urlsplit(urljoin(page.url, href))
        if parts.netloc != origin or parts.query or parts.scheme not in ("http", "https"):
            continue
        if any(skip in parts.path for skip in SKIP_PARTS):
            continue
        out.append(parts.path)
    return out


def crawl(page, base, start, *, record, limit=80, admin=False, per_route=None):
    """Breadth first from `start`, one visit per route (MANY for some). With
    admin=True only the Django admin's pages are walked. Pass the same
    `per_route` to several crawls to visit each route once across them."""
    seen_paths: set[str] = set()
    per_route = {} if per_route is None else per_route
    queue = [(path, True) for path in start]
    visits = 0
    while queue and visits < limit:
        path, is_start = queue.pop(0)
        if path in seen_paths:
            continue
        seen_paths.add(path)
        route = _route(path)
        if route is None or route.startswith("admin/") != admin:
            continue
        if admin and ("password/" in route or "logout/" in route):
            continue
        if not is_start and per_route.get(route, 0) >= MANY.get(route, 1):
            continue
        per_route[route] = per_route.get(route, 0) + 1
        inspect(page, base + path, record)
        visits += 1
        queue.extend((p, False) for p in links(page, base) if p not in seen_paths)
    return per_route


def problems(record, *, kinds=("csp", "console", "injected", "dialogs")):
    """One line per distinct problem, at most 60 (a broken map repeats them)."""
    lines = []
    for visit in record:
        for kind in kinds:
            for item in getattr(visit, kind):
                line = f"{visit.url}: {kind}: {item}"
                if line not in lines:
                    lines.append(line)
    if len(lines) > 60:
        lines = [*lines[:60], f"... and {len(lines) - 60} more"]
    return lines
