"""Registering and editing households, and referring one to an agency."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tashil.core import audit
from tashil.core.services import reject_unknown, save_versioned
from tashil.core.text import to_ascii_digits
from tashil.demands.models import Channel
from tashil.demands.services import demand_refer, demand_submit
from tashil.geo.lookup import area_for_point, hazard_zones_for_point
from tashil.geo.models import Area
from tashil.offices.models import Office

from ..models import Consent, Household, HouseholdReferral, Membership
from ..permissions import can_manage_household, can_manage_office_registry, require
from ..selectors import active_consents
from .common import (
    HOUSEHOLD_FIELDS,
    TEXT_FIELDS,
    Errors,
    clean_text,
    recompute,
    record,
)


def _clean_household(
    values: dict, office: Office, errors: Errors, *, household: Household | None = None
) -> dict:
    """Normalise household input and check what the model cannot."""
    for name in TEXT_FIELDS & values.keys():
        values[name] = clean_text(values[name])
    if "external_id" in values:
        values["external_id"] = to_ascii_digits(clean_text(values["external_id"]))[:60]
        if values["external_id"]:
            clash = Household.objects.filter(office=office, external_id=values["external_id"])
            if household is not None:
                clash = clash.exclude(pk=household.pk)
            if clash.exists():
                errors.add(
                    "external_id",
                    _("Another household of this office already has this household id."),
                )
    lat = values.get("latitude", household.latitude if household else None)
    lng = values.get("longitude", household.longitude if household else None)
    if (lat is None) != (lng is None):
        errors.add("latitude", _("Give both latitude and longitude, or neither."))
    elif lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        errors.add("latitude", _("These are not valid coordinates."))
    if "area" in values or household is None:
        area = values.get("area")
        if area is None and lat is not None and lng is not None and "latitude" not in errors:
            area = area_for_point(lat, lng)
            if area is None:
                errors.add(
                    "area",
                    _("The point is outside every mapped neighbourhood; choose the neighbourhood."),
                )
        if area is None and "area" not in errors:
            errors.add("area", _("Choose the neighbourhood or mark the place on the map."))
        elif area is not None and (
            area.level != Area.Level.NEIGHBOURHOOD or not office.areas.filter(pk=area.pk).exists()
        ):
            errors.add("area", _("Choose a neighbourhood this office serves."))
        values["area"] = area
    return values


def _hazard_zone_for(lat, lng):
    if lat is None or lng is None:
        return None

    zones = hazard_zones_for_point(lat, lng)
    # Ordered by risk: a household in two zones counts under the more dangerous one.
    return zones[0] if zones else None


def household_create(*, acting_user, office: Office, **fields) -> Household:
    """Register a household. `fields` are any of HOUSEHOLD_FIELDS; the area
    may be left out when a point is given, and is then found from it."""
    require(can_manage_office_registry(acting_user, office))
    reject_unknown(fields, HOUSEHOLD_FIELDS, "household")
    errors = Errors()
    values = _clean_household(dict(fields), office, errors)
    errors.raise_if_any()
    household = Household(
        office=office,
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
        **values,
    )
    household.hazard_zone = _hazard_zone_for(household.latitude, household.longitude)
    household.full_clean(exclude=["search_key"])
    try:
        with transaction.atomic():
            household.save()
            record(
                acting_user,
                "household.create",
                household,
                household,
                audit.diff({}, audit.snapshot(household, [*HOUSEHOLD_FIELDS, "hazard_zone"])),
            )
            recompute(household)
    except IntegrityError:
        raise ValidationError(
            {"external_id": _("Another household of this office already has this household id.")}
        ) from None
    household.refresh_from_db(fields=["vulnerability_score", "is_vulnerable", "search_key"])
    return household


def household_update(
    *, household: Household, acting_user, expected_version: int | None = None, **fields
) -> Household:
    require(can_manage_household(acting_user, household))
    reject_unknown(fields, HOUSEHOLD_FIELDS, "household")
    errors = Errors()
    values = _clean_household(dict(fields), household.office, errors, household=household)
    errors.raise_if_any()
    names = list(values)
    before = audit.snapshot(household, [*names, "hazard_zone"])
    for name, value in values.items():
        setattr(household, name, value)
    if {"latitude", "longitude"} & values.keys():
        household.hazard_zone = _hazard_zone_for(household.latitude, household.longitude)
        names.append("hazard_zone")
    with transaction.atomic():
        changes = save_versioned(
            household, fields=names, expected_version=expected_version, before=before
        )
        if changes:
            record(acting_user, "household.update", household, household, changes)
        recompute(household)
    household.refresh_from_db(fields=["vulnerability_score", "is_vulnerable", "search_key"])
    return household


def household_refer(
    *, household: Household, acting_user, category, agency=None, indicator=None, note: str = ""
) -> HouseholdReferral:
    """Refer a household to an agency through the demands machinery: a demand
    recorded by the office and referred at once (to `agency`, or where the
    routing table sends the category).

    The demand carries only what the agency needs: the neighbourhood, the
    group and the office's note. The head's name, mobile and the point go
    with it only when the household consented to sharing with agencies."""

    require(can_manage_household(acting_user, household))
    if indicator is not None and indicator.province_id != household.office.province_id:
        raise ValidationError({"indicator": _("Choose a group of this province's catalogue.")})
    consents = active_consents(household)
    sharing = Consent.Purpose.SHARING in consents
    head = (
        household.memberships.current()
        .filter(relation=Membership.Relation.HEAD)
        .select_related("person")
        .first()
    )
    subject = indicator.name_fa if indicator is not None else _("household support")
    note = clean_text(note)
    description = _("Referral of a household registered by the office (%(subject)s).") % {
        "subject": subject
    }
    if note:
        description = f"{description}\n{note}"
    with transaction.atomic():
        submission = demand_submit(
            channel=Channel.MEETING,
            category=category,
            area=household.area,
            latitude=household.latitude if sharing else None,
            longitude=household.longitude if sharing else None,
            title=_("Household referral: %(subject)s") % {"subject": subject},
            description=description,
            submitter_name=str(head.person) if head and sharing else "",
            submitter_mobile=head.person.mobile
            if head and sharing and Consent.Purpose.CONTACT in consents
            else "",
            contact_consent=sharing,
            acting_user=acting_user,
        )
        demand_refer(demand=submission.demand, acting_user=acting_user, agency=agency, note=note)
        link = HouseholdReferral.objects.create(
            household=household,
            demand=submission.demand,
            indicator=indicator,
            created_by=acting_user,
        )
        record(
            acting_user,
            "household.refer",
            household,
            household,
            {"demand": [None, submission.demand.code], "category": [None, category.code]},
        )
    return link
