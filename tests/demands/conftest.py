import datetime as dt

import pytest

from tashil.agencies.models import RoutingRule
from tashil.demands.services import demand_submit
from tests.factories import DemandCategoryFactory


@pytest.fixture
def demand_setup(network):
    """The network plus a routed leaf category under a parent."""
    parent = DemandCategoryFactory(code="water", name_fa="آب")
    category = DemandCategoryFactory(
        code="drinking-water", name_fa="آب آشامیدنی", parent=parent, sla_working_days=5
    )
    RoutingRule.objects.create(category=category, area=network.province, agency=network.agency)
    network.office.status = "active"
    network.office.opened_on = dt.date(2018, 7, 15)
    network.office.save()
    network.parent_category = parent
    network.category = category
    return network


@pytest.fixture
def submit(demand_setup):
    def make(**overrides):
        values = dict(
            channel="walk_in",
            category=demand_setup.category,
            area=demand_setup.hood,
            description="آب آشامیدنی کوچه ۱۲ سه روز است قطع است",
            submitter_name="مریم احمدی",
            submitter_mobile="09121234567",
            acting_user=demand_setup.users["facilitator"],
        )
        values.update(overrides)
        return demand_submit(**values).demand

    return make
