"""Who is told what about a demand: residents at registration, referral,
answer and closure; liaisons and managers about referrals and escalations."""

import pytest

from tashil.demands import services
from tashil.demands.models import DemandStatus, ReferralStatus
from tashil.notifications.models import Notification

RESIDENT = "+989121234567"


@pytest.fixture
def staff_with_mobiles(demand_setup):
    for i, role in enumerate(
        ("agency_liaison", "office_manager", "facilitator", "province_manager")
    ):
        user = demand_setup.users[role]
        user.mobile = f"+98912000010{i}"
        user.save(update_fields=["mobile"])
    return demand_setup


def texts_to(recipient):
    return list(
        Notification.objects.filter(recipient=recipient)
        .order_by("id")
        .values_list("body", flat=True)
    )


def test_resident_is_told_at_each_step_with_code_and_link(staff_with_mobiles, submit, settings):
    settings.PUBLIC_BASE_URL = "https://tashil.example.ir/"
    n = staff_with_mobiles
    demand = submit()
    track = f"https://tashil.example.ir/track/{demand.code}"
    assert len(texts_to(RESIDENT)) == 1
    assert demand.display_code in texts_to(RESIDENT)[0] and track in texts_to(RESIDENT)[0]

    referral = services.demand_refer(demand=demand, acting_user=n.users["office_manager"])
    assert len(texts_to(RESIDENT)) == 2
    assert n.agency.name_fa in texts_to(RESIDENT)[1] and track in texts_to(RESIDENT)[1]

    liaison = n.users["agency_liaison"]
    services.referral_move(
        referral=referral, to_status=ReferralStatus.RECEIVED, acting_user=liaison
    )
    assert len(texts_to(RESIDENT)) == 2  # an acknowledgement is not news for the resident
    services.referral_move(
        referral=referral,
        to_status=ReferralStatus.ANSWERED,
        acting_user=liaison,
        note="تا پایان ماه انجام می‌شود",
    )
    assert len(texts_to(RESIDENT)) == 3 and n.agency.name_fa in texts_to(RESIDENT)[2]

    demand.refresh_from_db()
    services.demand_close(
        demand=demand,
        outcome=DemandStatus.RESOLVED,
        acting_user=n.users["office_manager"],
        reason="آب وصل شد",
    )
    closing = texts_to(RESIDENT)[3]
    assert demand.display_code in closing and track in closing
    # Every message to a resident is about their own demand, by SMS.
    assert set(Notification.objects.filter(recipient=RESIDENT).values_list("channel", "topic")) == {
        ("sms", f"demand:{demand.pk}")
    }


def test_resident_without_a_mobile_gets_nothing(staff_with_mobiles, submit):
    n = staff_with_mobiles
    demand = submit(submitter_mobile="")
    services.demand_refer(demand=demand, acting_user=n.users["office_manager"])
    assert not Notification.objects.filter(topic=f"demand:{demand.pk}", user__isnull=True).exists()


def test_resident_is_told_why_a_demand_is_rejected_or_needs_information(staff_with_mobiles, submit):
    n = staff_with_mobiles
    first = submit()
    services.demand_request_info(
        demand=first, acting_user=n.users["facilitator"], message="پلاک منزل را بفرستید"
    )
    assert "پلاک منزل را بفرستید" in texts_to(RESIDENT)[-1]
    second = submit(submitter_mobile="09129998877")
    services.demand_reject(
        demand=second, acting_user=n.users["facilitator"], reason="خارج از محدوده دفتر"
    )
    assert "خارج از محدوده دفتر" in texts_to("+989129998877")[-1]
    assert second.display_code in texts_to("+989129998877")[-1]


def test_liaisons_hear_of_new_referrals_and_the_office_of_answers(staff_with_mobiles, submit):
    n = staff_with_mobiles
    liaison, manager = n.users["agency_liaison"], n.users["office_manager"]
    demand = submit()
    referral = services.demand_refer(demand=demand, acting_user=manager)
    to_liaison = Notification.objects.filter(user=liaison)
    assert to_liaison.count() == 1
    assert (
        demand.public_id in to_liaison.get().body
        and to_liaison.get().topic == f"referral:{referral.pk}"
    )
    # The agency knows the demand by its public id: the code is the resident's key.
    assert demand.display_code not in to_liaison.get().body
    # The resident's phone number never travels in a staff message.
    assert RESIDENT not in to_liaison.get().body

    before = Notification.objects.filter(user=manager).count()
    services.referral_move(
        referral=referral,
        to_status=ReferralStatus.NOT_RESPONSIBLE,
        acting_user=liaison,
        note="این کار با شهرداری است",
    )
    to_manager = Notification.objects.filter(user=manager).order_by("id")
    assert to_manager.count() == before + 1
    assert demand.display_code in to_manager.last().body
    # Only the office's manager: the facilitator and the province are not paged for this.
    assert not Notification.objects.filter(
        user__in=[n.users["facilitator"], n.users["province_manager"]]
    ).exists()


def test_staff_messages_follow_the_users_language(staff_with_mobiles, submit):
    n = staff_with_mobiles
    liaison = n.users["agency_liaison"]
    liaison.preferred_language = "en"
    liaison.save(update_fields=["preferred_language"])
    services.demand_refer(demand=submit(), acting_user=n.users["office_manager"])
    body = Notification.objects.get(user=liaison).body
    assert body.startswith("New referral")
