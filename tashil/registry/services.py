"""Every write to the household registry.

Who may write: the staff of the household's office (office manager and
facilitators), the province manager of its province, and national admins.
Agency liaisons and analysts never write here and never read rows.

Each service is keyword-only, checks permission first (PermissionDenied),
validates (ValidationError naming the field), writes in one transaction with
optimistic locking on versioned rows (ConflictError), records an audit row
with personal data masked, and recomputes the vulnerability of every
household it touched in the same transaction.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tashil.accounts.scopes import scope_of
from tashil.core import audit, jalali
from tashil.core.errors import ConflictError
from tashil.core.services import save_versioned
from tashil.core.text import normalize, to_ascii_digits
from tashil.core.validators import normalize_mobile, normalize_national_code
from tashil.geo.models import Area
from tashil.offices.models import Office

from . import vulnerability
from .dedupe import exact_national_code_match, person_name_key
from .models import (
    Consent,
    Household,
    HouseholdReferral,
    Membership,
    NotDuplicate,
    Person,
    PersonalDataAccess,
    VulnerabilityIndicator,
    VulnerabilityPolicy,
)

HOUSEHOLD_FIELDS = (
    "area",
    "external_id",
    "address",
    "latitude",
    "longitude",
    "dwelling_type",
    "tenure",
    "water",
    "electricity",
    "sewage",
    "gas",
    "main_income",
    "support_relief",
    "support_welfare",
    "support_other",
    "note",
)
PERSON_FIELDS = (
    "national_code",
    "first_name",
    "last_name",
    "father_name",
    "sex",
    "birth_date",
    "birth_year",
    "nationality",
    "mobile",
    "marital_status",
    "education",
    "in_school",
    "employment",
    "has_disability",
    "disability_note",
    "chronic_illness",
    "health_insurance",
)
TEXT_FIELDS = {
    "first_name",
    "last_name",
    "father_name",
    "disability_note",
    "address",
    "support_other",
    "note",
}
ENDING_REASONS = (Membership.EndReason.LEFT, Membership.EndReason.MOVED, Membership.EndReason.DIED)
EARLIEST_BIRTH_YEAR = 1280  # Jalali; about 1901.
THRESHOLD_RANGE = (1, 50)
WEIGHT_RANGE = (0, 20)
# Sensible bounds for each indicator's parameter; the rule's meaning is in vulnerability.SPECS.
PARAMETER_RANGES = {
    "elderly_alone": (50, 100),
    "out_of_school_child": (12, 18),
    "child_labour_risk": (12, 18),
    "large_household": (3, 30),
}


# --- Permissions -----------------------------------------------------------------------


def can_use_registry(user) -> bool:
    """Holds a role that works with household rows at all."""
    scope = scope_of(user)
    return scope.is_national or bool(scope.office_ids or scope.managed_province_ids)


def can_manage_office_registry(user, office: Office) -> bool:
    scope = scope_of(user)
    return (
        scope.is_national
        or office.pk in scope.office_ids
        or office.province_id in scope.managed_province_ids
    )


def can_manage_household(user, household: Household) -> bool:
    scope = scope_of(user)
    if scope.is_national or household.office_id in scope.office_ids:
        return True
    return household.office.province_id in scope.managed_province_ids


def can_see_stats(user) -> bool:
    scope = scope_of(user)
    return can_use_registry(user) or bool(scope.analyst_province_ids)


def can_manage_catalogue(user, province: Area) -> bool:
    scope = scope_of(user)
    return scope.is_national or province.pk in scope.managed_province_ids


def registry_offices(user):
    """Offices whose registry the user may write to."""
    scope = scope_of(user)
    qs = Office.objects.all()
    if not scope.is_national:
        qs = qs.filter(
            models.Q(pk__in=scope.office_ids) | models.Q(province_id__in=scope.managed_province_ids)
        )
    return qs.select_related("province").order_by("province__path", "name_fa")


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("You do not have permission to do this."))


def person_household(person: Person) -> Household | None:
    """The household a person's record is managed through: the current one,
    or the last one they belonged to."""
    membership = (
        person.memberships.select_related("household__office")
        .order_by(models.F("left_on").desc(nulls_first=True), "-joined_on", "-id")
        .first()
    )
    return membership.household if membership else None


def can_manage_person(user, person: Person) -> bool:
    household = person_household(person)
    return household is not None and can_manage_household(user, household)


# --- Helpers ---------------------------------------------------------------------------


class Errors(dict):
    def add(self, field: str, message) -> None:
        self.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def _text(value) -> str:
    return normalize(value or "").strip()


def _record(actor, action: str, obj, household: Household, changes=None) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=obj,
        changes=changes,
        province=household.office.province,
        office=household.office,
    )


def _check_date(errors: Errors, field: str, value, *, not_before=None, label_before=None) -> None:
    if value is None:
        return
    if value > jalali.today():
        errors.add(field, _("This date is in the future."))
    elif not_before is not None and value < not_before:
        errors.add(field, label_before or _("This date is too early."))


def _recompute(*households) -> None:
    vulnerability.recompute({h.pk for h in households if h is not None})


# --- Households --------------------------------------------------------------------------


def _clean_household(
    values: dict, office: Office, errors: Errors, *, household: Household | None = None
) -> dict:
    """Normalise household input and check what the model cannot."""
    for name in TEXT_FIELDS & values.keys():
        values[name] = _text(values[name])
    if "external_id" in values:
        values["external_id"] = to_ascii_digits(_text(values["external_id"]))[:60]
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
            from tashil.geo.lookup import area_for_point

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
    from tashil.geo.lookup import hazard_zones_for_point

    zones = hazard_zones_for_point(lat, lng)
    # Ordered by risk: a household in two zones counts under the more dangerous one.
    return zones[0] if zones else None


def household_create(*, acting_user, office: Office, **fields) -> Household:
    """Register a household. `fields` are any of HOUSEHOLD_FIELDS; the area
    may be left out when a point is given, and is then found from it."""
    _require(can_manage_office_registry(acting_user, office))
    unknown = set(fields) - set(HOUSEHOLD_FIELDS)
    if unknown:
        raise TypeError(f"unknown household fields: {sorted(unknown)}")
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
            _record(
                acting_user,
                "household.create",
                household,
                household,
                audit.diff({}, audit.snapshot(household, [*HOUSEHOLD_FIELDS, "hazard_zone"])),
            )
            _recompute(household)
    except IntegrityError:
        raise ValidationError(
            {"external_id": _("Another household of this office already has this household id.")}
        ) from None
    household.refresh_from_db(fields=["vulnerability_score", "is_vulnerable", "search_key"])
    return household


def household_update(
    *, household: Household, acting_user, expected_version: int | None = None, **fields
) -> Household:
    _require(can_manage_household(acting_user, household))
    unknown = set(fields) - set(HOUSEHOLD_FIELDS)
    if unknown:
        raise TypeError(f"unknown household fields: {sorted(unknown)}")
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
            _record(acting_user, "household.update", household, household, changes)
        _recompute(household)
    household.refresh_from_db(fields=["vulnerability_score", "is_vulnerable", "search_key"])
    return household


# --- Persons ------------------------------------------------------------------------------


def _duplicate_code_error(existing: Person, user) -> ValidationError:
    household = person_household(existing)
    if household is not None and can_manage_household(user, household):
        return ValidationError(
            _(
                "%(name)s is already registered with this national code, in household %(household)s."
            ),
            code="duplicate_national_code",
            params={
                "name": str(existing),
                "household": household.external_id or household.pk,
                "person_id": existing.pk,
                "household_id": household.pk,
            },
        )
    return ValidationError(
        _(
            "A person with this national code is already registered by another office. Ask that office or the "
            "province manager to move them to this household."
        ),
        code="duplicate_national_code",
    )


def _clean_person(values: dict, errors: Errors, *, user, person: Person | None = None) -> dict:
    for name in TEXT_FIELDS & values.keys():
        values[name] = _text(values[name])
    for name in ("first_name", "last_name"):
        if name in values and not values[name]:
            errors.add(name, _("This field is required."))
    if values.get("national_code"):
        try:
            values["national_code"] = normalize_national_code(values["national_code"])
        except ValidationError as exc:
            errors.add("national_code", exc.messages[0])
        else:
            existing = exact_national_code_match(
                values["national_code"], exclude_pk=person.pk if person else None
            )
            if existing is not None:
                errors.setdefault("national_code", []).append(_duplicate_code_error(existing, user))
    elif "national_code" in values:
        # Empty is stored as NULL: the column is unique when present.
        values["national_code"] = None
    if values.get("mobile"):
        try:
            values["mobile"] = normalize_mobile(values["mobile"])
        except ValidationError as exc:
            errors.add("mobile", exc.messages[0])
    elif "mobile" in values:
        values["mobile"] = ""
    birth_date = values.get("birth_date", person.birth_date if person else None)
    if "birth_date" in values:
        _check_date(
            errors,
            "birth_date",
            birth_date,
            not_before=jalali.to_gregorian(EARLIEST_BIRTH_YEAR, 1, 1),
            label_before=_("This birth date is too early."),
        )
    if "birth_year" in values and values["birth_year"] is not None:
        year = values["birth_year"]
        this_year = jalali.to_jalali(jalali.today()).year
        if not EARLIEST_BIRTH_YEAR <= year <= this_year:
            errors.add(
                "birth_year",
                _("Enter a Jalali year between %(first)s and %(last)s.")
                % {"first": EARLIEST_BIRTH_YEAR, "last": this_year},
            )
    if birth_date and "birth_date" not in errors:
        year_of_date = jalali.to_jalali(birth_date).year
        given = values.get("birth_year")
        if given and given != year_of_date and ("birth_year" in values and "birth_date" in values):
            errors.add("birth_year", _("The birth year does not match the birth date."))
        # The year is what dedupe and ages use; keep it in step with the date.
        values["birth_year"] = year_of_date
    return values


def _relation_errors(
    errors: Errors, household: Household, relation: str, *, exclude_membership=None
) -> None:
    if relation not in Membership.Relation.values:
        errors.add("relation", _("Choose the relation to the head of household."))
    elif relation == Membership.Relation.HEAD:
        heads = household.memberships.current().filter(relation=Membership.Relation.HEAD)
        if exclude_membership is not None:
            heads = heads.exclude(pk=exclude_membership.pk)
        head = heads.select_related("person").first()
        if head is not None:
            errors.add(
                "relation",
                _("This household already has a head: %(name)s.") % {"name": head.person},
            )


def person_create(
    *, acting_user, household: Household, relation: str, joined_on: dt.date | None = None, **fields
) -> Person:
    """Register a person as a member of `household`."""
    _require(can_manage_household(acting_user, household))
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    errors = Errors()
    values = _clean_person({"first_name": "", "last_name": "", **fields}, errors, user=acting_user)
    _relation_errors(errors, household, relation)
    _check_date(errors, "joined_on", joined_on)
    errors.raise_if_any()
    person = Person(**values)
    person.name_key = person_name_key(person.first_name, person.last_name)
    person.full_clean(exclude=["national_code"] if person.national_code else None)
    try:
        with transaction.atomic():
            person.save()
            membership = Membership.objects.create(
                household=household, person=person, relation=relation, joined_on=joined_on
            )
            _record(
                acting_user,
                "person.create",
                person,
                household,
                audit.diff({}, audit.snapshot(person, PERSON_FIELDS)),
            )
            _record(
                acting_user,
                "membership.add",
                household,
                household,
                {"person": [None, str(person.pk)], "relation": [None, membership.relation]},
            )
            _recompute(household)
    except IntegrityError:
        # A second request with the same code, or a second head, won the race.
        raise ValidationError(
            {"national_code": _("A person with this national code is already registered.")}
            if person.national_code
            and Person.objects.filter(national_code=person.national_code).exists()
            else {"relation": _("This household already has a head.")}
        ) from None
    return person


def person_update(
    *, person: Person, acting_user, expected_version: int | None = None, **fields
) -> Person:
    _require(can_manage_person(acting_user, person))
    if person.merged_into_id:
        _raise_merged()
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    errors = Errors()
    values = _clean_person(dict(fields), errors, user=acting_user, person=person)
    errors.raise_if_any()
    names = list(values)
    before = audit.snapshot(person, names)
    for name, value in values.items():
        setattr(person, name, value)
    if {"first_name", "last_name"} & values.keys():
        person.name_key = person_name_key(person.first_name, person.last_name)
        names.append("name_key")
    households = [
        m.household for m in person.memberships.current().select_related("household__office")
    ]
    try:
        with transaction.atomic():
            changes = save_versioned(
                person, fields=names, expected_version=expected_version, before=before
            )
            changes.pop("name_key", None)
            if changes:
                household = households[0] if households else person_household(person)
                _record(acting_user, "person.update", person, household, changes)
            _recompute(*households)
    except IntegrityError:
        raise ValidationError(
            {"national_code": _("A person with this national code is already registered.")}
        ) from None
    return person


def _raise_merged():
    raise ValidationError(_("This record was merged into another one; edit that one instead."))


# --- Memberships ---------------------------------------------------------------------------


def membership_add(
    *,
    person: Person,
    household: Household,
    relation: str,
    acting_user,
    joined_on: dt.date | None = None,
    note: str = "",
) -> Membership:
    """Add an existing person to a household. A current membership elsewhere
    is ended as "moved" on the day they join."""
    _require(can_manage_household(acting_user, household))
    if person.merged_into_id:
        _raise_merged()
    current = person.memberships.current().select_related("household__office").first()
    if current is not None and current.household_id != household.pk:
        _require(can_manage_household(acting_user, current.household))
    errors = Errors()
    if current is not None and current.household_id == household.pk:
        errors.add(
            "person", _("%(name)s is already a member of this household.") % {"name": person}
        )
    _relation_errors(errors, household, relation)
    joined_on = joined_on or jalali.today()
    _check_date(errors, "joined_on", joined_on)
    if current is not None and current.joined_on and joined_on < current.joined_on:
        errors.add("joined_on", _("They joined their current household after this date."))
    errors.raise_if_any()
    try:
        with transaction.atomic():
            if current is not None:
                # Only if still current: someone may have ended it meanwhile.
                if (
                    not Membership.objects.current()
                    .filter(pk=current.pk)
                    .update(
                        left_on=joined_on,
                        end_reason=Membership.EndReason.MOVED,
                        updated_at=timezone.now(),
                    )
                ):
                    raise ConflictError()
                _record(
                    acting_user,
                    "membership.end",
                    current.household,
                    current.household,
                    {
                        "person": [str(person.pk), None],
                        "end_reason": ["", Membership.EndReason.MOVED],
                    },
                )
            membership = Membership.objects.create(
                household=household,
                person=person,
                relation=relation,
                joined_on=joined_on,
                note=_text(note)[:300],
            )
            _record(
                acting_user,
                "membership.add",
                household,
                household,
                {"person": [None, str(person.pk)], "relation": [None, relation]},
            )
            _recompute(household, current.household if current else None)
    except IntegrityError:
        # The database's one-head / one-household rules caught a concurrent change.
        raise ConflictError() from None
    return membership


def membership_end(
    *,
    membership: Membership,
    reason: str,
    acting_user,
    left_on: dt.date | None = None,
    note: str = "",
) -> Membership:
    """A member left, moved away or died. The row stays as history."""
    household = membership.household
    _require(can_manage_household(acting_user, household))
    errors = Errors()
    if not membership.is_current:
        errors.add("reason", _("This membership has already ended."))
    if reason not in ENDING_REASONS:
        errors.add("reason", _("Choose why the membership ends."))
    left_on = left_on or jalali.today()
    _check_date(
        errors,
        "left_on",
        left_on,
        not_before=membership.joined_on,
        label_before=_("A member cannot leave before joining."),
    )
    errors.raise_if_any()
    with transaction.atomic():
        updated = Membership.objects.filter(
            pk=membership.pk, left_on__isnull=True, end_reason=""
        ).update(
            left_on=left_on, end_reason=reason, note=_text(note)[:300], updated_at=timezone.now()
        )
        if not updated:
            raise ConflictError()
        membership.refresh_from_db()
        _record(
            acting_user,
            "membership.end",
            household,
            household,
            {"person": [str(membership.person_id), None], "end_reason": ["", reason]},
        )
        _recompute(household)
    return membership


def membership_set_relation(
    *, membership: Membership, relation: str, acting_user, previous_head_relation: str = ""
) -> Membership:
    """Change a member's relation to the head. Making someone head while the
    household has one needs `previous_head_relation`: what the old head becomes."""
    household = membership.household
    _require(can_manage_household(acting_user, household))
    errors = Errors()
    if not membership.is_current:
        errors.add("relation", _("Only a current member's relation can change."))
    old_head = None
    if relation == Membership.Relation.HEAD:
        old_head = (
            household.memberships.current()
            .filter(relation=Membership.Relation.HEAD)
            .exclude(pk=membership.pk)
            .select_related("person")
            .first()
        )
        if old_head is not None and (
            not previous_head_relation
            or previous_head_relation == Membership.Relation.HEAD
            or previous_head_relation not in Membership.Relation.values
        ):
            errors.add(
                "previous_head_relation",
                _("%(name)s is the head now. Say what their relation becomes.")
                % {"name": old_head.person},
            )
    elif relation not in Membership.Relation.values:
        errors.add("relation", _("Choose the relation to the head of household."))
    errors.raise_if_any()
    if relation == membership.relation:
        return membership
    before = membership.relation
    try:
        with transaction.atomic():
            if old_head is not None:
                Membership.objects.filter(pk=old_head.pk).update(
                    relation=previous_head_relation, updated_at=timezone.now()
                )
                _record(
                    acting_user,
                    "membership.relation",
                    household,
                    household,
                    {
                        "person": [str(old_head.person_id), str(old_head.person_id)],
                        "relation": [old_head.relation, previous_head_relation],
                    },
                )
            if (
                not Membership.objects.current()
                .filter(pk=membership.pk, relation=before)
                .update(relation=relation, updated_at=timezone.now())
            ):
                raise ConflictError()
            _record(
                acting_user,
                "membership.relation",
                household,
                household,
                {
                    "person": [str(membership.person_id), str(membership.person_id)],
                    "relation": [before, relation],
                },
            )
            _recompute(household)
    except IntegrityError:
        # The database's one-head rule caught a concurrent change.
        raise ConflictError() from None
    membership.relation = relation
    return membership


# --- Consent ------------------------------------------------------------------------------------


def consent_record(
    *,
    household: Household,
    given_by: str,
    purpose: str,
    acting_user,
    given_on: dt.date | None = None,
) -> Consent:
    _require(can_manage_household(acting_user, household))
    errors = Errors()
    given_by = _text(given_by)[:200]
    if not given_by:
        errors.add("given_by", _("Write who gave the consent."))
    if purpose not in Consent.Purpose.values:
        errors.add("purpose", _("Choose what the consent is for."))
    given_on = given_on or jalali.today()
    _check_date(errors, "given_on", given_on)
    errors.raise_if_any()
    with transaction.atomic():
        consent = Consent.objects.create(
            household=household,
            given_by=given_by,
            purpose=purpose,
            given_on=given_on,
            recorded_by=acting_user,
        )
        _record(
            acting_user,
            "consent.record",
            household,
            household,
            {"consent": [None, purpose], "given_by": [None, given_by]},
        )
    return consent


def consent_withdraw(
    *, consent: Consent, acting_user, withdrawn_on: dt.date | None = None
) -> Consent:
    household = consent.household
    _require(can_manage_household(acting_user, household))
    errors = Errors()
    if consent.withdrawn_on:
        errors.add("withdrawn_on", _("This consent is already withdrawn."))
    withdrawn_on = withdrawn_on or jalali.today()
    _check_date(
        errors,
        "withdrawn_on",
        withdrawn_on,
        not_before=consent.given_on,
        label_before=_("A consent cannot be withdrawn before it was given."),
    )
    errors.raise_if_any()
    with transaction.atomic():
        updated = Consent.objects.filter(pk=consent.pk, withdrawn_on__isnull=True).update(
            withdrawn_on=withdrawn_on
        )
        if not updated:
            raise ConflictError()
        consent.withdrawn_on = withdrawn_on
        _record(
            acting_user,
            "consent.withdraw",
            household,
            household,
            {"consent": [consent.purpose, None]},
        )
    return consent


def active_consents(household: Household) -> set[str]:
    return set(
        household.consents.filter(withdrawn_on__isnull=True).values_list("purpose", flat=True)
    )


# --- Merge ----------------------------------------------------------------------------------------

# Relations of Person that person_merge handles itself rather than re-pointing.
_MERGE_HANDLED = {
    (Membership, "person"),
    (Person, "merged_into"),
    (NotDuplicate, "first"),
    (NotDuplicate, "second"),
}


def _repoint_links(keep: Person, duplicate: Person) -> dict:
    """Move every other row that points at the duplicate to the kept record,
    whichever app it belongs to, so that no link is lost. Returns counts."""
    moved = {}
    for rel in Person._meta.related_objects:
        if rel.many_to_many:
            through = rel.through
            fk = next(
                f for f in through._meta.fields if f.is_relation and f.related_model is Person
            )
            model, name = through, fk.name
        else:
            model, name = rel.related_model, rel.field.name
        if (model, name) in _MERGE_HANDLED:
            continue
        try:
            with transaction.atomic():
                count = model._base_manager.filter(**{name: duplicate}).update(**{name: keep})
        except IntegrityError:
            raise ValidationError(
                _("Both records are linked to the same %(what)s; resolve that first.")
                % {"what": model._meta.verbose_name}
            ) from None
        if count:
            moved[model._meta.label_lower] = count
    return moved


def _fillable(keep: Person, duplicate: Person) -> list[str]:
    """Fields blank on the kept record that the duplicate knows."""
    fill = [
        name
        for name in PERSON_FIELDS
        if getattr(keep, name) in (None, "") and getattr(duplicate, name) not in (None, "")
    ]
    if "birth_date" in fill and "birth_year" not in fill:
        # The year follows the date, as everywhere else.
        fill.append("birth_year")
    return fill


def person_merge(
    *,
    keep: Person,
    duplicate: Person,
    acting_user,
    keep_version: int | None = None,
    duplicate_version: int | None = None,
) -> Person:
    """Fold `duplicate` into `keep`. Memberships and every other link move to
    `keep`; blanks of `keep` are filled from `duplicate`; the duplicate stays,
    marked merged_into, with an ended membership (reason "merged") where it
    was, so its history and the audit trail still lead to it."""
    _require(can_manage_person(acting_user, keep) and can_manage_person(acting_user, duplicate))
    errors = Errors()
    if keep.pk == duplicate.pk:
        errors.add("duplicate", _("A record cannot be merged into itself."))
    if keep.merged_into_id or duplicate.merged_into_id:
        errors.add("duplicate", _("One of these records was already merged."))
    if (
        keep.national_code
        and duplicate.national_code
        and keep.national_code != duplicate.national_code
    ):
        errors.add(
            "duplicate",
            _("These records have different national codes, so they are different people."),
        )
    errors.raise_if_any()

    today = jalali.today()
    fill = _fillable(keep, duplicate)
    before = audit.snapshot(keep, fill)
    with transaction.atomic():
        duplicate_home = person_household(duplicate)
        duplicate_memberships = list(duplicate.memberships.select_related("household__office"))
        keep_current = keep.memberships.current().select_related("household__office").first()
        affected = {m.household for m in duplicate_memberships}
        if keep_current is not None:
            affected.add(keep_current.household)

        if "national_code" in fill:
            # Unique column: free it on the duplicate before the kept record takes it.
            Person.objects.filter(pk=duplicate.pk).update(national_code=None)
        for name in fill:
            setattr(keep, name, getattr(duplicate, name))
        if "birth_date" in fill:
            keep.birth_year = jalali.to_jalali(keep.birth_date).year
        duplicate.national_code = None if "national_code" in fill else duplicate.national_code
        keep.name_key = person_name_key(keep.first_name, keep.last_name)
        changes = save_versioned(
            keep, fields=[*fill, "name_key"], expected_version=keep_version, before=before
        )
        changes.pop("name_key", None)

        merged_row = None
        for membership in duplicate_memberships:
            if not membership.is_current:
                # Past memberships are the person's history: they move.
                membership.person = keep
                membership.save(update_fields=["person", "updated_at"])
                continue
            Membership.objects.filter(pk=membership.pk).update(
                left_on=today, end_reason=Membership.EndReason.MERGED, updated_at=timezone.now()
            )
            merged_row = membership
            if keep_current is None:
                # The kept record takes over the duplicate's place in the household.
                keep_current = Membership.objects.create(
                    household=membership.household,
                    person=keep,
                    relation=membership.relation,
                    joined_on=membership.joined_on,
                    note=membership.note,
                )
            elif (
                membership.relation == Membership.Relation.HEAD
                and keep_current.household_id == membership.household_id
            ):
                Membership.objects.filter(pk=keep_current.pk).update(
                    relation=Membership.Relation.HEAD
                )
        if merged_row is None and duplicate_home is not None:
            # No current place to end: leave a marker where the record was last seen.
            Membership.objects.create(
                household=duplicate_home,
                person=duplicate,
                relation=Membership.Relation.OTHER,
                left_on=today,
                end_reason=Membership.EndReason.MERGED,
            )

        Person.objects.filter(merged_into=duplicate).update(merged_into=keep)
        NotDuplicate.objects.filter(models.Q(first=duplicate) | models.Q(second=duplicate)).delete()
        moved = _repoint_links(keep, duplicate)

        current_version = duplicate.version if duplicate_version is None else duplicate_version
        if not Person.objects.filter(pk=duplicate.pk, version=current_version).update(
            merged_into=keep, version=current_version + 1, updated_at=timezone.now()
        ):
            raise ConflictError()
        duplicate.merged_into, duplicate.version = keep, current_version + 1

        household = keep_current.household if keep_current else person_household(keep)
        _record(
            acting_user,
            "person.merge",
            keep,
            household,
            {
                **changes,
                "merged": [None, str(duplicate.pk)],
                **{k: [0, v] for k, v in moved.items()},
            },
        )
        _record(
            acting_user,
            "person.merged_into",
            duplicate,
            household,
            {"merged_into": [None, str(keep.pk)]},
        )
        _recompute(*affected)
    return keep


def duplicate_dismiss(*, first: Person, second: Person, acting_user) -> NotDuplicate:
    """Staff checked: these are two different people."""
    _require(can_manage_person(acting_user, first) and can_manage_person(acting_user, second))
    if first.pk == second.pk:
        raise ValidationError({"second": _("Choose two different records.")})
    low, high = sorted([first, second], key=lambda p: p.pk)
    with transaction.atomic():
        decision, created = NotDuplicate.objects.get_or_create(
            first=low, second=high, defaults={"decided_by": acting_user}
        )
        if created:
            household = person_household(low)
            _record(
                acting_user,
                "person.not_duplicate",
                low,
                household,
                {"not_duplicate_of": [None, str(high.pk)]},
            )
    return decision


# --- Vulnerability catalogue ----------------------------------------------------------------------


def indicator_update(
    *,
    indicator: VulnerabilityIndicator,
    acting_user,
    weight: int,
    parameter: int | None,
    is_active: bool,
    referral_category=None,
    expected_version: int | None = None,
) -> VulnerabilityIndicator:
    """Change an indicator of a province's catalogue; the province's
    households are rescored in the same transaction."""
    _require(can_manage_catalogue(acting_user, indicator.province))
    errors = Errors()
    if weight is None or not WEIGHT_RANGE[0] <= weight <= WEIGHT_RANGE[1]:
        errors.add(
            "weight",
            _("The weight must be between %(low)s and %(high)s.")
            % {"low": WEIGHT_RANGE[0], "high": WEIGHT_RANGE[1]},
        )
    bounds = PARAMETER_RANGES.get(indicator.code)
    if bounds is None:
        parameter = None
    elif parameter is None or not bounds[0] <= parameter <= bounds[1]:
        errors.add(
            "parameter",
            _("The value must be between %(low)s and %(high)s.")
            % {"low": bounds[0], "high": bounds[1]},
        )
    if referral_category is not None and (
        not referral_category.is_active or referral_category.children.exists()
    ):
        errors.add("referral_category", _("Choose an active category without subcategories."))
    errors.raise_if_any()
    fields = ["weight", "parameter", "is_active", "referral_category"]
    before = audit.snapshot(indicator, fields)
    indicator.weight, indicator.parameter, indicator.is_active = weight, parameter, is_active
    indicator.referral_category = referral_category
    with transaction.atomic():
        changes = save_versioned(
            indicator, fields=fields, expected_version=expected_version, before=before
        )
        if changes:
            audit.record(
                actor=acting_user,
                action="vulnerability.indicator",
                obj=indicator,
                changes=changes,
                province=indicator.province,
            )
            vulnerability.recompute_province(indicator.province_id)
    return indicator


def catalogue_prepare(*, province: Area, acting_user) -> None:
    """Write the default catalogue of a province that has none yet, so its
    managers have something to edit before the first household is scored."""
    _require(can_manage_catalogue(acting_user, province))
    vulnerability.ensure_catalogue([province.pk])


def threshold_update(
    *, province: Area, threshold_score: int, acting_user, expected_version: int | None = None
) -> VulnerabilityPolicy:
    _require(can_manage_catalogue(acting_user, province))
    if threshold_score is None or not THRESHOLD_RANGE[0] <= threshold_score <= THRESHOLD_RANGE[1]:
        raise ValidationError(
            {
                "threshold_score": _("The threshold must be between %(low)s and %(high)s.")
                % {"low": THRESHOLD_RANGE[0], "high": THRESHOLD_RANGE[1]}
            }
        )
    with transaction.atomic():
        policy, _created = VulnerabilityPolicy.objects.get_or_create(province=province)
        before = audit.snapshot(policy, ["threshold_score"])
        policy.threshold_score = threshold_score
        changes = save_versioned(
            policy, fields=["threshold_score"], expected_version=expected_version, before=before
        )
        if changes:
            audit.record(
                actor=acting_user,
                action="vulnerability.threshold",
                obj=policy,
                changes=changes,
                province=province,
            )
            vulnerability.recompute_province(province.pk)
    return policy


# --- Referral to an agency ------------------------------------------------------------------------


def household_refer(
    *, household: Household, acting_user, category, agency=None, indicator=None, note: str = ""
) -> HouseholdReferral:
    """Refer a household to an agency through the demands machinery: a demand
    recorded by the office and referred at once (to `agency`, or where the
    routing table sends the category).

    The demand carries only what the agency needs: the neighbourhood, the
    group and the office's note. The head's name, mobile and the point go
    with it only when the household consented to sharing with agencies."""
    from tashil.demands.models import Channel
    from tashil.demands.services import demand_refer, demand_submit

    _require(can_manage_household(acting_user, household))
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
    note = _text(note)
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
        _record(
            acting_user,
            "household.refer",
            household,
            household,
            {"demand": [None, submission.demand.code], "category": [None, category.code]},
        )
    return link


# --- Reads that are recorded ------------------------------------------------------------------------


def log_personal_data_access(*, user, persons, via: str = PersonalDataAccess.Via.PAGE) -> None:
    """Record who read whose personal data. Written even when the page is
    only looked at, which is the point."""
    rows = [PersonalDataAccess(user=user, person_id=getattr(p, "pk", p), via=via) for p in persons]
    if rows:
        PersonalDataAccess.objects.bulk_create(rows)
