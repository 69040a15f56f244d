"""Writes to the working calendar: holiday corrections (national
administrators), closures and weekend rules (a province's manager, or a
national administrator).

The calendar arithmetic these feed (working days, deadlines) is in
`tashil.core.calendar`, which knows nothing of users."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tashil.core import audit
from tashil.core.models import Closure, Holiday, WeekendRule
from tashil.core.services import create_audited
from tashil.core.text import normalize, to_ascii_digits
from tashil.geo.models import Area

from .permissions import can_correct_holidays, can_manage_calendar

# --- Services ------------------------------------------------------------------

HOLIDAY_FIELDS = ["date", "source", "is_estimated", "is_active"]
CLOSURE_FIELDS = ["province", "start_date", "end_date", "reason"]
WEEKEND_FIELDS = ["province", "valid_from", "weekdays", "note"]


def _require_national_admin(user, message) -> None:
    if not can_correct_holidays(user):
        raise PermissionDenied(message)


def _require_province_manager(user, province_id, message) -> None:
    if not can_manage_calendar(user, province_id):
        raise PermissionDenied(message)


def _check_is_province(province, errors: dict) -> None:
    if province.level != Area.Level.PROVINCE:
        errors["province"] = _("Choose a province.")


def _actor(user):
    return user if getattr(user, "pk", None) else None


def holiday_correct(*, holiday: Holiday, new_date: dt.date, acting_user) -> Holiday:
    """Move a holiday to its real date (lunar dates depend on moon sighting).

    The row becomes an administrator's entry and is no longer an estimate;
    original_date keeps the package's date so a re-sync recognises it."""
    _require_national_admin(
        acting_user, _("Only a national administrator can change official holidays.")
    )
    if not isinstance(new_date, dt.date) or isinstance(new_date, dt.datetime):
        raise ValidationError({"date": _("Enter a valid date.")})
    with transaction.atomic():
        before = audit.snapshot(holiday, HOLIDAY_FIELDS)
        holiday.date = new_date
        holiday.source = Holiday.Source.ADMIN
        holiday.is_estimated = False
        holiday.full_clean()
        holiday.save(update_fields=["date", "source", "is_estimated"])
        audit.record(
            actor=acting_user,
            action="holiday.correct",
            obj=holiday,
            changes=audit.diff(before, audit.snapshot(holiday, HOLIDAY_FIELDS)),
        )
    return holiday


def holiday_set_active(*, holiday: Holiday, is_active: bool, acting_user) -> Holiday:
    """Switch a holiday on or off (a holiday that was cancelled by decree)."""
    _require_national_admin(
        acting_user, _("Only a national administrator can change official holidays.")
    )
    with transaction.atomic():
        before = audit.snapshot(holiday, HOLIDAY_FIELDS)
        holiday.is_active = bool(is_active)
        holiday.full_clean()
        holiday.save(update_fields=["is_active"])
        audit.record(
            actor=acting_user,
            action="holiday.activate" if holiday.is_active else "holiday.deactivate",
            obj=holiday,
            changes=audit.diff(before, audit.snapshot(holiday, HOLIDAY_FIELDS)),
        )
    return holiday


def closure_create(
    *, province, start_date: dt.date, end_date: dt.date, reason: str, acting_user
) -> Closure:
    """Declare the province's offices closed from start_date to end_date
    (both included)."""
    _require_province_manager(
        acting_user, province.pk, _("Only the province's manager can declare closures for it.")
    )
    errors = {}
    _check_is_province(province, errors)
    if not isinstance(start_date, dt.date):
        errors["start_date"] = _("Enter the first day of the closure.")
    if not isinstance(end_date, dt.date):
        errors["end_date"] = _("Enter the last day of the closure.")
    elif isinstance(start_date, dt.date) and end_date < start_date:
        errors["end_date"] = _("The last day cannot be before the first day.")
    reason = normalize(reason)
    if not reason:
        errors["reason"] = _("Enter the reason for the closure.")
    if errors:
        raise ValidationError(errors)
    closure = Closure(
        province=province,
        start_date=start_date,
        end_date=end_date,
        reason=reason,
        created_by=_actor(acting_user),
    )
    return create_audited(
        closure, CLOSURE_FIELDS, actor=acting_user, action="closure.create", province=province
    )


def closure_delete(*, closure: Closure, acting_user) -> None:
    _require_province_manager(
        acting_user, closure.province_id, _("Only the province's manager can remove its closures.")
    )
    with transaction.atomic():
        before = audit.snapshot(closure, CLOSURE_FIELDS)
        audit.record(
            actor=acting_user,
            action="closure.delete",
            obj=closure,
            changes=audit.diff(before, dict.fromkeys(before)),
            province=closure.province,
        )
        closure.delete()


def _clean_weekdays(weekdays) -> list[int] | None:
    """Sorted distinct weekday numbers, or None when the input is not valid."""
    if isinstance(weekdays, (str, bytes)) or weekdays is None:
        return None
    try:
        items = list(weekdays)
    except TypeError:
        return None
    days = set()
    for item in items:
        if isinstance(item, bool):
            return None
        if isinstance(item, str):
            item = to_ascii_digits(item).strip()
            if not item.isascii() or not item.isdigit():
                return None
            item = int(item)
        if not isinstance(item, int) or not 0 <= item <= 6:
            return None
        days.add(item)
    return sorted(days)


def weekend_rule_set(
    *, province, valid_from: dt.date, weekdays, acting_user, note: str = ""
) -> WeekendRule:
    """Set the weekend from `valid_from` on, nationally (province=None) or for
    one province. A second call for the same province and date replaces the
    weekdays rather than adding a competing rule."""
    if province is None:
        _require_national_admin(
            acting_user, _("Only a national administrator can set the national weekend.")
        )
    else:
        _require_province_manager(
            acting_user, province.pk, _("Only the province's manager can set its weekend.")
        )
    errors = {}
    if province is not None:
        _check_is_province(province, errors)
    if not isinstance(valid_from, dt.date):
        errors["valid_from"] = _("Enter the date the rule starts on.")
    days = _clean_weekdays(weekdays)
    if days is None:
        errors["weekdays"] = _(
            "Weekend days must be weekday numbers from 0 (Monday) to 6 (Sunday)."
        )
    elif not days:
        # Friday is the weekend by law; an empty list is a form left blank.
        errors["weekdays"] = _("Choose at least one weekend day.")
    elif len(days) == 7:
        errors["weekdays"] = _("At least one day of the week must be a working day.")
    if errors:
        raise ValidationError(errors)
    note = normalize(note)
    with transaction.atomic():
        rule = (
            WeekendRule.objects.select_for_update()
            .filter(province=province, valid_from=valid_from)
            .order_by("-id")
            .first()
        )
        if rule is None:
            rule = WeekendRule(province=province, valid_from=valid_from, weekdays=days, note=note)
            before = {}
            rule.full_clean()
            rule.save()
        else:
            before = audit.snapshot(rule, WEEKEND_FIELDS)
            rule.weekdays = days
            rule.note = note
            rule.full_clean()
            rule.save(update_fields=["weekdays", "note"])
        audit.record(
            actor=acting_user,
            action="weekend_rule.set",
            obj=rule,
            changes=audit.diff(before, audit.snapshot(rule, WEEKEND_FIELDS)),
            province=province,
        )
    return rule
