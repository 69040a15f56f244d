"""The escalation ladder for referrals whose agency has not answered in time.

Rungs (settings.ESCALATION_LADDER, each with its working-days threshold):

1. the agency's liaisons are reminded once the referral is at risk;
2. the office manager, once the due date has passed;
3. the province manager, N working days after the due date;
4. the governorate: the liaisons of the agency the routing table names for the
   "escalation" category in the demand's area (data, not code).

The job is idempotent and safe to run twice at once: rows are claimed with
SELECT … FOR UPDATE SKIP LOCKED (on PostgreSQL), and a rung is recorded only
by a conditional UPDATE from the level that was read, so a rung is never
recorded or notified twice."""

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from tashil.agencies.models import DemandCategory
from tashil.agencies.routing import route
from tashil.core.calendar import working_days_between
from tashil.core.jalali import format_date

from . import messages, services
from .models import CLOCK_RUNNING_STATUSES, Referral

ESCALATION_CATEGORY_CODE = "escalation"


def ladder_level(*, status, at_risk_date, due_date, today, working_days_between) -> int:
    """The highest rung of settings.ESCALATION_LADDER a referral in `status`
    with these dates should have reached by `today`. `working_days_between(a, b)`
    counts the province's working days from a to b. The escalation job and the
    benchmark data generator both climb the ladder through this one function."""
    if status not in CLOCK_RUNNING_STATUSES or today < at_risk_date:
        return 0
    level = 1
    if today > due_date:
        overdue = working_days_between(due_date, today)
        for index, (_rung, threshold) in enumerate(settings.ESCALATION_LADDER[1:], start=2):
            if overdue >= max(threshold, 1):
                level = index
    return level


def target_level(referral: Referral, today) -> int:
    """The highest rung this referral should have reached by `today`."""
    return ladder_level(
        status=referral.status,
        at_risk_date=referral.at_risk_date,
        due_date=referral.due_date,
        today=today,
        working_days_between=lambda start, end: working_days_between(
            start, end, referral.demand.province_id
        ),
    )


def _recipients(referral: Referral, rung: str):
    demand = referral.demand
    if rung == "liaison":
        return messages.liaisons_of(referral.agency)
    if rung == "office_manager":
        return messages.office_managers_of(demand.office)
    if rung == "province_manager":
        return messages.province_managers_of(demand.province)

    category = DemandCategory.objects.filter(code=ESCALATION_CATEGORY_CODE).first()
    agency = route(category=category, area=demand.area) if category else None
    return (
        messages.liaisons_of(agency) if agency else messages.province_managers_of(demand.province)
    )


def _escalate_one(referral: Referral, today, now) -> int:
    """Record and notify every rung between the current and the target level."""
    target = target_level(referral, today)
    current = referral.escalation_level
    if target <= current:
        return 0
    claimed = Referral.objects.filter(pk=referral.pk, escalation_level=current).update(
        escalation_level=target, last_escalated_at=now
    )
    if not claimed:  # another run got there first
        return 0
    for level in range(current + 1, target + 1):
        rung = settings.ESCALATION_LADDER[level - 1][0]
        recipients = _recipients(referral, rung)
        services.escalation_record(
            referral=referral, level=level, rung=rung, notified=recipients, at=now
        )

        def body(referral=referral, rung=rung):
            # Agencies know a demand by its public id; the tracking code is the
            # resident's key, shared with the office only.
            if rung == "liaison":
                return _("Reminder: referral %(code)s to %(agency)s is due %(due)s.") % {
                    "code": referral.demand.public_id,
                    "agency": referral.agency.name,
                    "due": _due(referral),
                }
            return _("Escalation: %(agency)s has not answered referral %(code)s, due %(due)s.") % {
                "code": referral.demand.public_id
                if rung == "governorate"
                else referral.demand.display_code,
                "agency": referral.agency.name,
                "due": _due(referral),
            }

        messages.send_to_users(recipients, body, f"referral:{referral.pk}")
    return target - current


def _due(referral):
    return format_date(referral.due_date)


def escalate_referrals(*, today=None, batch_size: int = 200) -> int:
    """Run the ladder over every referral whose clock is running. Returns the
    number of rungs recorded."""
    today = today or timezone.localdate()
    now = timezone.now()
    last_pk, recorded = 0, 0
    max_level = len(settings.ESCALATION_LADDER)
    while True:
        with transaction.atomic():
            batch = list(
                Referral.objects.filter(
                    pk__gt=last_pk,
                    status__in=CLOCK_RUNNING_STATUSES,
                    at_risk_date__lte=today,
                    escalation_level__lt=max_level,
                )
                .select_related("demand", "agency", "demand__office", "demand__area")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return recorded
            for referral in batch:
                recorded += _escalate_one(referral, today, now)
        last_pk = batch[-1].pk


@task()
def escalate_referrals_task() -> int:
    return escalate_referrals()
