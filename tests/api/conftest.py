import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """API writes are counted per user id in the cache; ids repeat between
    tests, so each test starts with no writes counted."""
    cache.clear()
    yield
    cache.clear()
