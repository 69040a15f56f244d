"""Two-factor login: setting it up, logging in with the app's code or a
recovery code, turning it off, and where it is required."""

import re
import time
from binascii import unhexlify

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tashil.accounts import two_factor
from tashil.accounts.models import LoginAttempt, ProvinceSecurity
from tashil.core.models import AuditLog
from tashil.core.text import to_persian_digits
from tests.factories import UserFactory

PASSWORD = "pass-12345-word"
REQUIRED = ["national_admin", "province_manager"]


def code_for(hex_key, steps_ahead=0):
    totp = TOTP(unhexlify(hex_key))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def enable(user, steps_ahead=0):
    """Two-factor login on for `user`; returns (key, recovery codes)."""
    secret = two_factor.new_secret()
    codes = two_factor.two_factor_enable(
        user=user, acting_user=user, secret=secret, code=code_for(secret, steps_ahead)
    )
    return secret, codes


def password_step(client, user, next_url=""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data)


def signed_in(client):
    return "_auth_user_id" in client.session


# --- Setting up ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_setup_shows_a_qr_code_and_the_key_then_ten_codes_once(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("accounts:two_factor_setup")
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "<script" not in html.split('data-testid="qr-code"')[1][:5000]
    secret = client.session["tashil_2fa_secret"]
    shown = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', html).group(1)
    assert shown.replace(" ", "") in two_factor.provisioning_uri(user, secret)
    assert not TOTPDevice.objects.filter(user=user).exists()  # nothing stored before confirming

    response = client.post(url, {"code": "123"})
    assert response.status_code == 200 and not two_factor.is_enabled(user)

    response = client.post(url, {"code": code_for(secret)})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    codes = re.findall(r"<li class=\"col\">([0-9a-f]{10})</li>", response.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert two_factor.is_enabled(user) and two_factor.recovery_codes_left(user) == 10
    assert AuditLog.objects.filter(action="accounts.two_factor_enable", object_id=str(user.pk))
    # Once on, the setup page does not show the codes or a new key again.
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:two_factor")


@pytest.mark.django_db
def test_setup_takes_persian_digits(client):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("accounts:two_factor_setup"))
    secret = client.session["tashil_2fa_secret"]
    client.post(reverse("accounts:two_factor_setup"), {"code": to_persian_digits(code_for(secret))})
    assert two_factor.is_enabled(user)


@pytest.mark.django_db
def test_a_wrong_setup_code_stores_nothing(client):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("accounts:two_factor_setup"))
    secret = client.session["tashil_2fa_secret"]
    wrong = f"{(int(code_for(secret)) + 1) % 1000000:06d}"
    response = client.post(reverse("accounts:two_factor_setup"), {"code": wrong})
    assert "کد درست نیست" in response.content.decode()
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="accounts.two_factor").exists()


# --- Logging in ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_asks_for_the_code_after_the_password(client):
    user = UserFactory()
    secret, _codes = enable(user)
    response = password_step(client, user, next_url="/offices/")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login_code")
    assert not signed_in(client)
    # Without the code nothing else opens.
    assert client.get("/offices/").status_code == 302 and not signed_in(client)

    response = client.post(reverse("accounts:login_code"), {"code": code_for(secret, 1)})
    assert response.status_code == 302 and response["Location"] == "/offices/"
    assert signed_in(client)
    assert client.session["otp_device_id"] == two_factor.totp_device(user).persistent_id


@pytest.mark.django_db
def test_the_code_step_takes_persian_digits(client):
    user = UserFactory()
    secret, _codes = enable(user)
    password_step(client, user)
    code = to_persian_digits(code_for(secret, 1))
    response = client.post(reverse("accounts:login_code"), {"code": code})
    assert response.status_code == 302 and signed_in(client)


@pytest.mark.django_db
def test_a_wrong_code_does_not_sign_in_and_is_counted(client):
    user = UserFactory()
    secret, _codes = enable(user)
    password_step(client, user)
    wrong = f"{(int(code_for(secret, 1)) + 1) % 1000000:06d}"
    response = client.post(reverse("accounts:login_code"), {"code": wrong})
    assert response.status_code == 200 and not signed_in(client)
    assert "کد درست نیست" in response.content.decode()
    assert LoginAttempt.objects.filter(username=user.username, step="code").count() == 1


@pytest.mark.django_db
def test_a_recovery_code_works_once(client):
    user = UserFactory()
    _secret, codes = enable(user)
    password_step(client, user)
    response = client.post(reverse("accounts:login_code"), {"code": codes[0].upper()})
    assert response.status_code == 302 and signed_in(client)
    assert StaticToken.objects.count() == 9
    assert "۹" in client.get(reverse("accounts:two_factor")).content.decode()

    client.logout()
    password_step(client, user)
    response = client.post(reverse("accounts:login_code"), {"code": codes[0]})
    assert response.status_code == 200 and not signed_in(client)


@pytest.mark.django_db
def test_the_code_step_needs_the_password_step_first(client):
    user = UserFactory()
    secret, _codes = enable(user)
    response = client.post(reverse("accounts:login_code"), {"code": code_for(secret, 1)})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert not signed_in(client)


@pytest.mark.django_db
def test_the_code_step_expires(client, settings):
    settings.TWO_FACTOR_PENDING_SECONDS = 0
    user = UserFactory()
    secret, _codes = enable(user)
    password_step(client, user)
    time.sleep(0.01)
    response = client.post(reverse("accounts:login_code"), {"code": code_for(secret, 1)})
    assert response["Location"] == reverse("accounts:login") and not signed_in(client)


@pytest.mark.django_db
def test_the_code_step_does_not_follow_an_outside_next(client):
    user = UserFactory()
    secret, _codes = enable(user)
    password_step(client, user, next_url="https://evil.example/")
    response = client.post(reverse("accounts:login_code"), {"code": code_for(secret, 1)})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_an_account_without_two_factor_logs_in_with_the_password(client):
    user = UserFactory()
    response = password_step(client, user)
    assert response.status_code == 302 and signed_in(client)


# --- Recovery codes and turning off ------------------------------------------------------


@pytest.mark.django_db
def test_new_recovery_codes_replace_the_old(client):
    user = UserFactory()
    _secret, old = enable(user)
    client.force_login(user)
    response = client.post(reverse("accounts:recovery_codes"))
    new = re.findall(r"<li class=\"col\">([0-9a-f]{10})</li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert two_factor.verify(user, old[1]) is None
    assert two_factor.verify(user, new[1]) is not None


@pytest.mark.django_db
def test_turning_off_needs_a_current_code(client):
    user = UserFactory()
    secret, _codes = enable(user)
    client.force_login(user)
    url = reverse("accounts:two_factor_disable")
    response = client.post(url, {"code": "000000" if code_for(secret, 1) != "000000" else "1"})
    assert response.status_code == 200 and two_factor.is_enabled(user)
    response = client.post(url, {"code": code_for(secret, 1)})
    assert response.status_code == 302 and not two_factor.is_enabled(user)
    assert not StaticDevice.objects.filter(user=user).exists()
    assert AuditLog.objects.filter(action="accounts.two_factor_disable").count() == 1


@pytest.mark.django_db
def test_the_services_act_on_ones_own_account_only():
    from django.core.exceptions import PermissionDenied

    owner, other = UserFactory(), UserFactory()
    secret, _codes = enable(owner)
    with pytest.raises(PermissionDenied):
        two_factor.recovery_codes_regenerate(user=owner, acting_user=other)
    with pytest.raises(PermissionDenied):
        two_factor.two_factor_disable(user=owner, acting_user=other, code=code_for(secret, 1))
    fresh = two_factor.new_secret()
    with pytest.raises(PermissionDenied):
        two_factor.two_factor_enable(
            user=other, acting_user=owner, secret=fresh, code=code_for(fresh)
        )
    assert two_factor.is_enabled(owner) and not two_factor.is_enabled(other)
    assert two_factor.recovery_codes_left(owner) == 10


@pytest.mark.parametrize(
    "role",
    [
        "national_admin",
        "province_manager",
        "office_manager",
        "facilitator",
        "agency_liaison",
        "analyst",
        "no_role",
    ],
)
def test_each_role_sets_up_and_turns_off_only_its_own(client, network, role):
    """The pages take no account id: whoever is signed in acts on their own."""
    user = network.users[role]
    other = network.users["national_admin" if role != "national_admin" else "analyst"]
    other_secret, _codes = enable(other)
    client.force_login(user)
    client.get(reverse("accounts:two_factor_setup"))
    secret = client.session["tashil_2fa_secret"]
    client.post(reverse("accounts:two_factor_setup"), {"code": code_for(secret)})
    assert two_factor.is_enabled(user)
    assert two_factor.totp_device(other).key == other_secret
    # The other account's current code turns nothing off here.
    client.post(reverse("accounts:two_factor_disable"), {"code": code_for(other_secret, 1)})
    assert two_factor.is_enabled(user) and two_factor.is_enabled(other)
    client.post(reverse("accounts:recovery_codes"))
    assert two_factor.recovery_codes_left(other) == 10


# --- Where it is required ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["national_admin", "province_manager"])
def test_production_requires_it_of_managers(client, network, settings, role):
    settings.TWO_FACTOR_REQUIRED_ROLES = REQUIRED
    user = network.users[role]
    response = password_step(client, user)
    assert response.status_code == 302 and signed_in(client)
    for url in ["/", "/offices/", "/system/audit/", "/admin/", reverse("accounts:two_factor")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("accounts:two_factor_setup"), url
    api = client.get("/api/v1/offices/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    # The setup page itself, and the public pages, still open.
    assert client.get(reverse("accounts:two_factor_setup")).status_code == 200
    assert client.get("/board").status_code == 200
    secret = client.session["tashil_2fa_secret"]
    client.post(reverse("accounts:two_factor_setup"), {"code": code_for(secret)})
    assert client.get("/offices/").status_code == 200


@pytest.mark.parametrize("role", ["office_manager", "facilitator", "agency_liaison", "analyst"])
def test_production_does_not_require_it_of_other_roles(client, network, settings, role):
    settings.TWO_FACTOR_REQUIRED_ROLES = REQUIRED
    password_step(client, network.users[role])
    assert client.get("/offices/").status_code == 200


@pytest.mark.parametrize("role", ["national_admin", "province_manager"])
def test_development_does_not_require_it(client, network, settings, role):
    settings.TWO_FACTOR_REQUIRED_ROLES = []
    password_step(client, network.users[role])
    assert client.get("/offices/").status_code == 200


def test_the_settings_require_it_only_in_production():
    from tests.test_settings import _manage

    show = "from django.conf import settings; print(settings.TWO_FACTOR_REQUIRED_ROLES)"
    development = _manage("shell", "-c", show)
    assert development.stdout.strip().splitlines()[-1] == "[]", development.stderr
    production = _manage(
        "shell",
        "-c",
        show,
        TASHIL_ENV="production",
        TASHIL_SECRET_KEY="x" * 60,
        TASHIL_ALLOWED_HOSTS="tashil.example.ir",
    )
    assert production.stdout.strip().splitlines()[-1] == str(REQUIRED), production.stderr


def test_a_session_opened_before_the_rule_logs_in_again(client, network, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = REQUIRED
    user = network.users["province_manager"]
    enable(user)
    client.force_login(user)  # a session that never passed the code step
    response = client.get("/offices/")
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )
    assert not signed_in(client)


def test_a_province_can_require_it_of_everyone_in_it(client, network):
    manager = network.users["province_manager"]
    client.force_login(manager)
    url = reverse("accounts:province_security")
    assert client.get(url).status_code == 200
    response = client.post(url, {"province": network.province.code, "require_two_factor": "on"})
    assert response.status_code == 302
    assert ProvinceSecurity.objects.get(province=network.province).require_two_factor
    assert AuditLog.objects.filter(action="accounts.province_two_factor").exists()

    for role in ["office_manager", "facilitator", "agency_liaison", "analyst", "province_manager"]:
        client.logout()
        password_step(client, network.users[role])
        response = client.get("/offices/")
        assert response["Location"] == reverse("accounts:two_factor_setup"), role
    # Another province's staff are not touched.
    from tests.factories import Role, user_with_role

    outsider = user_with_role(Role.OFFICE_MANAGER, office=network.other_office)
    client.logout()
    password_step(client, outsider)
    assert client.get("/offices/").status_code == 200


@pytest.mark.parametrize(
    "role", ["office_manager", "facilitator", "agency_liaison", "analyst", "no_role"]
)
def test_only_province_managers_set_the_province_rule(client, network, role):
    client.force_login(network.users[role])
    url = reverse("accounts:province_security")
    assert client.get(url).status_code == 403
    response = client.post(url, {"province": network.province.code, "require_two_factor": "on"})
    assert response.status_code == 403
    assert not ProvinceSecurity.objects.exists()


def test_a_province_manager_cannot_set_another_provinces_rule(client, network):
    client.force_login(network.users["province_manager"])
    response = client.post(
        reverse("accounts:province_security"),
        {"province": network.other_province.code, "require_two_factor": "on"},
    )
    assert response.status_code == 404
    assert not ProvinceSecurity.objects.exists()


# --- The admin ----------------------------------------------------------------------------


def test_the_admin_logs_in_through_the_site_login(client, network):
    admin = network.users["national_admin"]
    admin.is_staff = True
    admin.save()
    secret, _codes = enable(admin)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    password_step(client, admin, next_url="/admin/")
    assert client.get("/admin/").status_code == 302  # not yet: the code is missing
    response = client.post(reverse("accounts:login_code"), {"code": code_for(secret, 1)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_admin_refuses_a_session_that_skipped_the_code(client, network):
    admin = network.users["national_admin"]
    admin.is_staff = True
    admin.save()
    enable(admin)
    client.force_login(admin)
    assert client.get("/admin/").status_code == 302
