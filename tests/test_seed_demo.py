import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from shapely.geometry import Point, shape

from tashil.accounts.models import Role, RoleMembership, User
from tashil.agencies.models import Agency, DemandCategory, RoutingRule
from tashil.agencies.routing import route
from tashil.core.models import Holiday, WeekendRule
from tashil.demands.models import Demand, DemandEvent, Referral
from tashil.demo import khuzestan as data
from tashil.geo.models import Area, HazardZone
from tashil.offices.models import Office, Operator

pytestmark = pytest.mark.django_db

MODELS = [
    Area,
    HazardZone,
    Operator,
    Office,
    Agency,
    DemandCategory,
    RoutingRule,
    User,
    RoleMembership,
    WeekendRule,
    Demand,
    Referral,
    DemandEvent,
]


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def seeded(settings):
    # Hashing dominates the run time and is not what these tests are about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed("--skip-holidays")


def snapshot():
    rows = {m.__name__: list(m.objects.order_by("pk").values()) for m in MODELS + [Holiday]}
    rows["office areas"] = sorted(Office.areas.through.objects.values_list("office_id", "area_id"))
    rows["jurisdiction"] = sorted(
        Agency.jurisdiction.through.objects.values_list("agency_id", "area_id")
    )
    return rows


def area(code):
    return Area.objects.get(code=code)


def geom(obj):
    return shape(obj.boundary)


def test_a_second_run_changes_nothing():
    seed()
    first = snapshot()
    output = seed()
    assert snapshot() == first
    assert "already up to date" in output
    assert " 0 created" in output and " 1 created" not in output
    assert all(Model.objects.exists() for Model in MODELS)
    assert Holiday.objects.filter(date__year=2018).exists()
    assert Holiday.objects.filter(date__year=2028).exists()


def _edit_demo_office_and_password():
    office = Office.objects.get(code="khz-malashieh")
    office.areas.remove(area("khz-ahvaz-malashieh-2"))
    Office.objects.filter(pk=office.pk).update(name_en="Renamed")
    user = User.objects.get(username="zoviyeh")
    user.set_password("a-new-password-1404")
    user.save()
    return office, user


def test_a_rerun_keeps_what_users_edited(seeded):
    office, user = _edit_demo_office_and_password()

    output = seed("--skip-holidays")

    office.refresh_from_db()
    assert office.name_en == "Renamed"
    assert office.areas.count() == 1
    (offices_line,) = [line for line in output.splitlines() if line.startswith("offices")]
    assert offices_line.split()[1:] == ["0", "created", "0", "updated", "15", "unchanged"]
    user.refresh_from_db()
    assert user.check_password("a-new-password-1404")


def test_refresh_restores_seeded_values_and_keeps_a_changed_password(seeded):
    office, user = _edit_demo_office_and_password()

    output = seed("--skip-holidays", "--refresh")

    office.refresh_from_db()
    assert office.name_en == "Malashieh Local Development Facilitation Office"
    assert office.version == 2
    assert office.areas.count() == 2
    (offices_line,) = [line for line in output.splitlines() if line.startswith("offices")]
    assert offices_line.split()[1:] == ["0", "created", "1", "updated", "14", "unchanged"]
    user.refresh_from_db()
    assert user.check_password("a-new-password-1404")


DEMO_ROLES = {
    "province": (Role.PROVINCE_MANAGER, ("province", "khz")),
    "zoviyeh": (Role.OFFICE_MANAGER, ("office", "khz-zoviyeh")),
    "facilitator": (Role.FACILITATOR, ("office", "khz-zoviyeh")),
    "malashieh": (Role.OFFICE_MANAGER, ("office", "khz-malashieh")),
    "abfa": (Role.AGENCY_LIAISON, ("agency", "abfa-ahvaz")),
    "analyst": (Role.ANALYST, ("province", "khz")),
    "admin": (Role.NATIONAL_ADMIN, None),
}


ROUTES = [
    ("drinking-water", "khz-ahvaz-zoviyeh", "abfa-ahvaz"),
    ("drinking-water", "khz-dezful-kuy-modarres", "abfa-khz"),
    ("sewage", "khz-mahshahr-shahrak-chamran", "abfa-khz"),
    ("street-lighting", "khz-ahvaz-malashieh-1", "power-ahvaz"),
    ("street-lighting", "khz-dezful-kuy-modarres", "power-khz"),
    ("paving", "khz-ahvaz-hasirabad", "municipality-ahvaz"),
    ("paving", "khz-dezful-kuy-modarres", "governorate-khz"),
    ("birth-certificate", "khz-ahvaz-ein-2", "civil-registration-khz"),
    ("floods", "khz-ahvaz-hasirabad", "kwpa"),
]


@pytest.fixture(scope="class")
def seeded_once(django_db_setup, django_db_blocker):
    """The demo seeded once for a whole class, inside a transaction that is
    rolled back when the class is done, so no other test sees it."""
    with django_db_blocker.unblock(), transaction.atomic():
        # Hashing dominates the run time and is not what these tests are about.
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            seed("--skip-holidays")
        yield
        transaction.set_rollback(True)


@pytest.mark.usefixtures("seeded_once")
class TestTheSeededDemo:
    """Tests that only read the demo data share one seeded database; each
    test's own writes (a login, a session) are rolled back after it."""

    def test_area_tree(self):
        province = area("khz")
        assert province.level == Area.Level.PROVINCE
        assert province.population == 4_710_509
        counties = Area.objects.filter(level=Area.Level.COUNTY)
        assert counties.count() == 30
        assert set(counties.values_list("parent", flat=True)) == {province.pk}
        assert area("khz-ahvaz-city").population == 1_184_788
        assert area("khz-ahvaz-city").parent == area("khz-ahvaz")
        assert area("khz-dezful-city").parent == area("khz-dezful")

        hoods = Area.objects.neighbourhoods()
        assert hoods.count() == len(data.NEIGHBOURHOODS)
        assert not hoods.filter(is_marginal=False).exists()
        in_ahvaz = Area.objects.descendants_of(area("khz-ahvaz-city")).neighbourhoods()
        assert in_ahvaz.count() == 14
        assert area("khz-dezful-kuy-modarres").parent == area("khz-dezful-city")
        manba_ab = area("khz-ahvaz-manba-ab")
        assert (manba_ab.population, manba_ab.households) == (5_000, 818)
        assert area("khz-ahvaz-kuy-mashali").households == 400
        assert "approximate demo boundary" in area("khz-ahvaz-zoviyeh").note

    def test_every_boundary_is_valid_and_nested(self):
        areas = list(Area.objects.select_related("parent"))
        assert all(a.boundary for a in areas)
        for a in areas:
            g = geom(a)
            assert g.is_valid, a.code
            assert g.contains(Point(a.centroid_lng, a.centroid_lat)), a.code
            if a.parent:
                # Counties are cut from the province outline; allow for rounding.
                assert geom(a.parent).buffer(1e-4).contains(g), a.code
        for hood in Area.objects.neighbourhoods().select_related("parent"):
            assert hood.parent.level == Area.Level.CITY
            assert geom(hood).within(geom(hood.parent)), hood.code

    def test_no_two_neighbourhoods_or_counties_overlap(self):
        for level in (Area.Level.NEIGHBOURHOOD, Area.Level.COUNTY):
            shapes = [(a.code, geom(a)) for a in Area.objects.filter(level=level)]
            for i, (code_a, a) in enumerate(shapes):
                for code_b, b in shapes[i + 1 :]:
                    assert a.intersection(b).area < 1e-8, (code_a, code_b)

    def test_hasirabad_hazard_zone_lies_inside_the_neighbourhood(self):
        zone = HazardZone.objects.get(area__code="khz-ahvaz-hasirabad")
        assert zone.risk_level == HazardZone.RiskLevel.HIGH
        assert zone.hazard_type == HazardZone.HazardType.RIVERBANK
        assert geom(zone).is_valid
        assert geom(zone).within(geom(zone.area))
        for zone in HazardZone.objects.all():
            assert geom(zone).within(geom(zone.area)), zone.code

    def test_pilot_and_planned_offices(self):
        pilots = Office.objects.filter(status=Office.Status.PILOT)
        assert pilots.count() == 7
        assert pilots.filter(county__code="khz-ahvaz").count() == 5
        outside = pilots.exclude(county__code="khz-ahvaz")
        assert outside.count() == 2
        modarres = outside.get(county__code="khz-dezful")
        assert list(modarres.areas.values_list("code", flat=True)) == ["khz-dezful-kuy-modarres"]
        assert Office.objects.filter(status=Office.Status.PLANNED).count() == 8
        assert Office.objects.count() == 15

        for code in ("khz-zoviyeh", "khz-malashieh"):
            assert Office.objects.get(code=code).opened_on == dt.date(2018, 7, 15)
        malashieh = Office.objects.get(code="khz-malashieh")
        assert set(malashieh.areas.values_list("code", flat=True)) == {
            "khz-ahvaz-malashieh-1",
            "khz-ahvaz-malashieh-2",
        }

        for office in Office.objects.prefetch_related("areas").select_related("province", "county"):
            assert office.province.code == "khz"
            assert office.operator_id
            served = list(office.areas.all())
            assert served, office.code
            assert all(a.path.startswith(office.county.path) for a in served), office.code
            point = Point(office.longitude, office.latitude)
            assert any(geom(a).contains(point) for a in served), office.code
            if office.status == Office.Status.PILOT:
                assert office.contract_start and office.contract_end
                assert office.contract_start <= office.contract_end

    def test_demo_users_log_in_with_the_documented_password_and_hold_their_role(self, client):
        assert {u.username for u in data.USERS} == set(DEMO_ROLES)
        for username, (role, scope) in DEMO_ROLES.items():
            response = client.post(
                reverse("accounts:login"), {"username": username, "password": data.DEMO_PASSWORD}
            )
            assert response.status_code == 302, username
            user = User.objects.get(username=username)
            assert client.session["_auth_user_id"] == str(user.pk)
            assert user.first_name and user.last_name
            client.logout()

            (membership,) = RoleMembership.objects.filter(user=user)
            assert membership.role == role, username
            membership.full_clean()
            if scope is None:
                assert membership.scope_object is None
            else:
                column, code = scope
                assert getattr(membership, column).code == code, username

    def test_only_the_admin_is_staff(self, client):
        assert list(User.objects.filter(is_staff=True).values_list("username", flat=True)) == [
            "admin"
        ]
        admin = User.objects.get(username="admin")
        assert admin.is_superuser
        client.force_login(admin)
        assert client.get("/admin/").status_code == 200

    def test_agencies_and_categories(self):
        assert Agency.objects.count() == 16
        assert not Agency.objects.exclude(province__code="khz").exists()
        ahvaz_abfa = Agency.objects.get(code="abfa-ahvaz")
        assert list(ahvaz_abfa.jurisdiction.values_list("code", flat=True)) == ["khz-ahvaz-city"]
        provincial_abfa = Agency.objects.get(code="abfa-khz")
        assert provincial_abfa.jurisdiction.count() == 29
        assert not provincial_abfa.jurisdiction.filter(code="khz-ahvaz").exists()

        roots = DemandCategory.objects.filter(parent=None)
        assert not DemandCategory.objects.filter(parent__parent__isnull=False).exists()
        assert not roots.leaves().exists()
        assert DemandCategory.objects.get(code="drinking-water").sla_working_days == 5
        assert DemandCategory.objects.get(code="land-tenure").sla_working_days == 20
        assert DemandCategory.objects.get(code="housing-repair").sla_working_days == 30

    def test_routing(self):
        for category, area_code, agency in ROUTES:
            found = route(category=DemandCategory.objects.get(code=category), area=area(area_code))
            assert found is not None and found.code == agency, (category, area_code)

    def test_every_leaf_category_routes_from_anywhere_in_the_province(self):
        leaves = list(DemandCategory.objects.leaves())
        assert len(leaves) == len(data.ROUTES)
        # A province-wide rule for every leaf means no area is left without one.
        with_province_rule = RoutingRule.objects.filter(area__code="khz").values_list(
            "category__code", flat=True
        )
        assert set(with_province_rule) == {c.code for c in leaves}
        one_per_city = {hood.parent_id: hood for hood in Area.objects.neighbourhoods()}.values()
        for hood in one_per_city:
            for category in leaves:
                assert route(category=category, area=hood) is not None, (category.code, hood.code)

    def test_demo_demands_stand_at_every_stage_and_each_side_sees_its_own(self, client):
        stages = dict(Demand.objects.values_list("idempotency_key", "status"))
        assert stages == {
            "demo-demand-01": "referred",
            "demo-demand-02": "resolved",
            "demo-demand-03": "new",
            "demo-demand-04": "referred",
            "demo-demand-05": "needs_info",
            "demo-demand-06": "referred",
        }
        sewage = Demand.objects.get(idempotency_key="demo-demand-01")
        (referral,) = sewage.referrals.all()
        assert (referral.agency.code, referral.status) == ("abfa-ahvaz", "in_progress")
        assert referral.due_date is not None
        # Every step went through the services, so the timeline tells it.
        assert sewage.events.count() >= 5

        client.login(username="abfa", password="tashil-demo-1403")
        portal = client.get(reverse("demands:referrals")).content.decode()
        assert "فاضلاب کوچه" in portal
        assert "سه تیر چراغ" not in portal  # the power company's referral
        # The agency knows the demand by its public id, never the tracking code.
        assert sewage.public_id in portal and sewage.display_code not in portal

        # Open311 lists the public form's demand and the meeting that asked to be
        # published, never the walk-ins.
        listed = dict(Demand.objects.values_list("idempotency_key", "is_listed"))
        assert {key for key, on in listed.items() if on} == {"demo-demand-02", "demo-demand-03"}
        body = client.get("/open311/v2/requests.json").content.decode()
        for demand in Demand.objects.all():
            assert demand.code not in body
            assert (demand.public_id in body) is demand.is_listed

    def test_national_weekend_rule(self):
        rule = WeekendRule.objects.get(province=None)
        assert rule.valid_from == dt.date(2018, 1, 1)
        assert rule.weekdays == [3, 4]


def test_a_failed_holiday_sync_is_reported_and_the_rest_is_kept(monkeypatch):
    def broken(years):
        raise RuntimeError("package unavailable")

    monkeypatch.setattr("tashil.core.calendar.sync_holidays", broken)
    output = seed()
    assert "Official holidays were not loaded: RuntimeError: package unavailable" in output
    assert Office.objects.count() == 15
    assert not Holiday.objects.exists()
