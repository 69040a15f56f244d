"""A referral's SLA clock runs on the province's working calendar: weekends,
official holidays (Nowruz) and closures declared by the province."""

import datetime as dt

import jdatetime
import pytest

from tashil.core.calendar import sync_holidays
from tashil.demands import services
from tashil.demands.models import Referral, ReferralStatus, SlaState
from tashil.system.calendar import closure_create

D = dt.date


def jalali(year, month, day) -> dt.date:
    return jdatetime.date(year, month, day).togregorian()


@pytest.fixture
def referred_on(monkeypatch, demand_setup, submit):
    """Refer a fresh demand as if today were `day` (services read the local date)."""

    def refer(day, **kwargs):
        monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: day)
        demand = submit()
        return services.demand_refer(
            demand=demand, acting_user=demand_setup.users["office_manager"], **kwargs
        )

    return refer


def test_five_working_days_sent_before_nowruz_land_after_the_holidays(demand_setup, referred_on):
    sync_holidays([2025])
    sent = jalali(1403, 12, 25)
    assert sent == D(2025, 3, 15) and sent.weekday() == 5  # a Saturday

    referral = referred_on(sent)

    # Sun 16 (1), Mon 17 (2), Tue 18 (3); Wed 19 oil nationalisation day,
    # Thu–Fri weekend, 1–4 Farvardin Nowruz (Fri 21 – Mon 24); Tue 25 (4), Wed 26 (5).
    assert referral.sent_on == sent
    assert referral.due_date == D(2025, 3, 26) == jalali(1404, 1, 6)
    # 80 % of five working days is four.
    assert referral.at_risk_date == D(2025, 3, 25) == jalali(1404, 1, 5)
    referral.refresh_from_db()
    assert (referral.sent_on, referral.due_date, referral.at_risk_date) == (
        sent,
        D(2025, 3, 26),
        D(2025, 3, 25),
    )


def test_without_the_holidays_the_same_referral_would_be_due_before_nowruz(
    demand_setup, referred_on
):
    """The calendar, not the weekday count alone, moves the date."""
    referral = referred_on(jalali(1403, 12, 25))
    # Sun 16, Mon 17, Tue 18, Wed 19, (Thu–Fri weekend), Sat 22.
    assert referral.due_date == D(2025, 3, 22)


def test_due_dates_skip_a_closure_of_the_province_only(demand_setup, referred_on):
    n = demand_setup
    sent = D(2025, 7, 19)  # Saturday 28 Tir 1404
    closure_create(
        province=n.province,
        start_date=D(2025, 7, 20),
        end_date=D(2025, 7, 23),
        reason="تعطیلی به دلیل گرما",
        acting_user=n.users["province_manager"],
    )

    referral = referred_on(sent)

    # Sun 20 – Wed 23 closed, Thu–Fri weekend: Sat 26 (1) … Wed 30 (5).
    assert referral.due_date == D(2025, 7, 30)
    assert referral.at_risk_date == D(2025, 7, 29)
    # The other province's calendar has no closure.
    due, at_risk = services.due_dates(sent_on=sent, category=n.category, province=n.other_province)
    assert (due, at_risk) == (D(2025, 7, 26), D(2025, 7, 23))


@pytest.mark.parametrize(
    ("fraction", "sla_days", "at_risk"),
    [
        (0.8, 10, D(2025, 5, 13)),  # 8 working days
        (0.5, 10, D(2025, 5, 10)),  # 5
        (0.8, 1, D(2025, 5, 4)),  # never less than one working day
    ],
)
def test_at_risk_date_follows_the_configured_fraction(
    demand_setup, settings, fraction, sla_days, at_risk
):
    settings.SLA_AT_RISK_FRACTION = fraction
    category = demand_setup.category
    category.sla_working_days = sla_days
    category.save()
    # Saturday 3 May 2025; Thursdays and Fridays off.
    due, risk = services.due_dates(
        sent_on=D(2025, 5, 3), category=category, province=demand_setup.province
    )
    assert risk == at_risk
    assert due == {10: D(2025, 5, 17), 1: D(2025, 5, 4)}[sla_days]


def test_sla_state_on_a_date_and_the_queryset_annotation_agree(demand_setup, referred_on):
    n = demand_setup
    sent = D(2025, 5, 3)  # due Sat 10 May, at risk from Wed 7 May
    running = referred_on(sent)
    received = referred_on(sent)
    services.referral_move(
        referral=received, to_status=ReferralStatus.RECEIVED, acting_user=n.users["agency_liaison"]
    )
    answered = referred_on(sent)
    services.referral_move(
        referral=answered,
        to_status=ReferralStatus.ANSWERED,
        acting_user=n.users["agency_liaison"],
        note="در دست بررسی است",
    )
    assert running.due_date == D(2025, 5, 10) and running.at_risk_date == D(2025, 5, 7)

    expected = {
        D(2025, 5, 3): SlaState.ON_TRACK,
        D(2025, 5, 6): SlaState.ON_TRACK,
        D(2025, 5, 7): SlaState.AT_RISK,
        D(2025, 5, 10): SlaState.AT_RISK,  # the due date itself is still in time
        D(2025, 5, 11): SlaState.BREACHED,
    }
    seen = set()
    for day, state in expected.items():
        annotated = dict(Referral.objects.with_sla_state(day).values_list("pk", "sla_state"))
        for referral in Referral.objects.all():
            python_state = referral.sla_state_on(day)
            assert annotated[referral.pk] == python_state, (referral.status, day)
            seen.add(python_state)
        assert annotated[running.pk] == annotated[received.pk] == state
        # The agency answered: the clock waits on the office, whatever the date.
        assert annotated[answered.pk] == SlaState.STOPPED
    assert seen == set(SlaState.values)


def test_filtering_on_the_sla_state(demand_setup, referred_on):
    early = referred_on(D(2025, 5, 3))  # due 10 May
    late = referred_on(D(2025, 5, 7))  # due Wed 14 May, at risk from Tue 13 May
    assert late.due_date == D(2025, 5, 14)
    qs = Referral.objects.with_sla_state(D(2025, 5, 13))
    assert list(qs.filter(sla_state=SlaState.BREACHED)) == [early]
    assert list(qs.filter(sla_state=SlaState.AT_RISK)) == [late]
    assert not qs.filter(sla_state=SlaState.ON_TRACK).exists()
