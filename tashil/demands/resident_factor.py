"""The second factor a resident gives, with the tracking code, before their
feedback is taken: the code alone is not enough, since it is written on paper,
read out over the phone and sent by SMS.

The factor is the last four digits of the mobile on file; a resident who does
not remember which number they gave can ask for a one-time code by SMS to it
instead. A demand without a mobile on file cannot take feedback online: the
resident goes to the office. Wrong answers count per address (with the
lookups of codes, see ratelimit.LOOKUP_MISSES) and per demand, so four digits
cannot be guessed from many addresses either."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from tashil.core.text import to_ascii_digits
from tashil.notifications.services import notify

from . import ratelimit

LAST_DIGITS = 4
SMS_CODE_DIGITS = 6
SMS_CODE_MINUTES = 10
_CACHE_PREFIX = "tashil:feedback-code:"


def has_factor(demand) -> bool:
    return bool(demand.submitter_mobile)


def _digest(demand, value: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{demand.pk}:{value}".encode(), hashlib.sha256
    ).hexdigest()


def _cache_key(demand) -> str:
    return _CACHE_PREFIX + hashlib.sha256(f"{demand.pk}".encode()).hexdigest()[:32]


def clean_answer(raw: str) -> str:
    return "".join(c for c in to_ascii_digits(raw or "") if c.isdigit())


def locked(demand) -> bool:
    """Too many wrong answers for this demand, from anywhere."""
    return ratelimit.exceeded("PUBLIC_FEEDBACK_FACTOR_MISSES_PER_DEMAND", str(demand.pk))


def verify(demand, answer: str, *, ip: str | None) -> bool:
    """Whether `answer` is the last four digits of the mobile on file or the
    SMS code last sent for this demand. A wrong answer is counted; a right SMS
    code is used up."""
    answer = clean_answer(answer)
    mobile = demand.submitter_mobile or ""
    ok = False
    if mobile and len(answer) == LAST_DIGITS:
        ok = hmac.compare_digest(answer, mobile[-LAST_DIGITS:])
    elif mobile and len(answer) == SMS_CODE_DIGITS:
        stored = cache.get(_cache_key(demand))
        ok = bool(stored) and hmac.compare_digest(stored, _digest(demand, answer))
        if ok:
            cache.delete(_cache_key(demand))
    if not ok:
        ratelimit.hit(ratelimit.LOOKUP_MISSES, ip)
        ratelimit.hit("PUBLIC_FEEDBACK_FACTOR_MISSES_PER_DEMAND", str(demand.pk))
    return ok


def send_code(demand) -> bool:
    """Send a one-time code to the mobile on file; False when this demand has
    had its share of codes for now (or has no mobile)."""
    if not has_factor(demand):
        return False
    if not ratelimit.hit("PUBLIC_FEEDBACK_SMS_PER_DEMAND", str(demand.pk)):
        return False
    code = "".join(secrets.choice("0123456789") for _i in range(SMS_CODE_DIGITS))
    cache.set(_cache_key(demand), _digest(demand, code), SMS_CODE_MINUTES * 60)
    with translation.override("fa"), transaction.atomic():
        body = _(
            "Your code for feedback on your demand: %(code)s. It is valid for %(minutes)s "
            "minutes. Do not give it to anyone."
        ) % {"code": code, "minutes": SMS_CODE_MINUTES}
        notify(
            channel="sms",
            recipient=demand.submitter_mobile,
            body=body,
            topic=f"demand:{demand.pk}:feedback-code",
        )
    return True
