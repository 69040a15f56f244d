"""Helpers shared by the domain services in every app."""

from django.db import transaction
from django.utils import timezone

from . import audit
from .errors import ConflictError


def save_versioned(
    instance, *, fields: list[str], expected_version: int | None, before: dict
) -> dict:
    """Validate and save `fields` of a VersionedModel with optimistic locking.

    `before` is `audit.snapshot(instance, fields)` taken before the caller set
    the new values. The UPDATE only matches the version the user loaded; if
    someone saved in between, nothing is written and ConflictError is raised.
    Returns the audit diff of the concrete fields. Must run in a transaction."""
    assert transaction.get_connection().in_atomic_block, "save_versioned needs a transaction"
    instance.full_clean()
    meta = instance._meta
    concrete = [f for f in fields if not meta.get_field(f).many_to_many]
    current = expected_version if expected_version is not None else instance.version
    values = {
        meta.get_field(f).attname: getattr(instance, meta.get_field(f).attname) for f in concrete
    }
    instance.updated_at = timezone.now()
    values["updated_at"] = instance.updated_at
    updated = (
        type(instance)
        .objects.filter(pk=instance.pk, version=current)
        .update(version=current + 1, **values)
    )
    if not updated:
        raise ConflictError()
    instance.version = current + 1
    return audit.diff(before, audit.snapshot(instance, concrete))


def loaded_foreign_keys(instance) -> list[str]:
    """Foreign keys of `instance` that point at a saved object held in memory.

    Passed to `full_clean(exclude=...)`: its existence check costs a query per
    key and only repeats what loading the object proved, while the database's
    foreign key constraint still guards the write. Keys with
    `limit_choices_to` keep their check, which says more than existence."""
    names = []
    for field in instance._meta.concrete_fields:
        if not field.many_to_one or field.get_limit_choices_to() or not field.is_cached(instance):
            continue
        related = field.get_cached_value(instance)
        if (
            related is not None
            and not related._state.adding
            and getattr(related, field.target_field.attname) == getattr(instance, field.attname)
        ):
            names.append(field.name)
    return names


def create_audited(instance, fields, *, actor, action: str, province=None, office=None):
    """Validate and save a new `instance`; its audit row lists `fields` as set."""
    instance.full_clean()
    with transaction.atomic():
        instance.save()
        audit.record(
            actor=actor,
            action=action,
            obj=instance,
            changes=audit.diff({}, audit.snapshot(instance, fields)),
            province=province,
            office=office,
        )
    return instance


def reject_unknown(fields, allowed, what: str) -> None:
    """A write service's guard on its keyword fields: a caller's typo must
    fail loudly, not be dropped as if it were saved."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown {what} fields: {sorted(unknown)}")
