"""The import pages: every endpoint × every role (and anonymous, and staff of
another office), with "denied changes nothing"; the whole flow through the
pages; and query counts that do not grow with the number of rows."""

# The shared fixtures are imported by name, which pyflakes reads as a redefinition.
# ruff: noqa: F811

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from tashil.core.models import AuditLog
from tashil.registry.importer import services
from tashil.registry.models import ColumnMapping, Household, ImportBatch, ImportChunk, Person
from tests.factories import Role, user_with_role
from tests.roles import ROLES as ALL_ROLES

from .test_import_fixtures import english, family, imp, person, upload_file  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.django_db

ROLES = [*ALL_ROLES, "other_office", "anonymous"]
IMPORTERS = {"national_admin", "province_manager", "office_manager", "facilitator"}


@pytest.fixture
def world(imp):
    imp.n.users["other_office"] = user_with_role(Role.FACILITATOR, office=imp.n.other_office)
    imp.n.users["anonymous"] = AnonymousUser()
    committed = imp.run([*family(2), person("H9", national="123")], name="done.csv")
    pending = imp.check(imp.csv(family(1, start=5), name="pending.csv"))
    uploaded = imp.upload(imp.csv(family(1, start=7), name="uploaded.csv"))
    saved = ColumnMapping.objects.create(
        office=imp.office, name="قالب ماهانه", mapping={"نام": "first_name"}
    )
    imp.committed, imp.pending, imp.uploaded, imp.saved = committed, pending, uploaded, saved
    return imp


def login(client, world, role):
    user = world.n.users[role]
    if role != "anonymous":
        client.force_login(user)
    return user


def state():
    return {
        "batches": list(
            ImportBatch.objects.order_by("pk").values_list("pk", "status", "mode", "mapping")
        ),
        "persons": Person.objects.count(),
        "households": Household.objects.count(),
        "chunks": ImportChunk.objects.count(),
        "mappings": ColumnMapping.objects.count(),
        "audit": AuditLog.objects.count(),
    }


def expected_read(role, *, batch_page=False):
    if role == "anonymous":
        return 302
    if role in IMPORTERS:
        return 200
    # Another office's staff and everyone without registry rows: a batch is not
    # theirs to know about (404); the lists and forms are forbidden (403).
    if batch_page:
        return 404
    return 200 if role == "other_office" else 403


@pytest.mark.authorization_matrix(
    "registry:household_export",
    "registry:import_list",
    "registry:import_template",
    "registry:import_upload",
)
@pytest.mark.parametrize("role", ROLES)
def test_lists_and_forms_by_role(client, world, role):
    login(client, world, role)
    for name, args in (
        ("registry:import_list", []),
        ("registry:import_upload", []),
        ("registry:import_template", ["xlsx"]),
        ("registry:household_export", []),
    ):
        response = client.get(reverse(name, args=args))
        assert response.status_code == expected_read(role), (name, response.status_code)


@pytest.mark.authorization_matrix(
    "registry:import_detail",
    "registry:import_error_file",
    "registry:import_mapping",
    "registry:import_preview",
    "registry:import_progress",
)
@pytest.mark.parametrize("role", ROLES)
def test_batch_pages_by_role(client, world, role):
    login(client, world, role)
    pages = [
        ("registry:import_detail", world.committed),
        ("registry:import_error_file", world.committed),
        ("registry:import_preview", world.pending),
        ("registry:import_mapping", world.uploaded),
        ("registry:import_progress", world.committed),
    ]
    for name, batch in pages:
        response = client.get(reverse(name, args=[batch.pk]))
        expected = expected_read(role, batch_page=True)
        if expected == 200 and name == "registry:import_progress":
            expected = 302  # a finished batch's progress page goes on to its result
        assert response.status_code == expected, (name, response.status_code)


def test_the_list_of_an_office_shows_only_its_imports(client, world):
    login(client, world, "other_office")
    assert client.get(reverse("registry:import_list")).context["page"].paginator.count == 0
    login(client, world, "facilitator")
    assert client.get(reverse("registry:import_list")).context["page"].paginator.count == 3


@pytest.mark.authorization_matrix("registry:import_upload")
@pytest.mark.parametrize("role", ROLES)
def test_upload_by_role_and_denied_changes_nothing(client, world, role, tmp_path):
    login(client, world, role)
    before = state()
    path = world.csv(family(1, start=20), name="new.csv")
    with open(path, "rb") as f:
        response = client.post(
            reverse("registry:import_upload"), {"file": f, "office": world.office.pk}
        )
    if role in IMPORTERS:
        assert response.status_code == 302
        assert ImportBatch.objects.count() == len(before["batches"]) + 1
    else:
        assert (
            response.status_code in (302, 403)
            if role == "anonymous"
            else response.status_code in (403, 200)
        )
        if role == "other_office":
            # The form only offers their own office; another office's is refused.
            assert response.status_code == 200 and response.context["form"].errors
        assert state() == before


@pytest.mark.authorization_matrix(
    "registry:import_mapping",
    "registry:import_mapping_delete",
    "registry:import_preview",
    "registry:import_resume",
    "registry:import_rollback",
)
@pytest.mark.parametrize("role", ROLES)
def test_mapping_commit_rollback_resume_by_role(
    client, world, role, django_capture_on_commit_callbacks
):
    login(client, world, role)
    before = state()
    with django_capture_on_commit_callbacks(execute=True):
        responses = [
            client.post(
                reverse("registry:import_mapping", args=[world.uploaded.pk]),
                {f"col_{i}": v for i, v in world.uploaded.mapping.items()},
            ),
            client.post(
                reverse("registry:import_preview", args=[world.pending.pk]), {"mode": "valid_rows"}
            ),
            client.post(reverse("registry:import_rollback", args=[world.committed.pk])),
            client.post(reverse("registry:import_resume", args=[world.committed.pk])),
            client.post(reverse("registry:import_mapping_delete", args=[world.saved.pk])),
        ]
    codes = [r.status_code for r in responses]
    if role in IMPORTERS:
        assert codes == [302] * 5
        assert (
            ImportBatch.objects.get(pk=world.committed.pk).status == ImportBatch.Status.ROLLED_BACK
        )
        assert ImportBatch.objects.get(pk=world.pending.pk).status == ImportBatch.Status.COMMITTED
        assert not ColumnMapping.objects.exists()
    else:
        expected = 302 if role == "anonymous" else 404
        assert codes == [expected] * 5
        assert state() == before


def test_a_get_cannot_roll_back(client, world):
    login(client, world, "facilitator")
    assert (
        client.get(reverse("registry:import_rollback", args=[world.committed.pk])).status_code
        == 405
    )


# --- The flow through the pages ---------------------------------------------------------------


def test_upload_mapping_preview_commit_done(client, world, django_capture_on_commit_callbacks):
    login(client, world, "office_manager")
    path = world.csv([*family(3, start=30), person("H99", national="12")], name="flow.csv")
    with django_capture_on_commit_callbacks() as queued, open(path, "rb") as f:
        response = client.post(
            reverse("registry:import_upload"), {"file": f, "office": world.office.pk}
        )
    batch = ImportBatch.objects.get(original_name="flow.csv")
    assert response.url == reverse("registry:import_mapping", args=[batch.pk])
    # The upload only stored the file: the worker reads it, the page polls meanwhile.
    assert batch.status == ImportBatch.Status.INSPECTING and batch.columns == []
    page = client.get(response.url)
    assert page.status_code == 200 and 'data-testid="reading-poll"' in page.content.decode()
    poll = client.get(response.url, HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and "HX-Redirect" not in poll
    for callback in queued:
        callback()
    poll = client.get(response.url, HTTP_HX_REQUEST="true")
    assert poll.status_code == 204 and poll["HX-Redirect"] == response.url
    batch.refresh_from_db()
    page = client.get(response.url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form["col_3"].initial == "national_code"
    # First values are shown beside each column, to recognise it.
    assert "H0030" in page.content.decode()  # a code keeps its Latin digits
    data = {f"col_{i}": v for i, v in batch.mapping.items()} | {"save_as": "فایل آماری"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:import_mapping", args=[batch.pk]), data)
    assert response.url == reverse("registry:import_progress", args=[batch.pk])
    assert ColumnMapping.objects.filter(name="فایل آماری", office=world.office).exists()
    # The progress page polled by htmx hands over to the preview when the check is done.
    response = client.get(
        reverse("registry:import_progress", args=[batch.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("registry:import_preview", args=[batch.pk])
    preview = client.get(reverse("registry:import_preview", args=[batch.pk]))
    body = preview.content.decode()
    assert preview.context["batch"].valid_rows == 9 and preview.context["batch"].error_rows == 1
    assert 'data-testid="error-table"' in body and "کد ملی (D)" in body
    assert Person.objects.filter(national_code__in=[r[3] for r in family(3, start=30)]).count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("registry:import_preview", args=[batch.pk]), {"mode": "all_or_nothing"}
        )
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.VALIDATED
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("registry:import_preview", args=[batch.pk]), {"mode": "valid_rows"}
        )
    done = client.get(response.url, follow=True)
    assert done.redirect_chain[-1][0] == reverse("registry:import_detail", args=[batch.pk])
    assert done.context["batch"].committed_rows == 9
    error_file = client.get(reverse("registry:import_error_file", args=[batch.pk]))
    assert error_file["Content-Type"].startswith("application/vnd.openxmlformats")


def test_an_unreadable_upload_shows_the_reason_on_the_form(client, world):
    login(client, world, "facilitator")
    before = state()
    response = client.post(
        reverse("registry:import_upload"),
        {
            "file": upload_file(_write(world, "report.xlsx", b"%PDF-1.4 fake")),
            "office": world.office.pk,
        },
    )
    assert response.status_code == 200
    assert "PDF" in " ".join(response.context["form"].errors["file"])
    assert state() == before


def _write(world, name, content):
    path = world.tmp / name
    path.write_bytes(content)
    return path


def test_the_template_downloads_import_cleanly(client, world):
    login(client, world, "facilitator")
    response = client.get(reverse("registry:import_template", args=["xlsx"]))
    path = _write(world, "template.xlsx", response.content)
    batch = world.check(path)
    assert batch.error_rows == 0 and batch.valid_rows == 3, batch.errors
    csv_response = client.get(reverse("registry:import_template", args=["csv"]))
    assert csv_response.content.startswith("\ufeff".encode())


@pytest.mark.parametrize("language", ["fa", "en"])
def test_every_column_of_the_template_maps_itself(language):
    # A column left unmapped is dropped without a word, so the template's
    # own headers must all be recognised.
    from django.utils import translation

    from tashil.registry.importer.fields import suggest_mapping
    from tashil.registry.importer.template import header_row

    with translation.override(language):
        header = header_row()
        mapping = suggest_mapping(header)
    assert [h for i, h in enumerate(header) if i not in mapping] == []
    assert len(set(mapping.values())) == len(header)


# --- Query counts -------------------------------------------------------------------------------


@pytest.mark.query_count("registry:import_list")
def test_list_page_query_count_does_not_grow(client, world, django_assert_max_num_queries):
    login(client, world, "province_manager")
    for i in range(25):
        ImportBatch.objects.create(
            office=world.office,
            uploaded_by=world.user,
            original_name=f"f{i}.csv",
            file_format="csv",
            total_rows=i,
        )
    with django_assert_max_num_queries(10):
        response = client.get(reverse("registry:import_list"))
    assert len(response.context["page"].object_list) == 28


@pytest.mark.query_count(
    "registry:import_detail", "registry:import_mapping", "registry:import_preview"
)
@pytest.mark.parametrize(
    "name", ["registry:import_detail", "registry:import_preview", "registry:import_mapping"]
)
def test_batch_pages_query_count_does_not_grow_with_rows(
    client, world, django_assert_max_num_queries, name
):
    login(client, world, "facilitator")
    big = world.run(family(60, start=100), name="big.csv")
    target = {
        "registry:import_detail": big,
        "registry:import_preview": world.pending,
        "registry:import_mapping": world.uploaded,
    }[name]
    with django_assert_max_num_queries(14):
        response = client.get(reverse(name, args=[target.pk]))
    assert response.status_code == 200


@pytest.mark.query_count("registry:import_progress")
def test_progress_poll_is_cheap(client, world, django_assert_max_num_queries):
    login(client, world, "facilitator")
    ImportBatch.objects.filter(pk=world.pending.pk).update(
        status=ImportBatch.Status.COMMITTING,
        lease_owner="elsewhere:1",
        lease_until="2999-01-01T00:00:00Z",
    )
    with django_assert_max_num_queries(8):
        response = client.get(
            reverse("registry:import_progress", args=[world.pending.pk]), HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200 and b"progress-bar" in response.content


def test_services_refuse_a_user_of_another_office(world):
    with pytest.raises(Exception) as error:
        services.import_commit(
            acting_user=world.n.users["other_office"], batch=world.pending, mode="valid_rows"
        )
    assert error.type.__name__ == "PermissionDenied"
