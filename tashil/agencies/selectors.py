"""Reads for the agency pages. Each selector owns its joins and prefetches so
that pages issue the same number of queries however many rows they show."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q

from tashil.accounts.models import Role, RoleMembership
from tashil.core.text import search_terms
from tashil.geo.models import Area
from tashil.geo.selectors import codes_in_path

from .models import Agency, DemandCategory, RoutingRule
from .routing import ancestor_paths


def _ordered_areas():
    return Area.objects.order_by("path")


def agency_list(*, user, county: Area | None = None, query: str = ""):
    """Agencies the user may see, optionally only those serving `county`
    (jurisdiction on the county, inside it, or on the province around it) and
    matching every word of `query`."""
    qs = (
        Agency.objects.visible_to(user)
        .with_list_data()
        .prefetch_related(Prefetch("jurisdiction", queryset=_ordered_areas()))
    )
    if county is not None:
        served = Agency.jurisdiction.through.objects.filter(
            Q(area__path__startswith=county.path) | Q(area__path__in=ancestor_paths(county))
        )
        qs = qs.filter(pk__in=served.values("agency_id"))
    for term in search_terms(query):
        qs = qs.filter(Q(search_key__contains=term) | Q(code__icontains=term))
    return qs.order_by("name_fa", "pk")


def counties_for(user):
    return Area.objects.visible_to(user).filter(level=Area.Level.COUNTY).order_by("path")


def agency_detail_queryset(user):
    return Agency.objects.visible_to(user).select_related("province")


def agency_jurisdiction(agency: Agency):
    return agency.jurisdiction.order_by("path")


def agency_routes(agency: Agency):
    """The routing rules that send demands to this agency."""
    return agency.routing_rules.select_related("category", "area").order_by(
        "category__code", "area__path"
    )


def agency_liaisons(agency: Agency):
    return (
        RoleMembership.objects.active()
        .filter(agency=agency, role=Role.AGENCY_LIAISON)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )


# --- Category tree ----------------------------------------------------------------


@dataclass(frozen=True)
class CategoryNode:
    category: DemandCategory
    depth: int
    rule_count: int


def category_tree(categories=None, *, user=None) -> list[CategoryNode]:
    """Every category in tree order (parents before their children, siblings
    by their order then code), with its depth. One query.

    With `user`, each node counts the routing rules that user may see."""
    if categories is None:
        categories = DemandCategory.objects.order_by("sort_order", "code")
        if user is not None:
            visible = Q(routing_rules__agency__in=Agency.objects.visible_to(user))
            categories = categories.annotate(rule_count=Count("routing_rules", filter=visible))
    categories = list(categories)
    children: dict = {}
    for c in categories:
        children.setdefault(c.parent_id, []).append(c)
    nodes: list[CategoryNode] = []
    known = {c.pk for c in categories}

    def walk(parent_id, depth):
        for c in children.get(parent_id, []):
            nodes.append(CategoryNode(c, depth, getattr(c, "rule_count", 0)))
            walk(c.pk, depth + 1)

    walk(None, 0)
    # Categories whose parent is missing from the list still show, at the top.
    for parent_id in set(children) - known - {None}:
        walk(parent_id, 0)
    return nodes


def descendant_ids(category: DemandCategory) -> set[int]:
    """`category` and every category under it."""
    parents = dict(DemandCategory.objects.values_list("id", "parent_id"))
    found = {category.pk}
    changed = True
    while changed:
        changed = False
        for pk, parent in parents.items():
            if parent in found and pk not in found:
                found.add(pk)
                changed = True
    return found


# --- Routing table -----------------------------------------------------------------


def routing_table(*, user, category: DemandCategory | None = None, area: Area | None = None):
    """Rules the user may see. A category filter includes its subcategories;
    an area filter shows the rules that apply in it: on the area, on the
    areas above it and on the areas inside it."""
    qs = RoutingRule.objects.visible_to(user).select_related(
        "category", "area", "agency", "agency__province"
    )
    if category is not None:
        qs = qs.filter(category_id__in=descendant_ids(category))
    if area is not None:
        qs = qs.filter(Q(area__path__startswith=area.path) | Q(area__path__in=ancestor_paths(area)))
    return qs.order_by("category__sort_order", "category__code", "area__path", "pk")


def agencies_serving_area(*, area: Area, user):
    """Visible agencies whose jurisdiction includes this area or an ancestor."""
    codes = codes_in_path(area.path)
    ids = Agency.objects.filter(jurisdiction__code__in=codes).values("pk")
    return Agency.objects.visible_to(user).filter(pk__in=ids, is_active=True).order_by("name_fa")
