"""factory_boy factories shared by the whole suite."""

import factory

from tashil.accounts.models import Role, RoleMembership, User
from tashil.agencies.models import Agency, DemandCategory, RoutingRule
from tashil.geo.models import Area, HazardZone
from tashil.offices.models import Office, Operator

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[48.60, 31.30], [48.70, 31.30], [48.70, 31.40], [48.60, 31.40], [48.60, 31.30]]
    ],
}


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    level = Area.Level.PROVINCE
    code = factory.Sequence(lambda n: f"area-{n}")
    name_fa = factory.Sequence(lambda n: f"ناحیه {n}")
    name_en = factory.Sequence(lambda n: f"Area {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.refresh_derived_fields()
        obj.save()
        return obj


def area_chain(province=None):
    """A province → county → city → neighbourhood chain; returns the four."""
    province = province or AreaFactory(level=Area.Level.PROVINCE)
    county = AreaFactory(level=Area.Level.COUNTY, parent=province)
    city = AreaFactory(level=Area.Level.CITY, parent=county)
    hood = AreaFactory(
        level=Area.Level.NEIGHBOURHOOD,
        parent=city,
        boundary=SQUARE,
        centroid_lat=31.35,
        centroid_lng=48.65,
    )
    return province, county, city, hood


class HazardZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HazardZone

    code = factory.Sequence(lambda n: f"hz-{n}")
    name_fa = "پهنه خطر"
    name_en = "Hazard zone"
    hazard_type = HazardZone.HazardType.FLOOD
    risk_level = HazardZone.RiskLevel.HIGH
    boundary = SQUARE


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator

    name_fa = factory.Sequence(lambda n: f"مؤسسه {n}")
    kind = Operator.Kind.NGO


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    code = factory.Sequence(lambda n: f"office-{n}")
    name_fa = factory.Sequence(lambda n: f"دفتر {n}")
    name_en = factory.Sequence(lambda n: f"Office {n}")
    province = factory.SubFactory(AreaFactory, level=Area.Level.PROVINCE)
    operator = factory.SubFactory(OperatorFactory)
    status = Office.Status.ACTIVE


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    code = factory.Sequence(lambda n: f"agency-{n}")
    name_fa = factory.Sequence(lambda n: f"اداره {n}")
    name_en = factory.Sequence(lambda n: f"Agency {n}")
    province = factory.SubFactory(AreaFactory, level=Area.Level.PROVINCE)


class DemandCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemandCategory

    code = factory.Sequence(lambda n: f"cat-{n}")
    name_fa = factory.Sequence(lambda n: f"دسته {n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")
    sla_working_days = 10


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "کاربر"
    last_name = factory.Sequence(lambda n: f"شماره {n}")
    password = factory.PostGenerationMethodCall("set_password", "pass-12345-word")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def grant(user, role, **scope):
    """Give `user` a role within a scope (province=, office= or agency=)."""
    return RoleMembership.objects.create(user=user, role=role, **scope)


def user_with_role(role, **scope):
    user = UserFactory()
    grant(user, role, **scope)
    return user


__all__ = [
    "AgencyFactory",
    "AreaFactory",
    "DemandCategoryFactory",
    "HazardZoneFactory",
    "OfficeFactory",
    "OperatorFactory",
    "Role",
    "RoutingRuleFactory",
    "UserFactory",
    "area_chain",
    "grant",
    "user_with_role",
]
