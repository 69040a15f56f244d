"""The login throttle: growing delays per (account, address), a limit per
address, and no lock a stranger can set off on someone else's account."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tashil.accounts import throttle
from tashil.accounts.models import LoginAttempt
from tests.accounts.test_two_factor import code_for, enable, password_step, signed_in
from tests.factories import UserFactory

PASSWORD = "pass-12345-word"
A, B = "198.51.100.7", "203.0.113.20"

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen(monkeypatch):
    """The throttle's clock, held still."""
    start = timezone.now()

    class Clock:
        value = start

        @classmethod
        def now(cls):
            return cls.value

    monkeypatch.setattr(throttle.timezone, "now", Clock.now)
    return Clock


def failures(count, username, ip, at, step=throttle.PASSWORD):
    for _ in range(count):
        row = LoginAttempt.objects.create(username=username, ip_address=ip, step=step)
        LoginAttempt.objects.filter(pk=row.pk).update(at=at)


def login(client, username, password, ip):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_a_strangers_failures_do_not_lock_the_owner_out(client):
    owner = UserFactory()
    for _ in range(12):
        login(client, owner.username, "guess", A)
    # The stranger at A is held back, even with the right password...
    response = login(client, owner.username, PASSWORD, A)
    assert response.status_code == 200 and not signed_in(client)
    assert "صبر کنید" in response.content.decode()
    # ...while the owner at B logs in at once.
    response = login(client, owner.username, PASSWORD, B)
    assert response.status_code == 302 and signed_in(client)


def test_delays_grow_with_each_failure_of_a_pair(frozen, settings):
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    settings.LOGIN_THROTTLE_MAX_DELAY = 900
    waits = []
    for n in range(1, 11):
        LoginAttempt.objects.all().delete()
        failures(n, "owner", A, frozen.value)
        waits.append(throttle.seconds_to_wait("owner", A))
    assert waits == [0, 0, 8, 16, 32, 64, 128, 256, 512, 900]
    # The wait runs from the last failure and then ends.
    frozen.value += dt.timedelta(seconds=900)
    assert throttle.seconds_to_wait("owner", A) == 0


def test_a_refused_try_is_not_checked_or_counted(client):
    user = UserFactory()
    for _ in range(3):
        login(client, user.username, "guess", A)
    before = LoginAttempt.objects.count()
    response = login(client, user.username, PASSWORD, A)
    assert not signed_in(client) and LoginAttempt.objects.count() == before
    html = response.content.decode()
    assert "۸ ثانیه صبر کنید" in html or "۷ ثانیه صبر کنید" in html


def test_long_waits_are_said_in_minutes(frozen):
    failures(12, "owner", A, frozen.value)
    error = throttle_message(throttle.seconds_to_wait("owner", A))
    assert "15 minutes" in error


def throttle_message(seconds):
    from django.utils import translation

    from tashil.accounts.forms import wait_message

    with translation.override("en"):
        error = wait_message(seconds)
        return error.message % error.params


def test_one_address_cannot_spray_many_accounts(client, settings):
    settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS = 5
    users = [UserFactory() for _ in range(6)]
    for user in users[:5]:
        login(client, user.username, "guess", A)
    response = login(client, users[5].username, PASSWORD, A)
    assert response.status_code == 200 and not signed_in(client)
    response = login(client, users[5].username, PASSWORD, B)
    assert response.status_code == 302


def test_failures_from_many_addresses_only_space_tries_on_the_account(frozen, settings):
    settings.LOGIN_THROTTLE_ACCOUNT_ATTEMPTS = 50
    settings.LOGIN_THROTTLE_ACCOUNT_DELAY = 5
    for i in range(80):
        failures(1, "owner", f"10.0.{i // 200}.{i % 200 + 1}", frozen.value)
    # From a fresh address: a few seconds at most, never a lock.
    assert throttle.seconds_to_wait("owner", B) == 5
    frozen.value += dt.timedelta(seconds=5)
    assert throttle.seconds_to_wait("owner", B) == 0


def test_a_success_clears_only_its_own_pair(client):
    owner = UserFactory()
    login(client, owner.username, "guess", A)
    login(client, owner.username, "guess", B)
    login(client, owner.username, PASSWORD, B)
    assert list(LoginAttempt.objects.values_list("ip_address", flat=True)) == [A]


def test_the_code_step_is_throttled_too(client):
    user = UserFactory()
    secret, _codes = enable(user)
    password_step(client, user)
    right = code_for(secret, 1)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    for _ in range(3):
        response = client.post(reverse("accounts:login_code"), {"code": wrong})
        assert response.status_code == 200
    assert LoginAttempt.objects.filter(step="code").count() == 3
    response = client.post(reverse("accounts:login_code"), {"code": right})
    assert response.status_code == 200 and not signed_in(client)
    assert "ثانیه صبر کنید" in response.content.decode()
    # The refused code was not tried: it still works once the wait is over.
    LoginAttempt.objects.update(at=timezone.now() - dt.timedelta(seconds=60))
    response = client.post(reverse("accounts:login_code"), {"code": right})
    assert response.status_code == 302 and signed_in(client)


def test_password_and_code_failures_are_counted_apart(frozen):
    failures(5, "owner", A, frozen.value, step=throttle.CODE)
    assert throttle.seconds_to_wait("owner", A, throttle.PASSWORD) == 0
    assert throttle.seconds_to_wait("owner", A, throttle.CODE) > 0
