"""The audit log: every write made through a service records who changed what.

Who sees what in the log (the rule `tashil.system.audit.present` applies, on
the log page and in the admin alike; this module writes the rows and holds the
field lists, the browsing rules need users' scopes and live in `system`):

- Browsing: national administrators see every row, province managers the rows
  of their provinces, office managers the rows of their offices. Other roles
  do not see the log.
- Identifiers (`PII_FIELDS`: national code, mobile, phone, email, address,
  birth date, password) are masked when the row is written, so nobody sees
  them in clear in the log.
- Health (`HEALTH_FIELDS`: disability, its note, chronic illness, health
  insurance) is never shown in the log, to any role: the row says the field
  changed, not to what. The person's page shows it, and opening that page is
  recorded (registry.PersonalDataAccess).
- A resident's name (`NAME_FIELDS`, and the object name of a person or
  household row) is shown only to a viewer who may open that person's or
  household's record in full now; anyone else sees it masked. Outside the
  national level the log's search does not match residents' names, so a
  masked name cannot be found out by searching for it.
"""

from collections.abc import Callable

from django.db import models

from .models import AuditLog

# Field names whose values are personal data, masked when stored. Extend as apps add fields.
PII_FIELDS = {"national_code", "mobile", "phone", "email", "address", "password", "birth_date"}
# Stored as they are, never shown in the log.
HEALTH_FIELDS = {"has_disability", "disability_note", "chronic_illness", "health_insurance"}
# Shown only to a viewer who may open the resident's record.
NAME_FIELDS = {"first_name", "last_name", "father_name", "given_by", "submitter_name"}

# object_type -> function(user, ids) -> the ids among them whose record the
# user may open in full. Apps that keep residents register here (registry).
_PERSONAL_TYPES: dict[str, Callable] = {}


def register_personal_type(object_type: str, visible_ids: Callable) -> None:
    _PERSONAL_TYPES[object_type] = visible_ids


def personal_types() -> list[str]:
    return sorted(_PERSONAL_TYPES)


def is_personal_type(object_type: str) -> bool:
    return object_type in _PERSONAL_TYPES


def visible_personal_ids(object_type: str, user, ids) -> set[str]:
    """The ids among `ids` (of a registered personal type) whose record
    `user` may open in full."""
    return {str(pk) for pk in _PERSONAL_TYPES[object_type](user, ids)}


def mask(value) -> str:
    text = "" if value is None else str(value)
    if len(text) <= 4:
        return "*" * len(text)
    return text[:2] + "*" * (len(text) - 4) + text[-2:]


def _plain(value):
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(_plain(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def snapshot(instance, fields) -> dict:
    """The current values of `fields` (FKs as ids), to diff against later."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(
                str(pk) for pk in getattr(instance, name).values_list("pk", flat=True)
            )
        elif field.is_relation:
            values[name] = _plain(getattr(instance, field.attname))
        else:
            values[name] = _plain(getattr(instance, name))
    return values


def diff(before: dict, after: dict) -> dict:
    """{"field": [old, new]} for the fields that changed, PII masked."""
    changes = {}
    for name, new in after.items():
        old = before.get(name)
        if old != new:
            if name in PII_FIELDS:
                old, new = mask(old) if old else old, mask(new) if new else new
            changes[name] = [old, new]
    return changes


def record(*, actor, action: str, obj, changes=None, province=None, office=None) -> AuditLog:
    """Write one audit row. Call it inside the service's transaction."""
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        changes=changes or {},
        province=province,
        office=office,
    )


def record_in_office(office, action: str, obj, changes, *, actor):
    """The audit row of a change made inside `office`: the office's and its
    province's managers see it."""
    return record(
        actor=actor,
        action=action,
        obj=obj,
        changes=changes,
        province=office.province,
        office=office,
    )
