"""Every staff page, portal page and action × every role. A refused request
answers 403 (or 404 outside the user's scope, or the login page when
anonymous) and changes nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tashil.core.models import AuditLog, ExportJob
from tashil.demands import exports, services
from tashil.demands.models import (
    Attachment,
    Demand,
    DemandEvent,
    FollowUp,
    Referral,
    ReferralStatus,
)
from tashil.notifications.models import Notification
from tests.factories import DemandCategoryFactory
from tests.roles import ROLES_AND_ANONYMOUS

pytestmark = pytest.mark.django_db

STAFF = {"national_admin", "province_manager", "office_manager", "facilitator"}
PORTAL = STAFF | {"agency_liaison"}
NATIONAL = {"national_admin"}
SIGNED_IN = set(ROLES_AND_ANONYMOUS) - {"anonymous"}
PROVINCE = {"national_admin", "province_manager"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 0)).save(buffer, format="PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def world(demand_setup, submit):
    n = demand_setup
    manager = n.users["office_manager"]
    w = type("World", (), {})()
    w.n = n
    w.new = submit(photos=[png()])
    w.duplicate_target = submit()
    w.referred = submit()
    w.referral = services.demand_refer(demand=w.referred, acting_user=manager, letter_number="1")
    w.answered_demand = submit()
    w.answered = services.demand_refer(demand=w.answered_demand, acting_user=manager)
    services.referral_move(
        referral=w.answered,
        to_status=ReferralStatus.ANSWERED,
        acting_user=n.users["agency_liaison"],
        note="پاسخ",
    )
    admin = n.users["national_admin"]
    w.foreign = submit(area=n.other_hood, category=DemandCategoryFactory(), acting_user=admin)
    w.foreign_referral = services.demand_refer(
        demand=w.foreign, acting_user=admin, agency=n.other_agency
    )
    w.photo = Attachment.objects.get(demand=w.new)
    w.job = ExportJob.objects.create(owner=manager, kind=exports.KIND, file_format="csv", params={})
    return w


def state():
    """Everything the staff pages and the portal can write."""
    return {
        "demands": list(
            Demand.objects.order_by("pk").values_list("pk", "status", "version", "supporters_count")
        ),
        "referrals": list(
            Referral.objects.order_by("pk").values_list("pk", "status", "version", "expected_date")
        ),
        "events": DemandEvent.objects.count(),
        "follow_ups": FollowUp.objects.count(),
        "attachments": Attachment.objects.count(),
        "jobs": ExportJob.objects.count(),
        "audit": AuditLog.objects.count(),
        "notifications": Notification.objects.count(),
    }


def as_role(client, world, role):
    if role != "anonymous":
        client.force_login(world.n.users[role])
    return client


def expected(role, allowed, *, hidden=frozenset(), ok=200):
    """`ok` for allowed roles; 404 where the record is out of the role's
    scope; 403 for roles refused outright; the login page when anonymous."""
    if role == "anonymous":
        return 302
    if role in allowed:
        return ok
    if role in hidden:
        return 404
    return 403


# --- pages ---------------------------------------------------------------------------------------

PAGES = [
    ("list", lambda w: reverse("demands:list"), STAFF, set()),
    (
        "list-filtered",
        lambda w: reverse("demands:list") + "?status=open&sla=breached&q=آب",
        STAFF,
        set(),
    ),
    ("create", lambda w: reverse("demands:create"), STAFF, set()),
    ("detail", lambda w: reverse("demands:detail", kwargs={"code": w.referred.code}), STAFF, set()),
    (
        "detail-other-province",
        lambda w: reverse("demands:detail", kwargs={"code": w.foreign.code}),
        NATIONAL,
        STAFF,
    ),
    ("referrals", lambda w: reverse("demands:referrals"), PORTAL, set()),
    (
        "referral",
        lambda w: reverse("demands:referral", kwargs={"pk": w.referral.pk}),
        PORTAL,
        set(),
    ),
    (
        "referral-other-province",
        lambda w: reverse("demands:referral", kwargs={"pk": w.foreign_referral.pk}),
        NATIONAL,
        PORTAL,
    ),
    # The resident's photo: the office's, and the referred agency's.
    (
        "attachment-not-yet-referred",
        lambda w: reverse("demands:attachment", kwargs={"pk": w.photo.pk}),
        STAFF,
        {"agency_liaison"},
    ),
    (
        "export-job",
        lambda w: reverse("demands:export_job", kwargs={"pk": w.job.pk}),
        {"office_manager"},
        STAFF,
    ),
    # Two-factor login: everyone signed in, for their own account only.
    ("two-factor", lambda w: reverse("accounts:two_factor"), SIGNED_IN, set()),
    ("two-factor-setup", lambda w: reverse("accounts:two_factor_setup"), SIGNED_IN, set()),
    ("province-security", lambda w: reverse("accounts:province_security"), PROVINCE, set()),
]


@pytest.mark.authorization_matrix(
    "accounts:province_security",
    "accounts:two_factor",
    "accounts:two_factor_setup",
    "demands:attachment",
    "demands:create",
    "demands:detail",
    "demands:export_job",
    "demands:list",
    "demands:referral",
    "demands:referrals",
)
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
@pytest.mark.parametrize(("page", "url", "allowed", "hidden"), PAGES, ids=[p[0] for p in PAGES])
def test_pages(client, world, role, page, url, allowed, hidden):
    before = state()
    response = as_role(client, world, role).get(url(world))
    assert response.status_code == expected(role, allowed, hidden=hidden)
    if role == "anonymous":
        assert reverse("accounts:login") in response["Location"]
    assert state() == before


def test_a_referred_photo_opens_for_the_agency(client, world):
    services.demand_refer(
        demand=Demand.objects.get(pk=world.new.pk), acting_user=world.n.users["office_manager"]
    )
    client.force_login(world.n.users["agency_liaison"])
    response = client.get(reverse("demands:attachment", kwargs={"pk": world.photo.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


# --- actions -------------------------------------------------------------------------------------


def _demand_post(name, demand_attr, data, **extra):
    def call(client, w):
        demand = getattr(w, demand_attr)
        kwargs = {"code": demand.code}
        for key, attr in extra.items():
            kwargs[key] = getattr(w, attr).pk
        payload = data(w) if callable(data) else data
        return client.post(reverse(f"demands:{name}", kwargs=kwargs), payload)

    return call


ACTIONS = [
    # (id, request, roles allowed, roles that get 404, success status)
    (
        "create",
        lambda c, w: c.post(
            reverse("demands:create"),
            {
                "area": w.n.hood.code,
                "category": w.n.category.code,
                "description": "آب شرب کوچه ۴ قطع است",
                "submitter_kind": "resident",
                "channel": "walk_in",
                "idempotency_key": "staff-matrix",
            },
        ),
        STAFF,
        set(),
        302,
    ),
    ("accept", _demand_post("accept", "new", {"accept-version": "1"}), STAFF, set(), 302),
    (
        "accept-other-province",
        _demand_post(
            "accept",
            "foreign",
            lambda w: {"accept-version": str(Demand.objects.get(pk=w.foreign.pk).version)},
        ),
        NATIONAL,
        STAFF,
        302,
    ),
    (
        "request-info",
        _demand_post("request_info", "new", {"info-version": "1", "info-message": "نشانی؟"}),
        STAFF,
        set(),
        302,
    ),
    (
        "reject",
        _demand_post("reject", "new", {"reject-version": "1", "reject-reason": "تکراری"}),
        STAFF,
        set(),
        302,
    ),
    (
        "merge",
        _demand_post(
            "merge", "new", lambda w: {"merge-version": "1", "merge-into": w.duplicate_target.code}
        ),
        STAFF,
        set(),
        302,
    ),
    (
        "refer",
        _demand_post(
            "refer", "new", lambda w: {"refer-version": "1", "refer-agency": w.n.agency.code}
        ),
        STAFF,
        set(),
        302,
    ),
    (
        "close",
        _demand_post(
            "close",
            "referred",
            lambda w: {
                "close-version": str(Demand.objects.get(pk=w.referred.pk).version),
                "close-outcome": "not_feasible",
                "close-reason": "بودجه ندارد",
            },
        ),
        STAFF,
        set(),
        302,
    ),
    (
        "follow-up",
        _demand_post(
            "follow_up",
            "referred",
            lambda w: {
                f"fu-{w.referral.pk}-kind": "call",
                f"fu-{w.referral.pk}-outcome": "promised",
            },
            pk="referral",
        ),
        STAFF,
        set(),
        302,
    ),
    (
        "office-accepts-answer",
        _demand_post(
            "office_referral_move",
            "answered_demand",
            lambda w: {
                "action": "done",
                f"mv-{w.answered.pk}-done-version": str(
                    Referral.objects.get(pk=w.answered.pk).version
                ),
            },
            pk="answered",
        ),
        STAFF,
        set(),
        302,
    ),
    (
        "agency-acknowledges",
        lambda c, w: c.post(
            reverse("demands:referral_move", kwargs={"pk": w.referral.pk}),
            {"action": "received", "mv-received-version": "1"},
        ),
        {"national_admin", "agency_liaison"},
        set(),
        302,
    ),
    (
        "agency-acknowledges-other-province",
        lambda c, w: c.post(
            reverse("demands:referral_move", kwargs={"pk": w.foreign_referral.pk}),
            {"action": "received", "mv-received-version": "1"},
        ),
        NATIONAL,
        PORTAL,
        302,
    ),
    (
        "export",
        lambda c, w: c.post(reverse("demands:export") + "?status=open", {"format": "csv"}),
        STAFF,
        set(),
        200,
    ),
    (
        "province-requires-two-factor",
        lambda c, w: c.post(
            reverse("accounts:province_security"),
            {"province": w.n.province.code, "require_two_factor": "on"},
        ),
        PROVINCE,
        set(),
        302,
    ),
]


@pytest.mark.authorization_matrix(
    "demands:accept",
    "demands:close",
    "demands:create",
    "demands:export",
    "demands:follow_up",
    "demands:merge",
    "demands:office_referral_move",
    "demands:refer",
    "demands:referral_move",
    "demands:reject",
    "demands:request_info",
)
@pytest.mark.parametrize("role", ROLES_AND_ANONYMOUS)
@pytest.mark.parametrize(
    ("action", "call", "allowed", "hidden", "ok"), ACTIONS, ids=[a[0] for a in ACTIONS]
)
def test_actions(client, world, role, action, call, allowed, hidden, ok):
    before = state()
    response = call(as_role(client, world, role), world)
    assert response.status_code == expected(role, allowed, hidden=hidden, ok=ok), response.content[
        :300
    ]
    if role == "anonymous":
        assert reverse("accounts:login") in response["Location"]
    if role in allowed:
        if action != "export":
            assert state() != before
    else:
        assert state() == before


@pytest.mark.authorization_matrix("demands:export_download")
def test_export_download_is_only_for_the_owner(
    client, world, django_capture_on_commit_callbacks, monkeypatch
):
    from tashil.demands import exports

    monkeypatch.setattr(exports, "DIRECT_LIMIT", 0)
    client.force_login(world.n.users["facilitator"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("demands:export"), {"format": "xlsx"})
    job = ExportJob.objects.get(owner=world.n.users["facilitator"])
    url = reverse("demands:export_download", kwargs={"pk": job.pk})
    for role in ROLES_AND_ANONYMOUS:
        client.logout()
        response = as_role(client, world, role).get(url)
        want = {"facilitator": 200, "anonymous": 302}.get(role, 404 if role in STAFF else 403)
        assert response.status_code == want, role
