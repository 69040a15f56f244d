"""Running an import over a file: the check that fills the preview, and the
commit, which writes the rows in recorded chunks.

Commit modes:
- "valid rows": each chunk of rows is checked and written in its own
  transaction together with its ImportChunk row. A run that is killed leaves
  whole chunks only; running it again skips the rows of the committed chunks
  (re-reading them only to rebuild what the file said) and goes on from
  there, so nothing is written twice.
- "all or nothing": the whole file is checked and written in one
  transaction; one refused row and nothing is kept.

A process running a batch holds a lease on it (owner and expiry), renewed
with each chunk, so two workers never run the same batch.
"""

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import ImportBatch
from .lease import LEASE_SECONDS, LONG_LEASE_SECONDS, BatchBusy, claim, release
from .lifecycle import IMPORT
from .planning import Planner
from .report import Report
from .sources import MAX_EMPTY_RUN, FileProblem, open_source
from .validation import FileState, ImportContext, RowCleaner, merged_problems
from .writing import apply_plan, record_chunk

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
# Rows past this in one block are cut even in the middle of a household.
MAX_BLOCK = 4 * CHUNK_SIZE


@dataclass
class Outcome:
    total: int = 0
    valid: int = 0
    errors: int = 0
    committed: int = 0
    failed: bool = False
    timings: dict | None = None


def _mapping(batch) -> dict[int, str]:
    return {int(k): v for k, v in (batch.mapping or {}).items() if v}


def _source(batch):
    return open_source(
        batch.file.path,
        file_format=batch.file_format,
        encoding=batch.encoding or None,
        delimiter=batch.delimiter or None,
        sheet=batch.sheet or None,
    )


def _notice(source) -> str:
    if source.stopped_at is None:
        return ""

    return _(
        "Reading stopped after row %(row)s: the %(n)s rows below it were empty, so anything further down "
        "was not read."
    ) % {"row": source.stopped_at, "n": MAX_EMPTY_RUN}


def _relax_durability():
    """On PostgreSQL a chunk's commit does not wait for its WAL to reach disk.
    A database crash can then lose the last few chunks, but each as a whole
    and together with its ImportChunk row, so the batch simply resumes from
    the last chunk that survived: consistency is kept, and the import does
    not pay a disk flush per chunk."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


class Run:
    """One pass over the file. `commit=False` is the preview: nothing written."""

    def __init__(
        self, batch: ImportBatch, *, commit: bool, chunk_size: int | None = None, progress=None
    ):
        chunk_size = chunk_size or CHUNK_SIZE
        self.batch = batch
        self.commit = commit
        self.chunk_size = chunk_size
        self.max_block = max(chunk_size * 4, chunk_size + 1)
        self.progress = progress
        self.all_or_nothing = commit and batch.mode == ImportBatch.Mode.ALL_OR_NOTHING
        self.writing = commit
        self.stats: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self.committed = 0

    def execute(self) -> Outcome:
        batch = self.batch
        mapping = _mapping(batch)
        source = _source(batch)
        try:
            context = ImportContext(batch.office)
            merged = merged_problems(source.merged, batch.header_row, set(mapping))
            cleaner = RowCleaner(mapping=mapping, context=context, merged=merged)
            state = FileState(cleaner)
            planner = Planner(batch=batch, context=context, cleaner=cleaner, lock=self.commit)
            report = Report(columns=list(batch.columns), rtl=translation.get_language_bidi())
            chunks = (
                list(
                    batch.chunks.order_by("index").values(
                        "index", "last_row", "errors", "rows", "stats"
                    )
                )
                if self.commit
                else []
            )
            resume_after = chunks[-1]["last_row"] if chunks else batch.header_row
            stored = {}
            for chunk in chunks:
                self.committed += chunk["rows"]
                for key, n in (chunk["stats"] or {}).items():
                    self.stats[key] = self.stats.get(key, 0) + n
                for number, column, message in chunk["errors"]:
                    stored.setdefault(number, []).append((column, message))
            self.next_index = chunks[-1]["index"] + 1 if chunks else 0
            try:
                if self.all_or_nothing:
                    with transaction.atomic():
                        outcome = self._loop(
                            source, cleaner, state, planner, report, resume_after, stored
                        )
                        if outcome.errors:
                            transaction.set_rollback(True)
                            outcome.failed = True
                else:
                    outcome = self._loop(
                        source, cleaner, state, planner, report, resume_after, stored
                    )
            except BaseException:
                report.discard()
                raise
            self.report = report
            self.notice = _notice(source)
            return outcome
        finally:
            if hasattr(source, "close"):
                source.close()

    def _loop(self, source, cleaner, state, planner, report, resume_after, stored) -> Outcome:
        batch = self.batch
        self.planner, self.reporter = planner, report
        block: list = []
        values: dict[int, list] = {}
        refused: dict[int, tuple[list, list]] = {}
        first = None
        last = batch.header_row
        replay: list = []
        for raw in source.rows(max_columns=max(len(batch.columns), 1)):
            if raw.number <= batch.header_row:
                continue
            report.row_read()
            row, problems = cleaner.clean(raw)
            if row is not None:
                problems = state.check(row)
            if raw.number <= resume_after:
                # Committed by an earlier run: rebuild what the file said, write nothing.
                if raw.number in stored:
                    report.add(raw.number, raw.values, stored[raw.number])
                elif row is not None and not problems:
                    replay.append(row)
                    if len(replay) >= self.chunk_size:
                        planner.remember(replay)
                        replay = []
                last = raw.number
                continue
            if replay:
                planner.remember(replay)
                replay = []
            if row is not None and not problems:
                # Cut between households where possible, so a household's rows
                # are checked together.
                if len(block) >= self.chunk_size and (
                    row.ext_id != block[-1].ext_id or len(block) >= self.max_block
                ):
                    self._flush(block, values, refused, first, last)
                    block, values, refused, first = [], {}, {}, None
                block.append(row)
                values[raw.number] = raw.values
            else:
                refused[raw.number] = (raw.values, problems)
            if first is None:
                first = raw.number
            last = raw.number
            if len(refused) >= self.max_block:
                self._flush(block, values, refused, first, last)
                block, values, refused, first = [], {}, {}, None
        if replay:
            planner.remember(replay)
        if block or refused:
            self._flush(block, values, refused, first, last)
        self._finish(last)
        return Outcome(
            total=report.total,
            valid=report.valid_rows,
            errors=report.error_rows,
            committed=self.committed,
            timings=self.timings,
        )

    def _flush(self, block, values, refused, first, last):
        if self.commit and not self.all_or_nothing:
            with transaction.atomic():
                _relax_durability()
                self._process(block, values, refused, first, last, write=True)
        else:
            self._process(block, values, refused, first, last, write=self.writing)
        if self.progress:
            self.progress(self.reporter.total, self.committed)
        if not self.commit:
            ImportBatch.objects.filter(pk=self.batch.pk).update(processed_rows=self.reporter.total)

    def _finish(self, last):
        """The households whose columns could only be settled at the end."""
        if self.commit and not self.all_or_nothing:
            with transaction.atomic():
                self._write_final(last)
        else:
            self._write_final(last)

    def _write_final(self, last):
        plan = self.planner.finish()
        for key, n in plan.stats.items():
            self.stats[key] = self.stats.get(key, 0) + n
        if not (self.commit and self.writing) or plan.is_empty:
            return
        undo = apply_plan(plan, batch=self.batch, timings=self.timings)
        record_chunk(
            batch=self.batch,
            index=self.next_index,
            first_row=last,
            last_row=last,
            rows=0,
            undo=undo,
            errors=[],
            stats=plan.stats,
            actor=self.batch.uploaded_by,
        )
        self.next_index += 1

    def _process(self, block, values, refused, first, last, *, write):
        """Check a block against the registry and, when writing, write it with its chunk row."""
        batch, planner, report = self.batch, self.planner, self.reporter
        plan = planner.plan(block)
        errors = dict(refused)
        for number, problems in plan.errors.items():
            errors[number] = (values.get(number) or [], problems)
        record = []
        for number in sorted(errors):
            row_values, problems = errors[number]
            report.add(number, row_values, problems)
            record.extend([number, column, message] for column, message in problems)
        for key, n in plan.stats.items():
            self.stats[key] = self.stats.get(key, 0) + n
        if self.all_or_nothing and errors:
            # The first refused row ends the writing; the rest of the file is only checked.
            self.writing = write = False
            planner.lock = False
        if not write:
            return
        undo = apply_plan(plan, batch=batch, timings=self.timings)
        self.committed += plan.rows
        record_chunk(
            batch=batch,
            index=self.next_index,
            first_row=first or last,
            last_row=last,
            rows=plan.rows,
            undo=undo,
            errors=record,
            stats=plan.stats,
            actor=batch.uploaded_by,
        )
        self.next_index += 1
        seconds = LONG_LEASE_SECONDS if self.all_or_nothing else LEASE_SECONDS
        ImportBatch.objects.filter(pk=batch.pk).update(
            processed_rows=report.total,
            committed_rows=self.committed,
            lease_until=timezone.now() + timezone.timedelta(seconds=seconds),
            updated_at=timezone.now(),
        )


# --- Running a batch --------------------------------------------------------------------

UNEXPECTED = gettext_lazy(
    "The import stopped because of an unexpected error. The rows committed so far are kept; "
    "resume it, or roll it back."
)


def fail(batch: ImportBatch, message: str, *, user=None) -> None:
    """The whole file is refused (or the run stopped): the batch is failed,
    with the reason shown to the user."""
    batch.failure = message
    batch.finished_at = timezone.now()
    with transaction.atomic():
        IMPORT.move(
            batch,
            user=user,
            name="failed",
            fields=["failure", "finished_at"],
            changes={"failure": [None, str(message)[:500]]},
            on_behalf_of=batch.uploaded_by if user is None else None,
        )


def worker_move(batch: ImportBatch, name: str, **move) -> None:
    """A step the background worker finishes for the uploader: recorded on
    their behalf, in its own transaction. `move` holds the fields and changes."""
    with transaction.atomic():
        IMPORT.move(batch, user=None, name=name, on_behalf_of=batch.uploaded_by, **move)


# What a finished pass writes on the batch.
REPORT_FIELDS = (
    "total_rows",
    "valid_rows",
    "error_rows",
    "processed_rows",
    "errors",
    "stats",
    "notice",
    "error_file",
)


def _finish_report(batch: ImportBatch, run: Run, outcome: Outcome) -> None:
    run.report.save_to(batch)
    batch.total_rows = outcome.total
    batch.valid_rows = outcome.valid
    batch.error_rows = outcome.errors
    batch.processed_rows = outcome.total
    batch.errors = run.report.first_errors
    batch.stats = {"columns": run.report.by_column, "counts": run.stats}
    batch.notice = run.notice


def check_batch(batch_id: int) -> str:
    """The preview: check every row, write nothing but the batch's report."""
    try:
        batch = claim(batch_id)
    except BatchBusy:
        return "busy"
    try:
        if batch.status != ImportBatch.Status.VALIDATING:
            return "skipped"
        with translation.override(batch.language or "fa"):
            run = Run(batch, commit=False)
            try:
                outcome = run.execute()
            except FileProblem as exc:
                fail(batch, exc.message)
                return "failed"
            except Exception:
                logger.exception("checking import %s failed", batch.pk)
                fail(
                    batch,
                    _(
                        "The file could not be checked because of an unexpected error. Try again; if it "
                        "happens again, send the file to the system's administrators."
                    ),
                )
                return "failed"
            _finish_report(batch, run, outcome)
            batch.failure = ""
            worker_move(
                batch,
                "validated",
                fields=[*REPORT_FIELDS, "failure"],
                changes={
                    "rows": [None, outcome.total],
                    "valid": [None, outcome.valid],
                    "errors": [None, outcome.errors],
                },
            )
        return "validated"
    finally:
        release(batch)


def commit_batch(batch_id: int, *, chunk_size: int | None = None, progress=None) -> Outcome | None:
    """Write the batch's valid rows (resuming after its committed chunks), or,
    in all-or-nothing mode, everything or nothing. Raises BatchBusy when a
    live process holds the batch."""
    mode = ImportBatch.objects.filter(pk=batch_id).values_list("mode", flat=True).first()
    long_run = mode == ImportBatch.Mode.ALL_OR_NOTHING
    batch = claim(batch_id, seconds=LONG_LEASE_SECONDS if long_run else LEASE_SECONDS)
    try:
        if batch.status not in (
            ImportBatch.Status.COMMITTING,
            ImportBatch.Status.FAILED,
            ImportBatch.Status.VALIDATED,
        ):
            return None
        if batch.status != ImportBatch.Status.COMMITTING:
            with transaction.atomic():
                IMPORT.move(batch, user=None, name="commit_run", on_behalf_of=batch.uploaded_by)
        with translation.override(batch.language or "fa"):
            run = Run(batch, commit=True, chunk_size=chunk_size or CHUNK_SIZE, progress=progress)
            try:
                outcome = run.execute()
            except FileProblem as exc:
                fail(batch, exc.message)
                return Outcome(failed=True)
            except Exception:
                logger.exception("import %s failed", batch.pk)
                fail(batch, str(UNEXPECTED))
                raise
            batch.refresh_from_db(fields=["committed_rows"])
            _finish_report(batch, run, outcome)
            batch.finished_at = timezone.now()
            if outcome.failed:
                batch.committed_rows = 0
                batch.failure = _(
                    "%(n)s rows have errors, and the import was “all or nothing”, so nothing was "
                    "imported. Correct the rows in the error file, or import the valid rows only."
                ) % {"n": outcome.errors}
            else:
                batch.committed_rows = outcome.committed
                batch.failure = ""
            worker_move(
                batch,
                "failed" if outcome.failed else "committed",
                fields=[*REPORT_FIELDS, "failure", "committed_rows", "finished_at"],
                changes={
                    "rows": [None, outcome.total],
                    "committed": [None, batch.committed_rows],
                    "errors": [None, outcome.errors],
                },
            )
            return outcome
    finally:
        release(batch)
