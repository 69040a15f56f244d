"""An import's life cycle as named transitions (`tashil.core.transitions`).

Every change of `ImportBatch.status` goes through `IMPORT`, which writes the
audit row of the move. A batch has no version field: the status read is the
lock (a conditional UPDATE from it), so two processes never both move it.

`user=None` is the application itself: a background task or the command
line, whose operator has the server's shell."""

from django.utils.translation import gettext_lazy as _

from tashil.core.transitions import STATE, Machine, Transition, system

from ..models import ImportBatch
from ..permissions import can_manage_office_registry
from .lease import is_stalled

S = ImportBatch.Status
# A check, commit or rollback whose process died may be taken over.
RUNNING = {S.VALIDATING, S.COMMITTING, S.ROLLING_BACK}


def can_import(user, office) -> bool:
    return can_manage_office_registry(user, office)


def _importer(user, batch) -> bool:
    return user is None or can_import(user, batch.office)


def resumable(batch) -> bool:
    """A commit that stopped part-way: failed after some chunks (valid-rows
    mode), or left running by a process that is gone."""
    if batch.status == S.COMMITTING:
        return is_stalled(batch)
    return batch.mode == ImportBatch.Mode.VALID_ROWS and batch.chunks.exists()


def rollbackable(batch) -> bool:
    """Something was written, and no live process is writing more."""
    if not batch.chunks.exists():
        return False
    return batch.status in (S.COMMITTED, S.FAILED) or is_stalled(batch)


IMPORT = Machine(
    states=S,
    lock=STATE,
    action="registry.import_{name}",
    where=lambda batch: (batch.office.province, batch.office),
    refused=_("An import that is “%(from)s” cannot become “%(to)s”."),
    transitions=[
        # The reading task: the header and the rows are known, or the file is refused.
        Transition("inspected", {S.INSPECTING}, S.UPLOADED, system),
        # The user chooses the columns; the check (the preview) starts.
        Transition(
            "mapping",
            {S.UPLOADED, S.MAPPED, S.VALIDATED, S.FAILED, S.VALIDATING},
            S.VALIDATING,
            _importer,
        ),
        Transition("validated", {S.VALIDATING}, S.VALIDATED, system),
        Transition("commit_start", {S.VALIDATED, S.FAILED}, S.COMMITTING, _importer),
        # The command line maps and commits in one step; rows are checked while committing.
        Transition(
            "start", {S.UPLOADED}, S.COMMITTING, _importer, action="registry.import_commit_start"
        ),
        # A worker takes up a batch to commit that nobody moved on yet.
        Transition("commit_run", {S.VALIDATED, S.FAILED}, S.COMMITTING, system),
        Transition(
            "resume",
            {S.COMMITTING, S.FAILED},
            S.COMMITTING,
            _importer,
            when=resumable,
            unmet=_("This import is not stopped, so there is nothing to resume."),
        ),
        Transition("committed", {S.COMMITTING}, S.COMMITTED, system),
        Transition(
            "failed", {S.INSPECTING, S.UPLOADED, S.VALIDATING, S.COMMITTING}, S.FAILED, _importer
        ),
        Transition(
            "rollback_start",
            {S.COMMITTED, S.FAILED, *RUNNING},
            S.ROLLING_BACK,
            _importer,
            when=rollbackable,
            unmet=_("This import has nothing to roll back now."),
        ),
        Transition("rolled_back", {S.ROLLING_BACK}, S.ROLLED_BACK, _importer),
        # Records changed since the import: the batch goes back to where it was.
        *(
            Transition("rollback_refused", {S.ROLLING_BACK}, state, _importer)
            for state in (S.COMMITTED, S.FAILED, *RUNNING)
        ),
    ],
)
