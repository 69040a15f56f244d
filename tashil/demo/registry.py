"""Demo data for the household registry: Khuzestan's vulnerability catalogue
and a few households of Zoviyeh, so the registry pages have something to
show. Idempotent like the rest of the demo data: households are keyed by the
office's household id, people by national code or, for those without one,
by name within their household.

The people are invented. National codes are made up but pass the checksum,
and every household lives inside the (approximate) Zoviyeh boundary."""

import datetime as dt
from dataclasses import dataclass, field

from tashil.geo.lookup import hazard_zones_for_point
from tashil.geo.models import Area
from tashil.offices.models import Office
from tashil.registry import vulnerability
from tashil.registry.dedupe import person_name_key
from tashil.registry.models import Consent, Household, Membership, Person, VulnerabilityIndicator

from .records import upsert

OFFICE = "khz-zoviyeh"
NEIGHBOURHOOD = "khz-ahvaz-zoviyeh"
PROVINCE = "khz"


def national_code(prefix: str) -> str:
    """A made-up code with a valid check digit, from nine digits."""
    digits = [int(c) for c in prefix]
    remainder = sum(d * (10 - i) for i, d in enumerate(digits)) % 11
    return prefix + str(remainder if remainder < 2 else 11 - remainder)


@dataclass
class P:
    first_name: str
    last_name: str
    relation: str
    sex: str
    birth_year: int
    code: str = ""  # nine digits; the check digit is added
    extra: dict = field(default_factory=dict)


@dataclass
class H:
    external_id: str
    lat: float
    lng: float
    address: str
    values: dict
    people: tuple
    consents: tuple = ()


_HEALTH = {"health_insurance": "health"}
_NO_INS = {"health_insurance": "none"}
_SCHOOL = {"in_school": True, "education": "primary", **_HEALTH}
# A house of its own on the mains, with no sewer.
_OWNED_HOUSE = {
    "dwelling_type": "house",
    "tenure": "owner",
    "water": "formal",
    "electricity": "formal",
    "sewage": "none",
    "gas": "formal",
}

HOUSEHOLDS = (
    H(
        "ZOV-0001",
        31.3152,
        48.6398,
        "زویه، کوچه نخل ۳، پلاک ۱۲",
        {
            **_OWNED_HOUSE,
            "main_income": "daily_labour",
        },
        (
            P(
                "محمدرضا",
                "چعبی",
                "head",
                "male",
                1365,
                "176102345",
                {
                    "employment": "daily_labour",
                    "marital_status": "married",
                    "education": "primary",
                    **_HEALTH,
                },
            ),
            P(
                "زینب",
                "سواری",
                "spouse",
                "female",
                1369,
                "176102351",
                {"employment": "homemaker", **_HEALTH},
            ),
            P(
                "حسین",
                "چعبی",
                "child",
                "male",
                1390,
                "",
                {"in_school": False, "employment": "daily_labour", **_NO_INS},
            ),
            P("فاطمه", "چعبی", "child", "female", 1394, "", _SCHOOL),
        ),
        (("registry", "محمدرضا چعبی"), ("sharing", "محمدرضا چعبی")),
    ),
    H(
        "ZOV-0002",
        31.3147,
        48.6405,
        "زویه، پشت مدرسه، خانه با در آبی",
        {
            "dwelling_type": "informal",
            "tenure": "informal",
            "water": "informal",
            "electricity": "informal",
            "sewage": "none",
            "gas": "none",
            "main_income": "support",
            "support_relief": True,
        },
        (
            P(
                "مریم",
                "نیسی",
                "head",
                "female",
                1362,
                "176203456",
                {
                    "marital_status": "widowed",
                    "employment": "homemaker",
                    "chronic_illness": True,
                    **_HEALTH,
                },
            ),
            P("علی", "نیسی", "child", "male", 1389, "176203461", {"in_school": True, **_HEALTH}),
            P("سکینه", "نیسی", "child", "female", 1392, "", _SCHOOL),
        ),
        (("registry", "مریم نیسی"),),
    ),
    H(
        "ZOV-0003",
        31.3158,
        48.6392,
        "زویه، کوی کارگر، ته کوچه",
        {
            "dwelling_type": "house",
            "tenure": "tenant",
            "water": "formal",
            "electricity": "formal",
            "sewage": "formal",
            "gas": "formal",
            "main_income": "pension",
        },
        (
            P(
                "عبدالله",
                "حزباوی",
                "head",
                "male",
                1320,
                "176304567",
                {
                    "marital_status": "widowed",
                    "employment": "retired",
                    "has_disability": True,
                    "disability_note": "کم‌بینایی",
                    **_HEALTH,
                },
            ),
        ),
    ),
    H(
        "ZOV-0004",
        31.3143,
        48.6410,
        "زویه، کنار زمین خاکی، اتاقک حلبی",
        {
            "dwelling_type": "shack",
            "tenure": "none",
            "water": "informal",
            "electricity": "none",
            "sewage": "none",
            "gas": "none",
            "main_income": "none",
        },
        (
            P(
                "غلام",
                "رحیمی",
                "head",
                "male",
                1368,
                "",
                {"nationality": "afghan", "employment": "unemployed", **_NO_INS},
            ),
            P(
                "گل‌بی‌بی",
                "رحیمی",
                "spouse",
                "female",
                1372,
                "",
                {"nationality": "undocumented", **_NO_INS},
            ),
            P(
                "نجیب",
                "رحیمی",
                "child",
                "male",
                1392,
                "",
                {"nationality": "undocumented", "in_school": False, **_NO_INS},
            ),
            P(
                "شکیلا",
                "رحیمی",
                "child",
                "female",
                1396,
                "",
                {"nationality": "undocumented", "in_school": False, **_NO_INS},
            ),
        ),
        (),
    ),
    H(
        "ZOV-0005",
        31.3155,
        48.6412,
        "زویه، خیابان اصلی، جنب نانوایی",
        {
            **_OWNED_HOUSE,
            "main_income": "wage",
        },
        (
            P(
                "جاسم",
                "کعبی",
                "head",
                "male",
                1355,
                "176405678",
                {"employment": "employed", **_HEALTH},
            ),
            P(
                "حمیده",
                "کعبی",
                "spouse",
                "female",
                1358,
                "176405684",
                {"employment": "homemaker", **_HEALTH},
            ),
            P(
                "رضا",
                "کعبی",
                "child",
                "male",
                1378,
                "176405690",
                {"employment": "unemployed", **_HEALTH},
            ),
            P("سارا", "کعبی", "child", "female", 1381, "", {"employment": "student", **_HEALTH}),
            P("یاسر", "کعبی", "child", "male", 1384, "", {"employment": "daily_labour", **_HEALTH}),
            P("زهرا", "کعبی", "child", "female", 1388, "", {"in_school": True, **_HEALTH}),
            P("محمد", "کعبی", "grandchild", "male", 1400, "", _HEALTH),
            # The same man as in ZOV-0001, recorded again under another spelling
            # when he stayed here: the possible-duplicates page finds him.
            P("محمد رضا", "چعبی", "relative", "male", 1366, "", _HEALTH),
        ),
        (("registry", "جاسم کعبی"),),
    ),
)


def _people_lookup(household: Household, person: P) -> Person | None:
    if person.code:
        return Person.objects.filter(national_code=national_code(person.code)).first()
    return Person.objects.filter(
        memberships__household=household, first_name=person.first_name, last_name=person.last_name
    ).first()


def load_registry(report) -> None:
    """Write the demo registry; called inside load_khuzestan's transaction."""
    province = Area.objects.filter(code=PROVINCE).first()
    office = Office.objects.filter(code=OFFICE).first()
    area = Area.objects.filter(code=NEIGHBOURHOOD).first()
    if province is None or office is None or area is None:
        return
    before = VulnerabilityIndicator.objects.filter(province=province).count()
    vulnerability.ensure_catalogue([province.pk])
    created = VulnerabilityIndicator.objects.filter(province=province).count() - before
    counts = report.counts["vulnerability indicators"]
    counts.created += created
    counts.unchanged += len(vulnerability.DEFAULT_CATALOGUE) - created

    for h in HOUSEHOLDS:
        zones = hazard_zones_for_point(h.lat, h.lng)
        household, _outcome = upsert(
            Household,
            {"office": office, "external_id": h.external_id},
            {
                "area": area,
                "address": h.address,
                "latitude": h.lat,
                "longitude": h.lng,
                "hazard_zone": zones[0] if zones else None,
                **h.values,
            },
            report,
            "households",
        )
        for p in h.people:
            values = {
                "first_name": p.first_name,
                "last_name": p.last_name,
                "sex": p.sex,
                "birth_year": p.birth_year,
                "name_key": person_name_key(p.first_name, p.last_name),
                **p.extra,
            }
            person = _people_lookup(household, p)
            if person is None:
                person = Person.objects.create(
                    national_code=national_code(p.code) if p.code else None, **values
                )
                report.count("persons", "created")
            else:
                report.count("persons", "unchanged")
            upsert(
                Membership,
                {"household": household, "person": person},
                {"relation": p.relation, "joined_on": dt.date(2019, 3, 21)},
                report,
                "memberships",
            )
        for purpose, given_by in h.consents:
            upsert(
                Consent,
                {"household": household, "purpose": purpose},
                {"given_by": given_by, "given_on": dt.date(2025, 5, 10)},
                report,
                "consents",
            )
    # Derived columns only; recompute writes nothing when they are current.
    vulnerability.recompute(
        Household.objects.filter(office=office, external_id__startswith="ZOV-").values_list(
            "pk", flat=True
        )
    )
