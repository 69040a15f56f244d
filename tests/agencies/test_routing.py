import pytest

from tashil.agencies.routing import (
    agencies_serving,
    ancestor_paths,
    category_chain,
    explain_route,
    route,
)
from tashil.geo.models import Area
from tests.agencies.conftest import serving_agency
from tests.factories import AreaFactory, DemandCategoryFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def layers(network, tree):
    """An agency per level of the network's area chain, each serving its level."""
    n = network

    class Layers:
        pass

    layers = Layers()
    layers.province_agency = serving_agency(n.province, n.province)
    layers.county_agency = serving_agency(n.province, n.county)
    layers.city_agency = serving_agency(n.province, n.city)
    layers.hood_agency = serving_agency(n.province, n.hood)
    return layers


def test_ancestor_paths_are_the_prefixes_of_the_path(network):
    paths = ancestor_paths(network.hood)
    assert paths[0] == network.province.path
    assert paths[-1] == network.hood.path
    assert set(Area.objects.filter(path__in=paths)) == {
        network.province,
        network.county,
        network.city,
        network.hood,
    }


def test_neighbourhood_rule_beats_county_rule_beats_province_rule(network, tree, layers):
    n = network
    RoutingRuleFactory(category=tree.water, area=n.province, agency=layers.province_agency)
    county_rule = RoutingRuleFactory(
        category=tree.water, area=n.county, agency=layers.county_agency
    )
    hood_rule = RoutingRuleFactory(category=tree.water, area=n.hood, agency=layers.hood_agency)

    assert route(category=tree.water, area=n.hood) == layers.hood_agency
    # The city has no rule of its own: the county's applies.
    assert route(category=tree.water, area=n.city) == layers.county_agency
    hood_rule.delete()
    assert route(category=tree.water, area=n.hood) == layers.county_agency
    county_rule.delete()
    assert route(category=tree.water, area=n.hood) == layers.province_agency


def test_subcategory_rule_beats_parent_rule_at_the_same_area(network, tree, layers):
    n = network
    RoutingRuleFactory(category=tree.water, area=n.county, agency=layers.county_agency)
    RoutingRuleFactory(category=tree.drinking, area=n.county, agency=layers.province_agency)

    assert route(category=tree.drinking, area=n.hood) == layers.province_agency
    # A sibling subcategory without a rule of its own falls back to its parent's.
    assert route(category=tree.sewage, area=n.hood) == layers.county_agency
    assert route(category=tree.water, area=n.hood) == layers.county_agency


def test_area_depth_decides_before_category_depth(network, tree, layers):
    n = network
    RoutingRuleFactory(category=tree.drinking, area=n.county, agency=layers.county_agency)
    RoutingRuleFactory(category=tree.water, area=n.hood, agency=layers.hood_agency)

    assert route(category=tree.drinking, area=n.hood) == layers.hood_agency
    assert route(category=tree.drinking, area=n.city) == layers.county_agency


def test_inactive_agency_is_skipped_for_the_next_rule(network, tree, layers):
    n = network
    RoutingRuleFactory(category=tree.water, area=n.county, agency=layers.county_agency)
    RoutingRuleFactory(category=tree.water, area=n.hood, agency=layers.hood_agency)
    layers.hood_agency.is_active = False
    layers.hood_agency.save()

    assert route(category=tree.water, area=n.hood) == layers.county_agency
    explanation = explain_route(category=tree.water, area=n.hood)
    skipped, chosen = explanation.candidates
    assert (
        skipped.rule.agency == layers.hood_agency and skipped.skipped_reason and not skipped.chosen
    )
    assert chosen.chosen and explanation.rule.area == n.county


def test_only_inactive_agencies_means_no_agency(network, tree, layers):
    RoutingRuleFactory(category=tree.water, area=network.hood, agency=layers.hood_agency)
    layers.hood_agency.is_active = False
    layers.hood_agency.save()
    assert route(category=tree.water, area=network.hood) is None


def test_no_rule_means_no_agency(network, tree, layers):
    n = network
    assert route(category=tree.water, area=n.hood) is None
    RoutingRuleFactory(category=tree.water, area=n.county, agency=layers.county_agency)
    # Other categories, and areas outside the rule's subtree, are unaffected.
    assert route(category=tree.power, area=n.hood) is None
    assert route(category=tree.water, area=n.province) is None
    assert route(category=tree.water, area=n.other_hood) is None


def test_explanation_lists_every_applicable_rule_in_precedence_order(network, tree, layers):
    n = network
    RoutingRuleFactory(category=tree.water, area=n.province, agency=layers.province_agency)
    RoutingRuleFactory(category=tree.drinking, area=n.county, agency=layers.county_agency)
    RoutingRuleFactory(category=tree.water, area=n.county, agency=layers.city_agency)
    RoutingRuleFactory(
        category=tree.sewage, area=n.hood, agency=layers.hood_agency
    )  # another category

    explanation = explain_route(category=tree.drinking, area=n.hood)
    assert explanation.found and explanation.agency == layers.county_agency
    order = [(c.rule.area_id, c.rule.category_id) for c in explanation.candidates]
    assert order == [
        (n.county.pk, tree.drinking.pk),
        (n.county.pk, tree.water.pk),
        (n.province.pk, tree.water.pk),
    ]
    assert [c.area_distance for c in explanation.candidates] == [2, 2, 3]
    assert [c.category_distance for c in explanation.candidates] == [0, 1, 1]
    assert [c.chosen for c in explanation.candidates] == [True, False, False]


def test_route_costs_a_constant_number_of_queries(network, layers, django_assert_max_num_queries):
    """Deep area and category trees cost the same as shallow ones."""
    n = network
    parent, chain = None, []
    for depth in range(8):
        parent = DemandCategoryFactory(parent=parent, code=f"deep-{depth}")
        chain.append(parent)
    area = n.hood
    for depth in range(6):
        area = AreaFactory(level=Area.Level.NEIGHBOURHOOD, parent=area, code=f"sub-{depth}")
    layers.hood_agency.jurisdiction.add(area)
    RoutingRuleFactory(category=chain[0], area=n.province, agency=layers.province_agency)
    RoutingRuleFactory(category=chain[3], area=n.county, agency=layers.county_agency)
    RoutingRuleFactory(category=chain[1], area=n.hood, agency=layers.hood_agency)

    with django_assert_max_num_queries(3):
        agency = route(category=chain[-1], area=area)
    assert agency == layers.hood_agency
    with django_assert_max_num_queries(3):
        explanation = explain_route(category=chain[-1], area=area)
        # Reading the candidates must not query either.
        [
            (c.rule.agency.name, c.rule.area.name, c.rule.category.name)
            for c in explanation.candidates
        ]
    assert len(explanation.candidates) == 3


def test_category_chain_is_most_specific_first(tree):
    assert category_chain(tree.drinking) == [tree.drinking, tree.water]
    assert category_chain(tree.power) == [tree.power]


def test_agencies_serving_includes_jurisdiction_on_ancestors(network, layers):
    n = network
    assert set(agencies_serving(n.hood)) == {
        n.agency,  # serves the county in the network fixture
        layers.province_agency,
        layers.county_agency,
        layers.city_agency,
        layers.hood_agency,
    }
    assert set(agencies_serving(n.county)) == {
        n.agency,
        layers.province_agency,
        layers.county_agency,
    }
    assert set(agencies_serving(n.province)) == {layers.province_agency}
    assert list(agencies_serving(n.other_hood)) == []


def test_agencies_serving_does_not_repeat_an_agency(network):
    agency = serving_agency(network.province, network.province, network.county, network.hood)
    assert list(agencies_serving(network.hood)).count(agency) == 1
