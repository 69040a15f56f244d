"""Registering and editing persons, and recording who read their data."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tashil.core import audit, jalali
from tashil.core.services import reject_unknown, save_versioned
from tashil.core.validators import normalize_mobile, normalize_national_code

from ..dedupe import exact_national_code_match, person_name_key
from ..models import Household, Membership, Person, PersonalDataAccess
from ..permissions import can_manage_household, can_manage_person, require
from ..selectors import person_household
from .common import (
    EARLIEST_BIRTH_YEAR,
    PERSON_FIELDS,
    TEXT_FIELDS,
    Errors,
    check_date,
    clean_text,
    raise_merged,
    recompute,
    record,
)
from .memberships import relation_errors


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
        values[name] = clean_text(values[name])
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
        check_date(
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


def person_create(
    *, acting_user, household: Household, relation: str, joined_on: dt.date | None = None, **fields
) -> Person:
    """Register a person as a member of `household`."""
    require(can_manage_household(acting_user, household))
    reject_unknown(fields, PERSON_FIELDS, "person")
    errors = Errors()
    values = _clean_person({"first_name": "", "last_name": "", **fields}, errors, user=acting_user)
    relation_errors(errors, household, relation)
    check_date(errors, "joined_on", joined_on)
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
            record(
                acting_user,
                "person.create",
                person,
                household,
                audit.diff({}, audit.snapshot(person, PERSON_FIELDS)),
            )
            record(
                acting_user,
                "membership.add",
                household,
                household,
                {"person": [None, str(person.pk)], "relation": [None, membership.relation]},
            )
            recompute(household)
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
    require(can_manage_person(acting_user, person))
    if person.merged_into_id:
        raise_merged()
    reject_unknown(fields, PERSON_FIELDS, "person")
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
                record(acting_user, "person.update", person, household, changes)
            recompute(*households)
    except IntegrityError:
        raise ValidationError(
            {"national_code": _("A person with this national code is already registered.")}
        ) from None
    return person


def log_personal_data_access(*, user, persons, via: str = PersonalDataAccess.Via.PAGE) -> None:
    """Record who read whose personal data. Written even when the page is
    only looked at, which is the point."""
    rows = [PersonalDataAccess(user=user, person_id=getattr(p, "pk", p), via=via) for p in persons]
    if rows:
        PersonalDataAccess.objects.bulk_create(rows)
