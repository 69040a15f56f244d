"""Writes to the area tree and hazard zones.

Areas and hazard zones carry no version column, so optimistic locking uses a
fingerprint of the editable values as loaded: if the row no longer matches
what the user saw, the save is refused instead of overwriting someone else's
change."""

import hashlib
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tashil.accounts.scopes import scope_of
from tashil.core import audit
from tashil.core.errors import ConflictError
from tashil.core.services import reject_unknown
from tashil.core.text import normalize, strip_bidi_controls

from . import lookup
from .models import Area, HazardZone
from .selectors import HAZARD_SHAPE, province_of

AREA_EDITABLE = (
    "name_fa",
    "name_en",
    "population",
    "households",
    "is_marginal",
    "note",
    "boundary",
)
HAZARD_EDITABLE = ("area", *HAZARD_SHAPE, "households_estimate", "description")
_NAMES = {"name_fa", "name_en"}
_FREE_TEXT = {"note", "description"}


def fingerprint(instance, fields) -> str:
    """A short digest of the values a form was built from, used as its version."""
    values = audit.snapshot(instance, fields)
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def area_version(area: Area) -> str:
    return fingerprint(area, AREA_EDITABLE)


def hazard_zone_version(zone: HazardZone) -> str:
    return fingerprint(zone, HAZARD_EDITABLE)


def _require_manager(user, area: Area) -> Area:
    """The area's province, when the user may manage it."""
    province = province_of(area)
    if not scope_of(user).manages_province(province.pk):
        raise PermissionDenied(
            _("Only the province manager may change the areas of this province.")
        )
    return province


def _clean_boundary(value, *, field="boundary"):
    if value in (None, "", {}):
        return None
    try:
        return lookup.validate_geojson(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def _set_geometry(instance, boundary):
    instance.boundary = boundary
    if boundary:
        instance.centroid_lat, instance.centroid_lng = lookup.centroid_of(boundary)
    else:
        instance.centroid_lat = instance.centroid_lng = None


def _locked(model, pk, fields, expected_version):
    """Reload the row under lock and refuse it if it changed since loading."""
    current = model.objects.select_for_update().get(pk=pk)
    if expected_version and fingerprint(current, fields) != expected_version:
        raise ConflictError()
    return current


def _assign(record, fields: dict) -> None:
    """Set the fields of an edit form on `record`: the boundary as its geometry,
    names normalised, free text only stripped of direction marks."""
    for name, value in fields.items():
        if name == "boundary":
            _set_geometry(record, value)
        elif name in _NAMES:
            setattr(record, name, normalize(value))
        elif name in _FREE_TEXT:
            setattr(record, name, strip_bidi_controls(value).strip())
        elif name == "code":
            setattr(record, name, (value or "").strip())
        else:
            setattr(record, name, value)


def area_update(*, area: Area, acting_user, expected_version: str | None = None, **fields) -> Area:
    """Edit an area's names, estimates, marginal flag, note or boundary.

    `expected_version` is `area_version(area)` as the form was loaded."""
    reject_unknown(fields, AREA_EDITABLE, "area")
    province = _require_manager(acting_user, area)
    boundary_given = "boundary" in fields
    if boundary_given:
        fields["boundary"] = _clean_boundary(fields["boundary"])
    with transaction.atomic():
        current = _locked(Area, area.pk, AREA_EDITABLE, expected_version)
        before = audit.snapshot(current, AREA_EDITABLE)
        _assign(current, fields)
        current.refresh_derived_fields()
        current.full_clean()
        changes = audit.diff(before, audit.snapshot(current, AREA_EDITABLE))
        if not changes:
            return current
        if "boundary" in changes:
            # Whole polygons would bloat the log; the fact of the change is what matters.
            changes["boundary"] = [bool(before["boundary"]), bool(current.boundary)]
        current.save(
            update_fields=[*fields, "search_key", "centroid_lat", "centroid_lng"]
            if boundary_given
            else [*fields, "search_key"]
        )
        audit.record(
            actor=acting_user, action="area.update", obj=current, changes=changes, province=province
        )
        if "boundary" in changes:
            transaction.on_commit(lookup.invalidate)
    for name in (*AREA_EDITABLE, "search_key", "centroid_lat", "centroid_lng"):
        setattr(area, name, getattr(current, name))
    return current


def _validate_zone_area(zone: HazardZone):
    if zone.area_id and zone.area.level == Area.Level.PROVINCE:
        raise ValidationError(
            {"area": _("Choose the county, city or neighbourhood the zone lies in.")}
        )


def hazard_zone_create(
    *,
    acting_user,
    area: Area,
    code: str,
    name_fa: str,
    hazard_type: str,
    risk_level: int,
    boundary,
    name_en: str = "",
    households_estimate: int | None = None,
    description: str = "",
) -> HazardZone:
    province = _require_manager(acting_user, area)
    zone = HazardZone(
        area=area,
        code=(code or "").strip(),
        name_fa=normalize(name_fa),
        name_en=normalize(name_en),
        hazard_type=hazard_type,
        risk_level=risk_level,
        households_estimate=households_estimate,
        description=strip_bidi_controls(description).strip(),
    )
    geometry = _clean_boundary(boundary)
    if geometry is None:
        raise ValidationError({"boundary": _("Draw or paste the zone's boundary.")})
    _set_geometry(zone, geometry)
    _validate_zone_area(zone)
    with transaction.atomic():
        zone.full_clean()
        zone.save()
        changes = audit.snapshot(zone, [f for f in HAZARD_EDITABLE if f != "boundary"])
        audit.record(
            actor=acting_user,
            action="hazard_zone.create",
            obj=zone,
            changes={k: [None, v] for k, v in changes.items()},
            province=province,
        )
        transaction.on_commit(lookup.invalidate)
    return zone


def hazard_zone_update(
    *, zone: HazardZone, acting_user, expected_version: str | None = None, **fields
) -> HazardZone:
    reject_unknown(fields, HAZARD_EDITABLE, "hazard zone")
    province = _require_manager(acting_user, zone.area)
    if "area" in fields and fields["area"] is not None:
        # Moving a zone must not carry it into a province the user does not manage.
        if _require_manager(acting_user, fields["area"]) != province:
            raise ValidationError({"area": _("A hazard zone stays in its province.")})
    if "boundary" in fields:
        fields["boundary"] = _clean_boundary(fields["boundary"])
        if fields["boundary"] is None:
            raise ValidationError({"boundary": _("Draw or paste the zone's boundary.")})
    with transaction.atomic():
        current = _locked(HazardZone, zone.pk, HAZARD_EDITABLE, expected_version)
        before = audit.snapshot(current, HAZARD_EDITABLE)
        _assign(current, fields)
        _validate_zone_area(current)
        current.full_clean()
        changes = audit.diff(before, audit.snapshot(current, HAZARD_EDITABLE))
        if not changes:
            return current
        if "boundary" in changes:
            changes["boundary"] = [True, True]
        current.save()
        audit.record(
            actor=acting_user,
            action="hazard_zone.update",
            obj=current,
            changes=changes,
            province=province,
        )
        if "boundary" in changes:
            transaction.on_commit(lookup.invalidate)
    return current
