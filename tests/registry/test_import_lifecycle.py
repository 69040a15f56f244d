"""Every status change of an import writes its audit row, from the pages, the
background tasks and the command line alike."""

# The shared fixtures are imported by name, which pyflakes reads as a redefinition.
# ruff: noqa: F811

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from tashil.core.models import AuditLog
from tashil.registry.importer import services
from tashil.registry.importer.lifecycle import IMPORT
from tashil.registry.models import ImportBatch

from . import bombs
from .test_import_fixtures import english, family, imp  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.django_db
S = ImportBatch.Status


def trail(batch):
    return list(
        AuditLog.objects.filter(object_type="registry.importbatch", object_id=str(batch.pk))
        .exclude(action="registry.import_chunk")
        .order_by("pk")
        .values_list("action", "actor")
    )


def test_each_step_of_an_import_is_audited(imp):
    batch = imp.run(family(2))
    assert batch.status == S.COMMITTED
    user = imp.user.pk
    assert trail(batch) == [
        ("registry.import_upload", user),
        ("registry.import_inspected", user),
        ("registry.import_mapping", user),
        ("registry.import_validated", user),
        ("registry.import_commit_start", user),
        ("registry.import_committed", user),
    ]
    row = AuditLog.objects.get(action="registry.import_commit_start", object_id=str(batch.pk))
    assert row.changes == {"mode": [None, ImportBatch.Mode.VALID_ROWS]}
    assert row.office_id == imp.office.pk


def test_rollback_and_its_refusal_are_audited(imp):
    batch = imp.run(family(1))
    imp.call(services.import_rollback, acting_user=imp.user, batch=batch)
    batch.refresh_from_db()
    assert batch.status == S.ROLLED_BACK
    assert trail(batch)[-2:] == [
        ("registry.import_rollback_start", imp.user.pk),
        ("registry.import_rolled_back", imp.user.pk),
    ]


def test_a_refused_file_is_audited_as_failed(imp):
    path = bombs.wide_sheet(imp.tmp / "wide.xlsx", columns=5000)
    with pytest.raises(ValidationError):
        imp.upload(path)
    batch = ImportBatch.objects.get()
    assert batch.status == S.FAILED
    assert trail(batch)[-1] == ("registry.import_failed", imp.user.pk)


def test_a_refused_move_writes_nothing(imp):
    batch = imp.run(family(1))
    before = AuditLog.objects.count()
    with pytest.raises(PermissionDenied):
        services.import_rollback(acting_user=imp.n.users["agency_liaison"], batch=batch)
    with pytest.raises(ValidationError):
        services.import_commit(acting_user=imp.user, batch=batch, mode=ImportBatch.Mode.VALID_ROWS)
    assert AuditLog.objects.count() == before
    batch.refresh_from_db()
    assert batch.status == S.COMMITTED


def test_the_buttons_follow_the_machine(imp):
    batch = imp.check(imp.csv(family(1)))
    names = {t.name for t in IMPORT.available_moves(batch, imp.user)}
    assert names == {"commit_start", "mapping"}
    assert IMPORT.available_moves(batch, imp.n.users["agency_liaison"]) == []


# --- the command line --------------------------------------------------------------------------


def test_the_command_line_writes_the_same_audit_row_as_the_pages(imp):
    path = imp.csv(family(2))
    call_command(
        "import_households", str(path), office=imp.office.code, user=imp.user.username, verbosity=0
    )
    batch = ImportBatch.objects.get()
    assert batch.status == S.COMMITTED
    start = AuditLog.objects.get(action="registry.import_commit_start", object_id=str(batch.pk))
    assert (start.actor, start.changes) == (imp.user, {"mode": [None, ImportBatch.Mode.VALID_ROWS]})
    assert [action for action, _actor in trail(batch)] == [
        "registry.import_upload",
        "registry.import_inspected",
        "registry.import_commit_start",
        "registry.import_committed",
    ]


def test_the_command_line_records_a_refused_mapping(imp):
    path = imp.csv([["x"]], header=["ستون ناشناخته"])
    with pytest.raises(CommandError):
        call_command("import_households", str(path), office=imp.office.code, verbosity=0)
    batch = ImportBatch.objects.get()
    assert batch.status == S.FAILED and batch.failure
    assert trail(batch)[-1] == ("registry.import_failed", None)
