import pytest

from tashil.agencies.models import Agency, DemandCategory, RoutingRule
from tashil.core.models import AuditLog
from tests.factories import AgencyFactory, DemandCategoryFactory


@pytest.fixture
def tree(db):
    """water → drinking water, water → sewage; electricity on its own."""

    class Tree:
        pass

    t = Tree()
    t.water = DemandCategoryFactory(code="water")
    t.drinking = DemandCategoryFactory(code="drinking-water", parent=t.water)
    t.sewage = DemandCategoryFactory(code="sewage", parent=t.water)
    t.power = DemandCategoryFactory(code="electricity")
    return t


def serving_agency(province, *areas, **kwargs):
    agency = AgencyFactory(province=province, **kwargs)
    agency.refresh_derived_fields()
    agency.save(update_fields=["search_key"])
    agency.jurisdiction.add(*areas)
    return agency


@pytest.fixture
def db_state():
    """A fingerprint of everything the agency services write, to assert that
    a refused call changed nothing."""

    def take():
        return {
            "audit": AuditLog.objects.count(),
            "agencies": list(
                Agency.objects.order_by("pk").values_list(
                    "pk",
                    "code",
                    "name_fa",
                    "name_en",
                    "short_name",
                    "phone",
                    "email",
                    "is_active",
                    "version",
                )
            ),
            "jurisdiction": list(
                Agency.jurisdiction.through.objects.order_by("agency_id", "area_id").values_list(
                    "agency_id", "area_id"
                )
            ),
            "categories": list(
                DemandCategory.objects.order_by("pk").values_list(
                    "pk", "code", "name_fa", "parent_id", "sla_working_days", "is_active"
                )
            ),
            "rules": list(
                RoutingRule.objects.order_by("pk").values_list(
                    "pk", "category_id", "area_id", "agency_id"
                )
            ),
        }

    return take
