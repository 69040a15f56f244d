import pytest

from tashil.geo import lookup


@pytest.fixture(autouse=True)
def _fresh_lookup_index():
    # Test databases reuse ids after a rollback; start every test from a
    # clean in-process index.
    lookup.invalidate()
    yield
    lookup.invalidate()
