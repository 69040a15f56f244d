"""The import flow in real Chromium, as a facilitator does it: upload →
reading → columns → check (progress) → preview with the errors → import (progress bar)
→ done, with the error file. The background tasks are queued (not run) by
the pages, and run here, so the progress pages are seen as a user sees them."""

import pytest
from django.core.management import call_command

from tashil.registry.importer import engine, tasks
from tashil.registry.models import Household, ImportBatch, Person
from tests.registry.test_import_fixtures import code, family, person, write_xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "tashil-demo-1403"


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    call_command("seed_demo", verbosity=0)
    settings.MEDIA_ROOT = tmp_path / "media"
    # The pages queue the work; the test runs it, so the progress pages show.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def login(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def spreadsheet(tmp_path):
    rows = family(40, start=700)
    rows.insert(5, person("BAD-1", "مریم", "نادری", "12345"))  # a national code too short
    rows.insert(
        9, person("BAD-2", "رضا", "نادری", code("777777770"), birth="1990-05-01")
    )  # Gregorian date
    return write_xlsx(tmp_path / "خانوارهای زویه.xlsx", rows, title="فهرست خانوارها")


def test_upload_mapping_preview_progress_done(
    demo, live_server, page_factory, screenshot, tmp_path
):
    page = page_factory(width=1280, height=900)
    login(page, live_server.url, "facilitator")
    before = Person.objects.count()

    page.goto(f"{live_server.url}/registry/import/")
    page.click("[data-testid=new-import]")
    page.wait_for_url("**/registry/import/upload/")
    assert page.get_attribute("html", "dir") == "rtl"
    page.set_input_files("#id_file", str(spreadsheet(tmp_path)))
    screenshot(page, "import-01-upload")
    page.click("[data-testid=upload-form] button[type=submit]")

    page.wait_for_url("**/mapping/")
    # The upload only stored the file; the page waits while the worker reads it.
    page.wait_for_selector("[data-testid=reading-poll]")
    screenshot(page, "import-02-reading")
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.INSPECTING
    tasks.inspect_batch(batch.pk)
    # htmx polls and shows the columns by itself once the file has been read.
    page.wait_for_selector("#id_col_3", timeout=20000)
    # The columns were recognised from their Persian names.
    assert page.input_value("#id_col_3") == "national_code"
    assert page.input_value("#id_col_4") == "relation"
    screenshot(page, "import-02-mapping")
    page.click("[data-testid=check-rows]")

    page.wait_for_url("**/progress/")
    page.wait_for_selector("[data-testid=progress-bar]")
    screenshot(page, "import-03-checking")
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.VALIDATING
    engine.check_batch(batch.pk)
    # htmx polls the progress and moves on to the preview by itself.
    page.wait_for_url("**/preview/", timeout=20000)
    assert page.inner_text("[data-testid=valid-rows]") == "۱۲۰"
    assert page.inner_text("[data-testid=error-rows]") == "۲"
    table = page.inner_text("[data-testid=error-table]")
    assert "۱۳۶۹/۰۲/۱۱" in table  # the Gregorian date's Jalali equivalent
    assert Person.objects.count() == before  # the preview wrote nothing
    screenshot(page, "import-04-preview")

    page.check("input[name=mode][value=valid_rows]")
    page.click("[data-testid=commit]")
    page.wait_for_url("**/progress/")
    page.wait_for_selector("[data-testid=progress-bar]")
    screenshot(page, "import-05-progress-start")
    seen = {"shot": False}

    def progress(read, committed):
        if committed and not seen["shot"]:
            seen["shot"] = True
            page.wait_for_timeout(1500)  # let a poll show the bar part-way
            screenshot(page, "import-06-progress-midway")

    engine.commit_batch(batch.pk, chunk_size=30, progress=progress)
    page.wait_for_url(f"**/registry/import/{batch.pk}/", timeout=20000)
    assert page.inner_text("[data-testid=committed-rows]") == "۱۲۰"
    assert page.is_visible("[data-testid=error-file]")
    screenshot(page, "import-07-done")
    assert Person.objects.count() == before + 120
    assert Household.objects.filter(external_id__startswith="H07").count() == 40

    with page.expect_download() as download:
        page.click("[data-testid=error-file]")
    assert download.value.suggested_filename.endswith(".xlsx")


def test_import_pages_fit_a_phone(demo, live_server, page_factory, screenshot, tmp_path):
    page = page_factory(width=360, height=780)
    login(page, live_server.url, "zoviyeh")
    page.goto(f"{live_server.url}/registry/import/upload/")
    page.set_input_files("#id_file", str(spreadsheet(tmp_path)))
    page.click("[data-testid=upload-form] button[type=submit]")
    page.wait_for_url("**/mapping/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 362
    screenshot(page, "import-08-mapping-phone")
