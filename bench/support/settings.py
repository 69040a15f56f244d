"""Settings for the web server the throughput benchmark drives: the project's
own settings, with the public rate limits lifted so that every request of the
load generator (one address, no mobile) is served rather than refused."""

from tashil.settings import *  # noqa: F403

UNLIMITED = (10**9, 60)
PUBLIC_SUBMIT_PER_IP = UNLIMITED
PUBLIC_SUBMIT_PER_MOBILE = UNLIMITED
PUBLIC_SIMILAR_PER_IP = UNLIMITED
PUBLIC_TRACK_MISSES_PER_IP = UNLIMITED
PUBLIC_FEEDBACK_PER_IP = UNLIMITED
