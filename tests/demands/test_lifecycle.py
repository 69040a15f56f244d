"""A demand from intake to the resident's feedback, through the services."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tashil.core.errors import ConflictError
from tashil.demands import services
from tashil.demands.models import Demand, DemandEvent, DemandStatus, ReferralStatus
from tashil.notifications.models import Notification


def test_full_lifecycle(demand_setup, submit):
    n = demand_setup
    demand = submit()
    assert demand.status == DemandStatus.NEW
    assert demand.office == n.office
    assert demand.submitter_mobile == "+989121234567"
    assert len(demand.code) == 8

    services.demand_accept(demand=demand, acting_user=n.users["facilitator"])
    referral = services.demand_refer(
        demand=demand, acting_user=n.users["office_manager"], letter_number="۱۲۳/الف"
    )
    assert referral.agency == n.agency  # from the routing table
    assert referral.letter_number == "123/الف"
    assert referral.due_date > referral.sent_on
    demand.refresh_from_db()
    assert demand.status == DemandStatus.REFERRED

    liaison = n.users["agency_liaison"]
    services.referral_move(
        referral=referral, to_status=ReferralStatus.RECEIVED, acting_user=liaison
    )
    services.referral_move(
        referral=referral,
        to_status=ReferralStatus.ANSWERED,
        acting_user=liaison,
        note="لوله‌کشی تا پایان ماه انجام می‌شود",
    )
    services.referral_move(referral=referral, to_status=ReferralStatus.DONE, acting_user=liaison)
    services.follow_up_log(
        referral=referral, kind="call", outcome="done", acting_user=n.users["facilitator"]
    )

    demand.refresh_from_db()
    services.demand_close(
        demand=demand,
        outcome=DemandStatus.RESOLVED,
        acting_user=n.users["office_manager"],
        reason="آب وصل شد",
    )
    assert demand.status == DemandStatus.RESOLVED and demand.closed_at

    services.feedback_submit(demand=demand, satisfied=False, comment="فشار آب کم است")
    demand.refresh_from_db()
    assert demand.status == DemandStatus.ACCEPTED  # reopened, no open referral left
    assert demand.closed_at is None

    kinds = list(demand.events.values_list("kind", flat=True))
    assert kinds[0] == "submitted"
    assert {"referred", "referral_status", "follow_up", "feedback", "status"} <= set(kinds)
    # The resident was told on registration, referral, answer and closure.
    texts = list(
        Notification.objects.filter(recipient="+989121234567").values_list("body", flat=True)
    )
    assert len(texts) == 4
    assert demand.display_code in texts[0]


@pytest.mark.parametrize("role", ["agency_liaison", "analyst", "no_role"])
def test_roles_outside_the_office_cannot_triage_and_nothing_changes(demand_setup, submit, role):
    demand = submit()
    events = DemandEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.demand_accept(demand=demand, acting_user=demand_setup.users[role])
    demand.refresh_from_db()
    assert demand.status == DemandStatus.NEW and demand.version == 1
    assert DemandEvent.objects.count() == events


def test_liaison_of_another_agency_cannot_answer(demand_setup, submit):
    from tests.factories import AgencyFactory, Role, user_with_role

    demand = submit()
    referral = services.demand_refer(
        demand=demand, acting_user=demand_setup.users["office_manager"]
    )
    stranger = user_with_role(
        Role.AGENCY_LIAISON, agency=AgencyFactory(province=demand_setup.province)
    )
    with pytest.raises(PermissionDenied):
        services.referral_move(
            referral=referral, to_status=ReferralStatus.RECEIVED, acting_user=stranger
        )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_bad_input_names_the_field_and_writes_nothing(demand_setup, submit):
    before = Demand.objects.count()
    with pytest.raises(ValidationError) as exc:
        submit(description="<script>x</script>", submitter_mobile="021-1234")
    assert set(exc.value.message_dict) == {"description", "submitter_mobile"}
    assert Demand.objects.count() == before


def test_html_is_stripped(submit):
    demand = submit(description="<b>آب</b> قطع است <script>alert(1)</script> در کوچه ۳")
    assert "<" not in demand.description and "alert" not in demand.description


def test_concurrent_edit_conflict(demand_setup, submit):
    demand = submit()
    first = Demand.objects.get(pk=demand.pk)
    second = Demand.objects.get(pk=demand.pk)
    services.demand_accept(
        demand=first, acting_user=demand_setup.users["facilitator"], expected_version=1
    )
    with pytest.raises(ConflictError):
        services.demand_reject(
            demand=second,
            acting_user=demand_setup.users["office_manager"],
            reason="تکراری",
            expected_version=1,
        )
    demand.refresh_from_db()
    assert demand.status == DemandStatus.ACCEPTED


def test_merge_carries_supporters(demand_setup, submit):
    original = submit()
    services.demand_support(demand=original, mobile="09351112233")
    duplicate = submit(submitter_mobile="09127654321")
    into = services.demand_merge(
        demand=duplicate, into=original, acting_user=demand_setup.users["office_manager"]
    )
    assert into.supporters_count == 3
    duplicate.refresh_from_db()
    assert duplicate.status == DemandStatus.MERGED and duplicate.merged_into == original


def test_idempotency_key_makes_one_demand(submit, demand_setup):
    a = submit(channel="public_web", acting_user=None, idempotency_key="k-1")
    b = submit(channel="public_web", acting_user=None, idempotency_key="k-1")
    assert a.pk == b.pk
    assert Demand.objects.filter(idempotency_key="k-1").count() == 1
