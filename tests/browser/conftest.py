"""Browser tests drive the system's Chromium through Playwright.

Playwright's own browser download does not work on isolated machines, so the
Chromium from the OS package manager is used (TASHIL_CHROMIUM or the usual
paths). Without it these tests are skipped, unless TASHIL_REQUIRE_BROWSER=1
(as in CI), where a missing browser is a failure."""

import os
import shutil
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses
# to run "in an async context" unless told this is intended.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _chromium_path():
    for candidate in (
        os.environ.get("TASHIL_CHROMIUM"),
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if not path:
        if os.environ.get("TASHIL_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (TASHIL_REQUIRE_BROWSER=1) but was not found.")
        pytest.skip(
            "Chromium is not installed; install the 'chromium' package to run browser tests."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page_factory(browser):
    contexts = []

    def make(width=1280, height=900, locale="fa-IR"):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def demo(transactional_db):
    """The demo data, as `make run` loads it, with a cold cache (the rate limits
    and the board live there)."""
    call_command("seed_demo", "--skip-holidays", verbosity=0)
    cache.clear()
    yield
    cache.clear()
