"""Reads for the staff demand pages, the agency portal and the exports. Each
selector owns its joins, so a page issues the same number of queries however
many rows it shows."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from tashil.accounts.scopes import scope_of
from tashil.agencies.models import Agency, DemandCategory
from tashil.agencies.selectors import descendant_ids
from tashil.core.calendar import non_working_days
from tashil.core.jalali import format_date
from tashil.core.text import ZWNJ, search_terms
from tashil.geo.models import Area
from tashil.offices.models import Office

from .models import (
    CLOCK_RUNNING_STATUSES,
    CLOSED_STATUSES,
    OPEN_REFERRAL_STATUSES,
    OPEN_STATUSES,
    Attachment,
    Channel,
    Demand,
    DemandEvent,
    DemandStatus,
    EventKind,
    FollowUp,
    Referral,
    ReferralStatus,
    SlaState,
)
from .tracking import search_prefix

# --- who reaches which page ------------------------------------------------------------


def is_demand_staff(user) -> bool:
    """Office staff, province managers and national administrators work on
    demand rows; liaisons go through the agency portal, analysts see only
    aggregates."""
    return scope_of(user).works_on_records


def can_use_portal(user) -> bool:
    scope = scope_of(user)
    return scope.works_on_records or bool(scope.agency_ids)


def recording_offices(user):
    """Offices the user may record demands for."""
    offices = Office.objects.filter(status__in=(Office.Status.PILOT, Office.Status.ACTIVE))
    return offices.worked_on_by(user)


def intake_neighbourhoods(user):
    """Neighbourhoods served by the offices the user records for."""
    return (
        Area.objects.filter(level=Area.Level.NEIGHBOURHOOD, offices__in=recording_offices(user))
        .distinct()
        .order_by("path")
    )


def visible_offices(user):
    return Office.objects.worked_on_by(user).order_by("name_fa")


# --- the staff list ------------------------------------------------------------------------

SORTS = {
    "newest": ("-submitted_at", "-id"),
    "oldest": ("submitted_at", "id"),
    "supporters": ("-supporters_count", "-submitted_at", "-id"),
    # The same order as the demand_next_due index, so a page reads 30 index entries.
    "due": (F("next_due_date").asc(nulls_last=True), "-submitted_at", "-id"),
}


@dataclass
class DemandFilters:
    q: str = ""
    area: Area | None = None
    category: DemandCategory | None = None
    agency: Agency | None = None
    office: Office | None = None
    status: str = ""
    sla: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    mine: bool = False
    sort: str = "newest"
    extra: dict = field(default_factory=dict)


def _day_start(day: dt.date):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _clock_running(demand_ref="pk"):
    return Referral.objects.filter(demand=OuterRef(demand_ref), status__in=CLOCK_RUNNING_STATUSES)


def with_sla_data(queryset):
    """The earliest due and at-risk dates of the demand's running referrals:
    enough for the worst SLA state of the row and for sorting by due date.
    The due date is the demand's own column; the at-risk date is read only
    for the rows shown."""
    running = _clock_running()
    return queryset.annotate(
        next_due=F("next_due_date"),
        next_at_risk=Subquery(running.order_by("at_risk_date").values("at_risk_date")[:1]),
    )


def _sla_condition(state: str, today: dt.date) -> Q:
    """Referral.with_sla_state's CASE for one state, as plain conditions the
    planner can estimate and serve from indexes."""
    running = Q(status__in=CLOCK_RUNNING_STATUSES)
    if state == SlaState.BREACHED:
        return running & Q(due_date__lt=today)
    if state == SlaState.AT_RISK:
        return running & Q(due_date__gte=today, at_risk_date__lte=today)
    if state == SlaState.ON_TRACK:
        return running & Q(due_date__gte=today, at_risk_date__gt=today)
    if state == SlaState.STOPPED:
        return ~running
    # Not a state: no referral matches, as with the CASE.
    return Q(pk__in=[])


def search(queryset, query: str):
    """Every word of `query` in the normalised text, or the tracking code or
    public id.

    The stored key drops ZWNJ ("خانه‌ها" → "خانهها"); the query splits at it
    instead, so that "آب‌آشامیدنی" also finds text written "آب آشامیدنی"."""
    terms = search_terms((query or "").replace(ZWNJ, " "))
    if not terms:
        return queryset
    text = Q()
    for term in terms:
        text &= Q(search_key__contains=term)
    code = search_prefix(query)
    if code:
        text |= Q(code__startswith=code) | Q(public_id__startswith=code)
    return queryset.filter(text)


def demand_list(*, user, filters: DemandFilters, today: dt.date | None = None):
    today = today or timezone.localdate()
    qs = with_sla_data(Demand.objects.visible_to(user).with_list_data())
    if filters.q:
        qs = search(qs, filters.q)
    if filters.area is not None:
        qs = qs.filter(area__path__startswith=filters.area.path)
    if filters.category is not None:
        qs = qs.filter(category_id__in=descendant_ids(filters.category))
    if filters.agency is not None:
        qs = qs.filter(
            Exists(Referral.objects.filter(demand=OuterRef("pk"), agency=filters.agency))
        )
    if filters.office is not None:
        qs = qs.filter(office=filters.office)
    if filters.status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif filters.status == "closed":
        qs = qs.filter(status__in=CLOSED_STATUSES)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.sla == SlaState.BREACHED:
        # A running referral is late exactly when the earliest running due
        # date is: one range of the demand_next_due index, where the
        # referrals would be probed demand by demand.
        qs = qs.filter(next_due_date__lt=today)
    elif filters.sla:
        states = Referral.objects.filter(_sla_condition(filters.sla, today), demand=OuterRef("pk"))
        qs = qs.filter(Exists(states))
    if filters.date_from:
        qs = qs.filter(submitted_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(submitted_at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.mine:
        qs = qs.filter(created_by=user)
    return qs.order_by(*SORTS.get(filters.sort, SORTS["newest"]))


def row_sla_state(demand, today) -> str:
    """The worst SLA state over the demand's running referrals ('' if none)."""
    if demand.next_due is None:
        return ""
    if demand.next_due < today:
        return SlaState.BREACHED
    if demand.next_at_risk is not None and demand.next_at_risk <= today:
        return SlaState.AT_RISK
    return SlaState.ON_TRACK


# --- one demand ---------------------------------------------------------------------------


def demand_detail_queryset(user):
    return Demand.objects.visible_to(user).with_detail_data()


def demand_referrals(demand):
    return list(
        demand.referrals.select_related("agency", "created_by")
        .prefetch_related(
            Prefetch(
                "follow_ups",
                queryset=FollowUp.objects.select_related("actor").order_by("-happened_on", "-id"),
            )
        )
        .order_by("sent_on", "id")
    )


def demand_attachments(demand):
    return list(demand.attachments.select_related("referral__agency").order_by("created_at", "id"))


def demand_events(demand):
    return list(demand.events.select_related("actor", "referral__agency").order_by("at", "id"))


def remaining_working_days(referrals, today) -> dict[int, int]:
    """Working days left until each running referral's due date (negative
    when late), with one calendar read per province rather than per row."""
    by_province: dict = {}
    for referral in referrals:
        if referral.status in CLOCK_RUNNING_STATUSES:
            by_province.setdefault(referral.demand.province_id, []).append(referral)
    result = {}
    for province_id, rows in by_province.items():
        start = min([today, *(r.due_date for r in rows)])
        end = max([today, *(r.due_date for r in rows)])
        off = non_working_days(start + dt.timedelta(days=1), end, province_id)
        for r in rows:
            low, high, sign = (
                (today, r.due_date, 1) if r.due_date >= today else (r.due_date, today, -1)
            )
            span = (high - low).days
            days_off = sum(1 for d in off if low < d <= high)
            result[r.pk] = sign * (span - days_off)
    return result


# --- the agency portal --------------------------------------------------------------------

REFERRAL_SORTS = {
    "due": ("due_date", "id"),
    "newest": ("-sent_on", "-id"),
}


def referral_list(*, user, status: str = "", sla: str = "", today=None, sort: str = "due"):
    today = today or timezone.localdate()
    qs = (
        Referral.objects.visible_to(user)
        .with_sla_state(today)
        .select_related("agency", "demand", "demand__area", "demand__category", "demand__office")
    )
    if status == "open":
        qs = qs.filter(status__in=OPEN_REFERRAL_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if sla:
        qs = qs.filter(sla_state=sla)
    return qs.order_by(*REFERRAL_SORTS.get(sort, REFERRAL_SORTS["due"]))


def referral_detail_queryset(user):
    return Referral.objects.visible_to(user).with_detail_data()


def referral_attachments(referral):
    """What the agency may open: the resident's photos and this referral's files."""
    return list(
        Attachment.objects.filter(
            Q(demand_id=referral.demand_id, referral__isnull=True, kind=Attachment.Kind.PHOTO)
            | Q(referral=referral)
        ).order_by("created_at", "id")
    )


def referral_events(referral):
    """The events of this referral, and the demand's public steps (public
    text only): no other agency's correspondence and no internal notes."""
    return list(
        DemandEvent.objects.filter(
            Q(referral=referral) | Q(demand_id=referral.demand_id, is_public=True)
        )
        .select_related("actor", "referral__agency")
        .order_by("at", "id")
    )


def attachment_for(user, pk: int) -> Attachment | None:
    """An attachment the user may open, or None. Office staff open the files of
    their demands; a liaison opens the resident's photos of a demand referred
    to their agency and the files of their agency's referrals."""
    attachment = Attachment.objects.select_related("demand", "referral").filter(pk=pk).first()
    if attachment is None:
        return None
    if Demand.objects.visible_to(user).filter(pk=attachment.demand_id).exists():
        return attachment
    scope = scope_of(user)
    if not scope.agency_ids:
        return None
    if attachment.referral_id is not None:
        return attachment if attachment.referral.agency_id in scope.agency_ids else None
    if attachment.kind == Attachment.Kind.PHOTO:
        referred = Referral.objects.filter(
            demand_id=attachment.demand_id, agency_id__in=scope.agency_ids
        )
        return attachment if referred.exists() else None
    return None


# --- timeline presentation ----------------------------------------------------------------


@dataclass
class TimelineEntry:
    event: DemandEvent
    title: str
    who: str
    change: tuple[str, str] | None = None
    details: list[str] = field(default_factory=list)
    note: str = ""
    # What the resident reads on the tracking page, when it says more than the note.
    public_note: str = ""
    css: str = "secondary"


def _status_label(value: str, referral: bool) -> str:
    choices = ReferralStatus if referral else DemandStatus
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _iso_date(value: str) -> dict:
    """The %(date)s argument for a date the timeline data stores as ISO text."""
    return {"date": format_date(dt.date.fromisoformat(value))}


def _actor_name(event) -> str:
    if event.actor_id is None:
        if event.kind in (EventKind.FEEDBACK, EventKind.SUPPORTED):
            return _("Resident")
        if event.kind == EventKind.SUBMITTED:
            return _("Resident")
        return _("System")
    return event.actor.get_full_name() or event.actor.username


RUNG_LABELS = {
    "liaison": lambda: _("reminder to the agency's liaison"),
    "office_manager": lambda: _("escalated to the office manager"),
    "province_manager": lambda: _("escalated to the province manager"),
    "governorate": lambda: _("escalated to the governorate"),
}


def timeline(
    events, *, internal: bool = True, own_referral_id: int | None = None
) -> list[TimelineEntry]:
    """Events as the timeline shows them. `internal` shows staff names and
    notes; the agency portal passes False and sees full detail only for its
    own referral, and public notes for the rest."""
    kinds = dict(FollowUp.Kind.choices)
    outcomes = dict(FollowUp.Outcome.choices)
    entries = []
    for event in events:
        full = internal or (own_referral_id is not None and event.referral_id == own_referral_id)
        agency = event.referral.agency.name if event.referral_id else ""
        entry = TimelineEntry(
            event=event,
            title=str(EventKind(event.kind).label)
            if event.kind in EventKind.values
            else event.kind,
            who=_actor_name(event) if full else "",
        )
        data = event.data or {}
        if event.kind == EventKind.SUBMITTED:
            entry.title, entry.css = _("Demand recorded"), "primary"
            if data.get("channel"):
                try:
                    entry.details.append(
                        _("Channel: %(channel)s") % {"channel": Channel(data["channel"]).label}
                    )
                except ValueError:
                    pass
        elif event.kind == EventKind.STATUS:
            entry.title = _("Status changed")
            entry.change = (
                _status_label(event.from_status, False),
                _status_label(event.to_status, False),
            )
            entry.css = "info"
        elif event.kind == EventKind.REFERRED:
            entry.title, entry.css = _("Referred to %(agency)s") % {"agency": agency}, "primary"
            if full and data.get("letter_number"):
                entry.details.append(
                    _("Letter number: %(number)s") % {"number": data["letter_number"]}
                )
            if data.get("due_date"):
                entry.details.append(_("Due: %(date)s") % _iso_date(data["due_date"]))
        elif event.kind == EventKind.REFERRAL_STATUS:
            entry.title = _("Referral to %(agency)s") % {"agency": agency}
            entry.change = (
                _status_label(event.from_status, True),
                _status_label(event.to_status, True),
            )
            entry.css = (
                "warning"
                if event.to_status in (ReferralStatus.REJECTED, ReferralStatus.NOT_RESPONSIBLE)
                else "success"
                if event.to_status in (ReferralStatus.ANSWERED, ReferralStatus.DONE)
                else "info"
            )
            if data.get("expected_date"):
                entry.details.append(_("Expected: %(date)s") % _iso_date(data["expected_date"]))
        elif event.kind == EventKind.FOLLOW_UP:
            entry.title = _("Follow-up with %(agency)s") % {"agency": agency}
            entry.details.append(
                f"{kinds.get(data.get('kind'), data.get('kind', ''))} · "
                f"{outcomes.get(data.get('outcome'), data.get('outcome', ''))}"
            )
        elif event.kind == EventKind.ESCALATED:
            entry.title = _("Escalation: %(agency)s is late") % {"agency": agency}
            entry.css = "danger"
            rung = RUNG_LABELS.get(data.get("rung"))
            if rung:
                entry.details.append(str(rung()))
            if full and data.get("notified"):
                entry.details.append(
                    _("%(count)s people notified") % {"count": len(data["notified"])}
                )
        elif event.kind == EventKind.FEEDBACK:
            entry.title = _("Resident's feedback")
            entry.css = "success" if data.get("satisfied") else "danger"
            entry.details.append(_("Satisfied") if data.get("satisfied") else _("Not satisfied"))
        elif event.kind == EventKind.MERGED:
            entry.title = _("Another report merged into this demand")
            if data.get("from"):
                entry.details.append(_("From demand %(code)s") % {"code": data["from"]})
        elif event.kind == EventKind.SUPPORTED:
            entry.title = _("A resident supported the demand")
        # Follow-up notes are the office's own record of its calls.
        if full and (internal or event.kind != EventKind.FOLLOW_UP):
            entry.note = event.note
        if event.is_public and event.public_note and event.public_note != entry.note:
            entry.public_note = event.public_note
        entries.append(entry)
    return entries
