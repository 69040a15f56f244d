"""The columns an import understands: one row is one person, with the
columns of their household repeated on each member's row.

Each field has the names people give the column in Persian and English
spreadsheets (matched on the search key, so Arabic ي/ك, ZWNJ and spacing do
not matter) and, for choices, the words people write in the cells.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tashil.core.text import search_key

from ..models import Connection, Household, Membership, Person

HOUSEHOLD, PERSON, MEMBERSHIP = "household", "person", "membership"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: Promise
    level: str
    kind: str
    required: bool = False
    aliases: tuple = ()
    # For choice fields: the model's choices and {word people write: value}.
    choices: type | None = None
    words: dict = field(default_factory=dict)
    help: Promise | str = ""
    example: str = ""

    @property
    def max_length(self) -> int | None:
        model = {HOUSEHOLD: Household, PERSON: Person, MEMBERSHIP: Membership}[self.level]
        name = {"household_id": "external_id", "household_note": "note"}.get(self.key, self.key)
        try:
            return getattr(model._meta.get_field(name), "max_length", None)
        except Exception:  # noqa: BLE001 - fields without a model column (neighbourhood)
            return None


YES_WORDS = (
    "بله",
    "بلی",
    "آری",
    "اری",
    "دارد",
    "هست",
    "است",
    "yes",
    "y",
    "true",
    "1",
    "✓",
    "✔",
    "x",
    "*",
    "+",
    "دارای",
)
NO_WORDS = ("خیر", "نه", "ندارد", "نیست", "no", "n", "false", "0", "-", "فاقد")

CONNECTION_WORDS = {
    "formal": Connection.FORMAL,
    "رسمی": Connection.FORMAL,
    "دارد": Connection.FORMAL,
    "قانونی": Connection.FORMAL,
    "مجاز": Connection.FORMAL,
    "بله": Connection.FORMAL,
    "انشعاب رسمی": Connection.FORMAL,
    "informal": Connection.INFORMAL,
    "غیررسمی": Connection.INFORMAL,
    "غیر رسمی": Connection.INFORMAL,
    "غیرمجاز": Connection.INFORMAL,
    "غیر مجاز": Connection.INFORMAL,
    "غیرقانونی": Connection.INFORMAL,
    "none": Connection.NONE,
    "ندارد": Connection.NONE,
    "بدون": Connection.NONE,
    "خیر": Connection.NONE,
    "بدون انشعاب": Connection.NONE,
}

FIELDS: tuple[FieldSpec, ...] = (
    # Household columns: read from the head's row, or the household's first row.
    FieldSpec(
        "household_id",
        _("Household id"),
        HOUSEHOLD,
        "external_id",
        required=True,
        aliases=(
            "شناسه خانوار",
            "کد خانوار",
            "شماره خانوار",
            "شناسه خانواده",
            "کد خانواده",
            "شماره پرونده",
            "کد پرونده",
            "household id",
            "household",
            "household code",
            "family id",
            "household_id",
        ),
        help=_(
            "The office's own id for the household. Everyone in a household has the same id; it also "
            "finds the household again when the file is imported a second time."
        ),
        example="ZV-0001",
    ),
    FieldSpec(
        "neighbourhood",
        _("Neighbourhood"),
        HOUSEHOLD,
        "area",
        aliases=("محله", "نام محله", "محل سکونت", "neighbourhood", "neighborhood", "area"),
        help=_(
            "Name or code of a neighbourhood the office serves. May be left empty when the office "
            "serves one neighbourhood, or when latitude and longitude are given."
        ),
    ),
    FieldSpec(
        "address",
        _("Address or description"),
        HOUSEHOLD,
        "text",
        aliases=("نشانی", "آدرس", "نشانی یا توضیح محل", "address", "address or description"),
        example="کوچه ۱۲، پلاک ۴",
    ),
    FieldSpec(
        "latitude",
        _("Latitude"),
        HOUSEHOLD,
        "latitude",
        aliases=("عرض جغرافیایی", "عرض", "latitude", "lat"),
        example="31.3152",
    ),
    FieldSpec(
        "longitude",
        _("Longitude"),
        HOUSEHOLD,
        "longitude",
        aliases=("طول جغرافیایی", "طول", "longitude", "lng", "lon", "long"),
        example="48.6401",
    ),
    FieldSpec(
        "dwelling_type",
        _("Dwelling type"),
        HOUSEHOLD,
        "choice",
        choices=Household.DwellingType,
        aliases=(
            "نوع مسکن",
            "نوع سکونتگاه",
            "نوع واحد مسکونی",
            "نوع منزل",
            "dwelling type",
            "dwelling",
        ),
        words={
            "خانه": "house",
            "منزل": "house",
            "ویلایی": "house",
            "حیاط دار": "house",
            "آپارتمان": "apartment",
            "آپارتمانی": "apartment",
            "غیررسمی": "informal",
            "سکونتگاه غیررسمی": "informal",
            "خانه غیررسمی": "informal",
            "کپر": "shack",
            "آلونک": "shack",
            "چادر": "shack",
            "زاغه": "shack",
            "حلبی آباد": "shack",
            "سایر": "other",
            "دیگر": "other",
        },
    ),
    FieldSpec(
        "tenure",
        _("Tenure"),
        HOUSEHOLD,
        "choice",
        choices=Household.Tenure,
        aliases=("وضعیت تصرف", "نوع تصرف", "وضعیت مالکیت", "مالکیت", "نوع مالکیت", "tenure"),
        words={
            "مالک": "owner",
            "ملکی": "owner",
            "شخصی": "owner",
            "مستاجر": "tenant",
            "اجاره": "tenant",
            "اجاره ای": "tenant",
            "استیجاری": "tenant",
            "رهن": "tenant",
            "متصرف": "informal",
            "تصرف غیررسمی": "informal",
            "غیررسمی": "informal",
            "قولنامه ای": "informal",
            "ندارد": "none",
            "بدون": "none",
            "هیچ": "none",
        },
    ),
    FieldSpec(
        "water",
        _("Water"),
        HOUSEHOLD,
        "choice",
        choices=Connection,
        words=CONNECTION_WORDS,
        aliases=("آب", "انشعاب آب", "آب لوله کشی", "water"),
    ),
    FieldSpec(
        "electricity",
        _("Electricity"),
        HOUSEHOLD,
        "choice",
        choices=Connection,
        words=CONNECTION_WORDS,
        aliases=("برق", "انشعاب برق", "electricity"),
    ),
    FieldSpec(
        "sewage",
        _("Sewage"),
        HOUSEHOLD,
        "choice",
        choices=Connection,
        words=CONNECTION_WORDS,
        aliases=("فاضلاب", "انشعاب فاضلاب", "sewage", "sewer"),
    ),
    FieldSpec(
        "gas",
        _("Gas"),
        HOUSEHOLD,
        "choice",
        choices=Connection,
        words=CONNECTION_WORDS,
        aliases=("گاز", "انشعاب گاز", "gas"),
    ),
    FieldSpec(
        "main_income",
        _("Main income source"),
        HOUSEHOLD,
        "choice",
        choices=Household.Income,
        aliases=(
            "منبع اصلی درآمد",
            "منبع درآمد",
            "درآمد",
            "main income source",
            "main income",
            "income",
        ),
        words={
            "حقوق": "wage",
            "حقوق بگیر": "wage",
            "کارمند": "wage",
            "مزد": "wage",
            "روزمزدی": "daily_labour",
            "کارگری": "daily_labour",
            "کارگر روزمزد": "daily_labour",
            "آزاد": "self_employed",
            "شغل آزاد": "self_employed",
            "کسب": "self_employed",
            "خویش فرما": "self_employed",
            "مستمری": "pension",
            "بازنشستگی": "pension",
            "یارانه": "support",
            "کمک": "support",
            "حمایتی": "support",
            "مستمری حمایتی": "support",
            "ندارد": "none",
            "بدون درآمد": "none",
            "سایر": "other",
        },
    ),
    FieldSpec(
        "support_relief",
        _("Supported by the Relief Foundation"),
        HOUSEHOLD,
        "bool",
        aliases=("کمیته امداد", "تحت پوشش کمیته امداد", "امداد", "relief foundation", "relief"),
    ),
    FieldSpec(
        "support_welfare",
        _("Supported by the Welfare Organization"),
        HOUSEHOLD,
        "bool",
        aliases=("بهزیستی", "تحت پوشش بهزیستی", "welfare organization", "welfare"),
    ),
    FieldSpec(
        "support_other",
        _("Other support"),
        HOUSEHOLD,
        "text",
        aliases=("سایر حمایت ها", "حمایت دیگر", "سایر حمایت", "other support"),
    ),
    FieldSpec(
        "household_note",
        _("Household note"),
        HOUSEHOLD,
        "text",
        aliases=("توضیحات خانوار", "یادداشت خانوار", "household note"),
    ),
    # Person columns.
    FieldSpec(
        "national_code",
        _("National code"),
        PERSON,
        "national_code",
        aliases=(
            "کد ملی",
            "شماره ملی",
            "کد ملی فرد",
            "national code",
            "national id",
            "nid",
            "melli code",
        ),
        help=_(
            "Ten digits; may be empty for people without papers. A person already registered with "
            "this code is updated, not added again."
        ),
        example="0012345679",
    ),
    FieldSpec(
        "first_name",
        _("First name"),
        PERSON,
        "name",
        required=True,
        aliases=("نام", "نام فرد", "اسم", "first name", "firstname", "given name", "name"),
        example="مریم",
    ),
    FieldSpec(
        "last_name",
        _("Last name"),
        PERSON,
        "name",
        required=True,
        aliases=(
            "نام خانوادگی",
            "فامیلی",
            "شهرت",
            "last name",
            "lastname",
            "surname",
            "family name",
        ),
        example="احمدی",
    ),
    FieldSpec(
        "father_name",
        _("Father's name"),
        PERSON,
        "text",
        aliases=("نام پدر", "father's name", "father name", "fathers name"),
    ),
    FieldSpec(
        "sex",
        _("Sex"),
        PERSON,
        "choice",
        choices=Person.Sex,
        aliases=("جنسیت", "جنس", "sex", "gender"),
        words={
            "زن": "female",
            "مونث": "female",
            "خانم": "female",
            "f": "female",
            "دختر": "female",
            "مرد": "male",
            "مذکر": "male",
            "آقا": "male",
            "m": "male",
            "پسر": "male",
        },
    ),
    FieldSpec(
        "birth_date",
        _("Birth date"),
        PERSON,
        "date",
        aliases=("تاریخ تولد", "birth date", "date of birth", "dob", "birthdate"),
        help=_("Jalali, as 1365/04/12. A year alone (1365) is taken as the birth year."),
        example="1365/04/12",
    ),
    FieldSpec(
        "birth_year",
        _("Birth year"),
        PERSON,
        "year",
        aliases=("سال تولد", "birth year", "year of birth"),
        help=_("Jalali, as 1365."),
    ),
    FieldSpec(
        "nationality",
        _("Nationality or status"),
        PERSON,
        "choice",
        choices=Person.Nationality,
        aliases=("تابعیت", "ملیت", "وضعیت اقامت", "nationality", "nationality or status", "status"),
        words={
            "ایرانی": "iranian",
            "ایران": "iranian",
            "افغان": "afghan",
            "افغانی": "afghan",
            "افغانستانی": "afghan",
            "افغانستان": "afghan",
            "اتباع افغان": "afghan",
            "سایر": "other",
            "دیگر": "other",
            "عراقی": "other",
            "پاکستانی": "other",
            "سایر اتباع": "other",
            "فاقد مدرک": "undocumented",
            "بدون مدرک": "undocumented",
            "بی مدرک": "undocumented",
            "فاقد شناسنامه": "undocumented",
            "بدون شناسنامه": "undocumented",
            "مجهول الهویه": "undocumented",
        },
    ),
    FieldSpec(
        "mobile",
        _("Mobile"),
        PERSON,
        "mobile",
        aliases=(
            "موبایل",
            "تلفن همراه",
            "شماره همراه",
            "شماره موبایل",
            "همراه",
            "شماره تماس",
            "تلفن",
            "mobile",
            "mobile number",
            "phone",
            "cell",
        ),
        example="09121234567",
    ),
    FieldSpec(
        "relation",
        _("Relation to head"),
        MEMBERSHIP,
        "choice",
        required=True,
        choices=Membership.Relation,
        aliases=(
            "نسبت با سرپرست",
            "نسبت با سرپرست خانوار",
            "نسبت",
            "نسبت خانوادگی",
            "relation",
            "relation to head",
            "relationship",
        ),
        words={
            "سرپرست": "head",
            "سرپرست خانوار": "head",
            "سرپرست خانواده": "head",
            "خودش": "head",
            "همسر": "spouse",
            "زن": "spouse",
            "شوهر": "spouse",
            "زوجه": "spouse",
            "زوج": "spouse",
            "فرزند": "child",
            "پسر": "child",
            "دختر": "child",
            "son": "child",
            "daughter": "child",
            "پدر": "parent",
            "مادر": "parent",
            "والد": "parent",
            "والدین": "parent",
            "خواهر": "sibling",
            "برادر": "sibling",
            "نوه": "grandchild",
            "عروس": "relative",
            "داماد": "relative",
            "سایر بستگان": "relative",
            "بستگان": "relative",
            "خویشاوند": "relative",
            "عمو": "relative",
            "دایی": "relative",
            "خاله": "relative",
            "عمه": "relative",
            "غیرخویشاوند": "other",
            "غیر خویشاوند": "other",
            "سایر": "other",
        },
        example="سرپرست",
    ),
    FieldSpec(
        "joined_on",
        _("Joined the household on"),
        MEMBERSHIP,
        "date",
        aliases=("تاریخ عضویت", "تاریخ پیوستن", "joined", "joined on"),
    ),
    FieldSpec(
        "marital_status",
        _("Marital status"),
        PERSON,
        "choice",
        choices=Person.MaritalStatus,
        aliases=("وضعیت تاهل", "تاهل", "marital status"),
        words={
            "مجرد": "single",
            "متاهل": "married",
            "مطلقه": "divorced",
            "جدا شده": "divorced",
            "طلاق": "divorced",
            "طلاق گرفته": "divorced",
            "بیوه": "widowed",
            "همسر فوت شده": "widowed",
            "فوت همسر": "widowed",
        },
    ),
    FieldSpec(
        "education",
        _("Education"),
        PERSON,
        "choice",
        choices=Person.Education,
        aliases=("تحصیلات", "میزان تحصیلات", "سطح تحصیلات", "مدرک تحصیلی", "education"),
        words={
            "بی سواد": "none",
            "بیسواد": "none",
            "ندارد": "none",
            "نهضت": "literacy",
            "سوادآموزی": "literacy",
            "نهضت سوادآموزی": "literacy",
            "ابتدایی": "primary",
            "راهنمایی": "lower_secondary",
            "سیکل": "lower_secondary",
            "متوسطه اول": "lower_secondary",
            "دبیرستان": "upper_secondary",
            "متوسطه دوم": "upper_secondary",
            "متوسطه": "upper_secondary",
            "دیپلم": "upper_secondary",
            "فوق دیپلم": "higher",
            "کاردانی": "higher",
            "لیسانس": "higher",
            "کارشناسی": "higher",
            "فوق لیسانس": "higher",
            "کارشناسی ارشد": "higher",
            "دکتری": "higher",
            "دانشگاهی": "higher",
        },
    ),
    FieldSpec(
        "in_school",
        _("Enrolled in school"),
        PERSON,
        "bool",
        aliases=(
            "در حال تحصیل",
            "محصل",
            "ثبت نام در مدرسه",
            "مدرسه",
            "enrolled in school",
            "in school",
        ),
    ),
    FieldSpec(
        "employment",
        _("Employment"),
        PERSON,
        "choice",
        choices=Person.Employment,
        aliases=("وضعیت اشتغال", "اشتغال", "وضعیت شغلی", "شغل", "employment"),
        words={
            "شاغل": "employed",
            "کارمند": "employed",
            "کارگر روزمزد": "daily_labour",
            "روزمزد": "daily_labour",
            "بیکار": "unemployed",
            "جویای کار": "unemployed",
            "خانه دار": "homemaker",
            "محصل": "student",
            "دانش آموز": "student",
            "دانشجو": "student",
            "بازنشسته": "retired",
            "از کار افتاده": "unable",
            "ناتوان": "unable",
            "کودک": "child",
        },
    ),
    FieldSpec(
        "has_disability",
        _("Has a disability"),
        PERSON,
        "bool",
        aliases=("معلولیت", "دارای معلولیت", "معلول", "has a disability", "disability"),
    ),
    FieldSpec(
        "disability_note",
        # Not "Disability": that header means the yes/no column above.
        _("Type of disability"),
        PERSON,
        "text",
        aliases=("نوع معلولیت", "شرح معلولیت", "disability type"),
    ),
    FieldSpec(
        "chronic_illness",
        _("Chronic illness"),
        PERSON,
        "bool",
        aliases=("بیماری مزمن", "بیماری خاص", "chronic illness"),
    ),
    FieldSpec(
        "health_insurance",
        _("Health insurance"),
        PERSON,
        "choice",
        choices=Person.Insurance,
        aliases=("بیمه درمانی", "بیمه", "نوع بیمه", "health insurance", "insurance"),
        words={
            "ندارد": "none",
            "بدون بیمه": "none",
            "فاقد بیمه": "none",
            "سلامت": "health",
            "بیمه سلامت": "health",
            "خدمات درمانی": "health",
            "روستایی": "health",
            "تامین اجتماعی": "social_security",
            "تامین": "social_security",
            "نیروهای مسلح": "armed_forces",
            "سایر": "other",
        },
    ),
)

BY_KEY = {spec.key: spec for spec in FIELDS}
REQUIRED = tuple(spec.key for spec in FIELDS if spec.required)


def header_key(text) -> str:
    """How a header or a cell word is compared: search key, spaces removed."""
    return search_key(str(text or "")).replace(" ", "")


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for spec in FIELDS:
        names = [*spec.aliases, spec.key]
        for code, _lang in settings.LANGUAGES:
            with translation.override(code):
                names.append(str(spec.label))
        for name in names:
            table.setdefault(header_key(name), spec.key)
    return table


_ALIASES: dict[str, str] | None = None


def aliases() -> dict[str, str]:
    global _ALIASES
    if _ALIASES is None:
        _ALIASES = _alias_table()
    return _ALIASES


def field_for_header(text) -> str | None:
    return aliases().get(header_key(text))


def header_score(cells: list[str]) -> int:
    table = aliases()
    return sum(1 for cell in cells if cell and header_key(cell) in table)


def suggest_mapping(columns: list[str], saved: dict | None = None) -> dict[int, str]:
    """{column index: field key}: a saved mapping's choice for a header first,
    then the known names; each field is used once, by its first column."""
    mapping: dict[int, str] = {}
    used: set[str] = set()
    saved = saved or {}
    for index, header in enumerate(columns):
        key = header_key(header)
        if not key:
            continue
        choice = saved.get(key)
        if choice in BY_KEY and choice not in used:
            mapping[index] = choice
            used.add(choice)
    for index, header in enumerate(columns):
        if index in mapping or not header:
            continue
        choice = field_for_header(header)
        if choice and choice not in used:
            mapping[index] = choice
            used.add(choice)
    return mapping


def mapping_for_saving(columns: list[str], mapping: dict[int, str]) -> dict[str, str]:
    """A mapping keyed by header, so it fits other files with the same headers."""
    return {
        header_key(columns[i]): key
        for i, key in mapping.items()
        if i < len(columns) and header_key(columns[i])
    }


def choice_words(spec: FieldSpec) -> dict[str, str]:
    """Every accepted way of writing each choice of `spec`: the stored value,
    its label in each language, and the field's own words."""
    words: dict[str, str] = {}
    if spec.kind == "bool":
        for word in YES_WORDS:
            words[header_key(word)] = True
        for word in NO_WORDS:
            words[header_key(word)] = False
        for code, _lang in settings.LANGUAGES:
            with translation.override(code):
                words.setdefault(header_key(str(_("yes"))), True)
                words.setdefault(header_key(str(_("no"))), False)
        return words
    for value, label in spec.choices.choices:
        words[header_key(value)] = value
        for code, _lang in settings.LANGUAGES:
            with translation.override(code):
                words.setdefault(header_key(str(label)), value)
    for word, value in spec.words.items():
        words.setdefault(header_key(word), value)
    return words
