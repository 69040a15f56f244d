"""Demo data for Khuzestan province.

Facts (names, the pilot and its dates, populations, agencies) come from the
programme's announcements as collected in the project's reference notes.
Everything else is a demo choice and is marked as such:

- Geometry is approximate. Coordinates are rough positions, neighbourhood
  shapes are generated around them, and county shapes are coarse cells around
  each county's rough centroid (see `loader`). Every such area carries
  APPROXIMATE_BOUNDARY_NOTE.
- Populations are given only where the reference notes give them; a census
  figure that has not been checked is worse than none.
- Operators are fictional and say so in their names.

Coordinates are written (lat, lng) as people read them; GeoJSON written by the
loader is [lng, lat]. Outlines below are already [lng, lat] pairs.
"""

import datetime as dt
from typing import NamedTuple

DEMO_PASSWORD = "tashil-demo-1403"

APPROXIMATE_BOUNDARY_NOTE = "مرز تقریبی نمایشی (approximate demo boundary)"

# Gregorian years whose official holidays are loaded.
HOLIDAY_YEARS = range(2018, 2029)


class Province(NamedTuple):
    code: str
    name_fa: str
    name_en: str
    population: int | None
    # A simplified outline, [lng, lat]; counties are cut out of it.
    outline: tuple


class County(NamedTuple):
    code: str
    name_fa: str
    name_en: str
    lat: float
    lng: float
    population: int | None = None


class City(NamedTuple):
    code: str
    county: str
    name_fa: str
    name_en: str
    lat: float
    lng: float
    outline: tuple
    population: int | None = None


class Neighbourhood(NamedTuple):
    code: str
    city: str
    name_fa: str
    name_en: str
    lat: float
    lng: float
    # Rough size; the loader draws an irregular polygon about this wide.
    across_m: int
    population: int | None = None
    households: int | None = None
    note: str = ""


class Hazard(NamedTuple):
    code: str
    neighbourhood: str
    name_fa: str
    name_en: str
    hazard_type: str
    risk_level: str
    # How the loader cuts the zone out of the neighbourhood polygon:
    # ("edge", side, fraction) keeps the strip along one side;
    # ("corridor", bearing_degrees, width_m) keeps a band through the middle.
    shape: tuple
    description: str
    households_estimate: int | None = None


class Operator(NamedTuple):
    key: str
    name_fa: str
    name_en: str
    kind: str


class Office(NamedTuple):
    code: str
    name_fa: str
    name_en: str
    county: str
    areas: tuple
    operator: str
    status: str
    opened_on: dt.date | None = None
    contract_start: dt.date | None = None
    contract_end: dt.date | None = None
    # Only for offices serving a whole county: where the office would sit.
    # Others sit at the centre of the first neighbourhood they serve.
    lat: float | None = None
    lng: float | None = None
    note: str = ""


class Agency(NamedTuple):
    code: str
    name_fa: str
    name_en: str
    short_name: str
    jurisdiction: tuple


class Category(NamedTuple):
    code: str
    name_fa: str
    name_en: str
    sla_working_days: int = 10
    children: tuple = ()


class DemoUser(NamedTuple):
    username: str
    first_name: str
    last_name: str
    role: str
    # (scope column, code of the scoped object); None for national_admin.
    scope: tuple | None
    title: str
    is_superuser: bool = False


# --- Areas ---------------------------------------------------------------------

# fmt: off
PROVINCE = Province(
    code="khz",
    name_fa="خوزستان",
    name_en="Khuzestan",
    population=4_710_509,  # 1395 (2016) census
    outline=(
        (47.70, 32.10), (47.95, 32.50), (48.10, 32.85), (48.45, 33.05), (48.90, 32.95),
        (49.30, 32.75), (49.75, 32.55), (50.05, 32.25), (50.35, 31.95), (50.55, 31.60),
        (50.45, 31.10), (50.60, 30.70), (50.45, 30.35), (50.10, 30.05), (49.70, 30.05),
        (49.40, 30.25), (49.10, 30.30), (48.85, 30.05), (48.60, 29.90), (48.30, 30.10),
        (48.00, 30.45), (47.75, 30.95), (47.65, 31.45), (47.70, 31.85),
    ),
)
# fmt: on

# Rough centroids, not county seats: the coarse county cells grow around these
# points, so a large county's point sits in the middle of its land. Ahvaz and
# Karun are placed so that Kut-e Abdollah (Karun's centre, just south of
# Ahvaz) falls in Karun.
COUNTIES = (
    County("khz-abadan", "شهرستان آبادان", "Abadan County", 30.25, 48.45),
    County("khz-aghajari", "شهرستان آغاجاری", "Aghajari County", 30.72, 49.85),
    County("khz-ahvaz", "شهرستان اهواز", "Ahvaz County", 31.38, 48.72, population=1_302_591),
    County("khz-andika", "شهرستان اندیکا", "Andika County", 32.25, 49.55),
    County("khz-andimeshk", "شهرستان اندیمشک", "Andimeshk County", 32.70, 48.40),
    County("khz-baghmalek", "شهرستان باغملک", "Baghmalek County", 31.45, 49.95),
    County("khz-mahshahr", "شهرستان بندر ماهشهر", "Bandar Mahshahr County", 30.45, 49.15),
    County("khz-bavi", "شهرستان باوی", "Bavi County", 31.65, 48.85),
    County("khz-behbahan", "شهرستان بهبهان", "Behbahan County", 30.55, 50.25),
    County("khz-dasht-e-azadegan", "شهرستان دشت آزادگان", "Dasht-e Azadegan County", 31.70, 48.10),
    County("khz-dezful", "شهرستان دزفول", "Dezful County", 32.50, 48.65),
    County("khz-gotvand", "شهرستان گتوند", "Gotvand County", 32.28, 48.85),
    County("khz-haftkel", "شهرستان هفتکل", "Haftkel County", 31.45, 49.50),
    County("khz-hamidiyeh", "شهرستان حمیدیه", "Hamidiyeh County", 31.45, 48.42),
    County("khz-hendijan", "شهرستان هندیجان", "Hendijan County", 30.20, 49.65),
    County("khz-hoveyzeh", "شهرستان هویزه", "Hoveyzeh County", 31.40, 47.92),
    County("khz-izeh", "شهرستان ایذه", "Izeh County", 31.85, 49.85),
    County("khz-karun", "شهرستان کارون", "Karun County", 31.10, 48.70),
    County("khz-khorramshahr", "شهرستان خرمشهر", "Khorramshahr County", 30.60, 48.20),
    County("khz-lali", "شهرستان لالی", "Lali County", 32.45, 49.15),
    County("khz-masjed-soleyman", "شهرستان مسجدسلیمان", "Masjed Soleyman County", 31.95, 49.35),
    County("khz-omidiyeh", "شهرستان امیدیه", "Omidiyeh County", 30.80, 49.60),
    County("khz-ramhormoz", "شهرستان رامهرمز", "Ramhormoz County", 31.20, 49.55),
    County("khz-ramshir", "شهرستان رامشیر", "Ramshir County", 30.90, 49.30),
    County("khz-shadegan", "شهرستان شادگان", "Shadegan County", 30.65, 48.70),
    County("khz-shush", "شهرستان شوش", "Shush County", 32.20, 48.15),
    County("khz-shushtar", "شهرستان شوشتر", "Shushtar County", 31.95, 48.90),
    County("khz-karkheh", "شهرستان کرخه", "Karkheh County", 31.95, 48.40),  # centre: Alvan
    County("khz-dezpart", "شهرستان دزپارت", "Dezpart County", 31.75, 50.30),  # centre: Dehdez
    County("khz-seydun", "شهرستان صیدون", "Seydun County", 31.30, 50.15),
)

# fmt: off
CITIES = (
    City(
        "khz-ahvaz-city", "khz-ahvaz", "اهواز", "Ahvaz", 31.320, 48.690,
        population=1_184_788,  # 1395 (2016) census
        outline=(
            (48.600, 31.275), (48.635, 31.238), (48.700, 31.232), (48.760, 31.255),
            (48.790, 31.320), (48.765, 31.390), (48.690, 31.420), (48.625, 31.400),
            (48.588, 31.340),
        ),
    ),
    City(
        "khz-dezful-city", "khz-dezful", "دزفول", "Dezful", 32.382, 48.408,
        outline=(
            (48.372, 32.395), (48.385, 32.345), (48.420, 32.340), (48.445, 32.365),
            (48.448, 32.400), (48.425, 32.420), (48.390, 32.418),
        ),
    ),
    City(
        "khz-mahshahr-city", "khz-mahshahr", "بندر ماهشهر", "Bandar Mahshahr", 30.555, 49.197,
        outline=(
            (49.165, 30.560), (49.175, 30.535), (49.205, 30.528), (49.228, 30.545),
            (49.225, 30.572), (49.195, 30.582), (49.172, 30.577),
        ),
    ),
)
# fmt: on

# Positions inside the city are plausible, not surveyed. West of the Karun:
# Hasirabad on the bank in the north, then Kuy-e Alavi, Zoviyeh and the
# south-western settlements down to Malashieh; east of it Ein 2, Manba-e Ab and
# Kuy-e Mashali.
_SHELANGABAD_NOTE = "این‌که شلنگ‌آباد و کوی علوی یک محله‌اند یا دو محله، قطعی نیست."
NEIGHBOURHOODS = (
    Neighbourhood("khz-ahvaz-zoviyeh", "khz-ahvaz-city", "زویه", "Zoviyeh", 31.315, 48.640, 1400),
    Neighbourhood(
        "khz-ahvaz-malashieh-1", "khz-ahvaz-city", "ملاشیه ۱", "Malashieh 1", 31.262, 48.648, 1200
    ),
    Neighbourhood(
        "khz-ahvaz-malashieh-2", "khz-ahvaz-city", "ملاشیه ۲", "Malashieh 2", 31.253, 48.664, 1000
    ),
    Neighbourhood("khz-ahvaz-ein-2", "khz-ahvaz-city", "عین ۲", "Ein 2", 31.345, 48.712, 1200),
    Neighbourhood(
        "khz-ahvaz-kuy-sayyahi",
        "khz-ahvaz-city",
        "کوی سیاحی",
        "Kuy-e Sayyahi",
        31.280,
        48.632,
        1000,
    ),
    Neighbourhood(
        "khz-ahvaz-manba-ab",
        "khz-ahvaz-city",
        "منبع آب",
        "Manba-e Ab",
        31.302,
        48.735,
        1100,
        population=5_000,
        households=818,
    ),
    Neighbourhood(
        "khz-ahvaz-hasirabad", "khz-ahvaz-city", "حصیرآباد", "Hasirabad", 31.370, 48.655, 1200
    ),
    Neighbourhood(
        "khz-ahvaz-bist-metri", "khz-ahvaz-city", "بیست‌متری", "Bist-Metri", 31.298, 48.624, 900
    ),
    Neighbourhood(
        "khz-ahvaz-kuy-ramazan", "khz-ahvaz-city", "کوی رمضان", "Kuy-e Ramazan", 31.290, 48.610, 900
    ),
    Neighbourhood(
        "khz-ahvaz-shelangabad",
        "khz-ahvaz-city",
        "شلنگ‌آباد",
        "Shelangabad",
        31.326,
        48.612,
        900,
        note=_SHELANGABAD_NOTE,
    ),
    Neighbourhood(
        "khz-ahvaz-kuy-alavi",
        "khz-ahvaz-city",
        "کوی علوی",
        "Kuy-e Alavi",
        31.345,
        48.630,
        1400,
        note=_SHELANGABAD_NOTE,
    ),
    Neighbourhood(
        "khz-ahvaz-kuy-mashali",
        "khz-ahvaz-city",
        "کوی مشعلی",
        "Kuy-e Mashali",
        31.258,
        48.722,
        700,
        households=400,
    ),
    Neighbourhood(
        "khz-ahvaz-kuy-mahdis", "khz-ahvaz-city", "کوی مهدیس", "Kuy-e Mahdis", 31.292, 48.662, 800
    ),
    Neighbourhood(
        "khz-ahvaz-eslamabad", "khz-ahvaz-city", "اسلام‌آباد", "Eslamabad", 31.352, 48.607, 800
    ),
    Neighbourhood(
        "khz-dezful-kuy-modarres",
        "khz-dezful-city",
        "کوی مدرس",
        "Kuy-e Modarres",
        32.362,
        48.418,
        1000,
    ),
    # Demo choice: the programme's second pilot county outside Ahvaz is not
    # named in its announcements.
    Neighbourhood(
        "khz-mahshahr-shahrak-chamran",
        "khz-mahshahr-city",
        "شهرک چمران",
        "Shahrak-e Chamran",
        30.541,
        49.212,
        1000,
        note="انتخاب این محله برای داده‌های نمایشی است.",
    ),
)

# --- Hazard zones --------------------------------------------------------------

HAZARD_ZONES = (
    # Riverbank rather than flood: the danger in Hasirabad is where the houses
    # stand, on the Karun's bank inside the river's legal margin (حریم), where
    # the bank erodes and high water reaches the doors. Relocation means moving
    # households off that strip, so the zone is the strip along the river side
    # of the neighbourhood; "flood" would describe the wider plain.
    Hazard(
        code="khz-ahvaz-hasirabad-riverbank",
        neighbourhood="khz-ahvaz-hasirabad",
        name_fa="حریم رود کارون در حصیرآباد",
        name_en="Karun riverbank, Hasirabad",
        hazard_type="riverbank",
        risk_level="HIGH",
        shape=("edge", "east", 0.4),
        description=(
            "خانه‌های ساخته‌شده در حریم رود کارون. دفتر تسهیلگری ساکنان این پهنه را "
            "به جابه‌جایی ترغیب می‌کند. " + APPROXIMATE_BOUNDARY_NOTE
        ),
    ),
    Hazard(
        code="khz-ahvaz-malashieh-1-power-line",
        neighbourhood="khz-ahvaz-malashieh-1",
        name_fa="حریم خط برق فشار قوی در ملاشیه ۱ (نمونه)",
        name_en="High-voltage line corridor, Malashieh 1 (demo)",
        hazard_type="power_line",
        risk_level="MEDIUM",
        shape=("corridor", 35, 80),
        description="پهنه نمونه برای نمایش سامانه. " + APPROXIMATE_BOUNDARY_NOTE,
    ),
)

# --- Operators and offices -----------------------------------------------------

OPERATORS = (
    Operator(
        "karun",
        "مؤسسه توسعه محلی کارون (نمونه)",
        "Karun Local Development Institute (demo)",
        "institute",
    ),
    Operator(
        "hamyaran", "انجمن همیاران محله (نمونه)", "Neighbourhood Helpers Association (demo)", "ngo"
    ),
    Operator(
        "dez",
        "شرکت مشاوران توسعه اجتماعی دز (نمونه)",
        "Dez Social Development Consultants (demo)",
        "company",
    ),
    Operator("nakhlestan", "جمعیت امید نخلستان (نمونه)", "Nakhlestan Hope Society (demo)", "ngo"),
)

# Zoviyeh and Malashieh opened on Sunday 24 Tir 1397.
FIRST_OPENING = dt.date(2018, 7, 15)
# The current contract term of the pilot offices: Jalali year 1405
# (1 Farvardin 1405 – 29 Esfand 1405). Earlier terms are not recorded.
CONTRACT_START = dt.date(2026, 3, 21)
CONTRACT_END = dt.date(2027, 3, 20)

_PILOT = {"status": "pilot", "contract_start": CONTRACT_START, "contract_end": CONTRACT_END}
# The programme still calls its first seven offices the pilot, so they keep
# that status rather than "active". The announcements date only the first two
# openings; the others stay empty rather than carry an invented date.
_UNKNOWN_OPENING = "تاریخ گشایش در اطلاعیه‌های برنامه نیامده است."
_PLANNED_COUNTY = "محدوده کار دفتر هنگام گشایش مشخص می‌شود."

OFFICES = (
    Office(
        "khz-zoviyeh",
        "دفتر تسهیلگری و توسعه محلی زویه",
        "Zoviyeh Local Development Facilitation Office",
        "khz-ahvaz",
        ("khz-ahvaz-zoviyeh",),
        "karun",
        opened_on=FIRST_OPENING,
        **_PILOT,
    ),
    Office(
        "khz-malashieh",
        "دفتر تسهیلگری و توسعه محلی ملاشیه",
        "Malashieh Local Development Facilitation Office",
        "khz-ahvaz",
        ("khz-ahvaz-malashieh-1", "khz-ahvaz-malashieh-2"),
        "karun",
        opened_on=FIRST_OPENING,
        **_PILOT,
    ),
    Office(
        "khz-ein-2",
        "دفتر تسهیلگری و توسعه محلی عین ۲",
        "Ein 2 Local Development Facilitation Office",
        "khz-ahvaz",
        ("khz-ahvaz-ein-2",),
        "hamyaran",
        note=_UNKNOWN_OPENING,
        **_PILOT,
    ),
    Office(
        "khz-kuy-sayyahi",
        "دفتر تسهیلگری و توسعه محلی کوی سیاحی",
        "Kuy-e Sayyahi Local Development Facilitation Office",
        "khz-ahvaz",
        ("khz-ahvaz-kuy-sayyahi",),
        "hamyaran",
        note=_UNKNOWN_OPENING,
        **_PILOT,
    ),
    # The fifth Ahvaz pilot is not named in the announcements; Hasirabad is
    # chosen because the programme describes its office's relocation work there.
    Office(
        "khz-hasirabad",
        "دفتر تسهیلگری و توسعه محلی حصیرآباد",
        "Hasirabad Local Development Facilitation Office",
        "khz-ahvaz",
        ("khz-ahvaz-hasirabad",),
        "karun",
        note=_UNKNOWN_OPENING,
        **_PILOT,
    ),
    Office(
        "khz-kuy-modarres",
        "دفتر تسهیلگری و توسعه محلی کوی مدرس دزفول",
        "Kuy-e Modarres (Dezful) Local Development Facilitation Office",
        "khz-dezful",
        ("khz-dezful-kuy-modarres",),
        "dez",
        note=_UNKNOWN_OPENING,
        **_PILOT,
    ),
    Office(
        "khz-shahrak-chamran",
        "دفتر تسهیلگری و توسعه محلی شهرک چمران ماهشهر",
        "Shahrak-e Chamran (Bandar Mahshahr) Local Development Facilitation Office",
        "khz-mahshahr",
        ("khz-mahshahr-shahrak-chamran",),
        "nakhlestan",
        note="انتخاب این دفتر برای داده‌های نمایشی است. " + _UNKNOWN_OPENING,
        **_PILOT,
    ),
    # The eight planned offices: which neighbourhoods they will serve is a demo
    # choice; the programme only gives their number.
    Office(
        "khz-manba-ab",
        "دفتر تسهیلگری و توسعه محلی منبع آب",
        "Manba-e Ab Local Development Facilitation Office",
        "khz-ahvaz",
        ("khz-ahvaz-manba-ab",),
        "hamyaran",
        status="planned",
    ),
    Office(
        "khz-bist-metri",
        "دفتر تسهیلگری و توسعه محلی بیست‌متری و کوی رمضان",
        "Bist-Metri and Kuy-e Ramazan Local Development Facilitation Office",
        "khz-ahvaz",
        ("khz-ahvaz-bist-metri", "khz-ahvaz-kuy-ramazan"),
        "karun",
        status="planned",
    ),
    # One office for both while it is unsettled whether they are one place.
    Office(
        "khz-kuy-alavi",
        "دفتر تسهیلگری و توسعه محلی کوی علوی و شلنگ‌آباد",
        "Kuy-e Alavi and Shelangabad Local Development Facilitation Office",
        "khz-ahvaz",
        ("khz-ahvaz-kuy-alavi", "khz-ahvaz-shelangabad"),
        "hamyaran",
        status="planned",
    ),
    Office(
        "khz-kuy-mashali",
        "دفتر تسهیلگری و توسعه محلی کوی مشعلی",
        "Kuy-e Mashali Local Development Facilitation Office",
        "khz-ahvaz",
        ("khz-ahvaz-kuy-mashali",),
        "nakhlestan",
        status="planned",
    ),
    Office(
        "khz-kuy-mahdis",
        "دفتر تسهیلگری و توسعه محلی کوی مهدیس و اسلام‌آباد",
        "Kuy-e Mahdis and Eslamabad Local Development Facilitation Office",
        "khz-ahvaz",
        ("khz-ahvaz-kuy-mahdis", "khz-ahvaz-eslamabad"),
        "karun",
        status="planned",
    ),
    Office(
        "khz-abadan",
        "دفتر تسهیلگری و توسعه محلی آبادان",
        "Abadan Local Development Facilitation Office",
        "khz-abadan",
        ("khz-abadan",),
        "nakhlestan",
        status="planned",
        lat=30.340,
        lng=48.300,
        note=_PLANNED_COUNTY,
    ),
    Office(
        "khz-andimeshk",
        "دفتر تسهیلگری و توسعه محلی اندیمشک",
        "Andimeshk Local Development Facilitation Office",
        "khz-andimeshk",
        ("khz-andimeshk",),
        "dez",
        status="planned",
        lat=32.460,
        lng=48.360,
        note=_PLANNED_COUNTY,
    ),
    Office(
        "khz-shushtar",
        "دفتر تسهیلگری و توسعه محلی شوشتر",
        "Shushtar Local Development Facilitation Office",
        "khz-shushtar",
        ("khz-shushtar",),
        "dez",
        status="planned",
        lat=32.045,
        lng=48.857,
        note=_PLANNED_COUNTY,
    ),
)

# --- Agencies ------------------------------------------------------------------

OTHER_COUNTIES = tuple(c.code for c in COUNTIES if c.code != "khz-ahvaz")

AGENCIES = (
    # Ahvaz ABFA serves the city; ABFA Khuzestan every other county. Villages
    # of Ahvaz county reach ABFA Khuzestan through the province-level routing
    # rule, since the city rule does not cover them.
    Agency(
        "abfa-ahvaz",
        "شرکت آب و فاضلاب اهواز",
        "Ahvaz Water and Wastewater Company",
        "Ahvaz ABFA",
        ("khz-ahvaz-city",),
    ),
    Agency(
        "abfa-khz",
        "شرکت آب و فاضلاب خوزستان",
        "Khuzestan Water and Wastewater Company",
        "ABFA Khuzestan",
        OTHER_COUNTIES,
    ),
    # The Ahvaz distribution company's network reaches past the municipal
    # boundary, so it holds the county.
    Agency(
        "power-ahvaz",
        "شرکت توزیع نیروی برق اهواز",
        "Ahvaz Electricity Distribution Company",
        "Ahvaz Electricity",
        ("khz-ahvaz",),
    ),
    Agency(
        "power-khz",
        "شرکت توزیع نیروی برق خوزستان",
        "Khuzestan Electricity Distribution Company",
        "Khuzestan Electricity",
        OTHER_COUNTIES,
    ),
    Agency(
        "municipality-ahvaz",
        "شهرداری اهواز",
        "Ahvaz Municipality",
        "Ahvaz Municipality",
        ("khz-ahvaz-city",),
    ),
    Agency(
        "education-khz",
        "اداره کل آموزش و پرورش استان خوزستان",
        "Khuzestan Education Directorate",
        "Education Directorate",
        ("khz",),
    ),
    Agency(
        "jundishapur",
        "دانشگاه علوم پزشکی جندی‌شاپور اهواز",
        "Ahvaz Jundishapur University of Medical Sciences",
        "Jundishapur Medical University",
        ("khz",),
    ),
    Agency(
        "welfare-khz",
        "اداره کل بهزیستی استان خوزستان",
        "Khuzestan Welfare Organization",
        "Welfare Organization",
        ("khz",),
    ),
    Agency(
        "relief-khz",
        "کمیته امداد امام خمینی (ره)",
        "Imam Khomeini Relief Foundation",
        "Imam Khomeini Relief Foundation",
        ("khz",),
    ),
    Agency(
        "roads-urban-khz",
        "اداره کل راه و شهرسازی",
        "Roads and Urban Development Directorate",
        "Roads & Urban Development",
        ("khz",),
    ),
    Agency(
        "housing-foundation-khz",
        "بنیاد مسکن انقلاب اسلامی",
        "Housing Foundation of the Islamic Revolution",
        "Housing Foundation",
        ("khz",),
    ),
    Agency(
        "tvto-khz",
        "اداره کل آموزش فنی و حرفه‌ای",
        "Technical and Vocational Training Directorate",
        "Technical & Vocational Training Org.",
        ("khz",),
    ),
    Agency(
        "labour-khz",
        "اداره کل تعاون، کار و رفاه اجتماعی",
        "Cooperatives, Labour and Social Welfare Directorate",
        "Labour Directorate",
        ("khz",),
    ),
    Agency(
        "civil-registration-khz",
        "اداره کل ثبت احوال",
        "Civil Registration Directorate",
        "Civil Registration",
        ("khz",),
    ),
    Agency(
        "kwpa",
        "سازمان آب و برق خوزستان",
        "Khuzestan Water and Power Authority",
        "Khuzestan Water & Power Authority",
        ("khz",),
    ),
    Agency(
        "governorate-khz", "استانداری خوزستان", "Khuzestan Governorate", "Governorate", ("khz",)
    ),
)

# --- Demand categories ---------------------------------------------------------

# Answer times are editable defaults, in working days: 5 where a household is
# without water or sewage is overflowing, or a flood threatens; 20 for land and
# tenure, which needs records searched; 30 for housing and urban upgrading,
# which need a site survey before any answer; 10 otherwise.
CATEGORIES = (
    Category(
        "water",
        "آب و فاضلاب",
        "Water and sewage",
        children=(
            Category("drinking-water", "آب شرب", "Drinking water", 5),
            Category("sewage", "فاضلاب", "Sewage", 5),
        ),
    ),
    Category(
        "electricity",
        "برق",
        "Electricity",
        children=(
            Category("power-connection", "انشعاب برق خانگی", "Household electricity connection"),
            Category("street-lighting", "روشنایی معابر", "Street lighting"),
        ),
    ),
    Category(
        "urban-services",
        "خدمات شهری",
        "Urban services",
        children=(
            Category("paving", "آسفالت و بهسازی معابر", "Paving"),
            Category("waste-collection", "جمع‌آوری پسماند", "Waste collection"),
            Category("surface-water", "دفع آب‌های سطحی", "Surface water drainage"),
            Category("public-spaces", "فضای سبز و فضاهای عمومی", "Green and public spaces"),
        ),
    ),
    Category(
        "education",
        "آموزش و پرورش",
        "Education",
        children=(
            Category("schools", "مدرسه و فضای آموزشی", "Schools"),
            Category("enrolment", "ثبت‌نام در مدرسه", "School enrolment"),
            Category(
                "out-of-school-children", "کودکان بازمانده از تحصیل", "Out-of-school children"
            ),
        ),
    ),
    Category(
        "health",
        "بهداشت و درمان",
        "Health",
        children=(
            Category(
                "health-services", "مراکز و خدمات بهداشتی و درمانی", "Clinics and health services"
            ),
            Category("vaccination", "واکسیناسیون", "Vaccination"),
        ),
    ),
    Category(
        "welfare",
        "بهزیستی",
        "Social welfare",
        children=(
            Category("disability", "معلولیت", "Disability"),
            Category("elderly", "سالمندان", "Elderly people"),
            Category("women-children", "زنان و کودکان آسیب‌پذیر", "Vulnerable women and children"),
            Category("addiction", "اعتیاد", "Addiction"),
        ),
    ),
    Category(
        "livelihood",
        "معیشت، مهارت و اشتغال",
        "Livelihood, skills and work",
        children=(
            Category(
                "livelihood-support",
                "حمایت معیشتی خانوارهای نیازمند",
                "Livelihood support for poor households",
            ),
            Category("skills-training", "مهارت‌آموزی", "Skills training"),
            Category("employment-insurance", "اشتغال و بیمه", "Employment and insurance"),
        ),
    ),
    Category(
        "land-housing",
        "زمین و مسکن",
        "Land and housing",
        children=(
            Category("land-tenure", "زمین و تعیین تکلیف سند", "Land and tenure", 20),
            Category("urban-upgrading", "بازآفرینی و ساماندهی سکونتگاه", "Urban upgrading", 30),
            Category(
                "housing-repair", "تعمیر و بازسازی مسکن", "Housing repair and reconstruction", 30
            ),
        ),
    ),
    Category(
        "civil-registration",
        "ثبت احوال",
        "Civil registration",
        children=(
            Category("birth-certificate", "شناسنامه", "Birth certificates"),
            Category("national-id-card", "کارت ملی", "National ID cards"),
        ),
    ),
    Category(
        "water-resources",
        "منابع آب و سیلاب",
        "Water resources and floods",
        children=(
            Category("floods", "سیلاب و سیل‌بند", "Floods and flood defences", 5),
            Category("rivers-canals", "رودخانه‌ها و کانال‌های آب", "Rivers and canals"),
        ),
    ),
    Category(
        "coordination",
        "هماهنگی و پیگیری ویژه",
        "Coordination and escalation",
        children=(
            Category("inter-agency", "هماهنگی میان دستگاه‌ها", "Inter-agency coordination"),
            Category("escalation", "پیگیری ویژه در استانداری", "Escalation to the governorate"),
        ),
    ),
)

# --- Routing table -------------------------------------------------------------

# Each leaf has a province-wide rule, so no demand anywhere in the province is
# left without a destination; Ahvaz rules sit deeper and win inside Ahvaz.
# Urban services outside Ahvaz go to the Governorate, which supervises the
# other municipalities (none of them is in the agency list yet).
_AHVAZ_CITY, _AHVAZ_COUNTY, _PROVINCE = "khz-ahvaz-city", "khz-ahvaz", "khz"
ROUTES = {
    "drinking-water": {_PROVINCE: "abfa-khz", _AHVAZ_CITY: "abfa-ahvaz"},
    "sewage": {_PROVINCE: "abfa-khz", _AHVAZ_CITY: "abfa-ahvaz"},
    "power-connection": {_PROVINCE: "power-khz", _AHVAZ_COUNTY: "power-ahvaz"},
    "street-lighting": {_PROVINCE: "power-khz", _AHVAZ_COUNTY: "power-ahvaz"},
    "paving": {_PROVINCE: "governorate-khz", _AHVAZ_CITY: "municipality-ahvaz"},
    "waste-collection": {_PROVINCE: "governorate-khz", _AHVAZ_CITY: "municipality-ahvaz"},
    "surface-water": {_PROVINCE: "governorate-khz", _AHVAZ_CITY: "municipality-ahvaz"},
    "public-spaces": {_PROVINCE: "governorate-khz", _AHVAZ_CITY: "municipality-ahvaz"},
    "schools": {_PROVINCE: "education-khz"},
    "enrolment": {_PROVINCE: "education-khz"},
    "out-of-school-children": {_PROVINCE: "education-khz"},
    "health-services": {_PROVINCE: "jundishapur"},
    "vaccination": {_PROVINCE: "jundishapur"},
    "disability": {_PROVINCE: "welfare-khz"},
    "elderly": {_PROVINCE: "welfare-khz"},
    "women-children": {_PROVINCE: "welfare-khz"},
    "addiction": {_PROVINCE: "welfare-khz"},
    "livelihood-support": {_PROVINCE: "relief-khz"},
    "skills-training": {_PROVINCE: "tvto-khz"},
    "employment-insurance": {_PROVINCE: "labour-khz"},
    "land-tenure": {_PROVINCE: "roads-urban-khz"},
    "urban-upgrading": {_PROVINCE: "roads-urban-khz"},
    "housing-repair": {_PROVINCE: "housing-foundation-khz"},
    "birth-certificate": {_PROVINCE: "civil-registration-khz"},
    "national-id-card": {_PROVINCE: "civil-registration-khz"},
    "floods": {_PROVINCE: "kwpa"},
    "rivers-canals": {_PROVINCE: "kwpa"},
    "inter-agency": {_PROVINCE: "governorate-khz"},
    "escalation": {_PROVINCE: "governorate-khz"},
}

# --- Working calendar ----------------------------------------------------------

# Stored although it equals the built-in default, so administrators find a
# rule to edit when a decree changes the weekend. Python weekdays: 3 = Thursday.
WEEKEND_RULE = {
    "valid_from": dt.date(2018, 1, 1),
    "weekdays": [3, 4],
    "note": "پنجشنبه و جمعه؛ با تغییر مصوبه، قاعده تازه‌ای از تاریخ اجرا ثبت کنید.",
}

# --- Demo accounts -------------------------------------------------------------

USERS = (
    DemoUser(
        "province",
        "مریم",
        "نیسی",
        "province_manager",
        ("province", "khz"),
        "کارشناس اداره کل امور اجتماعی و فرهنگی استانداری",
    ),
    DemoUser("zoviyeh", "علی", "سواری", "office_manager", ("office", "khz-zoviyeh"), "مدیر دفتر"),
    DemoUser("facilitator", "زهرا", "عساکره", "facilitator", ("office", "khz-zoviyeh"), "تسهیلگر"),
    DemoUser(
        "malashieh", "لیلا", "حزباوی", "office_manager", ("office", "khz-malashieh"), "مدیر دفتر"
    ),
    DemoUser("abfa", "حسین", "عبیات", "agency_liaison", ("agency", "abfa-ahvaz"), "کارشناس رابط"),
    DemoUser("analyst", "سارا", "شوشتری", "analyst", ("province", "khz"), "کارشناس آمار"),
    DemoUser("admin", "محمد", "کریمی", "national_admin", None, "مدیر سامانه", is_superuser=True),
)
