"""Committing an import: both modes, the error file, re-import (updates,
moves, idempotency), recorded chunks, resuming after a crash, rollback, and
the vulnerability and audit rows it leaves."""

# The shared fixtures are imported by name, which pyflakes reads as a redefinition.
# ruff: noqa: F811

import socket

import pytest
from openpyxl import load_workbook

from tashil.core.models import AuditLog
from tashil.registry.importer import engine, services, writing
from tashil.registry.importer.lease import is_stalled
from tashil.registry.importer.lifecycle import resumable
from tashil.registry.models import (
    Household,
    HouseholdVulnerability,
    ImportBatch,
    ImportChunk,
    Membership,
    Person,
)
from tashil.registry.services.consent import consent_record
from tashil.registry.services.persons import person_update

from .test_import_fixtures import HEADER, code, english, family, imp, person  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.django_db

COL = {name: i for i, name in enumerate(HEADER)}


def snapshot():
    return {
        "households": list(
            Household.objects.order_by("pk").values_list("pk", "version", "address", "tenure")
        ),
        "persons": list(
            Person.objects.order_by("pk").values_list(
                "pk", "version", "national_code", "first_name", "employment"
            )
        ),
        "memberships": list(
            Membership.objects.order_by("pk").values_list(
                "pk", "household", "person", "relation", "left_on", "end_reason"
            )
        ),
        "groups": list(
            HouseholdVulnerability.objects.order_by("pk").values_list("household", "indicator")
        ),
    }


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(engine, "CHUNK_SIZE", 4)


# --- Modes ---------------------------------------------------------------------------------


def test_valid_rows_mode_imports_the_rest_and_hands_back_an_error_file(imp):
    rows = family(3)
    rows[1][COL["کد ملی"]] = "123"
    rows[5][COL["جنسیت"]] = "؟"
    batch = imp.run(rows)
    assert batch.status == ImportBatch.Status.COMMITTED
    assert (batch.total_rows, batch.valid_rows, batch.error_rows, batch.committed_rows) == (
        9,
        7,
        2,
        7,
    )
    assert Person.objects.count() == 7 and Household.objects.count() == 3
    sheet = load_workbook(batch.error_file.path).active
    values = list(sheet.values)
    assert list(values[0]) == [*HEADER, "Row in the original file", "errors"]
    assert [r[len(HEADER)] for r in values[1:]] == [3, 7]
    assert (
        values[1][COL["کد ملی"]] == "123"
        and "کد ملی (D): A national code has 10 digits." in values[1][-1]
    )
    # Corrected and imported again, the error file fills the gaps.
    fixed = [list(r[: len(HEADER)]) for r in values[1:]]
    fixed[0][COL["کد ملی"]] = code("200000001")
    fixed[1][COL["جنسیت"]] = "زن"
    again = imp.run([[("" if v is None else str(v)) for v in r] for r in fixed], name="fixed.csv")
    assert again.committed_rows == 2 and Person.objects.count() == 9


def test_all_or_nothing_writes_nothing_when_one_row_is_wrong(imp):
    rows = family(3)
    rows[4][COL["تاریخ تولد"]] = "1402/12/30"
    batch = imp.check(imp.csv(rows))
    with pytest.raises(Exception) as error:
        services.import_commit(
            acting_user=imp.user, batch=batch, mode=ImportBatch.Mode.ALL_OR_NOTHING
        )
    assert "all or nothing" in str(error.value)
    # Forced through the engine anyway (e.g. the rows changed meaning since the
    # preview), the transaction is rolled back as a whole.
    ImportBatch.objects.filter(pk=batch.pk).update(
        mode=ImportBatch.Mode.ALL_OR_NOTHING, status=ImportBatch.Status.COMMITTING
    )
    before = snapshot()
    outcome = engine.commit_batch(batch.pk, chunk_size=2)
    assert outcome.failed
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and batch.committed_rows == 0
    assert "nothing was imported" in batch.failure
    assert snapshot() == before and ImportChunk.objects.count() == 0
    assert batch.error_file


def test_all_or_nothing_commits_everything_in_one_go(imp):
    batch = imp.run(family(4), mode=ImportBatch.Mode.ALL_OR_NOTHING)
    assert batch.status == ImportBatch.Status.COMMITTED and batch.committed_rows == 12
    assert Person.objects.count() == 12


# --- Re-import ------------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(imp):
    imp.run(family(3))
    before = snapshot()
    audit_before = AuditLog.objects.filter(
        object_type__in=["registry.person", "registry.household"]
    ).count()
    again = imp.run(family(3), name="again.csv")
    assert again.committed_rows == 9
    assert again.stats["counts"] == {"persons_unchanged": 9}
    assert snapshot() == before
    assert (
        AuditLog.objects.filter(object_type__in=["registry.person", "registry.household"]).count()
        == audit_before
    )


def test_re_import_updates_what_changed_and_only_that(imp):
    imp.run(family(2))
    head = Person.objects.get(national_code=family(2)[0][COL["کد ملی"]])
    household = Household.objects.get(external_id="H0000")
    rows = family(2)
    rows[0][COL["وضعیت اشتغال"]] = "بیکار"  # the head lost their job
    rows[0][COL["وضعیت تصرف"]] = "مستاجر"  # and now rents
    batch = imp.run(rows, name="update.csv")
    assert batch.stats["counts"] == {
        "households_updated": 1,
        "persons_updated": 1,
        "persons_unchanged": 5,
    }
    head_after = Person.objects.get(pk=head.pk)
    assert head_after.employment == "unemployed" and head_after.version == head.version + 1
    household_after = Household.objects.get(pk=household.pk)
    assert household_after.tenure == "tenant" and household_after.version == household.version + 1
    assert household_after.import_batch_id == batch.pk
    assert "unemployed_head" in set(
        household_after.vulnerabilities.values_list("indicator__code", flat=True)
    )


def test_an_empty_cell_does_not_erase_what_is_recorded(imp):
    imp.run([person("H1", national=code("001234567"), mobile="09121234567")])
    imp.run([person("H1", national=code("001234567"), mobile="")], name="no-mobile.csv")
    assert Person.objects.get().mobile == "+989121234567"


def test_matching_by_household_id_and_name_for_people_without_codes(imp):
    rows = [
        person("H1", "گل محمد", "رحیمی", "", "سرپرست", birth="1365"),
        person("H1", "بی بی", "رحیمی", "", "همسر", birth="1370"),
    ]
    imp.run(rows)
    rows[1][COL["وضعیت اشتغال"]] = "خانه دار"
    batch = imp.run(rows, name="again.csv")
    assert Person.objects.count() == 2
    assert batch.stats["counts"] == {"persons_updated": 1, "persons_unchanged": 1}


def test_a_code_added_later_attaches_to_the_person_recorded_without_one(imp):
    imp.run([person("H1", "گل محمد", "رحیمی", "", "سرپرست", birth="1365")])
    imp.run(
        [person("H1", "گل محمد", "رحیمی", code("001234567"), "سرپرست", birth="1365")],
        name="papers.csv",
    )
    assert Person.objects.get().national_code == code("001234567")


def test_a_person_in_another_household_of_the_office_moves(imp):
    imp.run(family(2))
    mover = family(2)[5]  # the last child of H0001
    mover_row = list(mover)
    mover_row[COL["شناسه خانوار"]] = "H0000"
    mover_row[COL["نسبت با سرپرست"]] = "نوه"
    batch = imp.run([mover_row], name="move.csv")
    assert batch.stats["counts"]["persons_moved"] == 1
    p = Person.objects.get(national_code=mover[COL["کد ملی"]])
    ended = p.memberships.get(end_reason="moved")
    current = p.memberships.current().get()
    assert ended.household.external_id == "H0001" and ended.left_on is not None
    assert current.household.external_id == "H0000" and current.relation == "grandchild"


def test_a_household_whose_head_comes_later_in_the_file_takes_the_head_row(imp, small_chunks):
    """Rows need not be grouped by household; a household's columns still
    come from its head's row, in whichever chunk it is."""
    rows = family(3)
    head_of_first = rows.pop(0)
    head_of_first[COL["نشانی"]] = "نشانی درست"
    rows.append(head_of_first)
    for r in rows:
        if r[0] == "H0000" and r is not head_of_first:
            r[COL["نشانی"]] = "نشانی دیگر"
    batch = imp.run(rows)
    assert batch.committed_rows == 9 and ImportChunk.objects.filter(batch=batch).count() > 1
    assert Household.objects.get(external_id="H0000").address == "نشانی درست"
    again = imp.run(rows, name="again.csv")
    assert again.stats["counts"] == {"persons_unchanged": 9}


def test_a_registered_household_without_a_head_row_takes_its_first_row(imp):
    imp.run(family(1))
    rows = family(1)[1:]
    rows[0][COL["نشانی"]] = "نشانی تازه"
    rows[1][COL["نشانی"]] = "نشانی دیگر"
    batch = imp.run(rows, name="members-only.csv")
    assert Household.objects.get().address == "نشانی تازه"
    assert batch.stats["counts"]["households_updated"] == 1


# --- Chunks, crash, resume --------------------------------------------------------------------


def test_rows_are_committed_in_recorded_chunks(imp, small_chunks):
    batch = imp.run(family(5))
    chunks = list(ImportChunk.objects.filter(batch=batch).order_by("index"))
    assert [c.index for c in chunks] == list(range(len(chunks))) and len(chunks) >= 3
    # Chunks are cut between households and cover the file without gaps.
    assert chunks[0].first_row == 2 and chunks[-1].last_row == 16
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.first_row == before.last_row + 1
    assert sum(c.rows for c in chunks) == 15
    # One audit row per chunk, none per person.
    assert AuditLog.objects.filter(
        action="registry.import_chunk", object_id=str(batch.pk)
    ).count() == len(chunks)
    assert not AuditLog.objects.filter(object_type="registry.person").exists()


def test_a_crash_mid_import_keeps_whole_chunks_and_a_resume_finishes_it(
    imp, small_chunks, monkeypatch
):
    rows = family(6)
    rows[8][COL["کد ملی"]] = "bad"
    batch = imp.check(imp.csv(rows))
    real = writing.apply_plan
    calls = {"n": 0}

    def crash_on_third(plan, *, batch, **kwargs):
        calls["n"] += 1
        undo = real(plan, batch=batch, **kwargs)
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return undo

    monkeypatch.setattr(engine, "apply_plan", crash_on_third)
    # Committing without running the queued task: the crash happens in the engine below.
    services.import_commit(acting_user=imp.user, batch=batch, mode="valid_rows")
    with pytest.raises(RuntimeError):
        engine.commit_batch(batch.pk)
    batch.refresh_from_db()
    chunks = list(batch.chunks.order_by("index"))
    assert len(chunks) == 2
    # Exactly the rows of the committed chunks are in the registry.
    assert Person.objects.count() == sum(c.rows for c in chunks)
    assert batch.status == ImportBatch.Status.FAILED and resumable(batch)

    monkeypatch.setattr(engine, "apply_plan", real)
    imp.call(services.import_resume, acting_user=imp.user, batch=batch)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED
    assert Person.objects.count() == 17 and batch.committed_rows == 17
    assert Person.objects.values("national_code").distinct().count() == 17
    # The error of a row in a chunk committed before the crash is still reported.
    assert [e["row"] for e in batch.errors] == [10]
    assert batch.chunks.count() > 2


def test_a_batch_held_by_a_live_process_is_not_run_twice(imp):
    batch = imp.check(imp.csv(family(1)))
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.COMMITTING,
        lease_owner="another-host:123",
        lease_until=__import__("django.utils.timezone").utils.timezone.now()
        + __import__("datetime").timedelta(minutes=5),
    )
    with pytest.raises(engine.BatchBusy):
        engine.commit_batch(batch.pk)
    assert Person.objects.count() == 0


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over(imp):
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    batch = imp.check(imp.csv(family(1)))
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.COMMITTING,
        lease_owner=f"{socket.gethostname()}:{dead.pid}",
        lease_until=__import__("django.utils.timezone").utils.timezone.now()
        + __import__("datetime").timedelta(minutes=5),
    )
    engine.commit_batch(batch.pk)
    assert Person.objects.count() == 3


# --- Rollback -----------------------------------------------------------------------------------


def test_rollback_undoes_creates_updates_and_moves(imp, small_chunks):
    imp.run(family(2))
    before = snapshot()
    rows = family(3)
    rows[0][COL["وضعیت اشتغال"]] = "بیکار"
    moved = list(rows[5])
    moved[COL["شناسه خانوار"]] = "H0000"
    moved[COL["نسبت با سرپرست"]] = "نوه"
    rows[5] = moved
    batch = imp.run(rows, name="second.csv")
    assert batch.stats["counts"]["persons_moved"] == 1
    imp.call(services.import_rollback, acting_user=imp.user, batch=batch)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.ROLLED_BACK and batch.chunks.count() == 0
    after = snapshot()
    # Versions go back too: a form opened before the import is not stale.
    assert after == before
    assert AuditLog.objects.filter(
        action="registry.import_rolled_back", object_id=str(batch.pk)
    ).exists()


def test_rollback_is_refused_when_someone_changed_a_record_since(imp):
    batch = imp.run(family(2))
    p = Person.objects.get(national_code=family(2)[0][COL["کد ملی"]])
    person_update(person=p, acting_user=imp.user, first_name="زهره")
    before = snapshot()
    imp.call(services.import_rollback, acting_user=imp.user, batch=batch)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED
    assert "edited afterwards" in batch.failure
    assert snapshot() == before and batch.chunks.count() > 0


def test_rollback_is_refused_when_a_consent_was_recorded_on_an_imported_household(imp):
    batch = imp.run(family(1))
    h = Household.objects.get()
    consent_record(household=h, given_by="زهرا", purpose="registry", acting_user=imp.user)
    imp.call(services.import_rollback, acting_user=imp.user, batch=batch)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED and "consents" in batch.failure
    assert Household.objects.count() == 1


# --- What the import leaves behind ---------------------------------------------------------------


def test_vulnerability_is_scored_for_imported_households(imp):
    rows = [
        person(
            "H1",
            "زهرا",
            "کریمی",
            code("001234567"),
            "سرپرست",
            "زن",
            employment="بیکار",
            dwelling="کپر",
            insurance="ندارد",
        ),
        person(
            "H1",
            "علی",
            "کریمی",
            code("001234575"),
            "فرزند",
            "مرد",
            birth="1392/01/01",
            insurance="ندارد",
            employment="کارگر روزمزد",
        ),
        person("H2", "حسن", "نوری", code("001234583"), "سرپرست", "مرد", employment="شاغل"),
    ]
    imp.run(rows)
    groups = {
        h.external_id: set(h.vulnerabilities.values_list("indicator__code", flat=True))
        for h in Household.objects.all()
    }
    assert {
        "female_headed",
        "unemployed_head",
        "informal_dwelling",
        "no_health_insurance",
        "child_labour_risk",
    } <= groups["H1"]
    assert "female_headed" not in groups["H2"]
    h1 = Household.objects.get(external_id="H1")
    assert h1.is_vulnerable and h1.vulnerability_score >= 5
    # The household's search key includes its members' names, as for a form entry.
    assert "زهرا" in h1.search_key


def test_the_batch_remembers_who_imported_and_each_record_points_to_it(imp):
    batch = imp.run(family(1))
    assert set(Person.objects.values_list("import_batch", flat=True)) == {batch.pk}
    assert Household.objects.get().import_batch_id == batch.pk
    assert Household.objects.get().created_by == imp.user
    actions = set(
        AuditLog.objects.filter(
            object_id=str(batch.pk), object_type="registry.importbatch"
        ).values_list("action", flat=True)
    )
    assert {
        "registry.import_upload",
        "registry.import_mapping",
        "registry.import_commit_start",
        "registry.import_chunk",
        "registry.import_committed",
    } <= actions


def test_the_preview_writes_nothing(imp):
    before = snapshot()
    batch = imp.check(imp.csv(family(5)))
    assert batch.valid_rows == 15 and batch.stats["counts"]["persons_created"] == 15
    assert snapshot() == before and ImportChunk.objects.count() == 0


def _dead_owner():
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    return f"{socket.gethostname()}:{dead.pid}"


def test_a_queued_batch_is_not_stalled_but_one_whose_process_died_is(imp):
    batch = imp.check(imp.csv(family(1)))
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.COMMITTING)
    batch.refresh_from_db()
    assert not is_stalled(batch) and not resumable(batch)
    ImportBatch.objects.filter(pk=batch.pk).update(lease_owner=_dead_owner())
    batch.refresh_from_db()
    assert is_stalled(batch) and resumable(batch)
    imp.call(services.import_resume, acting_user=imp.user, batch=batch)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED and Person.objects.count() == 3


def test_a_check_whose_process_died_can_be_run_again(imp):
    batch = imp.upload(imp.csv(family(1)))
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.VALIDATING, lease_owner=_dead_owner()
    )
    batch.refresh_from_db()
    assert services.is_editable(batch)
    imp.call(
        services.import_set_mapping,
        acting_user=imp.user,
        batch=batch,
        mapping={int(k): v for k, v in batch.mapping.items()},
    )
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.VALIDATED and batch.valid_rows == 3
