"""Reads of offices for lists, detail pages and the network overview."""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, Sum

from tashil.accounts.models import RoleMembership
from tashil.agencies.models import Agency
from tashil.core.text import search_terms
from tashil.geo.models import Area
from tashil.geo.selectors import codes_in_path

from .models import Office, Operator
from .permissions import access_office

OPERATING = (Office.Status.PILOT, Office.Status.ACTIVE)
# The fields a map marker or an "areas served" line needs; boundaries stay in
# the database unless the page draws them.
_AREA_LIGHT = (
    "id",
    "code",
    "path",
    "level",
    "name_fa",
    "name_en",
    "centroid_lat",
    "centroid_lng",
    "is_marginal",
)


def visible_office(*, user, code: str) -> Office:
    """The office with this code if the user may see it; 404 otherwise."""
    return access_office(
        user, code, queryset=Office.objects.select_related("province", "county", "operator")
    )


def office_list(
    *, user, status: str | None = None, county: Area | None = None, query: str | None = None
):
    queryset = Office.objects.visible_to(user).with_list_data().select_related("county")
    if status:
        queryset = queryset.filter(status=status)
    if county is not None:
        queryset = queryset.filter(county=county)
    for term in search_terms(query):
        by_area = Office.objects.filter(areas__search_key__contains=term).values("pk")
        queryset = queryset.filter(
            Q(name_fa__icontains=term)
            | Q(name_en__icontains=term)
            | Q(code__icontains=term)
            | Q(pk__in=by_area)
        )
    return queryset.order_by("province__path", "name_fa")


def counties_for_filter(*, user):
    return Area.objects.visible_to(user).filter(level=Area.Level.COUNTY).order_by("name_fa")


def areas_served(office: Office):
    return office.areas.select_related("parent").order_by("path")


def staff_of(office: Office):
    return RoleMembership.objects.staff_of(office)


def operators_with_counts():
    return Operator.objects.annotate(office_count=Count("offices")).order_by("name_fa")


# --- The network overview --------------------------------------------------


@dataclass
class NetworkSummary:
    offices: list
    by_status: dict
    status_cards: list
    neighbourhoods: int = 0
    neighbourhoods_served: int = 0
    marginal_neighbourhoods: int = 0
    marginal_served: int = 0
    marginal_population: int = 0
    marginal_population_covered: int = 0
    agencies: int = 0
    markers: list = field(default_factory=list)

    @property
    def coverage_percent(self) -> int | None:
        if not self.marginal_population:
            return None
        return round(100 * self.marginal_population_covered / self.marginal_population)


def network_offices(*, user):
    light = Area.objects.only(*_AREA_LIGHT).order_by("path")
    return (
        Office.objects.visible_to(user)
        .with_list_data()
        .select_related("county")
        .prefetch_related(Prefetch("areas", queryset=light))
        .order_by("province__path", "name_fa")
    )


def _marker(office: Office) -> dict | None:
    lat, lng = office.latitude, office.longitude
    if lat is None or lng is None:
        # No address point yet: put the marker where its first mapped area is.
        for area in office.areas.all():
            if area.centroid_lat is not None and area.centroid_lng is not None:
                lat, lng = area.centroid_lat, area.centroid_lng
                break
    if lat is None or lng is None:
        return None
    return {
        "code": office.code,
        "name": office.name,
        "status": office.status,
        "status_label": str(office.get_status_display()),
        "lat": lat,
        "lng": lng,
    }


def network_summary(*, user) -> NetworkSummary:
    """Counts for the network page. A fixed number of queries whatever the
    size of the network: offices (+ their areas), one aggregate over the
    neighbourhoods, one count of agencies."""
    offices = list(network_offices(user=user))
    by_status = {status: 0 for status in Office.Status.values}
    served_paths = set()
    for office in offices:
        by_status[office.status] += 1
        if office.status in OPERATING:
            served_paths.update(area.path for area in office.areas.all())
    # A served city or county covers every neighbourhood under it.
    # pk IS NULL never matches: a condition that compiles even with nothing served.
    served = Q(pk__isnull=True)
    for path in served_paths:
        served |= Q(path__startswith=path)
    marginal = Q(is_marginal=True)
    totals = (
        Area.objects.visible_to(user)
        .filter(level=Area.Level.NEIGHBOURHOOD)
        .aggregate(
            neighbourhoods=Count("pk"),
            served=Count("pk", filter=served),
            marginal=Count("pk", filter=marginal),
            marginal_served=Count("pk", filter=marginal & served),
            marginal_population=Sum("population", filter=marginal),
            covered=Sum("population", filter=marginal & served),
        )
    )
    agencies = Agency.objects.visible_to(user).filter(is_active=True).count()
    cards = [
        (status, label, by_status[status])
        for status, label in Office.Status.choices
        if by_status[status] or status in OPERATING or status == Office.Status.PLANNED
    ]
    return NetworkSummary(
        offices=offices,
        by_status=by_status,
        status_cards=cards,
        neighbourhoods=totals["neighbourhoods"] or 0,
        neighbourhoods_served=totals["served"] or 0,
        marginal_neighbourhoods=totals["marginal"] or 0,
        marginal_served=totals["marginal_served"] or 0,
        marginal_population=totals["marginal_population"] or 0,
        marginal_population_covered=totals["covered"] or 0,
        agencies=agencies,
        markers=[m for m in (_marker(o) for o in offices) if m],
    )


def offices_serving(*, area: Area, user):
    """Visible offices that serve this area, an area inside it, or an area
    containing it (an office serving a whole city serves its neighbourhoods)."""
    ancestors = codes_in_path(area.path)[:-1]
    served = Q(areas__path__startswith=area.path) | Q(areas__code__in=ancestors)
    ids = Office.objects.filter(served).values("pk")
    return (
        Office.objects.visible_to(user)
        .filter(pk__in=ids)
        .select_related("operator")
        .order_by("name_fa")
    )
