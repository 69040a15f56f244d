"""Spreadsheet exports of the staff demand list: the current filter, within
the user's scope, as XLSX or CSV. Small sets are written in the request;
larger ones by core's export job, which reports its progress. Every export
is recorded in the audit log."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tashil.accounts.scopes import scope_of
from tashil.core.exports import FORMATS, Exporter, ExportResult, register
from tashil.core.jalali import format_date
from tashil.core.validators import format_mobile_display
from tashil.system.audit import deliver_recorded

from . import permissions
from .filters import parse_demand_filters
from .models import Channel, DemandStatus, Referral, SlaState, SubmitterKind
from .selectors import demand_list, row_sla_state

KIND = "demands_list"
# Up to this many rows the file is written while the user waits.
DIRECT_LIMIT = 2000
CHUNK = 500


@dataclass
class Column:
    key: str
    header: object
    personal: bool = False


def columns(*, personal: bool) -> list[Column]:
    cols = [
        # The public id, never the tracking code: a file leaves the system and
        # the code is the resident's key (staff find a demand by either).
        Column("public_id", _("Public id")),
        Column("title", _("Title")),
        Column("status", _("Status")),
        Column("category", _("Category")),
        Column("area", _("Neighbourhood")),
        Column("office", _("Office")),
        Column("channel", _("Channel")),
        Column("submitter_kind", _("Submitted by")),
        Column("supporters", _("Supporters")),
        Column("submitted_at", _("Recorded at")),
        Column("closed_at", _("Closed at")),
        Column("agencies", _("Referred to")),
        Column("next_due", _("Nearest due date")),
        Column("sla", _("Deadline")),
        Column("description", _("Description")),
        Column("submitter_name", _("Submitter name"), personal=True),
        Column("submitter_mobile", _("Submitter mobile"), personal=True),
        Column("contact_consent", _("Consents to share contact"), personal=True),
    ]
    return [c for c in cols if personal or not c.personal]


def may_see_personal(user) -> bool:

    return scope_of(user).works_on_records


def _label(choices, value):
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _row(demand, cols, user, today) -> list:
    contact = permissions.can_see_contact(user, demand)
    values = {
        "public_id": demand.public_id,
        "title": demand.title,
        "status": _label(DemandStatus, demand.status),
        "category": demand.category.name,
        "area": demand.area.name,
        "office": demand.office.name if demand.office_id else "",
        "channel": _label(Channel, demand.channel),
        "submitter_kind": _label(SubmitterKind, demand.submitter_kind),
        "supporters": demand.supporters_count,
        # Dates are written in Jalali with Latin digits by the core writer.
        "submitted_at": demand.submitted_at,
        "closed_at": demand.closed_at,
        "agencies": "، ".join(r.agency.name for r in demand.referrals.all()),
        "next_due": demand.next_due,
        "sla": _label(SlaState, row_sla_state(demand, today)),
        "description": demand.description,
        "submitter_name": demand.submitter_name if contact else "",
        "submitter_mobile": format_mobile_display(demand.submitter_mobile)
        if contact and demand.submitter_mobile
        else "",
        "contact_consent": (_("yes") if demand.contact_consent else _("no")) if contact else "",
    }
    return [values[c.key] for c in cols]


# --- the query -------------------------------------------------------------------------------


def params_of(querydict) -> dict:
    """The filter part of a request's query string, kept on the job."""
    return {k: querydict.getlist(k) for k in querydict if k not in ("page", "format")}


def export_queryset(*, user, params: dict):
    """The list's filter applied for `user`, parsed as the list page parses
    it; an invalid filter exports nothing rather than everything."""
    data = QueryDict(mutable=True)
    for key, values in params.items():
        data.setlist(key, values)
    try:
        filters = parse_demand_filters(user, data)
    except ValidationError:
        return None

    return demand_list(user=user, filters=filters).prefetch_related(
        Prefetch(
            "referrals",
            queryset=Referral.objects.select_related("agency").order_by("sent_on", "id"),
        )
    )


# --- writing -----------------------------------------------------------------------------------


def rows(user, params: dict, progress=None):
    """The header, then a row per demand of the filter as `user` may see it;
    `progress(done)` after each chunk."""
    queryset = export_queryset(user=user, params=params)
    if queryset is None:
        raise ValueError("invalid filter")
    cols = columns(personal=may_see_personal(user))
    today = timezone.localdate()
    yield [str(c.header) for c in cols]
    done = 0
    for demand in queryset.iterator(chunk_size=CHUNK):
        yield _row(demand, cols, user, today)
        done += 1
        if progress and done % CHUNK == 0:
            progress(done)
    if progress:
        progress(done)


def filename(file_format: str) -> str:
    return f"demands-{format_date(timezone.localdate(), 'short', lang='en').replace('/', '-')}.{file_format}"


EXPORTER = register(
    Exporter(kind=KIND, rows=rows, filename=filename, sheet_name=gettext_lazy("Demands"))
)


def export_demands(*, user, params: dict, file_format: str) -> ExportResult:
    if file_format not in FORMATS:
        file_format = "xlsx"
    return deliver_recorded(
        EXPORTER,
        user=user,
        params=params,
        file_format=file_format,
        queryset=export_queryset(user=user, params=params),
        direct_limit=DIRECT_LIMIT,
        action="demands.export",
        object_type="demands.demand",
        counted_as="demands",
        personal_data=may_see_personal(user),
        filter_keys=params,
    )
