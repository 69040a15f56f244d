"""Exports of the staff list: the current filter, within the user's scope,
as CSV (UTF-8 with BOM) or XLSX; large sets through a background task."""

import csv
import io
import re

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from tashil.core import jalali
from tashil.core.exports import run_export_job
from tashil.core.models import ExportJob
from tashil.demands import exports, services
from tashil.demands.models import Demand
from tests.factories import DemandCategoryFactory, Role, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff(client, demand_setup):
    client.force_login(demand_setup.users["office_manager"])
    return client


@pytest.fixture
def data(demand_setup, submit):
    """Three demands of the office (one referred), one of another province."""
    n = demand_setup
    water = [submit(description=f"آب آشامیدنی کوچه {i} قطع است") for i in range(2)]
    services.demand_refer(demand=water[0], acting_user=n.users["office_manager"])
    power = submit(description="برق محله سه شب است قطع است")
    foreign = submit(
        area=n.other_hood,
        category=DemandCategoryFactory(),
        acting_user=n.users["national_admin"],
        description="آب آشامیدنی استان دیگر قطع است",
    )
    return {"water": water, "power": power, "foreign": foreign}


def export_url(**query):
    url = reverse("demands:export")
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return url


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def header(key: str) -> str:
    """A column's heading as the (Persian) export writes it."""
    with translation.override("fa"):
        return next(str(c.header) for c in exports.columns(personal=True) if c.key == key)


def codes_in(rows) -> set[str]:
    """The public ids in the first column (an export never carries tracking codes)."""
    return {row[0] for row in rows[1:]}


def test_small_csv_export_of_the_current_filter(staff, data):
    response = staff.post(export_url(q="آب آشاميدني"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response.content)
    assert codes_in(rows) == {
        d.public_id for d in data["water"]
    }  # not power, not the other province
    by_code = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    first = by_code[data["water"][0].public_id]
    demand = Demand.objects.get(pk=data["water"][0].pk)
    assert first[header("submitted_at")] == jalali.format_datetime(demand.submitted_at, lang="en")
    assert re.fullmatch(r"1[34]\d\d/\d\d/\d\d \d\d:\d\d", first[header("submitted_at")])
    # The national form people dial, which a spreadsheet cannot take for a formula.
    assert first[header("submitter_mobile")] == "0912 123 4567"
    assert first[header("agencies")] == demand.referrals.get().agency.name_fa
    assert first[header("next_due")] == jalali.format_date(
        demand.referrals.get().due_date, "short", lang="en"
    )


def test_small_xlsx_export(staff, data):
    response = staff.post(export_url(status="open"), {"format": "xlsx"})
    assert response.status_code == 200
    rows = read_xlsx(response.content)
    assert codes_in(rows) == {d.public_id for d in [*data["water"], data["power"]]}
    assert rows[0][0] == header("public_id")
    body = "\n".join(",".join(str(v) for v in row) for row in rows)
    for demand in [*data["water"], data["power"]]:
        assert demand.code not in body and demand.display_code not in body


def test_an_invalid_filter_exports_nothing(staff, data):
    response = staff.post(export_url(date_from="1403/13/40"), {"format": "csv"})
    assert response.status_code == 302
    assert not ExportJob.objects.exists()


def test_formula_like_text_is_not_run_by_spreadsheets(staff, submit):
    submit(description='=HYPERLINK("http://x") آب قطع است')
    rows = read_csv(staff.post(export_url(), {"format": "csv"}).content)
    description = rows[1][rows[0].index(header("description"))]
    assert description.startswith("'=")


def test_personal_columns_follow_the_role(demand_setup):
    n = demand_setup
    assert exports.may_see_personal(n.users["facilitator"])
    assert exports.may_see_personal(n.users["province_manager"])
    for role in ("agency_liaison", "analyst", "no_role"):
        assert not exports.may_see_personal(n.users[role])
    names = [c.key for c in exports.columns(personal=False)]
    assert "submitter_mobile" not in names and "submitter_name" not in names


@pytest.fixture
def large(monkeypatch):
    """Make every export "large" so that it goes through the task."""
    monkeypatch.setattr(exports, "DIRECT_LIMIT", 1)
    monkeypatch.setattr(exports, "CHUNK", 2)


def test_large_export_runs_as_a_task_with_progress_and_scope(
    staff, demand_setup, data, large, django_capture_on_commit_callbacks
):
    n = demand_setup
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(export_url(category=n.parent_category.code), {"format": "xlsx"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("demands:export_job", kwargs={"pk": job.pk})
    assert (job.owner, job.kind, job.file_format) == (
        n.users["office_manager"],
        exports.KIND,
        "xlsx",
    )
    assert job.params == {"category": [n.parent_category.code]}
    assert job.status == ExportJob.Status.DONE and job.done == job.total == 3
    with default_storage.open(job.file.name, "rb") as f:
        rows = read_xlsx(f.read())
    assert codes_in(rows) == {d.public_id for d in [*data["water"], data["power"]]}
    assert data["foreign"].public_id not in codes_in(rows)

    page = staff.get(response["Location"])
    assert reverse("demands:export_download", kwargs={"pk": job.pk}) in page.content.decode()
    download = staff.get(reverse("demands:export_download", kwargs={"pk": job.pk}))
    assert download.status_code == 200
    assert read_xlsx(b"".join(download.streaming_content)) == rows


def test_the_task_applies_the_owners_scope_when_it_runs(demand_setup, data, large):
    """A province manager's export of the same filter sees more than the office."""
    n = demand_setup
    other_office_user = user_with_role(Role.OFFICE_MANAGER, office=n.other_office)
    job = ExportJob.objects.create(
        owner=other_office_user, kind=exports.KIND, file_format="csv", params={}, total=0
    )
    assert run_export_job.call(job.pk) == "done"
    job.refresh_from_db()
    with default_storage.open(job.file.name, "rb") as f:
        assert codes_in(read_csv(f.read())) == {data["foreign"].public_id}
    # Run twice (a retried task): the finished job is left alone.
    assert run_export_job.call(job.pk) == "skipped"


def test_progress_page_polls_while_running(staff, demand_setup):
    job = ExportJob.objects.create(
        owner=demand_setup.users["office_manager"],
        kind=exports.KIND,
        file_format="csv",
        params={},
        total=4000,
        done=1000,
        status=ExportJob.Status.RUNNING,
    )
    url = reverse("demands:export_job", kwargs={"pk": job.pk})
    partial = staff.get(url, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in html
    assert 'hx-trigger="every 1s"' in html and 'aria-valuenow="25"' in html
    assert staff.get(reverse("demands:export_download", kwargs={"pk": job.pk})).status_code == 404
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED)
    html = staff.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in html


def test_only_the_owner_sees_and_downloads_a_job(
    client, demand_setup, data, large, django_capture_on_commit_callbacks
):
    n = demand_setup
    client.force_login(n.users["office_manager"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(export_url(), {"format": "csv"})
    job = ExportJob.objects.get()
    for role in ("facilitator", "province_manager", "national_admin"):
        client.force_login(n.users[role])
        assert client.get(reverse("demands:export_job", kwargs={"pk": job.pk})).status_code == 404
        assert (
            client.get(reverse("demands:export_download", kwargs={"pk": job.pk})).status_code == 404
        )


def test_every_export_is_recorded_in_the_audit_log(staff, data):
    from tashil.core.models import AuditLog

    staff.post(export_url(status="open"), {"format": "csv"})
    row = AuditLog.objects.get(action="demands.export")
    assert row.changes["personal_data"] == [None, True]
    assert row.changes["filter"] == [None, ["status"]]
    assert row.changes["demands"][1] >= 1
