"""Exports of the household list: the list's current filter, within the
user's scope, as XLSX or CSV. Two layouts: one row per household, or one row
per person in the import layout, so an export can be corrected in Excel and
imported again. Small sets are written while the user waits; larger ones by
the shared export task (tashil.core.exports), which reports progress on an
ExportJob.

Personal data (national code, mobile, address, the exact point) goes only to
users who may see it on the household page: the office's staff, its province
manager and national admins. Everyone else who can see households at all
gets the file without those columns."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from tashil.accounts.scopes import scope_of
from tashil.core.exports import FORMATS, Exporter, ExportResult, register
from tashil.core.jalali import format_date
from tashil.core.validators import format_mobile_display
from tashil.system.audit import deliver_recorded

from . import selectors
from .forms import HouseholdFilterForm, scoped_filter_form
from .importer.columns import FIELDS
from .models import Connection, Household, Membership, Person
from .permissions import can_manage_household, can_use_registry

KIND_HOUSEHOLDS, KIND_MEMBERS = "registry_households", "registry_members"
KINDS = (KIND_HOUSEHOLDS, KIND_MEMBERS)
LAYOUTS = {"households": KIND_HOUSEHOLDS, "members": KIND_MEMBERS}
# Up to this many households the file is written while the user waits.
DIRECT_LIMIT = 1000
CHUNK = 500


def may_export(user) -> bool:
    return can_use_registry(user)


def may_see_personal(user, household=None) -> bool:
    """The same people who see personal data on the household page."""
    if household is not None:
        return can_manage_household(user, household)
    scope = scope_of(user)
    return scope.works_on_records


OPTIONS = ("page", "format", "layout", "personal")


def params_of(querydict) -> dict:
    """The filter part of a request's query string, plus whether personal data
    was asked for ("personal=0" leaves it out, e.g. for a file to share)."""
    params = {k: querydict.getlist(k) for k in querydict if k not in OPTIONS}
    if querydict.get("personal") == "0":
        params["_personal"] = ["0"]
    return params


def _filters(user, params: dict) -> dict | None:
    """The household list's filter form, applied as the list page applies it."""

    data = QueryDict(mutable=True)
    for key, values in params.items():
        if not key.startswith("_"):
            data.setlist(key, values)
    if not data:
        return {}
    form = scoped_filter_form(HouseholdFilterForm, data, user)
    if not form.is_valid():
        return None
    return form.filters()


def export_queryset(*, user, params: dict):
    filters = _filters(user, params)
    if filters is None:
        return None
    return selectors.household_list(user=user, **filters).prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.current().select_related("person").order_by("id"),
            to_attr="current_members",
        )
    )


def _label(choices, value) -> str:
    try:
        return str(choices(value).label) if value else ""
    except ValueError:
        return value or ""


def _yes(value) -> str:
    if value is None:
        return ""
    return _("yes") if value else _("no")


def _head(household):
    return next(
        (m.person for m in household.current_members if m.relation == Membership.Relation.HEAD),
        None,
    )


def _household_columns(personal: bool) -> list[tuple[str, object]]:
    columns = [
        ("external_id", _("Household id")),
        ("area", _("Neighbourhood")),
        ("office", _("Office")),
        ("head", _("Head of household")),
        ("members", _("Members")),
        ("score", _("Vulnerability score")),
        ("vulnerable", _("Vulnerable")),
        ("groups", _("Vulnerability groups")),
        ("hazard", _("Hazard zone")),
        ("dwelling_type", _("Dwelling type")),
        ("tenure", _("Tenure")),
        ("water", _("Water")),
        ("electricity", _("Electricity")),
        ("sewage", _("Sewage")),
        ("gas", _("Gas")),
        ("main_income", _("Main income source")),
        ("support_relief", _("Supported by the Relief Foundation")),
        ("support_welfare", _("Supported by the Welfare Organization")),
        ("support_other", _("Other support")),
        ("updated", _("Last changed")),
    ]
    if personal:
        columns[4:4] = [
            ("head_national_code", _("Head's national code")),
            ("head_mobile", _("Head's mobile")),
            ("address", _("Address or description")),
            ("latitude", _("Latitude")),
            ("longitude", _("Longitude")),
        ]
    return columns


def _living_values(h) -> dict:
    """Dwelling, services, income and support: the same cells in both layouts."""
    return {
        "dwelling_type": _label(Household.DwellingType, h.dwelling_type),
        "tenure": _label(Household.Tenure, h.tenure),
        "water": _label(Connection, h.water),
        "electricity": _label(Connection, h.electricity),
        "sewage": _label(Connection, h.sewage),
        "gas": _label(Connection, h.gas),
        "main_income": _label(Household.Income, h.main_income),
        "support_relief": _yes(h.support_relief),
        "support_welfare": _yes(h.support_welfare),
        "support_other": h.support_other,
    }


def _household_values(h, personal: bool) -> dict:
    head = _head(h)
    values = {
        "external_id": h.external_id,
        "area": h.area.name,
        "office": h.office.name,
        "head": str(head) if head else "",
        "members": len(h.current_members),
        "score": h.vulnerability_score,
        "vulnerable": _yes(h.is_vulnerable),
        "groups": "، ".join(v.indicator.name for v in h.vulnerabilities.all()),
        "hazard": h.hazard_zone.name if h.hazard_zone_id else "",
        **_living_values(h),
        "updated": h.updated_at,
    }
    if personal:
        values.update(
            {
                "head_national_code": head.national_code or "" if head else "",
                "head_mobile": format_mobile_display(head.mobile) if head and head.mobile else "",
                "address": h.address,
                "latitude": h.latitude,
                "longitude": h.longitude,
            }
        )
    return values


def _member_columns(personal: bool) -> list[tuple[str, object]]:
    """The import template's columns and labels, so the file imports again."""

    hidden = set() if personal else {"national_code", "mobile", "address", "latitude", "longitude"}
    return [(spec.key, spec.label) for spec in FIELDS if spec.key not in hidden]


def _member_values(h, m: Membership) -> dict:
    p: Person = m.person
    return {
        "household_id": h.external_id,
        "neighbourhood": h.area.name,
        "address": h.address,
        "latitude": h.latitude,
        "longitude": h.longitude,
        **_living_values(h),
        "household_note": h.note,
        "national_code": p.national_code or "",
        "first_name": p.first_name,
        "last_name": p.last_name,
        "father_name": p.father_name,
        "sex": _label(Person.Sex, p.sex),
        "birth_date": format_date(p.birth_date, "short", lang="en") if p.birth_date else "",
        "birth_year": p.birth_year if p.birth_year and not p.birth_date else "",
        "nationality": _label(Person.Nationality, p.nationality),
        "mobile": format_mobile_display(p.mobile),
        "relation": _label(Membership.Relation, m.relation),
        "joined_on": format_date(m.joined_on, "short", lang="en") if m.joined_on else "",
        "marital_status": _label(Person.MaritalStatus, p.marital_status),
        "education": _label(Person.Education, p.education),
        "in_school": _yes(p.in_school),
        "employment": _label(Person.Employment, p.employment),
        "has_disability": _yes(p.has_disability),
        "disability_note": p.disability_note,
        "chronic_illness": _yes(p.chronic_illness),
        "health_insurance": _label(Person.Insurance, p.health_insurance),
    }


def rows(kind: str, user, params: dict, progress=None):
    """The header, then each row, within `user`'s scope; PII per household."""
    queryset = export_queryset(user=user, params=params)
    if queryset is None:
        raise ValidationError(_("Correct the filter before exporting."))
    personal = may_see_personal(user) and params.get("_personal") != ["0"]
    columns = _household_columns(personal) if kind == KIND_HOUSEHOLDS else _member_columns(personal)
    yield [str(label) for _key, label in columns]
    total = queryset.count()
    if progress:
        progress(0, total)
    done = 0
    for household in queryset.iterator(chunk_size=CHUNK):
        if kind == KIND_HOUSEHOLDS:
            values = _household_values(household, personal)
            yield [values[key] for key, _label_ in columns]
        else:
            for membership in household.current_members:
                values = _member_values(household, membership)
                yield [values[key] for key, _label_ in columns]
        done += 1
        if progress and done % CHUNK == 0:
            progress(done)
    if progress:
        progress(done)


def filename(file_format: str, kind: str = KIND_HOUSEHOLDS) -> str:
    stem = "households" if kind == KIND_HOUSEHOLDS else "household-members"
    return f"{stem}-{format_date(timezone.localdate(), 'short', lang='en').replace('/', '-')}.{file_format}"


EXPORTERS = {
    kind: register(
        Exporter(
            kind=kind,
            rows=lambda user, params, progress, kind=kind: rows(kind, user, params, progress),
            filename=lambda file_format, kind=kind: filename(file_format, kind),
            sheet_name="Households",
        )
    )
    for kind in KINDS
}


def export_households(
    *, user, params: dict, file_format: str = "xlsx", layout: str = "households"
) -> ExportResult:
    """The current filter as a file, or a background job for a large one.
    Recorded in the audit log: who exported what, and whether with personal data."""
    if not may_export(user):
        raise PermissionDenied
    file_format = file_format if file_format in FORMATS else "xlsx"
    kind = LAYOUTS.get(layout, KIND_HOUSEHOLDS)
    return deliver_recorded(
        EXPORTERS[kind],
        user=user,
        params=params,
        file_format=file_format,
        queryset=export_queryset(user=user, params=params),
        direct_limit=DIRECT_LIMIT,
        action="registry.export",
        object_type="registry.household",
        counted_as="households",
        personal_data=may_see_personal(user) and params.get("_personal") != ["0"],
        # Keys starting with "_" are the export's own options, not the filter.
        filter_keys=[k for k in params if not k.startswith("_")],
    )
