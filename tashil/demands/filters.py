"""The demand list's filters, parsed once for every door: the staff list page
and its exports (query parameters named as the form's fields) and the API
(its own parameter names, mapped in `API_NAMES`). Codes are resolved within
the user's scope only: an area, agency or office the user cannot see is an
error, the same on every door, never a filter over someone else's rows."""

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext as _

from tashil.agencies.models import Agency, DemandCategory
from tashil.core.jalali import parse_date
from tashil.core.text import to_ascii_digits
from tashil.geo.models import Area

from .models import DemandStatus, SlaState
from .selectors import SORTS, DemandFilters, visible_offices

FIELDS = (
    "q",
    "area",
    "category",
    "agency",
    "office",
    "status",
    "sla",
    "date_from",
    "date_to",
    "sort",
    "mine",
)
# The API's names for the filters whose page name reads differently.
API_NAMES = {"sla": "sla_state", "date_from": "submitted_from", "date_to": "submitted_to"}
MAX_QUERY_LENGTH = 200
STATUS_CHOICES = ("open", "closed", *DemandStatus.values)


def parse_day(text: str | None) -> dt.date | None:
    """An ISO date or a Jalali 'YYYY/MM/DD', in any digits (a year before
    1700 is Jalali, from 1700 on Gregorian). Raises ValueError with a
    message for the user."""
    text = to_ascii_digits(text or "").strip()
    if not text:
        return None
    try:
        parsed = dt.date.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.year >= 1700:
        return parsed
    if text[:4].isdigit() and int(text[:4]) >= 1700:
        # A Gregorian year whose date does not exist ("2024-02-30"), not a
        # Jalali date six centuries ahead.
        raise ValueError(_("Enter a Jalali date as YYYY/MM/DD, for example 1403/01/15."))
    return parse_date(text)


def _is_on(value: str) -> bool:
    # A checkbox's value, as Django's BooleanField reads it.
    return bool(value) and value.lower() not in ("false", "0")


def parse_demand_filters(user, data: Mapping, *, names: Mapping | None = None) -> DemandFilters:
    """`DemandFilters` from raw input (a QueryDict or a dict of strings).
    `names` maps a filter to the caller's parameter name. Raises a
    ValidationError naming each bad parameter by the caller's name."""
    names = {**{f: f for f in FIELDS}, **(names or {})}
    errors: dict[str, list] = {}

    def raw(field: str) -> str:
        value = data.get(names[field])
        return "" if value is None else str(value).strip()

    def fail(field: str, message) -> None:
        errors.setdefault(names[field], []).append(message)

    def choice(field: str, choices) -> str:
        value = raw(field)
        if value and value not in choices:
            fail(
                field,
                _("Select a valid choice. %(value)s is not one of the available choices.")
                % {"value": value},
            )
            return ""
        return value

    def lookup(field: str, scoped, message):
        # `scoped` builds the queryset only when a code is given: a scope
        # (the areas' provinces) can cost a query of its own.
        code = raw(field)
        if not code:
            return None
        found = scoped().filter(code=code).first()
        if found is None:
            fail(field, message)
        return found

    def day(field: str) -> dt.date | None:
        try:
            return parse_day(raw(field))
        except ValueError as error:
            fail(field, str(error))
            return None

    q = raw("q")
    try:
        MaxLengthValidator(MAX_QUERY_LENGTH)(q)
    except ValidationError as error:
        fail("q", error.messages[0])
    filters = DemandFilters(
        q=q,
        area=lookup(
            "area", lambda: Area.objects.visible_to(user), _("No area you can see has this code.")
        ),
        category=lookup("category", DemandCategory.objects.all, _("No category has this code.")),
        agency=lookup(
            "agency",
            lambda: Agency.objects.visible_to(user),
            _("No agency you can see has this code."),
        ),
        office=lookup(
            "office", lambda: visible_offices(user), _("No office you can see has this code.")
        ),
        status=choice("status", STATUS_CHOICES),
        sla=choice("sla", SlaState.values),
        date_from=day("date_from"),
        date_to=day("date_to"),
        sort=choice("sort", SORTS) or "newest",
        mine=_is_on(raw("mine")),
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        fail("date_to", _("The end date is before the start date."))
    if errors:
        raise ValidationError(errors)
    return filters
