"""Merging duplicate person records, or recording that they are not duplicates."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tashil.core import audit, jalali
from tashil.core.errors import ConflictError
from tashil.core.services import save_versioned

from ..dedupe import person_name_key
from ..models import Membership, NotDuplicate, Person
from ..permissions import can_manage_person, require
from ..selectors import person_household
from .common import PERSON_FIELDS, Errors, recompute, record

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
    require(can_manage_person(acting_user, keep) and can_manage_person(acting_user, duplicate))
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
        record(
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
        record(
            acting_user,
            "person.merged_into",
            duplicate,
            household,
            {"merged_into": [None, str(keep.pk)]},
        )
        recompute(*affected)
    return keep


def duplicate_dismiss(*, first: Person, second: Person, acting_user) -> NotDuplicate:
    """Staff checked: these are two different people."""
    require(can_manage_person(acting_user, first) and can_manage_person(acting_user, second))
    if first.pk == second.pk:
        raise ValidationError({"second": _("Choose two different records.")})
    low, high = sorted([first, second], key=lambda p: p.pk)
    with transaction.atomic():
        decision, created = NotDuplicate.objects.get_or_create(
            first=low, second=high, defaults={"decided_by": acting_user}
        )
        if created:
            household = person_household(low)
            record(
                acting_user,
                "person.not_duplicate",
                low,
                household,
                {"not_duplicate_of": [None, str(high.pk)]},
            )
    return decision
