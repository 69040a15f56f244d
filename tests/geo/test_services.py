import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tashil.core.errors import ConflictError
from tashil.core.models import AuditLog
from tashil.geo import lookup, services
from tashil.geo.models import Area, HazardZone
from tests.factories import HazardZoneFactory
from tests.geo.helpers import ELSEWHERE, INNER, nothing_changes
from tests.roles import ROLES

ALLOWED = {"national_admin", "province_manager"}


@pytest.mark.parametrize("role", ROLES)
def test_area_update_by_role(network, role):
    user = network.users[role]
    if role in ALLOWED:
        services.area_update(area=network.hood, acting_user=user, population=5000, is_marginal=True)
        network.hood.refresh_from_db()
        assert network.hood.population == 5000 and network.hood.is_marginal
        entry = AuditLog.objects.get(action="area.update")
        assert entry.actor == user
        assert entry.province == network.province
        assert entry.changes["population"] == [None, 5000]
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            services.area_update(area=network.hood, acting_user=user, population=5000)


def test_province_manager_cannot_edit_another_province(network):
    with nothing_changes(), pytest.raises(PermissionDenied):
        services.area_update(
            area=network.other_hood, acting_user=network.users["province_manager"], population=1
        )


def test_area_update_boundary_recomputes_centroid_and_lookup(network):
    pm = network.users["province_manager"]
    assert lookup.area_for_point(30.05, 50.05) is None
    services.area_update(area=network.hood, acting_user=pm, boundary=ELSEWHERE)
    network.hood.refresh_from_db()
    assert (network.hood.centroid_lat, network.hood.centroid_lng) == pytest.approx((30.05, 50.05))
    assert lookup.area_for_point(30.05, 50.05) == network.hood
    # The log records that the boundary changed, not the whole polygon.
    assert AuditLog.objects.get(action="area.update").changes["boundary"] == [True, True]


def test_area_update_names_refresh_the_search_key(network):
    services.area_update(
        area=network.hood, acting_user=network.users["national_admin"], name_fa="كوی علوي"
    )
    network.hood.refresh_from_db()
    # Arabic letters are unified on the way in.
    assert network.hood.name_fa == "کوی علوی"
    assert "علوی" in network.hood.search_key


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"boundary": {"type": "Point", "coordinates": [48.6, 31.3]}}, "boundary"),
        ({"boundary": "{broken"}, "boundary"),
        ({"population": -5}, "population"),
        ({"name_fa": ""}, "name_fa"),
    ],
)
def test_area_update_validation_names_the_field(network, fields, field):
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.area_update(
            area=network.hood, acting_user=network.users["province_manager"], **fields
        )
    assert field in caught.value.message_dict


def test_area_update_refuses_unknown_fields(network):
    with pytest.raises(TypeError):
        services.area_update(
            area=network.hood, acting_user=network.users["national_admin"], code="x"
        )


def test_area_update_conflict(network):
    pm = network.users["province_manager"]
    first = Area.objects.get(pk=network.hood.pk)
    second = Area.objects.get(pk=network.hood.pk)
    v1, v2 = services.area_version(first), services.area_version(second)
    services.area_update(area=first, acting_user=pm, expected_version=v1, population=100)
    with nothing_changes(), pytest.raises(ConflictError):
        services.area_update(area=second, acting_user=pm, expected_version=v2, population=200)
    assert Area.objects.get(pk=network.hood.pk).population == 100


def test_area_update_without_changes_writes_nothing(network):
    with nothing_changes():
        services.area_update(
            area=network.hood,
            acting_user=network.users["province_manager"],
            name_fa=network.hood.name_fa,
        )


def _zone_kwargs(area):
    return {
        "area": area,
        "code": "hasirabad-riverbank",
        "name_fa": "حاشیه رودخانه حصیرآباد",
        "hazard_type": HazardZone.HazardType.RIVERBANK,
        "risk_level": HazardZone.RiskLevel.SEVERE,
        "boundary": INNER,
        "households_estimate": 120,
    }


@pytest.mark.parametrize("role", ROLES)
def test_hazard_zone_create_by_role(network, role):
    user = network.users[role]
    if role in ALLOWED:
        zone = services.hazard_zone_create(acting_user=user, **_zone_kwargs(network.hood))
        assert zone.centroid_lat == pytest.approx(31.33)
        assert lookup.hazard_zones_for_point(31.33, 48.63) == [zone]
        assert AuditLog.objects.filter(action="hazard_zone.create", object_id=str(zone.pk)).exists()
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            services.hazard_zone_create(acting_user=user, **_zone_kwargs(network.hood))


@pytest.mark.parametrize("role", ROLES)
def test_hazard_zone_update_by_role(network, role):
    zone = HazardZoneFactory(area=network.hood)
    user = network.users[role]
    if role in ALLOWED:
        services.hazard_zone_update(
            zone=zone, acting_user=user, risk_level=HazardZone.RiskLevel.LOW
        )
        zone.refresh_from_db()
        assert zone.risk_level == HazardZone.RiskLevel.LOW
        assert AuditLog.objects.get(action="hazard_zone.update").changes["risk_level"] == [3, 1]
    else:
        with nothing_changes(), pytest.raises(PermissionDenied):
            services.hazard_zone_update(
                zone=zone, acting_user=user, risk_level=HazardZone.RiskLevel.LOW
            )


def test_hazard_zone_validation(network):
    pm = network.users["province_manager"]
    HazardZoneFactory(area=network.hood, code="taken")
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.hazard_zone_create(
            acting_user=pm, **(_zone_kwargs(network.hood) | {"code": "taken"})
        )
    assert "code" in caught.value.message_dict
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.hazard_zone_create(
            acting_user=pm, **(_zone_kwargs(network.hood) | {"boundary": None})
        )
    assert "boundary" in caught.value.message_dict
    with nothing_changes(), pytest.raises(ValidationError) as caught:
        services.hazard_zone_create(acting_user=pm, **(_zone_kwargs(network.province)))
    assert "area" in caught.value.message_dict


def test_hazard_zone_cannot_move_to_another_province(network):
    zone = HazardZoneFactory(area=network.hood)
    with nothing_changes(), pytest.raises(PermissionDenied):
        services.hazard_zone_update(
            zone=zone, acting_user=network.users["province_manager"], area=network.other_hood
        )


def test_hazard_zone_conflict(network):
    pm = network.users["province_manager"]
    zone = HazardZoneFactory(area=network.hood)
    first, second = HazardZone.objects.get(pk=zone.pk), HazardZone.objects.get(pk=zone.pk)
    v1, v2 = services.hazard_zone_version(first), services.hazard_zone_version(second)
    services.hazard_zone_update(
        zone=first, acting_user=pm, expected_version=v1, households_estimate=10
    )
    with pytest.raises(ConflictError):
        services.hazard_zone_update(
            zone=second, acting_user=pm, expected_version=v2, households_estimate=20
        )
    assert HazardZone.objects.get(pk=zone.pk).households_estimate == 10


def test_names_notes_and_descriptions_are_stored_without_direction_controls(network):
    admin = network.users["national_admin"]
    services.area_update(
        area=network.hood,
        acting_user=admin,
        name_fa="کوی\u202e علوی",
        note="خط اول\u2066\nخط دوم",
    )
    network.hood.refresh_from_db()
    assert network.hood.name_fa == "کوی علوی"
    # Notes keep their line breaks, only the control goes.
    assert network.hood.note == "خط اول\nخط دوم"
    zone = services.hazard_zone_create(
        acting_user=admin,
        **(
            _zone_kwargs(network.hood)
            | {"name_fa": "\u202eحاشیه رودخانه", "description": "شرح\u202b\nدوم\u202c"}
        ),
    )
    zone.refresh_from_db()
    assert (zone.name_fa, zone.description) == ("حاشیه رودخانه", "شرح\nدوم")
