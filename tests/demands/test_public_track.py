"""/track/<code>: the public timeline of a demand, without personal data or
staff names, and the resident's feedback."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tashil.core.jalali import format_date
from tashil.demands import services
from tashil.demands.models import DemandEvent, DemandStatus, Feedback, ReferralStatus
from tests.roles import ROLES_AND_ANONYMOUS

PERSIAN_DATETIME = re.compile(r"[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}")


def fa(message, **params):
    with translation.override("fa"):
        text = gettext(message)
    return text % params if params else text


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def lived(demand_setup, submit):
    """A demand that went all the way: recorded by staff for a named resident,
    referred, answered by the agency, followed up and closed."""
    n = demand_setup
    demand = submit(submitter_name="مریم احمدی", submitter_mobile="09121234567")
    staff = n.users
    services.demand_accept(demand=demand, acting_user=staff["facilitator"])
    referral = services.demand_refer(
        demand=demand,
        acting_user=staff["office_manager"],
        letter_number="۴۵۶/ب",
        note="یادداشت داخلی برای اداره",
    )
    services.referral_move(
        referral=referral, to_status=ReferralStatus.RECEIVED, acting_user=staff["agency_liaison"]
    )
    services.referral_move(
        referral=referral,
        to_status=ReferralStatus.ANSWERED,
        acting_user=staff["agency_liaison"],
        note="پاسخ محرمانه کارشناس",
    )
    services.follow_up_log(
        referral=referral,
        kind="call",
        outcome="done",
        acting_user=staff["facilitator"],
        note="تماس با آقای رضایی",
    )
    demand.refresh_from_db()
    services.demand_close(
        demand=demand,
        outcome=DemandStatus.RESOLVED,
        acting_user=staff["office_manager"],
        reason="لوله‌کشی انجام شد",
    )
    demand.refresh_from_db()
    n.demand = demand
    return n


def track(client, demand, **extra):
    return client.get(reverse("public:track", args=[demand.code]), **extra)


def staff_names(n):
    names = set()
    for user in n.users.values():
        names |= {user.username, user.get_full_name(), user.last_name}
    return names


def test_track_shows_the_story_without_personal_data(client, lived):
    n = lived
    demand = n.demand
    response = track(client, demand)
    assert response.status_code == 200
    html = response.content.decode()
    assert demand.display_code in html
    assert n.category.name_fa in html and n.parent_category.name_fa in html
    assert n.hood.name_fa in html
    assert "لوله‌کشی انجام شد" in html  # the closing note is meant for the resident
    assert 'data-testid="feedback"' in html
    for secret in [
        "مریم",
        "احمدی",
        "+989121234567",
        "09121234567",
        "912 123 4567",
        "۰۹۱۲",
        "پاسخ محرمانه",
        "یادداشت داخلی",
        "آقای رضایی",
        *staff_names(n),
    ]:
        assert secret not in html, secret
    kinds = re.findall(r'data-kind="([a-z_]+)"', html)
    assert kinds[0] == "submitted"
    assert {"status", "referred", "referral_status", "follow_up"} <= set(kinds)


def test_track_shows_jalali_dates_in_persian_digits(client, lived):
    demand = lived.demand
    html = track(client, demand).content.decode()
    with translation.override("fa"):
        submitted = format_date(demand.submitted_at)
    assert re.search("[۰-۹]", submitted)
    assert submitted in html
    assert (
        len(PERSIAN_DATETIME.findall(html))
        == DemandEvent.objects.filter(demand=demand, is_public=True).count()
    )
    assert not re.search(r"\b20[0-9]{2}-[0-9]{2}-[0-9]{2}\b", html)  # no Gregorian ISO dates


def test_hidden_events_stay_hidden(client, lived):
    demand = lived.demand
    DemandEvent.objects.create(
        demand=demand,
        kind="note",
        at=demand.submitted_at,
        note="فقط برای کارکنان",
        public_note="",
        is_public=False,
    )
    html = track(client, demand).content.decode()
    assert "فقط برای کارکنان" not in html


@pytest.mark.parametrize("variant", ["lower", "dash", "spaces", "persian-digits"])
def test_the_code_may_be_typed_loosely(client, lived, variant):
    demand = lived.demand
    code = {
        "lower": demand.code.lower(),
        "dash": demand.display_code,
        "spaces": f"{demand.code[:4]} {demand.code[4:]}",
        "persian-digits": demand.code.translate(str.maketrans("3479", "۳۴۷۹")),
    }[variant]
    response = client.get(f"/track/{code}")
    assert response.status_code == 200
    assert demand.display_code in response.content.decode()


def test_the_lookup_box_sends_to_the_page(client, lived):
    demand = lived.demand
    response = client.get("/track", {"code": demand.display_code.lower()})
    assert response.status_code == 302 and response["Location"] == reverse(
        "public:track", args=[demand.code]
    )
    bad = client.get("/track", {"code": "12"})
    assert bad.status_code == 200
    assert fa("A tracking code has 8 letters and digits, like ACDE-3479.") in bad.content.decode()


def test_unknown_code_is_a_persian_404(client, lived):
    response = client.get("/track/ACDEFHJK")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert fa("No demand has this tracking code. Check the code in your SMS and try again.") in html
    assert client.get("/track/not-a-code").status_code == 404


def test_guessing_codes_is_rate_limited(client, lived, settings):
    settings.PUBLIC_TRACK_MISSES_PER_IP = (3, 600)
    demand = lived.demand
    for guess in ("ACDEFHJK", "ACDEFHJM", "ACDEFHJN"):
        assert client.get(f"/track/{guess}", REMOTE_ADDR="10.1.1.1").status_code == 404
    blocked = client.get(f"/track/{demand.code}", REMOTE_ADDR="10.1.1.1")
    assert blocked.status_code == 429
    assert (
        fa(
            "Too many requests from your connection. Please wait %(minutes)s minutes and try again.",
            minutes=10,
        )
        in blocked.content.decode()
    )
    # Residents elsewhere are not affected, and hits never count.
    for _ in range(5):
        assert client.get(f"/track/{demand.code}", REMOTE_ADDR="10.1.1.2").status_code == 200


def test_not_satisfied_reopens(client, lived):
    demand = lived.demand
    response = client.post(
        reverse("public:feedback", args=[demand.code]),
        {"satisfied": "no", "comment": "<b>فشار</b> آب کم است", "check": "4567"},
    )
    assert response.status_code == 302
    demand.refresh_from_db()
    # The answered referral is still open, so the demand goes back to it.
    assert demand.status == DemandStatus.REFERRED and demand.closed_at is None
    feedback = Feedback.objects.get(demand=demand)
    assert feedback.satisfied is False and feedback.comment == "فشار آب کم است"
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="feedback"' not in page  # open again: nothing to rate
    assert fa("Reopened because the resident is not satisfied.") in page


def test_satisfied_is_recorded_once(client, lived):
    demand = lived.demand
    url = reverse("public:feedback", args=[demand.code])
    client.post(url, {"satisfied": "yes", "check": "4567"})
    demand.refresh_from_db()
    assert demand.status == DemandStatus.RESOLVED
    assert 'data-testid="feedback"' not in track(client, demand).content.decode()
    response = client.post(url, {"satisfied": "no", "check": "4567"}, follow=True)
    assert fa("Your feedback on this result is already recorded.") in response.content.decode()
    demand.refresh_from_db()
    assert demand.status == DemandStatus.RESOLVED
    assert Feedback.objects.filter(demand=demand).count() == 1


def test_feedback_without_a_choice_is_refused(client, lived):
    demand = lived.demand
    response = client.post(
        reverse("public:feedback", args=[demand.code]), {"comment": "?", "check": "4567"}
    )
    assert response.status_code == 400
    assert fa("Choose whether you are satisfied.") in response.content.decode()
    assert not Feedback.objects.exists()


def test_merged_demand_points_to_the_one_followed_up(client, demand_setup, submit):
    n = demand_setup
    kept, duplicate = submit(), submit(submitter_mobile="09351234567")
    services.demand_merge(demand=duplicate, into=kept, acting_user=n.users["office_manager"])
    html = track(client, duplicate).content.decode()
    assert 'data-testid="merged"' in html
    # The other resident's tracking code is theirs: only the public id is shown.
    assert kept.public_id in html
    assert kept.code not in html and kept.display_code not in html
    kept_html = track(client, kept).content.decode()
    assert re.search(r'data-testid="supporters">۲<', kept_html)


@pytest.mark.authorization_matrix("public:track")
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_every_role_gets_the_same_public_page(client, lived, role):
    if role != "anonymous":
        client.force_login(lived.users[role])
    html = track(client, lived.demand).content.decode()
    assert lived.demand.display_code in html
    for secret in ["مریم احمدی", "+989121234567", "پاسخ محرمانه"]:
        assert secret not in html


@pytest.mark.authorization_matrix("public:feedback")
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
def test_feedback_on_an_open_demand_changes_nothing(client, demand_setup, submit, role):
    n = demand_setup
    if role != "anonymous":
        client.force_login(n.users[role])
    demand = submit()
    before = (demand.status, demand.version, DemandEvent.objects.count())
    response = client.post(
        reverse("public:feedback", args=[demand.code]), {"satisfied": "no", "check": "0000"}
    )
    assert response.status_code == 302
    demand.refresh_from_db()
    assert (demand.status, demand.version, DemandEvent.objects.count()) == before
    assert not Feedback.objects.exists()


@pytest.mark.query_count("public:track")
def test_track_queries_do_not_grow_with_the_timeline(client, lived, django_assert_max_num_queries):
    demand = lived.demand
    DemandEvent.objects.bulk_create(
        DemandEvent(demand=demand, kind="supported", at=demand.submitted_at, is_public=True)
        for _ in range(25)
    )
    with django_assert_max_num_queries(3):
        response = track(client, demand)
    assert response.content.decode().count('data-kind="supported"') == 25
