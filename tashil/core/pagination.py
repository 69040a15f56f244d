"""A paginator that stops counting: on a province's demands a full COUNT of a
common search word reads hundreds of thousands of rows for a number nobody
needs exactly ("more than 1,000" says as much)."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

# Beyond this a page number is not one a person followed link by link; count
# everything, as Paginator would, rather than ask for an absurd LIMIT.
_MAX_COUNTED = 1_000_000


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows, or as many as the requested page needs to
    exist and to know whether a next one follows. `capped` says the count is a
    lower bound: there are more than `cap` rows."""

    def __init__(self, object_list, per_page, *, cap: int = 1000, page=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        try:
            wanted = max(int(page), 1)
        except (TypeError, ValueError):
            wanted = 1
        limit = max(cap, wanted * self.per_page) + 1
        counts_rows = hasattr(object_list, "query") and limit <= _MAX_COUNTED
        self._limit = limit if counts_rows else None

    @cached_property
    def count(self):
        rows = self.object_list
        if self._limit is None:
            return super().count
        # Which rows are counted does not matter, only how many: no order, no
        # columns, so the database stops after `limit` index entries.
        return rows.order_by().values("pk")[: self._limit].count()

    @property
    def capped(self) -> bool:
        return self._limit is not None and self.count >= self._limit
