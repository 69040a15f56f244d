"""Writes to offices, operators and office staff.

Who may do what:
- national admin and the province manager of the office's province manage the
  office record, its status, its areas and all of its staff;
- an office manager manages the facilitators of their own office, and nothing
  else (not the office record, not other managers);
- facilitators, liaisons and analysts manage nothing here.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tashil.core import audit
from tashil.core.audit import record_in_office
from tashil.core.errors import ConflictError
from tashil.core.services import create_audited, reject_unknown, save_versioned
from tashil.core.text import normalize, strip_bidi_controls, to_ascii_digits
from tashil.core.transitions import Machine, Transition
from tashil.geo.models import Area
from tashil.geo.services import fingerprint

from .models import Office, Operator
from .permissions import (
    can_create_office,
    can_edit_operator,
    can_manage_office,
    can_manage_operators,
)

Status = Office.Status

# Fields of the office record that office_update may change. Status has its
# own service because it has rules of its own; province is the office's scope
# and does not change.
OFFICE_FIELDS = (
    "code",
    "name_fa",
    "name_en",
    "county",
    "operator",
    "opened_on",
    "contract_start",
    "contract_end",
    "address",
    "phone",
    "latitude",
    "longitude",
    "note",
)

OPERATOR_FIELDS = ("name_fa", "name_en", "kind", "registration_number", "phone")

# Words the office pages use in their own URLs (/offices/network/ …).
RESERVED_CODES = {"network", "new", "operators"}
# Statuses in which the office is open to residents, so it has opened already.
OPEN_STATUSES = {Status.PILOT, Status.ACTIVE}


def _deny(message):
    raise PermissionDenied(message)


# --- Validation ------------------------------------------------------------


def _add(errors: dict, field: str, message) -> None:
    errors.setdefault(field, []).append(message)


def _office_errors(office: Office, areas=None, *, require_opening: bool = True) -> dict:
    """Rules of the office record beyond single fields; {field: [messages]}."""
    errors: dict = {}
    province = office.province if office.province_id else None
    if province is not None and province.level != Area.Level.PROVINCE:
        _add(errors, "province", _("Choose an area at province level."))
        province = None
    if office.county_id:
        county = office.county
        if county.level != Area.Level.COUNTY:
            _add(errors, "county", _("Choose an area at county level."))
        elif province is not None and not county.path.startswith(province.path):
            _add(errors, "county", _("The county must be in the office's province."))
    if (
        office.contract_start
        and office.contract_end
        and office.contract_end < office.contract_start
    ):
        _add(errors, "contract_end", _("The contract cannot end before it starts."))
    today = timezone.localdate()
    if office.status in OPEN_STATUSES:
        if not office.opened_on:
            if require_opening:
                _add(
                    errors,
                    "opened_on",
                    _("Enter the opening date: a pilot or active office has opened."),
                )
        elif office.opened_on > today:
            _add(
                errors,
                "opened_on",
                _(
                    "A pilot or active office cannot have an opening date in the future. Keep it planned until it opens."
                ),
            )
    if office.latitude is not None and not -90 <= office.latitude <= 90:
        _add(errors, "latitude", _("Latitude must be between -90 and 90."))
    if office.longitude is not None and not -180 <= office.longitude <= 180:
        _add(errors, "longitude", _("Longitude must be between -180 and 180."))
    if (office.latitude is None) != (office.longitude is None):
        _add(
            errors,
            "longitude" if office.longitude is None else "latitude",
            _("Enter both latitude and longitude, or neither."),
        )
    if office.code in RESERVED_CODES:
        _add(errors, "code", _("This code is reserved. Choose another one."))
    elif office.code and Office.objects.filter(code=office.code).exclude(pk=office.pk).exists():
        _add(errors, "code", _("Another office already uses this code."))
    if areas is not None and province is not None:
        outside = [a for a in areas if not a.path.startswith(province.path)]
        if outside:
            _add(
                errors,
                "areas",
                _("These areas are outside the office's province: %(names)s.")
                % {"names": ", ".join(str(a) for a in outside)},
            )
        too_wide = [a for a in areas if a.level == Area.Level.PROVINCE]
        if too_wide:
            _add(
                errors,
                "areas",
                _("An office serves counties, cities or neighbourhoods, not a whole province."),
            )
    return errors


def _full_clean(office: Office, areas=None, *, require_opening: bool = True) -> None:
    """Raise one ValidationError with every problem, each under its field."""
    errors = _office_errors(office, areas, require_opening=require_opening)
    try:
        # Fields already in error are not checked twice (e.g. the duplicate code).
        office.full_clean(exclude=list(errors), validate_constraints="contract_end" not in errors)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                _add(errors, field, message)
    if errors:
        raise ValidationError(errors)


def _clean_text(name: str, value):
    if value is None:
        return ""
    if name in ("phone", "registration_number"):
        return to_ascii_digits(str(value)).strip()
    if name in ("code",):
        return str(value).strip().lower()
    if name in ("note", "address"):
        return strip_bidi_controls(value).strip()
    return normalize(value)


_TEXT = {"code", "name_fa", "name_en", "address", "phone", "note", "registration_number"}


def _assign(instance, fields: dict) -> None:
    for name, value in fields.items():
        setattr(instance, name, _clean_text(name, value) if name in _TEXT else value)


def _area_ids(areas) -> list[str]:
    return sorted(str(a.pk) for a in areas)


def _created_changes(instance, fields) -> dict:
    return audit.diff({}, audit.snapshot(instance, fields))


# --- Offices ---------------------------------------------------------------


def office_create(
    *,
    acting_user,
    code: str,
    name_fa: str,
    province: Area,
    name_en: str = "",
    county: Area | None = None,
    operator: Operator | None = None,
    status: str = Status.PLANNED,
    opened_on: dt.date | None = None,
    contract_start: dt.date | None = None,
    contract_end: dt.date | None = None,
    areas=(),
    address: str = "",
    phone: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    note: str = "",
) -> Office:
    if not can_create_office(acting_user, province):
        _deny(_("Only the province manager may open offices in this province."))
    areas = list(areas)
    office = Office(province=province, status=status)
    _assign(
        office,
        {
            "code": code,
            "name_fa": name_fa,
            "name_en": name_en,
            "county": county,
            "operator": operator,
            "opened_on": opened_on,
            "contract_start": contract_start,
            "contract_end": contract_end,
            "address": address,
            "phone": phone,
            "latitude": latitude,
            "longitude": longitude,
            "note": note,
        },
    )
    _full_clean(office, areas)
    try:
        with transaction.atomic():
            office.save()
            office.areas.set(areas)
            changes = _created_changes(office, ["province", "status", *OFFICE_FIELDS])
            changes["areas"] = [[], _area_ids(areas)] if areas else None
            audit.record(
                actor=acting_user,
                action="office.create",
                obj=office,
                changes={k: v for k, v in changes.items() if v},
                province=province,
                office=office,
            )
    except IntegrityError:
        # Two people creating the same code at once: the loser gets the same
        # message as a plain duplicate.
        raise ValidationError({"code": [_("Another office already uses this code.")]}) from None
    return office


def office_update(*, office: Office, acting_user, expected_version: int | None, **fields) -> Office:
    """Edit the office record and the areas it serves (`areas=`).

    Raises ConflictError when someone saved the office after `expected_version`."""
    reject_unknown(fields, (*OFFICE_FIELDS, "areas"), "office")
    if not can_manage_office(acting_user, office):
        _deny(_("Only the province manager may edit this office."))
    areas = fields.pop("areas", None)
    if areas is not None:
        areas = list(areas)
    try:
        with transaction.atomic():
            current = Office.objects.select_related("province", "county").get(pk=office.pk)
            before = audit.snapshot(current, [*fields, *(["areas"] if areas is not None else [])])
            _assign(current, fields)
            # An open office recorded without its opening date (older data) can
            # still be edited; only clearing the date is refused.
            _full_clean(current, areas, require_opening="opened_on" in fields)
            changes = save_versioned(
                current, fields=list(fields), expected_version=expected_version, before=before
            )
            if areas is not None:
                after = _area_ids(areas)
                if after != before["areas"]:
                    current.areas.set(areas)
                    changes["areas"] = [before["areas"], after]
            record_in_office(current, "office.update", current, changes, actor=acting_user)
    except IntegrityError:
        raise ValidationError({"code": [_("Another office already uses this code.")]}) from None
    _copy_back(current, office, [*fields, "version", "updated_at"])
    return current


def _copy_back(source, target, names) -> None:
    """Keep the caller's instance in step with what was saved."""
    if source is target:
        return
    for name in names:
        field = source._meta.get_field(name)
        setattr(target, field.attname, getattr(source, field.attname))
        if field.is_relation and field.is_cached(source):
            field.set_cached_value(target, field.get_cached_value(source))


def _office_manager(user, office) -> bool:
    return user is not None and can_manage_office(user, office)


# The office's life cycle. Reopening a closed office starts it over as planned.
OFFICE_STATUS = Machine(
    states=Status,
    transitions=[
        Transition("pilot", {Status.PLANNED, Status.SUSPENDED}, Status.PILOT, _office_manager),
        Transition(
            "activate",
            {Status.PLANNED, Status.PILOT, Status.SUSPENDED},
            Status.ACTIVE,
            _office_manager,
        ),
        Transition("suspend", {Status.PILOT, Status.ACTIVE}, Status.SUSPENDED, _office_manager),
        Transition(
            "close",
            {Status.PLANNED, Status.PILOT, Status.ACTIVE, Status.SUSPENDED},
            Status.CLOSED,
            _office_manager,
        ),
        Transition("replan", {Status.CLOSED}, Status.PLANNED, _office_manager),
    ],
    action="office.status",
    where=lambda office: (office.province, office),
    refused=gettext_lazy("An office cannot move from “%(old)s” to “%(new)s”."),
    denied=gettext_lazy("Only the province manager may change the status of this office."),
)


def office_set_status(
    *,
    office: Office,
    acting_user,
    status: str,
    expected_version: int | None,
    opened_on: dt.date | None = None,
) -> Office:
    """Move an office along its life cycle. Moving to pilot or active needs an
    opening date (given here or already recorded), not in the future."""
    OFFICE_STATUS.authorize(office, acting_user)
    with transaction.atomic():
        current = Office.objects.select_related("province", "county").get(pk=office.pk)
        if status not in Status.values:
            raise ValidationError({"status": [_("Choose a valid status.")]})
        old = current.status
        if status == old:
            raise ValidationError({"status": [_("The office already has this status.")]})
        OFFICE_STATUS.transition_for(current, acting_user, to=status)
        fields = []
        before = audit.snapshot(current, ["status", "opened_on"])
        if opened_on is not None:
            current.opened_on = opened_on
            fields.append("opened_on")
        # The opening date's rules are those of the new status.
        current.status = status
        _full_clean(current)
        current.status = old
        OFFICE_STATUS.move(
            current,
            user=acting_user,
            to=status,
            expected_version=expected_version,
            fields=fields,
            before=before,
        )
    _copy_back(current, office, ["status", *fields, "version", "updated_at"])
    return current


# --- Operators -------------------------------------------------------------


def operator_create(
    *,
    acting_user,
    name_fa: str,
    kind: str,
    name_en: str = "",
    registration_number: str = "",
    phone: str = "",
) -> Operator:
    if not can_manage_operators(acting_user):
        _deny(_("Only province managers may register operators."))
    operator = Operator()
    _assign(
        operator,
        {
            "name_fa": name_fa,
            "name_en": name_en,
            "kind": kind,
            "registration_number": registration_number,
            "phone": phone,
        },
    )
    return create_audited(operator, OPERATOR_FIELDS, actor=acting_user, action="operator.create")


def operator_version(operator: Operator) -> str:
    return fingerprint(operator, OPERATOR_FIELDS)


def operator_update(
    *, operator: Operator, acting_user, expected_version: str | None = None, **fields
) -> Operator:
    """`expected_version` is `operator_version(operator)` as the form was loaded."""

    reject_unknown(fields, OPERATOR_FIELDS, "operator")
    if not can_edit_operator(acting_user, operator):
        _deny(
            _("This operator runs offices outside your provinces; ask the national administrator.")
        )
    with transaction.atomic():
        current = Operator.objects.select_for_update().get(pk=operator.pk)
        if expected_version and operator_version(current) != expected_version:
            raise ConflictError()
        before = audit.snapshot(current, OPERATOR_FIELDS)
        _assign(current, fields)
        current.full_clean()
        changes = audit.diff(before, audit.snapshot(current, OPERATOR_FIELDS))
        if changes:
            current.save(update_fields=[*fields, "updated_at"])
            audit.record(actor=acting_user, action="operator.update", obj=current, changes=changes)
    _copy_back(current, operator, [*fields, "updated_at"])
    return current
