"""How registry rows are shown: the household map's GeoJSON, the audit
history in readable words, and a person's fields side by side."""

import datetime as dt

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tashil.core import jalali
from tashil.geo.views import map_context

from .models import Consent, Household, Membership, Person


def household_map(household, current_members):
    """A small map: the neighbourhood, the hazard zone and the household's point."""

    features = []
    if household.area.boundary:
        features.append(
            {
                "type": "Feature",
                "geometry": household.area.boundary,
                "properties": {
                    "name": household.area.name,
                    "level": "neighbourhood",
                    "is_marginal": household.area.is_marginal,
                },
            }
        )
    if household.hazard_zone_id:
        zone = household.hazard_zone
        features.append(
            {
                "type": "Feature",
                "geometry": zone.boundary,
                "properties": {
                    "name": zone.name,
                    "kind": "hazard",
                    "hazard_type": zone.get_hazard_type_display(),
                    "risk_label": zone.get_risk_level_display(),
                },
            }
        )
    markers = []
    if household.latitude is not None:
        head = next((m for m in current_members if m.relation == Membership.Relation.HEAD), None)
        markers.append(
            {
                "code": str(household.pk),
                "name": str(head.person) if head else _("Household"),
                "status": "active",
                "status_label": _("Household"),
                "lat": household.latitude,
                "lng": household.longitude,
                "url": "",
            }
        )
    context = map_context()
    context["map_labels"] = {
        **context["map_labels"],
        "status_active": _("Household"),
        "offices": "",
    }
    return {
        **context,
        "map_data": {"type": "FeatureCollection", "features": features},
        "map_markers": markers,
    }


ACTION_LABELS = {
    "household.create": _lazy("Household registered"),
    "household.update": _lazy("Household changed"),
    "household.refer": _lazy("Referred to an agency"),
    "membership.add": _lazy("Member added"),
    "membership.end": _lazy("Membership ended"),
    "membership.relation": _lazy("Relation changed"),
    "consent.record": _lazy("Consent recorded"),
    "consent.withdraw": _lazy("Consent withdrawn"),
    "person.create": _lazy("Person registered"),
    "person.update": _lazy("Person's details changed"),
    "person.merge": _lazy("Duplicate record merged in"),
    "person.merged_into": _lazy("Record merged into another"),
    "person.not_duplicate": _lazy("Marked as not a duplicate"),
}
CHOICE_FIELDS = {
    "relation": dict(Membership.Relation.choices),
    "end_reason": dict(Membership.EndReason.choices),
    "consent": dict(Consent.Purpose.choices),
}


def _field_label(name):
    for model in (Household, Person, Membership):
        try:
            return model._meta.get_field(name).verbose_name
        except FieldDoesNotExist:
            continue
    return name


def _value_label(name, value, people):
    if value in (None, ""):
        return "—"
    if name in CHOICE_FIELDS:
        return CHOICE_FIELDS[name].get(value, value)
    if name in ("person", "merged", "merged_into", "not_duplicate_of"):
        return people.get(str(value), value)
    for model in (Household, Person):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.choices:
            return dict(field.choices).get(value, value)
        if isinstance(value, bool):
            return _("yes") if value else _("no")
    return value


def describe_history(entries, people: dict) -> list[dict]:
    """Audit rows as the household page shows them: what happened, to whom,
    and each change with readable names. Personal data stays masked."""
    rows = []
    for entry in entries:
        subject = people.get(entry.object_id) if entry.object_type == "registry.person" else None
        rows.append(
            {
                "at": entry.at,
                "actor": entry.actor,
                "label": ACTION_LABELS.get(entry.action, entry.action),
                "subject": subject,
                "changes": [
                    (
                        _field_label(name),
                        _value_label(name, values[0], people),
                        _value_label(name, values[1], people),
                    )
                    for name, values in entry.changes.items()
                    if isinstance(values, list) and len(values) == 2
                ],
            }
        )
    return rows


def person_field_display(person, name):
    """A person's field as the comparison table shows it."""
    value = getattr(person, name)
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.date):
        return jalali.format_date(value)
    if name == "mobile":
        return person.mobile_display
    display = getattr(person, f"get_{name}_display", None)
    return display() if display else value
