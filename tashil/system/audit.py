"""Who may browse which audit rows, and how a row is shown to them.

The rule (the same on the log page and in the admin):

- Browsing: national administrators see every row, province managers the rows
  of their provinces, office managers the rows of their offices. Other roles
  do not see the log.
- Identifiers are masked when the row is written (`tashil.core.audit`).
- Health (`HEALTH_FIELDS`) is never shown in the log, to any role: the row
  says the field changed, not to what.
- A resident's name (`NAME_FIELDS`, and the object name of a person or
  household row) is shown only to a viewer who may open that person's or
  household's record in full now; anyone else sees it masked. Outside the
  national level the log's search does not match residents' names, so a
  masked name cannot be found out by searching for it.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tashil.accounts.scopes import scope_of
from tashil.core.audit import (
    HEALTH_FIELDS,
    NAME_FIELDS,
    is_personal_type,
    mask,
    visible_personal_ids,
)
from tashil.core.exports import deliver
from tashil.core.models import AuditLog

from .permissions import AUDIT_READERS


def record_export(*, user, action: str, object_type: str, kind: str, changes: dict) -> AuditLog:
    """The audit row of an export, which has no one object: it belongs to the
    user's office or province when the user has exactly one."""
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


def deliver_recorded(
    exporter,
    *,
    user,
    params: dict,
    file_format: str,
    queryset,
    direct_limit: int,
    action: str,
    object_type: str,
    counted_as: str,
    personal_data: bool,
    filter_keys,
):
    """The common end of every list export: a filter that did not validate
    (`queryset` None) is refused; one audit row says who took which list, how
    many rows and whether with personal data; then the file or its job."""
    if queryset is None:
        raise ValidationError({"format": _("Correct the filter before exporting.")})
    total = queryset.count()
    record_export(
        user=user,
        action=action,
        object_type=object_type,
        kind=exporter.kind,
        changes={
            counted_as: [None, total],
            "personal_data": [None, personal_data],
            "filter": [None, sorted(filter_keys)],
        },
    )
    return deliver(
        exporter,
        user=user,
        params=params,
        file_format=file_format,
        total=total,
        direct_limit=direct_limit,
    )


def audit_visible_to(user):
    """Audit rows a user may browse: national admins all, province managers
    their provinces, office managers their offices."""
    return scope_of(user).filter(AuditLog.objects.select_related("actor"), AUDIT_READERS)


HIDDEN = _("(hidden)")


def present(entries, viewer) -> list[dict]:
    """The rows as `viewer` may see them (the rule in this module's
    docstring): {"entry", "object", "changes": [{"field", "old", "new",
    "withheld"}]}, where `withheld` means the values are not shown at all."""
    entries = list(entries)
    national = scope_of(viewer).is_national  # may open every record
    wanted: dict[str, set[str]] = {}
    for entry in entries:
        if is_personal_type(entry.object_type) and not national:
            wanted.setdefault(entry.object_type, set()).add(entry.object_id)
    visible = {
        object_type: visible_personal_ids(object_type, viewer, ids)
        for object_type, ids in wanted.items()
    }
    rows = []
    for entry in entries:
        personal = is_personal_type(entry.object_type)
        in_full = national or not personal or entry.object_id in visible.get(entry.object_type, ())
        changes = []
        for field, values in (entry.changes or {}).items():
            pair = list(values)[:2] if isinstance(values, (list, tuple)) else [None, values]
            old, new = (pair + [None, None])[:2]
            withheld = field in HEALTH_FIELDS
            if withheld:
                old = new = None
            elif field in NAME_FIELDS and not in_full:
                old = mask(old) if old else old
                new = mask(new) if new else new
            changes.append({"field": field, "old": old, "new": new, "withheld": withheld})
        rows.append(
            {
                "entry": entry,
                "object": entry.object_repr if in_full else f"{HIDDEN} #{entry.object_id}",
                "changes": changes,
            }
        )
    return rows
