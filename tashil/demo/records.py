"""Bookkeeping of the demo loaders: write a row only when a value differs,
and count what was created, updated or left alone."""

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Report:
    counts: dict = field(default_factory=lambda: defaultdict(Counts))
    boundaries_changed: bool = False
    # Off by default: `make run` seeds on every start, and a user's edits to a
    # demo office or agency must survive a restart. --refresh restores them.
    refresh: bool = False

    def count(self, label: str, outcome: str) -> None:
        setattr(self.counts[label], outcome, getattr(self.counts[label], outcome) + 1)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.counts.values())


def _column_value(instance, name):
    f = instance._meta.get_field(name)
    return getattr(instance, f.attname if f.is_relation else name)


def upsert(
    model, lookup: dict, values: dict, report: Report, label: str, *, on_create=None, derived=()
):
    """Create the row matching `lookup`, or bring its `values` up to date.
    Returns the instance and "created", "updated" or "unchanged".

    `derived` names fields that `refresh_derived_fields()` computes; they are
    compared too, so a changed name updates the search key."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
        if derived:
            instance.refresh_derived_fields()
        if on_create:
            on_create(instance)
        instance.save()
        report.count(label, "created")
        return instance, "created"

    if not report.refresh:
        report.count(label, "unchanged")
        return instance, "unchanged"

    watched = [*values, *derived]
    before = {name: _column_value(instance, name) for name in watched}
    for name, value in values.items():
        setattr(instance, name, value)
    if derived:
        instance.refresh_derived_fields()
    changed = [name for name in watched if _column_value(instance, name) != before[name]]
    if not changed:
        report.count(label, "unchanged")
        return instance, "unchanged"
    update_fields = list(changed)
    field_names = {f.name for f in model._meta.concrete_fields}
    if "version" in field_names:
        # Anyone holding the old version must see a conflict, not overwrite this.
        instance.version += 1
        update_fields.append("version")
    if "updated_at" in field_names:
        update_fields.append("updated_at")
    instance.save(update_fields=update_fields)
    report.count(label, "updated")
    return instance, "updated"


def sync_m2m(instance, name: str, targets, report: Report, label: str, *, outcome: str) -> None:
    """Make a many-to-many relation hold exactly `targets`. `outcome` is what
    upsert() counted for `instance`; if that was "unchanged" but the relation
    changed, the object is recounted as updated."""
    if outcome == "unchanged" and not report.refresh:
        return
    manager = getattr(instance, name)
    wanted = {t.pk for t in targets}
    if set(manager.values_list("pk", flat=True)) == wanted:
        return
    manager.set(wanted)
    if outcome == "unchanged":
        counts = report.counts[label]
        counts.unchanged -= 1
        counts.updated += 1
        if hasattr(instance, "version"):
            # Served areas are part of the record an editor may hold open.
            instance.version += 1
            instance.save(update_fields=["version", "updated_at"])
