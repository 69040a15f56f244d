"""Login throttling, stored in the database so that it holds across web
processes.

Failures are counted three ways within `LOGIN_THROTTLE_WINDOW_SECONDS`:

- per (account, address) pair: after `LOGIN_THROTTLE_ATTEMPTS` failures the
  pair must wait 2^n seconds after its n-th failure, up to
  `LOGIN_THROTTLE_MAX_DELAY`. This is the guess-the-password brake, and it
  only touches the address that is guessing;
- per address, across all accounts: the same growing delay once the address
  passes `LOGIN_THROTTLE_ADDRESS_ATTEMPTS`, which stops one address spraying
  passwords over many accounts;
- per account, from every address: past `LOGIN_THROTTLE_ACCOUNT_ATTEMPTS`,
  tries on the account are only spaced `LOGIN_THROTTLE_ACCOUNT_DELAY` seconds
  apart. That slows a guesser spread over many addresses but never locks the
  owner out: a stranger's failures from one address cannot stop the owner
  logging in from another.

The password step and the two-factor code step are counted separately, with
the same rules, except that only someone with the password reaches the code
step, so there the account's failures from every address also grow the
delay (after three times the pair's free tries). A refused try is not
checked and not counted."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from .models import LoginAttempt

PASSWORD = LoginAttempt.Step.PASSWORD
CODE = LoginAttempt.Step.CODE


def client_ip(request) -> str | None:
    """The client's address. Each trusted proxy appends the address it got
    the request from to X-Forwarded-For, so the client is the entry that many
    places from the end; anything before it was written by the client and
    could be forged."""
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= trusted:
            return forwarded[-trusted]
    return request.META.get("REMOTE_ADDR") or None


def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def growing_delay(failures: int, free: int) -> int:
    """Seconds to wait after the last failure: none for the first `free`
    failures, then 8, 16, 32 … seconds, capped."""
    if failures < free:
        return 0
    return min(2 ** (failures - free + 3), settings.LOGIN_THROTTLE_MAX_DELAY)


def _wait(rows, delay_for) -> int:
    stats = rows.aggregate(n=Count("id"), last=Max("at"))
    delay = delay_for(stats["n"])
    if not delay or stats["last"] is None:
        return 0
    remaining = (stats["last"] + timedelta(seconds=delay) - timezone.now()).total_seconds()
    return max(0, int(remaining + 0.999))


def seconds_to_wait(username: str, ip: str | None, step: str = PASSWORD) -> int:
    """How long this account at this address must wait before its next try
    (0 = it may try now)."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    recent = LoginAttempt.objects.filter(at__gte=since, step=step)
    username = _key(username)
    waits = []
    if username:
        waits.append(
            _wait(
                recent.filter(username=username, ip_address=ip),
                lambda n: growing_delay(n, settings.LOGIN_THROTTLE_ATTEMPTS),
            )
        )
        if step == CODE:
            # Only someone who has the password reaches the code step, so
            # there the account's failures from every address grow the delay.
            def account_delay(n):
                return growing_delay(n, settings.LOGIN_THROTTLE_ATTEMPTS * 3)
        else:

            def account_delay(n):
                if n >= settings.LOGIN_THROTTLE_ACCOUNT_ATTEMPTS:
                    return settings.LOGIN_THROTTLE_ACCOUNT_DELAY
                return 0

        waits.append(_wait(recent.filter(username=username), account_delay))
    if ip:
        waits.append(
            _wait(
                recent.filter(ip_address=ip),
                lambda n: growing_delay(n, settings.LOGIN_THROTTLE_ADDRESS_ATTEMPTS),
            )
        )
    return max(waits, default=0)


def record_failure(username: str, ip: str | None, step: str = PASSWORD) -> None:
    LoginAttempt.objects.create(username=_key(username), ip_address=ip, step=step)
    # Rows older than the window count for nothing; keep the table small.
    old = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    LoginAttempt.objects.filter(username=_key(username), at__lt=old).delete()


def clear(username: str, ip: str | None, step: str = PASSWORD) -> None:
    """After a success: forget this pair's failures. Failures from other
    addresses stay counted against them."""
    LoginAttempt.objects.filter(username=_key(username), ip_address=ip, step=step).delete()
