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
