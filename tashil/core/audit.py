"""The audit log: every write made through a service records who changed what.

Personal data is masked in the stored changes, so the log itself can be
browsed by managers without exposing it."""

from django.db import models

from .models import AuditLog

# Field names whose values are personal data. Extend as apps add fields.
PII_FIELDS = {"national_code", "mobile", "phone", "email", "address", "password", "birth_date"}


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


def record_export(*, user, action: str, object_type: str, kind: str, changes: dict) -> AuditLog:
    """The audit row of an export, which has no one object: it belongs to the
    user's office or province when the user has exactly one."""
    from tashil.accounts.scopes import scope_of

    scope = scope_of(user)
    return AuditLog.objects.create(
        actor=user,
        action=action,
        object_type=object_type,
        object_id="",
        object_repr=kind,
        changes=changes,
        office_id=next(iter(scope.office_ids)) if len(scope.office_ids) == 1 else None,
        province_id=(
            next(iter(scope.managed_province_ids)) if len(scope.managed_province_ids) == 1 else None
        ),
    )


class AuditLogQuerySet(models.QuerySet):
    pass


def audit_visible_to(user):
    """Audit rows a user may browse: national admins all, province managers
    their provinces, office managers their offices."""
    from tashil.accounts.scopes import scope_of

    scope = scope_of(user)
    qs = AuditLog.objects.select_related("actor")
    if scope.is_national:
        return qs
    q = models.Q(province_id__in=scope.managed_province_ids) | models.Q(
        office_id__in=scope.managed_office_ids
    )
    if not scope.managed_province_ids and not scope.managed_office_ids:
        return qs.none()
    return qs.filter(q)
