"""Exports of the household list: scope, personal data, the list's filter,
both layouts (the per-person one imports back unchanged), background jobs
for large lists, and the query count."""

# The shared fixtures are imported by name, which pyflakes reads as a redefinition.
# ruff: noqa: F811

import csv
import io

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from openpyxl import load_workbook

from tashil.core.models import AuditLog, ExportJob
from tashil.registry import exports
from tashil.registry.models import Household, Person
from tashil.registry.services.households import household_create
from tashil.registry.services.persons import person_create
from tests.factories import Role, user_with_role
from tests.roles import ROLES_AND_ANONYMOUS

from .test_import_fixtures import HEADER, code, english, family, imp  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.django_db

ALLOWED = {"national_admin", "province_manager", "office_manager", "facilitator"}


@pytest.fixture
def world(imp):
    rows = family(3)
    rows[0][HEADER.index("نشانی")] = '=HYPERLINK("x")'
    rows[3][HEADER.index("وضعیت اشتغال")] = "بیکار"
    imp.run(rows)
    other = user_with_role(Role.FACILITATOR, office=imp.n.other_office)
    h = household_create(
        acting_user=other,
        office=imp.n.other_office,
        area=imp.n.other_hood,
        external_id="OTHER-1",
        address="کوچه دور",
    )
    person_create(
        acting_user=other,
        household=h,
        relation="head",
        first_name="پروین",
        last_name="دوری",
        national_code=code("009999991".replace("1", "2")),
    )
    imp.n.users["anonymous"] = AnonymousUser()
    return imp


@pytest.fixture
def client(client):
    """Headers and messages are asserted in English, chosen as a person
    would: with the language switch's cookie."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def rows_of(response):
    if response["Content-Type"].startswith("text/csv"):
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return [
        ["" if v is None else str(v) for v in row]
        for row in book.active.iter_rows(values_only=True)
    ]


@pytest.mark.authorization_matrix("registry:household_export")
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_export_by_role(client, world, role):
    if role != "anonymous":
        client.force_login(world.n.users[role])
    before = AuditLog.objects.filter(action="registry.export").count()
    response = client.get(reverse("registry:household_export") + "?format=csv")
    if role == "anonymous":
        assert response.status_code == 302
    elif role not in ALLOWED:
        # Liaisons and analysts never get household rows, in a file or otherwise.
        assert response.status_code == 403
        assert AuditLog.objects.filter(action="registry.export").count() == before
    else:
        assert response.status_code == 200
        rows = rows_of(response)
        ids = {r[0] for r in rows[1:]}
        # The user's scope: the office's staff get their office only.
        if role in ("office_manager", "facilitator", "province_manager"):
            assert ids == {"H0000", "H0001", "H0002"}
        else:
            assert ids == {"H0000", "H0001", "H0002", "OTHER-1"}
        assert "Head's national code" in rows[0]
        assert AuditLog.objects.filter(action="registry.export").count() == before + 1


def test_personal_data_can_be_left_out(client, world):
    client.force_login(world.user)
    rows = rows_of(client.get(reverse("registry:household_export") + "?format=csv&personal=0"))
    header = rows[0]
    assert "Head's national code" not in header and "Address or description" not in header
    flat = " ".join(" ".join(r) for r in rows)
    assert family(3)[0][HEADER.index("کد ملی")] not in flat and "+98" not in flat
    entry = AuditLog.objects.filter(action="registry.export").latest("at")
    assert entry.changes["personal_data"] == [None, False]


def test_the_list_filter_is_applied(client, world):
    client.force_login(world.user)
    rows = rows_of(
        client.get(reverse("registry:household_export") + "?format=csv&group=unemployed_head")
    )
    assert [r[0] for r in rows[1:]] == ["H0001"]
    rows = rows_of(client.get(reverse("registry:household_export") + "?format=csv&q=H0002"))
    assert [r[0] for r in rows[1:]] == ["H0002"]


def test_an_invalid_filter_exports_nothing(client, world):
    client.force_login(world.user)
    response = client.get(reverse("registry:household_export") + "?format=csv&area=999999")
    assert response.status_code == 302


def test_csv_cells_cannot_become_formulas(client, world):
    client.force_login(world.user)
    rows = rows_of(client.get(reverse("registry:household_export") + "?format=csv"))
    address = rows[0].index("Address or description")
    cell = next(r[address] for r in rows[1:] if r[0] == "H0000")
    assert cell.startswith("'=")


def test_the_per_person_layout_imports_back_unchanged(client, world):
    client.force_login(world.user)
    response = client.get(reverse("registry:household_export") + "?format=xlsx&layout=members")
    assert response.status_code == 200
    path = world.tmp / "exported.xlsx"
    path.write_bytes(response.content)
    before = (
        list(Person.objects.order_by("pk").values_list("pk", "version")),
        list(Household.objects.order_by("pk").values_list("pk", "version")),
    )
    batch = world.check(path)
    assert batch.error_rows == 0, batch.errors
    batch = world.commit(batch)
    assert batch.committed_rows == 9
    assert batch.stats["counts"] == {"persons_unchanged": 9}
    after = (
        list(Person.objects.order_by("pk").values_list("pk", "version")),
        list(Household.objects.order_by("pk").values_list("pk", "version")),
    )
    assert after == before


def test_a_large_export_runs_as_a_job(
    client, world, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "DIRECT_LIMIT", 1)
    client.force_login(world.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("registry:household_export") + "?format=xlsx")
    job = ExportJob.objects.get()
    assert response.url == reverse("registry:export_job", args=[job.pk])
    assert job.status == ExportJob.Status.DONE and job.done == 3
    page = client.get(response.url)
    assert b"export-download" in page.content
    download = client.get(reverse("registry:export_download", args=[job.pk]))
    rows = [
        list(r)
        for r in load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.values
    ]
    assert len(rows) == 4
    # Only its owner gets the file.
    client.force_login(world.n.users["office_manager"])
    assert client.get(reverse("registry:export_download", args=[job.pk])).status_code == 404
    assert client.get(reverse("registry:export_job", args=[job.pk])).status_code == 404


@pytest.mark.query_count("registry:household_export")
def test_export_query_count_does_not_grow(client, world, django_assert_max_num_queries):
    world.run(family(40, start=50), name="more.csv")
    client.force_login(world.user)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("registry:household_export") + "?format=xlsx&layout=members")
    assert len(rows_of(response)) == 1 + 43 * 3
    with django_assert_max_num_queries(16):
        response = client.get(reverse("registry:household_export") + "?format=csv")
    assert len(rows_of(response)) == 1 + 43


def test_exports_are_personal_only_for_those_who_see_personal_data(world):
    assert exports.may_see_personal(world.n.users["facilitator"])
    assert not exports.may_see_personal(world.n.users["analyst"])
    assert not exports.may_see_personal(world.n.users["agency_liaison"])
    assert not exports.may_export(world.n.users["analyst"])
