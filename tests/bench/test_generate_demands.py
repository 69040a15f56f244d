"""The synthetic data generator behind the benchmark: data the services could
have written, on the province's calendar, and removable without touching
real demands."""

import pytest
from django.core.management import CommandError, call_command
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from bench.generators import demands as generate_demands
from bench.generators.demands import MARK
from tashil.core.text import search_key
from tashil.demands import services
from tashil.demands.escalation import escalate_referrals, target_level
from tashil.demands.models import (
    CLOCK_RUNNING_STATUSES,
    OPEN_STATUSES,
    Demand,
    DemandEvent,
    DemandStatus,
    EventKind,
    Referral,
)
from tashil.demands.tracking import CODE_ALPHABET


def generate(**options):
    values = {
        "demands": 300,
        "open": 60,
        "events_per_demand": 2,
        "seed": 3,
        "batch": 70,
        "verbosity": 0,
    }
    values.update(options)
    call_command(generate_demands.Command(), **values)
    return Demand.objects.filter(idempotency_key__startswith=MARK)


def test_generates_the_requested_shape(demand_setup):
    demands = generate()
    assert demands.count() == 300
    assert demands.filter(status__in=OPEN_STATUSES).count() == 60
    events = DemandEvent.objects.filter(demand__in=demands)
    assert 590 <= events.count() <= 600
    # Every demand starts with its submission, and is open or closed consistently.
    assert events.filter(kind=EventKind.SUBMITTED).count() == 300
    assert not demands.filter(status__in=OPEN_STATUSES, closed_at__isnull=False).exists()
    assert not demands.exclude(status__in=OPEN_STATUSES).filter(closed_at__isnull=True).exists()
    assert set(demands.values_list("area", flat=True)) <= {
        demand_setup.hood.pk,
        demand_setup.other_hood.pk,
    }
    codes = list(demands.values_list("code", flat=True))
    assert len(set(codes)) == 300 and all(set(code) <= set(CODE_ALPHABET) for code in codes)
    # Each has its own public id, and Open311 lists what residents sent themselves.
    public_ids = set(demands.values_list("public_id", flat=True))
    assert len(public_ids) == 300 and all(len(p) == 10 and p[0] == "P" for p in public_ids)
    for channel, listed in demands.values_list("channel", "is_listed"):
        assert listed is (channel in ("public_web", "open311"))


def test_rows_look_like_what_the_services_write(demand_setup):
    demands = generate()
    for demand in demands:
        assert demand.search_key == search_key(f"{demand.title} {demand.description}")
        if demand.latitude is not None:  # inside the neighbourhood's square
            assert 31.30 <= demand.latitude <= 31.40 and 48.60 <= demand.longitude <= 48.70
        if demand.status == DemandStatus.MERGED:
            target = demand.merged_into
            assert (target.category_id, target.area_id) == (demand.category_id, demand.area_id)
    assert demands.filter(status=DemandStatus.REFERRED).exists()
    for referral in Referral.objects.filter(demand__in=demands).select_related("demand__category"):
        due, at_risk = services.due_dates(
            sent_on=referral.sent_on,
            category=referral.demand.category,
            province=referral.demand.province_id,
        )
        assert (referral.due_date, referral.at_risk_date) == (due, at_risk)
        assert referral.status in CLOCK_RUNNING_STATUSES or referral.escalation_level == 0
        assert referral.escalation_level == target_level(referral, timezone.localdate())
    # The ladder is where the escalation job would have left it.
    assert escalate_referrals() == 0
    # The nearest due date is the one the services keep.
    running = Referral.objects.filter(demand=OuterRef("pk"), status__in=CLOCK_RUNNING_STATUSES)
    expected = demands.annotate(
        expected=Subquery(running.order_by("due_date").values("due_date")[:1])
    )
    assert expected.filter(next_due_date__isnull=False).exists()
    for demand in expected:
        assert demand.next_due_date == demand.expected, demand.code


def test_reset_removes_only_generated_rows(demand_setup, submit):
    real = submit()
    generate()
    with pytest.raises(CommandError):
        generate()
    generate(demands=50, open=10, reset=True)
    assert Demand.objects.filter(idempotency_key__startswith=MARK).count() == 50
    assert Demand.objects.filter(pk=real.pk).exists()
    assert DemandEvent.objects.filter(demand=real).exists()
    assert not DemandEvent.objects.exclude(demand__in=Demand.objects.all()).exists()
    assert (
        Referral.objects.filter(demand__idempotency_key__startswith=MARK).count()
        == Referral.objects.exclude(demand=real).count()
    )


def test_the_same_seed_gives_the_same_demands(demand_setup):
    first = set(generate(demands=80, open=20).values_list("code", "category", "area", "title"))
    second = set(
        generate(demands=80, open=20, reset=True).values_list("code", "category", "area", "title")
    )
    assert first == second


def test_refuses_impossible_numbers(demand_setup):
    with pytest.raises(CommandError):
        generate(demands=10, open=20)
    with pytest.raises(CommandError):
        generate(events_per_demand=0.5)
