"""The household registry: households, persons and their memberships over
time, vulnerability, consent, and the imports that fill it.

Personal data (national code, mobile, address, birth date) is visible only to
the staff of the household's office and the province manager; reads of a
person's page are logged in PersonalDataAccess."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tashil.accounts.scopes import ScopePaths, scoped
from tashil.core import jalali
from tashil.core.models import BilingualName, TimeStampedModel, VersionedModel
from tashil.core.validators import format_mobile_display

# The spreadsheet imports' tables live in their own module; imported here so
# that Django registers them with the app and `registry.models` names them.
from .imports import ColumnMapping as ColumnMapping
from .imports import ImportBatch as ImportBatch
from .imports import ImportChunk as ImportChunk
from .readers import OFFICE_RECORD_READERS


class Connection(models.TextChoices):
    FORMAL = "formal", _("formal")
    INFORMAL = "informal", _("informal")
    NONE = "none", _("none")


class HouseholdQuerySet(models.QuerySet):
    visible_to = scoped(OFFICE_RECORD_READERS)


class Household(VersionedModel):
    class DwellingType(models.TextChoices):
        HOUSE = "house", _("house")
        APARTMENT = "apartment", _("apartment")
        INFORMAL = "informal", _("informal dwelling")
        SHACK = "shack", _("shack or tent")
        OTHER = "other", _("other")

    class Tenure(models.TextChoices):
        OWNER = "owner", _("owner")
        TENANT = "tenant", _("tenant")
        INFORMAL = "informal", _("informal occupant")
        NONE = "none", _("none")

    class Income(models.TextChoices):
        WAGE = "wage", _("wages")
        DAILY_LABOUR = "daily_labour", _("daily labour")
        SELF_EMPLOYED = "self_employed", _("self-employed")
        PENSION = "pension", _("pension")
        SUPPORT = "support", _("support payments")
        NONE = "none", _("no income")
        OTHER = "other", _("other")

    office = models.ForeignKey(
        "offices.Office",
        verbose_name=_("office"),
        on_delete=models.PROTECT,
        related_name="households",
    )
    area = models.ForeignKey(
        "geo.Area",
        verbose_name=_("neighbourhood"),
        on_delete=models.PROTECT,
        related_name="households_registered",
    )
    # The office's own id for the household, used to match re-imports.
    external_id = models.CharField(_("household id"), max_length=60, blank=True)
    address = models.CharField(_("address or description"), max_length=400, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    # Computed from the point by the services; never entered by hand.
    hazard_zone = models.ForeignKey(
        "geo.HazardZone",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
        editable=False,
    )
    dwelling_type = models.CharField(
        _("dwelling type"), max_length=16, choices=DwellingType, blank=True
    )
    tenure = models.CharField(_("tenure"), max_length=16, choices=Tenure, blank=True)
    water = models.CharField(_("water"), max_length=10, choices=Connection, blank=True)
    electricity = models.CharField(_("electricity"), max_length=10, choices=Connection, blank=True)
    sewage = models.CharField(_("sewage"), max_length=10, choices=Connection, blank=True)
    gas = models.CharField(_("gas"), max_length=10, choices=Connection, blank=True)
    main_income = models.CharField(
        _("main income source"), max_length=16, choices=Income, blank=True
    )
    support_relief = models.BooleanField(_("supported by the Relief Foundation"), default=False)
    support_welfare = models.BooleanField(_("supported by the Welfare Organization"), default=False)
    support_other = models.CharField(_("other support"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    vulnerability_score = models.PositiveSmallIntegerField(
        _("vulnerability score"), default=0, db_index=True
    )
    is_vulnerable = models.BooleanField(_("vulnerable"), default=False, db_index=True)
    search_key = models.CharField(max_length=600, editable=False, default="")
    import_batch = models.ForeignKey(
        "registry.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "external_id"],
                condition=~Q(external_id=""),
                name="household_unique_external_id",
            )
        ]
        indexes = [models.Index(fields=["area", "is_vulnerable"], name="household_area_vulnerable")]

    def __str__(self):
        head = getattr(self, "_head_name", None)
        return head or (f"#{self.external_id}" if self.external_id else f"#{self.pk}")


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Whoever sees one of the person's households, past or present.

        Written out rather than declared: a person in no household is
        nobody's, not even a national administrator's, while a declaration
        gives national administrators every row."""
        return self.filter(memberships__household__in=Household.objects.visible_to(user)).distinct()


class Person(VersionedModel):
    class Sex(models.TextChoices):
        FEMALE = "female", _("female")
        MALE = "male", _("male")

    class Nationality(models.TextChoices):
        IRANIAN = "iranian", _("Iranian")
        AFGHAN = "afghan", _("Afghan")
        OTHER = "other", _("other nationality")
        UNDOCUMENTED = "undocumented", _("undocumented")

    class MaritalStatus(models.TextChoices):
        SINGLE = "single", _("single")
        MARRIED = "married", _("married")
        DIVORCED = "divorced", _("divorced")
        WIDOWED = "widowed", _("widowed")

    class Education(models.TextChoices):
        NONE = "none", _("none / illiterate")
        LITERACY = "literacy", _("literacy course")
        PRIMARY = "primary", _("primary")
        LOWER_SECONDARY = "lower_secondary", _("lower secondary")
        UPPER_SECONDARY = "upper_secondary", _("upper secondary / diploma")
        HIGHER = "higher", _("higher education")

    class Employment(models.TextChoices):
        EMPLOYED = "employed", _("employed")
        DAILY_LABOUR = "daily_labour", _("daily labourer")
        UNEMPLOYED = "unemployed", _("unemployed, seeking work")
        HOMEMAKER = "homemaker", _("homemaker")
        STUDENT = "student", _("student")
        RETIRED = "retired", _("retired")
        UNABLE = "unable", _("unable to work")
        CHILD = "child", _("child")

    class Insurance(models.TextChoices):
        NONE = "none", _("none")
        HEALTH = "health", _("public health insurance")
        SOCIAL_SECURITY = "social_security", _("social security")
        ARMED_FORCES = "armed_forces", _("armed forces")
        OTHER = "other", _("other")

    # Optional: undocumented people are common. Unique when present, so an
    # exact match on the normalised code blocks a second person record.
    national_code = models.CharField(
        _("national code"), max_length=10, null=True, blank=True, unique=True
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    father_name = models.CharField(_("father's name"), max_length=100, blank=True)
    name_key = models.CharField(max_length=220, editable=False, db_index=True, default="")
    sex = models.CharField(_("sex"), max_length=8, choices=Sex, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(
        _("birth year (Jalali)"), null=True, blank=True, db_index=True
    )
    nationality = models.CharField(
        _("nationality or status"), max_length=16, choices=Nationality, default=Nationality.IRANIAN
    )
    mobile = models.CharField(_("mobile"), max_length=16, blank=True)
    marital_status = models.CharField(
        _("marital status"), max_length=10, choices=MaritalStatus, blank=True
    )
    education = models.CharField(_("education"), max_length=16, choices=Education, blank=True)
    in_school = models.BooleanField(_("enrolled in school"), null=True, blank=True)
    employment = models.CharField(_("employment"), max_length=16, choices=Employment, blank=True)
    has_disability = models.BooleanField(_("has a disability"), default=False)
    disability_note = models.CharField(_("disability"), max_length=200, blank=True)
    chronic_illness = models.BooleanField(_("chronic illness"), default=False)
    health_insurance = models.CharField(
        _("health insurance"), max_length=16, choices=Insurance, blank=True
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
        editable=False,
    )
    import_batch = models.ForeignKey(
        "registry.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["last_name", "first_name", "id"]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def age(self) -> int | None:
        """Age in whole years today (from the birth year alone when that is all we know)."""
        return jalali.age_on(jalali.to_jalali(jalali.today()), self.birth_date, self.birth_year)

    @property
    def mobile_display(self) -> str:
        return format_mobile_display(self.mobile)


class MembershipQuerySet(models.QuerySet):
    def current(self):
        return self.filter(left_on__isnull=True, end_reason="")

    def ended(self):
        return self.exclude(left_on__isnull=True, end_reason="")


class Membership(TimeStampedModel):
    """A person's place in a household over time: joined, left, moved, died.

    Rows are never deleted: an ending sets `left_on` and `end_reason`, so the
    household's history is the list of its memberships."""

    class Relation(models.TextChoices):
        HEAD = "head", _("head of household")
        SPOUSE = "spouse", _("spouse")
        CHILD = "child", _("child")
        PARENT = "parent", _("parent")
        SIBLING = "sibling", _("sibling")
        GRANDCHILD = "grandchild", _("grandchild")
        RELATIVE = "relative", _("other relative")
        OTHER = "other", _("not related")

    class EndReason(models.TextChoices):
        LEFT = "left", _("left the household")
        MOVED = "moved", _("moved away")
        DIED = "died", _("died")
        MERGED = "merged", _("duplicate record merged")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    relation = models.CharField(_("relation to head"), max_length=12, choices=Relation)
    joined_on = models.DateField(_("joined"), null=True, blank=True)
    left_on = models.DateField(_("left"), null=True, blank=True)
    end_reason = models.CharField(_("reason"), max_length=8, choices=EndReason, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("household membership")
        verbose_name_plural = _("household memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(left_on__isnull=True, end_reason=""),
                name="membership_one_current_household",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relation="head", left_on__isnull=True, end_reason=""),
                name="membership_one_current_head",
            ),
        ]

    @property
    def is_current(self):
        return self.left_on is None and not self.end_reason


class Consent(models.Model):
    class Purpose(models.TextChoices):
        REGISTRY = "registry", _("keeping the household's data in the registry")
        SHARING = "sharing", _("sharing with agencies for referrals")
        CONTACT = "contact", _("being contacted by SMS or phone")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="consents")
    given_by = models.CharField(_("given by"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose)
    given_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_on = models.DateField(_("withdrawn"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on"]

    def __str__(self):
        return f"{self.get_purpose_display()} · {self.given_by}"

    @property
    def is_active(self):
        return self.withdrawn_on is None


class VulnerabilityIndicatorQuerySet(models.QuerySet):
    manageable_by = scoped(
        ScopePaths(managed_provinces="province"),
        "Province managers edit their provinces' catalogues; national admins all.",
    )


class VulnerabilityIndicator(BilingualName, VersionedModel):
    """One indicator of a province's catalogue. `code` selects the rule in
    vulnerability.py; `weight` and `parameter` (e.g. the age from which a
    person counts as elderly) are editable by the province's managers.

    Each province has its own catalogue so that one province's weighting never
    changes another's scores; the default catalogue is written for a province
    the first time its households are scored."""

    province = models.ForeignKey(
        "geo.Area",
        verbose_name=_("province"),
        on_delete=models.CASCADE,
        related_name="vulnerability_indicators",
    )
    code = models.SlugField(_("code"), max_length=40)
    name_fa = models.CharField(_("name (Persian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    parameter = models.PositiveSmallIntegerField(_("parameter"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The agency category households with this indicator are usually referred to.
    referral_category = models.ForeignKey(
        "agencies.DemandCategory",
        null=True,
        blank=True,
        verbose_name=_("usual referral category"),
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = VulnerabilityIndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("vulnerability indicator")
        verbose_name_plural = _("vulnerability catalogue")
        ordering = ["-weight", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "code"], name="indicator_unique_code_per_province"
            )
        ]


class VulnerabilityPolicy(VersionedModel):
    """The score from which a household of the province counts as vulnerable.

    A row of its own rather than a pseudo-indicator, so the catalogue holds
    only real indicators; a province without a row uses DEFAULT_THRESHOLD."""

    DEFAULT_THRESHOLD = 3

    province = models.OneToOneField(
        "geo.Area",
        verbose_name=_("province"),
        on_delete=models.CASCADE,
        related_name="vulnerability_policy",
    )
    threshold_score = models.PositiveSmallIntegerField(
        _("vulnerable from score"), default=DEFAULT_THRESHOLD
    )

    class Meta:
        verbose_name = _("vulnerability threshold")
        verbose_name_plural = _("vulnerability thresholds")


class HouseholdVulnerability(models.Model):
    """The vulnerability groups a household currently belongs to."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="vulnerabilities"
    )
    indicator = models.ForeignKey(
        VulnerabilityIndicator, on_delete=models.CASCADE, related_name="households"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "indicator"], name="household_indicator_once"
            )
        ]

    def __str__(self):
        return f"{self.household_id}: {self.indicator_id}"


class HouseholdReferral(models.Model):
    """The link from a household to the demand that refers it to an agency.

    The demand (and its referral) carry what the agency sees; the household
    stays in the registry, visible to the office only."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="referrals")
    demand = models.OneToOneField(
        "demands.Demand", on_delete=models.CASCADE, related_name="household_link"
    )
    indicator = models.ForeignKey(
        VulnerabilityIndicator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household referral")
        verbose_name_plural = _("household referrals")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.household} → {self.demand_id}"


class NotDuplicate(models.Model):
    """Two person records that staff checked and found to be different people,
    so the possible-duplicates list stops suggesting them. `first` has the
    lower id."""

    first = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="not_duplicate_once"),
            models.CheckConstraint(
                condition=Q(first__lt=models.F("second")), name="not_duplicate_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.first_id} ≠ {self.second_id}"


class PersonalDataAccess(models.Model):
    """Who read a person's personal page, and when."""

    class Via(models.TextChoices):
        PAGE = "page", _("person page")
        HOUSEHOLD = "household", _("household page")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="accesses")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    via = models.CharField(max_length=20, choices=Via, default=Via.PAGE)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.user_id} → {self.person_id} ({self.at:%Y-%m-%d %H:%M})"
