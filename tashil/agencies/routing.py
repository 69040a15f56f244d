"""Which agency is responsible for a demand of a category in an area.

Precedence, most specific first:

1. **Area depth first.** A rule on the neighbourhood beats one on its city,
   which beats one on the county, which beats one on the province. Local
   arrangements (a municipality that serves only part of a county) must
   override the provincial default, so the area decides before the category.
2. **Then category depth.** At the same area, a rule for the subcategory
   ("drinking water") beats one for its parent ("water").
3. **Inactive agencies are skipped.** A rule that points at an inactive agency
   is passed over, and the next rule in the order above answers instead, so
   deactivating an agency never leaves a demand without a destination when a
   broader rule exists.

No matching rule means no agency: the office decides by hand.

The lookup costs the same number of queries whatever the depth of the area or
category trees: the area's ancestors come from its materialised path, and the
category tree (a small taxonomy) is read in one query.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from tashil.geo.models import Area

from .models import Agency, DemandCategory, RoutingRule


def ancestor_paths(area: Area) -> list[str]:
    """The paths of `area` and its ancestors, from the province down.

    "KHZ/AHV/ZOV/" → ["KHZ/", "KHZ/AHV/", "KHZ/AHV/ZOV/"]."""
    codes = [c for c in area.path.split("/") if c]
    return ["".join(f"{c}/" for c in codes[: i + 1]) for i in range(len(codes))]


def category_chain(category: DemandCategory, tree: dict | None = None) -> list[DemandCategory]:
    """`category` and its ancestors, most specific first.

    `tree` maps id → DemandCategory for the whole taxonomy; pass it when the
    caller already has it, to save the query."""
    if tree is None:
        tree = {
            c.pk: c
            for c in DemandCategory.objects.only("id", "parent_id", "code", "name_fa", "name_en")
        }
    chain, seen = [], set()
    node = tree.get(category.pk, category)
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        chain.append(node)
        node = tree.get(node.parent_id) if node.parent_id else None
    return chain


@dataclass(frozen=True)
class Candidate:
    """A rule that applies to the category and area, in precedence order."""

    rule: RoutingRule
    # 0 is the area asked about, 1 its parent, and so on up to the province.
    area_distance: int
    # 0 is the category asked about, 1 its parent, and so on.
    category_distance: int
    chosen: bool = False
    skipped_reason: str = ""


@dataclass(frozen=True)
class RouteExplanation:
    category: DemandCategory
    area: Area
    agency: Agency | None
    rule: RoutingRule | None
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.agency is not None


def explain_route(*, category: DemandCategory, area: Area) -> RouteExplanation:
    """The responsible agency, the rule that chose it and every other rule
    that applied, with why it lost. Two queries."""
    paths = ancestor_paths(area)
    chain = category_chain(category)
    area_distance = {path: len(paths) - 1 - i for i, path in enumerate(paths)}
    category_distance = {c.pk: i for i, c in enumerate(chain)}

    rules = list(
        RoutingRule.objects.filter(area__path__in=paths, category_id__in=category_distance)
        .select_related("agency", "area", "category")
        .order_by()
    )
    rules.sort(key=lambda r: (area_distance[r.area.path], category_distance[r.category_id]))

    candidates, winner = [], None
    for rule in rules:
        distances = {
            "area_distance": area_distance[rule.area.path],
            "category_distance": category_distance[rule.category_id],
        }
        if not rule.agency.is_active:
            candidates.append(
                Candidate(rule, **distances, skipped_reason=_("The agency is inactive."))
            )
        elif winner is None:
            winner = rule
            candidates.append(Candidate(rule, **distances, chosen=True))
        else:
            candidates.append(
                Candidate(rule, **distances, skipped_reason=_("A more specific rule applies."))
            )

    return RouteExplanation(
        category=category,
        area=area,
        agency=winner.agency if winner else None,
        rule=winner,
        candidates=candidates,
    )


def route(*, category: DemandCategory, area: Area) -> Agency | None:
    """The agency a demand of `category` in `area` goes to, or None."""
    return explain_route(category=category, area=area).agency


def agencies_serving(area: Area):
    """Agencies whose jurisdiction includes `area` or one of its ancestors
    (an agency serving a county serves every neighbourhood in it)."""
    served = Agency.jurisdiction.through.objects.filter(area__path__in=ancestor_paths(area))
    return Agency.objects.filter(pk__in=served.values("agency_id"))


def serves(agency: Agency, area: Area) -> bool:
    return agencies_serving(area).filter(pk=agency.pk).exists()
