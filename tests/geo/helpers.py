"""Assertions shared by the geo and offices tests."""

from contextlib import contextmanager

from tashil.accounts.models import RoleMembership, User
from tashil.core.models import AuditLog
from tashil.geo.models import Area, HazardZone
from tashil.offices.models import Office, Operator

# A ring around Zoviyeh-like coordinates, well inside the factories' SQUARE.
INNER = {
    "type": "Polygon",
    "coordinates": [
        [[48.62, 31.32], [48.64, 31.32], [48.64, 31.34], [48.62, 31.34], [48.62, 31.32]]
    ],
}
# Far from everything the factories create.
ELSEWHERE = {
    "type": "Polygon",
    "coordinates": [
        [[50.00, 30.00], [50.10, 30.00], [50.10, 30.10], [50.00, 30.10], [50.00, 30.00]]
    ],
}


def db_state() -> dict:
    """Everything the geo and office services may write."""
    through = Office.areas.through
    return {
        "audit": AuditLog.objects.count(),
        "areas": list(Area.objects.order_by("pk").values()),
        "zones": list(HazardZone.objects.order_by("pk").values()),
        "offices": list(Office.objects.order_by("pk").values()),
        "office_areas": sorted(through.objects.values_list("office_id", "area_id")),
        "operators": list(Operator.objects.order_by("pk").values()),
        "memberships": list(RoleMembership.objects.order_by("pk").values()),
        "users": list(
            User.objects.order_by("pk").values_list("pk", "username", "is_active", "password")
        ),
    }


@contextmanager
def nothing_changes():
    """`with nothing_changes(), pytest.raises(X):` — the failed call wrote nothing."""
    before = db_state()
    yield
    after = db_state()
    for key in before:
        assert after[key] == before[key], f"{key} changed"
