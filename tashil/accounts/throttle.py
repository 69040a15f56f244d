"""Login throttling by username and by client address, stored in the database
so that it holds across web processes."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import LoginAttempt


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


def _recent(**filters):
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    return LoginAttempt.objects.filter(at__gte=since, **filters)


def is_locked_out(username: str, ip: str | None) -> bool:
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    if username and _recent(username=username.lower()).count() >= limit:
        return True
    # An address gets more room: an office shares one address behind NAT.
    return bool(ip) and _recent(ip_address=ip).count() >= limit * 4


def record_failure(username: str, ip: str | None) -> None:
    LoginAttempt.objects.create(username=(username or "").lower()[:150], ip_address=ip)


def clear(username: str) -> None:
    LoginAttempt.objects.filter(username=(username or "").lower()).delete()
