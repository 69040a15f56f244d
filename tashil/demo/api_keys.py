"""The demo API key, so that an Open311 client can be tried at once.

The key is public (it is in the README), like the demo passwords: it is for
demonstrations, never for a production system."""

from tashil.accounts.models import ApiKey

DEMO_KEY_NAME = "Demo Open311 client"
DEMO_RAW_KEY = "tashil-demo-key"


def load_api_keys(report=None) -> ApiKey:
    """Create the demo key unless a key with its hash exists (idempotent)."""
    api_key = ApiKey.objects.filter(key_hash=ApiKey.hash(DEMO_RAW_KEY)).first()
    outcome = "unchanged"
    if api_key is None:
        api_key, _raw = ApiKey.create(name=DEMO_KEY_NAME, raw_key=DEMO_RAW_KEY)
        outcome = "created"
    if report is not None:
        report.count("API keys", outcome)
    return api_key
