"""What every registry service shares: the field lists, error collection,
the audit record and the rescoring of touched households."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tashil.core import audit, jalali
from tashil.core.text import normalize

from .. import vulnerability
from ..models import Household, Membership

# The household's living conditions: each one a choice from its model field.
LIVING_FIELDS = ("dwelling_type", "tenure", "water", "electricity", "sewage", "gas", "main_income")
HOUSEHOLD_FIELDS = (
    "area",
    "external_id",
    "address",
    "latitude",
    "longitude",
    *LIVING_FIELDS,
    "support_relief",
    "support_welfare",
    "support_other",
    "note",
)
# A person's circumstances, as the person form groups them.
CIRCUMSTANCE_FIELDS = (
    "marital_status",
    "education",
    "in_school",
    "employment",
    "has_disability",
    "disability_note",
    "chronic_illness",
    "health_insurance",
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
    *CIRCUMSTANCE_FIELDS,
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


class Errors(dict):
    def add(self, field: str, message) -> None:
        self.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def clean_text(value) -> str:
    return normalize(value or "").strip()


def record(actor, action: str, obj, household: Household, changes=None) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=obj,
        changes=changes,
        province=household.office.province,
        office=household.office,
    )


def check_date(errors: Errors, field: str, value, *, not_before=None, label_before=None) -> None:
    if value is None:
        return
    if value > jalali.today():
        errors.add(field, _("This date is in the future."))
    elif not_before is not None and value < not_before:
        errors.add(field, label_before or _("This date is too early."))


def recompute(*households) -> None:
    vulnerability.recompute({h.pk for h in households if h is not None})


def raise_merged():
    raise ValidationError(_("This record was merged into another one; edit that one instead."))
