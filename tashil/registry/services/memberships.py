"""Who lives in a household: joining, leaving and the relation to the head."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tashil.core import jalali
from tashil.core.errors import ConflictError

from ..models import Household, Membership, Person
from ..permissions import can_manage_household, require
from .common import ENDING_REASONS, Errors, check_date, clean_text, raise_merged, recompute, record


def relation_errors(
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
    require(can_manage_household(acting_user, household))
    if person.merged_into_id:
        raise_merged()
    current = person.memberships.current().select_related("household__office").first()
    if current is not None and current.household_id != household.pk:
        require(can_manage_household(acting_user, current.household))
    errors = Errors()
    if current is not None and current.household_id == household.pk:
        errors.add(
            "person", _("%(name)s is already a member of this household.") % {"name": person}
        )
    relation_errors(errors, household, relation)
    joined_on = joined_on or jalali.today()
    check_date(errors, "joined_on", joined_on)
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
                record(
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
                note=clean_text(note)[:300],
            )
            record(
                acting_user,
                "membership.add",
                household,
                household,
                {"person": [None, str(person.pk)], "relation": [None, relation]},
            )
            recompute(household, current.household if current else None)
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
    require(can_manage_household(acting_user, household))
    errors = Errors()
    if not membership.is_current:
        errors.add("reason", _("This membership has already ended."))
    if reason not in ENDING_REASONS:
        errors.add("reason", _("Choose why the membership ends."))
    left_on = left_on or jalali.today()
    check_date(
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
            left_on=left_on,
            end_reason=reason,
            note=clean_text(note)[:300],
            updated_at=timezone.now(),
        )
        if not updated:
            raise ConflictError()
        membership.refresh_from_db()
        record(
            acting_user,
            "membership.end",
            household,
            household,
            {"person": [str(membership.person_id), None], "end_reason": ["", reason]},
        )
        recompute(household)
    return membership


def membership_set_relation(
    *, membership: Membership, relation: str, acting_user, previous_head_relation: str = ""
) -> Membership:
    """Change a member's relation to the head. Making someone head while the
    household has one needs `previous_head_relation`: what the old head becomes."""
    household = membership.household
    require(can_manage_household(acting_user, household))
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
                record(
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
            record(
                acting_user,
                "membership.relation",
                household,
                household,
                {
                    "person": [str(membership.person_id), str(membership.person_id)],
                    "relation": [before, relation],
                },
            )
            recompute(household)
    except IntegrityError:
        # The database's one-head rule caught a concurrent change.
        raise ConflictError() from None
    membership.relation = relation
    return membership
