"""Rate limit on API writes, per client: an API key, or the signed-in user.

The counting is the public pages' fixed window (`demands.ratelimit`); this
only plugs it into django-ninja's throttle hook, which runs after
authentication, so the client is known and unauthenticated calls never count.
Reads are not limited here."""

import time

from ninja.throttling import BaseThrottle

from tashil.accounts.models import ApiKey
from tashil.demands import ratelimit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_identity(request) -> str | None:
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return f"key:{auth.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


class ApiWriteThrottle(BaseThrottle):
    limit_name = "API_WRITES_PER_CLIENT"

    def allow_request(self, request) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return ratelimit.hit(self.limit_name, client_identity(request))

    def wait(self) -> float:
        """Seconds until the current window ends (Retry-After)."""
        window = ratelimit.limit(self.limit_name).window
        return window - int(time.time()) % window
