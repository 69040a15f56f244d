"""The agency portal: a liaison sees only their agency's referrals, answers
them, and sees the resident's contact only when the resident consented."""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from tashil.core import jalali
from tashil.core.text import to_ascii_digits, to_persian_digits
from tashil.demands import services
from tashil.demands.models import Attachment, DemandEvent, DemandStatus, Referral, ReferralStatus
from tests.factories import AgencyFactory, Role, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png(name="photo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def liaison(client, demand_setup):
    client.force_login(demand_setup.users["agency_liaison"])
    return client


@pytest.fixture
def refer(demand_setup, submit):
    def make(agency=None, **submit_kwargs):
        demand = submit(**submit_kwargs)
        return services.demand_refer(
            demand=demand,
            acting_user=demand_setup.users["office_manager"],
            agency=agency,
            letter_number="45/ب",
        )

    return make


def rows(response) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(
            r'data-testid="referral-row" data-pk="(\d+)"', response.content.decode()
        )
    ]


def field_errors(response, field) -> list[str]:
    return re.findall(rf'data-field="{field}">([^<]+)<', response.content.decode())


def page(client, referral):
    return client.get(reverse("demands:referral", kwargs={"pk": referral.pk}))


def move(client, referral, action, version=None, **fields):
    data = {
        "action": action,
        f"mv-{action}-version": str(version or Referral.objects.get(pk=referral.pk).version),
    }
    data.update({f"mv-{action}-{k}": v for k, v in fields.items()})
    return client.post(reverse("demands:referral_move", kwargs={"pk": referral.pk}), data)


# --- the list ------------------------------------------------------------------------------------


def test_liaison_sees_only_their_agencys_referrals_sorted_by_due_date(liaison, demand_setup, refer):
    n = demand_setup
    later = refer()
    sooner = refer()
    Referral.objects.filter(pk=sooner.pk).update(due_date=later.due_date - dt.timedelta(days=2))
    other_agency = AgencyFactory(province=n.province)
    not_ours = refer(agency=other_agency)
    response = liaison.get(reverse("demands:referrals"))
    assert response.status_code == 200
    assert rows(response) == [sooner.pk, later.pk]
    assert liaison.get(reverse("demands:referral", kwargs={"pk": not_ours.pk})).status_code == 404


def test_list_filters_by_status_and_sla(liaison, demand_setup, refer):
    n = demand_setup
    sent = refer()
    answered = refer()
    services.referral_move(
        referral=answered,
        to_status=ReferralStatus.ANSWERED,
        acting_user=n.users["agency_liaison"],
        note="انجام می‌شود",
    )
    done = refer()
    services.referral_move(
        referral=done, to_status=ReferralStatus.RECEIVED, acting_user=n.users["agency_liaison"]
    )
    services.referral_move(
        referral=done,
        to_status=ReferralStatus.REJECTED,
        acting_user=n.users["agency_liaison"],
        note="در حوزه ما نیست",
    )
    url = reverse("demands:referrals")
    assert set(rows(liaison.get(url))) == {sent.pk, answered.pk}  # open by default
    assert set(rows(liaison.get(url, {"status": "all"}))) == {sent.pk, answered.pk, done.pk}
    assert rows(liaison.get(url, {"status": "answered"})) == [answered.pk]
    assert rows(liaison.get(url, {"status": "rejected"})) == [done.pk]

    today = timezone.localdate()
    Referral.objects.filter(pk=sent.pk).update(due_date=today - dt.timedelta(days=1))
    assert rows(liaison.get(url, {"sla": "breached"})) == [sent.pk]
    assert rows(liaison.get(url, {"sla": "on_track"})) == []
    # An unknown value is ignored rather than failing.
    assert liaison.get(url, {"status": "<x>", "sla": "nope"}).status_code == 200


@pytest.mark.query_count("demands:referrals")
def test_list_queries_do_not_grow_with_rows(liaison, refer):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert liaison.get(reverse("demands:referrals")).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(3):
        refer()
    few = count()
    for _ in range(35):
        refer()
    assert count() == few
    assert few <= 12


# --- the referral page --------------------------------------------------------------------------


def test_referral_page_carries_what_the_agency_needs_but_no_contact_without_consent(liaison, refer):
    referral = refer(photos=[png()], contact_consent=False)
    Referral.objects.filter(pk=referral.pk).update(letter_date=dt.date(2024, 5, 1))
    response = page(liaison, referral)
    html = response.content.decode()
    demand = referral.demand
    assert response.status_code == 200
    assert (
        to_persian_digits(demand.description) in html
        and demand.category.name_fa in html
        and demand.area.name_fa in html
    )
    assert "۴۵/ب" in html
    assert jalali.format_date(referral.due_date) in html
    assert jalali.format_date(dt.date(2024, 5, 1)) in html
    photo = Attachment.objects.get(demand=demand)
    assert reverse("demands:attachment", kwargs={"pk": photo.pk}) in html
    # The mobile 0912 123 4567 in any digits or spacing (a bare "912" could be
    # part of a random token on the page).
    assert "مریم احمدی" not in html and "1234567" not in to_ascii_digits(html.replace(" ", ""))
    assert 'data-testid="submitter-mobile"' not in html


def test_contact_is_shown_when_the_resident_consented(liaison, refer):
    referral = refer(contact_consent=True)
    html = page(liaison, referral).content.decode()
    assert "مریم احمدی" in html
    assert 'data-testid="submitter-mobile"' in html


def test_liaison_never_reaches_the_demand_page_or_other_files(liaison, demand_setup, refer, submit):
    n = demand_setup
    referral = refer(photos=[png()])
    demand = referral.demand
    assert liaison.get(reverse("demands:detail", kwargs={"code": demand.code})).status_code == 403
    services.referral_move(
        referral=referral,
        to_status=ReferralStatus.ANSWERED,
        acting_user=n.users["agency_liaison"],
        note="انجام شد",
    )
    services.demand_close(
        demand=type(demand).objects.get(pk=demand.pk),
        outcome=DemandStatus.RESOLVED,
        acting_user=n.users["office_manager"],
        evidence=[png("after.png")],
    )
    photo = Attachment.objects.get(demand=demand, kind="photo")
    evidence = Attachment.objects.get(demand=demand, kind="evidence")
    unreferred_photo = Attachment.objects.get(demand=submit(photos=[png()]), kind="photo")
    assert liaison.get(reverse("demands:attachment", kwargs={"pk": photo.pk})).status_code == 200
    assert liaison.get(reverse("demands:attachment", kwargs={"pk": evidence.pk})).status_code == 404
    assert (
        liaison.get(reverse("demands:attachment", kwargs={"pk": unreferred_photo.pk})).status_code
        == 404
    )


def test_liaison_sees_their_referrals_events_but_not_the_offices_internal_notes(
    liaison, demand_setup, refer
):
    n = demand_setup
    referral = refer()
    services.follow_up_log(
        referral=referral,
        kind="call",
        outcome="no_answer",
        acting_user=n.users["facilitator"],
        note="مدیر آبفا تلفن را جواب نداد",
    )
    other = services.demand_refer(
        demand=referral.demand,
        acting_user=n.users["office_manager"],
        agency=AgencyFactory(province=n.province),
        letter_number="99/ج",
    )
    services.follow_up_log(
        referral=other,
        kind="letter",
        outcome="promised",
        acting_user=n.users["facilitator"],
        note="یادداشت داخلی دیگر",
    )
    html = page(liaison, referral).content.decode()
    assert 'data-kind="follow_up"' in html  # that the office followed up …
    assert "مدیر آبفا تلفن را جواب نداد" not in html  # … but not its notes
    assert "یادداشت داخلی دیگر" not in html
    assert "99/ج" not in html  # another agency's letter
    assert n.users["facilitator"].get_full_name() not in html.split('data-kind="follow_up"', 2)[-1]


# --- answering -------------------------------------------------------------------------------------


def test_acknowledge_work_answer_and_done(liaison, demand_setup, refer):
    referral = refer()
    assert move(liaison, referral, "received").status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.RECEIVED

    # "In progress" needs the expected date.
    response = move(liaison, referral, "in_progress", note="در دست اقدام")
    assert response.status_code == 200 and field_errors(response, "expected_date")
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.RECEIVED
    assert move(liaison, referral, "in_progress", expected_date="۱۴۰۵/۰۹/۳۰").status_code == 302
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.status == ReferralStatus.IN_PROGRESS
    assert stored.expected_date == jalali.to_gregorian(1405, 9, 30)

    response = move(liaison, referral, "answered", note="", expected_date="1405/10/15")
    assert response.status_code == 200 and field_errors(response, "note")
    response = liaison.post(
        reverse("demands:referral_move", kwargs={"pk": referral.pk}),
        {
            "action": "answered",
            "mv-answered-version": str(stored.version),
            "mv-answered-note": "لوله‌کشی تا پایان دی انجام می‌شود",
            "mv-answered-expected_date": "1405/10/15",
            "mv-answered-attachments": [
                png("plan.png"),
                SimpleUploadedFile("letter.pdf", b"%PDF-1.4 answer", "application/pdf"),
            ],
        },
    )
    assert response.status_code == 302
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.status == ReferralStatus.ANSWERED and stored.answer.startswith("لوله")
    kinds = sorted(
        Attachment.objects.filter(referral=stored).values_list("content_type", flat=True)
    )
    assert kinds == ["application/pdf", "image/png"]

    assert move(liaison, referral, "done").status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.DONE


@pytest.mark.parametrize("action", ["rejected", "not_responsible"])
def test_reject_and_not_responsible_need_a_reason(liaison, demand_setup, refer, action):
    referral = refer()
    events = DemandEvent.objects.count()
    response = move(liaison, referral, action)
    assert response.status_code == 200 and field_errors(response, "note")
    assert DemandEvent.objects.count() == events
    assert move(liaison, referral, action, note="این کار شهرداری است").status_code == 302
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.status == action and stored.status_reason == "این کار شهرداری است"


def test_not_responsible_leads_to_re_routing(client, liaison, demand_setup, refer):
    n = demand_setup
    referral = refer()
    move(liaison, referral, "not_responsible", note="مسئول شهرداری است")
    client.force_login(n.users["office_manager"])
    html = client.get(
        reverse("demands:detail", kwargs={"code": referral.demand.code})
    ).content.decode()
    # The refer form stays open, with no agency chosen in advance.
    assert 'data-testid="refer"' in html
    assert not re.search(rf'<option value="{n.agency.code}" selected', html)


def test_an_invalid_move_names_the_problem(liaison, refer):
    referral = refer()
    response = move(liaison, referral, "done")  # sent → done is not a move
    assert response.status_code == 200
    assert 'data-testid="form-errors"' in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT


def test_a_non_image_attachment_is_refused(liaison, refer):
    referral = refer()
    move(liaison, referral, "received")
    response = liaison.post(
        reverse("demands:referral_move", kwargs={"pk": referral.pk}),
        {
            "action": "answered",
            "mv-answered-version": "2",
            "mv-answered-note": "پاسخ",
            "mv-answered-attachments": [
                SimpleUploadedFile("x.png", b"MZ\x90\x00 not an image", "image/png")
            ],
        },
    )
    assert response.status_code == 200 and field_errors(response, "attachments")
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.RECEIVED
    assert not Attachment.objects.exists()


def test_a_stale_answer_is_a_conflict(liaison, demand_setup, refer):
    referral = refer()
    second = user_with_role(Role.AGENCY_LIAISON, agency=demand_setup.agency)
    services.referral_move(
        referral=Referral.objects.get(pk=referral.pk),
        to_status=ReferralStatus.RECEIVED,
        acting_user=second,
        expected_version=1,
    )
    response = move(liaison, referral, "rejected", version=1, note="در حوزه ما نیست")
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="conflict"' in html and "در حوزه ما نیست" in html
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.status == ReferralStatus.RECEIVED and stored.version == 2


def test_another_agencys_liaison_cannot_move_it(client, demand_setup, refer):
    referral = refer()
    stranger = user_with_role(
        Role.AGENCY_LIAISON, agency=AgencyFactory(province=demand_setup.province)
    )
    client.force_login(stranger)
    assert move(client, referral, "received").status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT
