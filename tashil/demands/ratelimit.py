"""Fixed-window rate limits for the public pages, kept in Django's cache.

The cache is process-local (locmem) in development; set REDIS_URL and every
web process counts in the same place. A fixed window is enough here: the aim
is to stop floods and enumeration, not to meter fairly, and it costs one
atomic increment per request.

Each limit is (requests, window in seconds) and can be overridden in settings
under the name of the constant below, e.g. PUBLIC_SUBMIT_PER_IP = (5, 600).
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from tashil.accounts.throttle import client_ip

# New demands and supports from one address. A neighbourhood meeting may share
# one phone's connection, so this is higher than the per-mobile limit.
PUBLIC_SUBMIT_PER_IP = (5, 10 * 60)
# New demands and supports per mobile number: stops one number being used to
# flood an office with SMS-generating demands.
PUBLIC_SUBMIT_PER_MOBILE = (3, 60 * 60)
# Unknown codes or ids looked up from one address, on every public surface
# together (/track and its feedback, Open311 requests/{id}, tokens/{id} and
# ?service_request_id=), and wrong second factors on the feedback form. Only
# misses count, so a resident reloading their own page is never blocked.
PUBLIC_TRACK_MISSES_PER_IP = (10, 10 * 60)
LOOKUP_MISSES = "PUBLIC_TRACK_MISSES_PER_IP"
# Wrong second factors (last four digits, SMS code) for one demand, from any
# address: four digits are few, so they are not guessed from many addresses.
PUBLIC_FEEDBACK_FACTOR_MISSES_PER_DEMAND = (5, 60 * 60)
# SMS codes sent for one demand's feedback.
PUBLIC_FEEDBACK_SMS_PER_DEMAND = (3, 60 * 60)
# Tracking codes a signed-in API user looked up and did not find (outside
# their scope or not existing).
API_LOOKUP_MISSES_PER_USER = (30, 10 * 60)
# Duplicate-suggestion lookups, fired while the resident types.
PUBLIC_SIMILAR_PER_IP = (120, 10 * 60)
# Feedback posts from one address.
PUBLIC_FEEDBACK_PER_IP = (10, 10 * 60)

# Writes through /api/v1/ per API key or signed-in user (tashil.api.throttle).
# A partner system that sends more than one demand a second is flooding, not
# syncing; settings take TASHIL_API_WRITES_PER_MINUTE.
API_WRITES_PER_CLIENT = (60, 60)

KEY_PREFIX = "tashil:rl"


@dataclass(frozen=True)
class Limit:
    name: str
    requests: int
    window: int

    @property
    def minutes(self) -> int:
        return max(1, -(-self.window // 60))


def limit(name: str) -> Limit:
    requests, window = getattr(settings, name, globals()[name])
    return Limit(name, int(requests), int(window))


def _key(lim: Limit, identity: str) -> str:
    # Hashed so that no address or phone number sits in the cache in clear.
    digest = hashlib.sha256(f"{lim.name}:{identity}".encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:{lim.name}:{digest}:{int(time.time()) // lim.window}"


def hit(name: str, identity: str | None) -> bool:
    """Count one request; False once the window's allowance is used up.

    A request without an identity (no address, no mobile) is not limited by
    this counter."""
    if not identity:
        return True
    lim = limit(name)
    key = _key(lim, identity)
    # add() is a no-op when the key exists, so concurrent first hits do not
    # reset each other's count; incr() is atomic on locmem and Redis.
    cache.add(key, 0, timeout=lim.window + 1)
    try:
        count = cache.incr(key)
    except ValueError:
        # Expired between add() and incr(): this request opens a new window.
        cache.add(key, 1, timeout=lim.window + 1)
        count = 1
    return count <= lim.requests


def exceeded(name: str, identity: str | None) -> bool:
    """Whether the allowance is already used up, without counting a request."""
    if not identity:
        return False
    lim = limit(name)
    return (cache.get(_key(lim, identity)) or 0) >= lim.requests


def ip_of(request) -> str | None:
    return client_ip(request)
