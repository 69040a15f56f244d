"""Writing a checked block of rows, and undoing a batch.

A block is written in the transaction it was checked in, together with its
ImportChunk row: after a crash, the committed chunks are exactly what was
written. Each chunk keeps what undoing it needs: the ids it created, the
values it replaced and the versions it left, so a rollback can tell when
someone changed a record after the import and refuse rather than overwrite.
"""

import datetime as dt
import time

from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from tashil.core import audit
from tashil.core.text import join_words

from .. import vulnerability
from ..models import Household, ImportBatch, ImportChunk, Membership, Person
from .bulk import insert_rows, update_rows
from .planning import Plan
from .validation import HEAD


class RollbackRefused(Exception):
    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)


def _json(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _from_json(model, name, value):
    if value is None:
        return None
    return model._meta.get_field(name).to_python(value)


def apply_plan(plan: Plan, *, batch: ImportBatch, timings: dict | None = None) -> dict:
    """Make the plan's writes; returns the chunk's undo record. Call inside
    the chunk's transaction. `timings` collects seconds spent writing and
    scoring, for the command line's report."""
    started = time.perf_counter()
    household_ids = insert_rows(Household, [values for _ext, values in plan.household_creates])
    person_ids = insert_rows(Person, plan.person_creates)

    def resolve(ref, ids):
        return ids[ref[1]] if isinstance(ref, tuple) else ref

    update_rows(
        Membership,
        [
            (pk, {"left_on": left_on, "end_reason": Membership.EndReason.MOVED})
            for pk, _hh, left_on in plan.membership_ends
        ],
    )
    # Demotions before promotions: a household has one current head at every moment.
    demotions = [
        (pk, {"relation": new}) for pk, _hh, new, _old in plan.relation_changes if new != HEAD
    ]
    promotions = [
        (pk, {"relation": new}) for pk, _hh, new, _old in plan.relation_changes if new == HEAD
    ]
    update_rows(Membership, demotions)
    update_rows(Membership, promotions)
    membership_ids = insert_rows(
        Membership,
        [
            {
                "household_id": resolve(hh, household_ids),
                "person_id": resolve(person, person_ids),
                "relation": relation,
                "joined_on": joined_on,
            }
            for hh, person, relation, joined_on in plan.membership_creates
        ],
    )
    update_rows(
        Household,
        [(pk, changes) for pk, _v, changes, _old in plan.household_updates],
        bump_version=True,
    )
    update_rows(
        Person, [(pk, changes) for pk, _v, changes, _old in plan.person_updates], bump_version=True
    )
    written = time.perf_counter()
    vulnerability.recompute(set(household_ids) | plan.touched)
    if timings is not None:
        timings["writing"] = timings.get("writing", 0.0) + written - started
        timings["scoring"] = timings.get("scoring", 0.0) + time.perf_counter() - written
    return {
        "households": household_ids,
        "persons": person_ids,
        "memberships": membership_ids,
        "household_updates": [
            [pk, v, v + 1, {k: _json(x) for k, x in old.items()}]
            for pk, v, _c, old in plan.household_updates
        ],
        "person_updates": [
            [pk, v, v + 1, {k: _json(x) for k, x in old.items()}]
            for pk, v, _c, old in plan.person_updates
        ],
        "membership_ends": [pk for pk, _hh, _d in plan.membership_ends],
        "relation_changes": [[pk, old, new] for pk, _hh, new, old in plan.relation_changes],
        "rescored": sorted(plan.touched),
    }


def record_chunk(
    *, batch, index, first_row, last_row, rows, undo, errors, stats, actor
) -> ImportChunk:
    chunk = ImportChunk.objects.create(
        batch=batch,
        index=index,
        first_row=first_row,
        last_row=last_row,
        rows=rows,
        undo=undo,
        errors=errors,
        stats=stats,
    )
    # One audit row per chunk, not per person: the chunk itself lists every id.
    audit.record(
        actor=actor,
        action="registry.import_chunk",
        obj=batch,
        changes={
            "chunk": [None, index],
            "rows": [first_row, last_row],
            **{k: [None, v] for k, v in sorted(stats.items())},
        },
        province=batch.office.province,
        office=batch.office,
    )
    return chunk


# --- Rollback ---------------------------------------------------------------------------


def _refuse(message):
    raise RollbackRefused(message)


def _restore(model, updates, what):
    for pk, before, after, old in reversed(updates):
        values = {name: _from_json(model, name, value) for name, value in old.items()}
        values["updated_at"] = timezone.now()
        done = model.objects.filter(pk=pk, version=after).update(version=before, **values)
        if not done:
            _refuse(
                _(
                    "%(what)s #%(id)s was changed after the import, so the import cannot be rolled back "
                    "automatically. Correct the records by hand instead."
                )
                % {"what": what, "id": pk}
            )


def _delete(queryset, allowed: set[str], what: str):
    try:
        _count, per_model = queryset.delete()
    except (ProtectedError, RestrictedError):
        _refuse(
            _(
                "Some %(what)s created by this import are now used elsewhere (for example by a demand), so the "
                "import cannot be rolled back."
            )
            % {"what": what}
        )
    extra = sorted(label for label, n in per_model.items() if n and label not in allowed)
    if extra:
        from django.apps import apps

        names = join_words(apps.get_model(label)._meta.verbose_name_plural for label in extra)
        _refuse(
            _(
                "Records were added to %(what)s of this import after it was committed (%(models)s), so the "
                "import cannot be rolled back. Correct the records by hand instead."
            )
            % {"what": what, "models": names}
        )


def rollback_chunk(chunk: ImportChunk) -> set[int]:
    """Undo one chunk; returns the ids of surviving households to rescore.
    Raises RollbackRefused when a record changed after the import."""
    undo = chunk.undo or {}
    created = undo.get("memberships", [])
    if created:
        intact = Membership.objects.current().filter(pk__in=created).count()
        if intact != len(created):
            _refuse(
                _(
                    "Household memberships created by this import were ended or removed afterwards, so the "
                    "import cannot be rolled back automatically."
                )
            )
        Membership.objects.filter(pk__in=created).delete()
    changes = undo.get("relation_changes", [])
    # Undo promotions before restoring the old head.
    for pk, old, new in sorted(reversed(changes), key=lambda c: c[2] != HEAD):
        if (
            not Membership.objects.current()
            .filter(pk=pk, relation=new)
            .update(relation=old, updated_at=timezone.now())
        ):
            _refuse(
                _(
                    "A relation changed by this import was changed again afterwards, so the import cannot be "
                    "rolled back automatically."
                )
            )
    ends = undo.get("membership_ends", [])
    if ends:
        try:
            reopened = Membership.objects.filter(
                pk__in=ends, end_reason=Membership.EndReason.MOVED
            ).update(left_on=None, end_reason="", updated_at=timezone.now())
        except IntegrityError:
            reopened = -1
        if reopened != len(ends):
            _refuse(
                _(
                    "People this import moved between households have moved again since, so the import cannot "
                    "be rolled back automatically."
                )
            )
    _restore(Person, undo.get("person_updates", []), _("Person"))
    _restore(Household, undo.get("household_updates", []), _("Household"))
    for model, key, labels, edited, noun in (
        (
            Person,
            "persons",
            {"registry.Person", "registry.PersonalDataAccess"},
            _(
                "People added by this import were edited afterwards, so the import cannot be rolled back "
                "automatically."
            ),
            _("people"),
        ),
        (
            Household,
            "households",
            {"registry.Household", "registry.HouseholdVulnerability"},
            _(
                "Households added by this import were edited afterwards, so the import cannot be rolled "
                "back automatically."
            ),
            _("households"),
        ),
    ):
        added = undo.get(key, [])
        if added:
            if model.objects.filter(pk__in=added).exclude(version=1).exists():
                _refuse(edited)
            _delete(model.objects.filter(pk__in=added), labels, noun)
    rescore = set(undo.get("rescored", [])) | {
        hh for hh in Membership.objects.filter(pk__in=ends).values_list("household_id", flat=True)
    }
    chunk.delete()
    return rescore - set(undo.get("households", []))


def rollback_chunks(batch: ImportBatch) -> int:
    """Undo every chunk of `batch`, newest first. Call inside one transaction:
    a refusal part-way leaves everything as it was."""
    rescore: set[int] = set()
    rows = 0
    for chunk in batch.chunks.order_by("-index"):
        rows += chunk.rows
        rescore |= rollback_chunk(chunk)
    vulnerability.recompute(rescore)
    return rows
