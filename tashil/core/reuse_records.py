"""Creating a record the way every service does: validate, then save it and
its audit row in one transaction, so a record never exists without its row."""

from django.db import transaction

from . import audit


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


def record_in_office(office, action: str, obj, changes, *, actor):
    """The audit row of a change made inside `office`: the office's and its
    province's managers see it."""
    return audit.record(
        actor=actor,
        action=action,
        obj=obj,
        changes=changes,
        province=office.province,
        office=office,
    )
