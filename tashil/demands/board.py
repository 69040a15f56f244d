"""Aggregates for the public board. Counts only: no row here can lead back to a
resident, and map cells with fewer than MIN_CELL_COUNT demands are left out
so that no single household can be pinpointed.

Merged demands are left out of every figure (they are counted in the demand
they were merged into). The aggregates are cached for CACHE_SECONDS; with the
shared cache every web process serves the same figures."""

import datetime as dt
import statistics
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, FloatField, Func, Q
from django.db.models.functions import Floor
from django.utils import timezone
from django.utils.translation import get_language

from tashil.agencies.models import DemandCategory
from tashil.geo.models import Area

from .models import CLOSED_STATUSES, OPEN_STATUSES, Demand, DemandStatus

CACHE_KEY = "tashil:public:board:v1"
REFRESH_LOCK_KEY = "tashil:public:board:refreshing"
CACHE_SECONDS = 60
# How long the last figures stay available to serve while they are refreshed.
KEEP_SECONDS = 60 * 60
REFRESH_LOCK_SECONDS = 120
# About 550 m north–south in Khuzestan: a few blocks, never one house.
CELL_DEGREES = 0.005
MIN_CELL_COUNT = 3
SECONDS_PER_DAY = 86400


@dataclass
class Board:
    total: int = 0
    open: int = 0
    closed: int = 0
    resolved: int = 0
    partly_resolved: int = 0
    by_status: list = field(default_factory=list)
    by_area: list = field(default_factory=list)
    by_category: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    suppressed_cells: int = 0
    median_days: float | None = None
    computed_at: object = None

    @property
    def resolved_share(self) -> float | None:
        """Fully resolved demands as a share of all demands received that
        were not rejected (rejected ones were never the offices' to solve)."""
        rejected = next(
            (r["count"] for r in self.by_status if r["status"] == DemandStatus.REJECTED), 0
        )
        base = self.total - rejected
        return self.resolved / base if base else None

    @property
    def resolved_percent(self) -> int | None:
        share = self.resolved_share
        return None if share is None else round(share * 100)


def _localized(row, prefix):
    if get_language() == "en" and row.get(f"{prefix}_en"):
        return row[f"{prefix}_en"]
    return row[f"{prefix}_fa"]


class _PercentileCont(Func):
    """PostgreSQL's median over an interval in seconds."""

    function = "percentile_cont"
    contains_aggregate = True
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()


def median_days_to_resolution(queryset) -> float | None:
    """Median calendar days from submission to closure over resolved demands."""
    resolved = queryset.filter(status=DemandStatus.RESOLVED, closed_at__isnull=False)
    if connection.vendor == "postgresql":
        seconds = resolved.aggregate(m=_PercentileCont(F("closed_at") - F("submitted_at")))["m"]
        return None if seconds is None else seconds / SECONDS_PER_DAY
    spans = [
        (closed - submitted).total_seconds()
        for submitted, closed in resolved.values_list("submitted_at", "closed_at").iterator()
    ]
    return statistics.median(spans) / SECONDS_PER_DAY if spans else None


def _tally(rows, key_index):
    """{key: {"n", "open", "resolved"}} from (area, category, status, n) rows."""
    tally: dict = {}
    for row in rows:
        entry = tally.setdefault(row[key_index], {"n": 0, "open": 0, "resolved": 0})
        status, n = row[2], row[3]
        entry["n"] += n
        if status in OPEN_STATUSES:
            entry["open"] += n
        elif status == DemandStatus.RESOLVED:
            entry["resolved"] += n
    return tally


def compute_board() -> Board:
    """Five queries whatever the size: one pass grouping by neighbourhood,
    category and status (every table is derived from it), the names of the
    few neighbourhoods and categories, the map cells, and the median."""
    demands = Demand.objects.exclude(status=DemandStatus.MERGED)
    board = Board(computed_at=timezone.now())

    groups = list(
        demands.values_list("area_id", "category_id", "status").annotate(n=Count("id")).order_by()
    )
    counts: dict[str, int] = {}
    for _area, _category, status, n in groups:
        counts[status] = counts.get(status, 0) + n
    board.by_status = sorted(
        ({"status": status, "count": n} for status, n in counts.items()),
        key=lambda r: (-r["count"], r["status"]),
    )
    board.total = sum(counts.values())
    board.open = sum(counts.get(s, 0) for s in OPEN_STATUSES)
    board.closed = sum(counts.get(s, 0) for s in CLOSED_STATUSES)
    board.resolved = counts.get(DemandStatus.RESOLVED, 0)
    board.partly_resolved = counts.get(DemandStatus.PARTLY_RESOLVED, 0)

    by_area, by_category = _tally(groups, 0), _tally(groups, 1)
    areas = Area.objects.filter(pk__in=by_area).values_list("pk", "code", "name_fa", "name_en")
    board.by_area = sorted(
        (
            {"area__code": code, "area__name_fa": fa, "area__name_en": en, **by_area[pk]}
            for pk, code, fa, en in areas
        ),
        key=lambda r: (-r["n"], r["area__name_fa"]),
    )
    categories = DemandCategory.objects.filter(pk__in=by_category).values_list(
        "pk", "code", "name_fa", "name_en", "parent__name_fa", "parent__name_en"
    )
    board.by_category = sorted(
        (
            {
                "category__code": code,
                "category__name_fa": fa,
                "category__name_en": en,
                "category__parent__name_fa": parent_fa,
                "category__parent__name_en": parent_en,
                **by_category[pk],
            }
            for pk, code, fa, en, parent_fa, parent_en in categories
        ),
        key=lambda r: (-r["n"], r["category__name_fa"]),
    )
    board.median_days = median_days_to_resolution(demands)

    cells = (
        demands.filter(latitude__isnull=False, longitude__isnull=False)
        .annotate(
            cy=Floor(F("latitude") / CELL_DEGREES),
            cx=Floor(F("longitude") / CELL_DEGREES),
        )
        .values("cy", "cx")
        .annotate(n=Count("id"), open=Count("id", filter=Q(status__in=OPEN_STATUSES)))
        .order_by()
    )
    for cell in cells:
        if cell["n"] < MIN_CELL_COUNT:
            board.suppressed_cells += 1
            continue
        board.cells.append(
            {
                # The cell's centre, never a demand's own point.
                "lat": round((cell["cy"] + 0.5) * CELL_DEGREES, 5),
                "lng": round((cell["cx"] + 0.5) * CELL_DEGREES, 5),
                "count": cell["n"],
                "open": cell["open"],
            }
        )
    board.cells.sort(key=lambda c: (-c["count"], c["lat"], c["lng"]))
    return board


def public_board() -> Board:
    """The cached board. Older than CACHE_SECONDS, one request recomputes it
    while the others keep serving the previous figures, so an expiry never
    sends every visitor into the full-table aggregates at once."""
    board = cache.get(CACHE_KEY)
    fresh_since = timezone.now() - dt.timedelta(seconds=CACHE_SECONDS)
    if board is not None and board.computed_at >= fresh_since:
        return board
    if board is not None and not cache.add(REFRESH_LOCK_KEY, 1, timeout=REFRESH_LOCK_SECONDS):
        return board
    try:
        board = compute_board()
        cache.set(CACHE_KEY, board, KEEP_SECONDS)
    finally:
        cache.delete(REFRESH_LOCK_KEY)
    return board


def localized_rows(board: Board) -> dict:
    """The board's tables with names in the current language."""
    return {
        "areas": [
            {
                "name": _localized(r, "area__name"),
                "count": r["n"],
                "open": r["open"],
                "resolved": r["resolved"],
            }
            for r in board.by_area
        ],
        "categories": [
            {
                "name": _localized(r, "category__name"),
                "group": _localized(r, "category__parent__name")
                if r["category__parent__name_fa"]
                else "",
                "count": r["n"],
                "open": r["open"],
                "resolved": r["resolved"],
            }
            for r in board.by_category
        ],
        "statuses": [
            {
                "status": r["status"],
                "label": str(DemandStatus(r["status"]).label),
                "count": r["count"],
            }
            for r in board.by_status
        ],
    }
