"""Consent a household gives, and its withdrawal."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from tashil.core import jalali
from tashil.core.errors import ConflictError

from ..models import Consent, Household
from ..permissions import can_manage_household, require
from .common import Errors, check_date, clean_text, record


def consent_record(
    *,
    household: Household,
    given_by: str,
    purpose: str,
    acting_user,
    given_on: dt.date | None = None,
) -> Consent:
    require(can_manage_household(acting_user, household))
    errors = Errors()
    given_by = clean_text(given_by)[:200]
    if not given_by:
        errors.add("given_by", _("Write who gave the consent."))
    if purpose not in Consent.Purpose.values:
        errors.add("purpose", _("Choose what the consent is for."))
    given_on = given_on or jalali.today()
    check_date(errors, "given_on", given_on)
    errors.raise_if_any()
    with transaction.atomic():
        consent = Consent.objects.create(
            household=household,
            given_by=given_by,
            purpose=purpose,
            given_on=given_on,
            recorded_by=acting_user,
        )
        record(
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
    require(can_manage_household(acting_user, household))
    errors = Errors()
    if consent.withdrawn_on:
        errors.add("withdrawn_on", _("This consent is already withdrawn."))
    withdrawn_on = withdrawn_on or jalali.today()
    check_date(
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
        record(
            acting_user,
            "consent.withdraw",
            household,
            household,
            {"consent": [consent.purpose, None]},
        )
    return consent
