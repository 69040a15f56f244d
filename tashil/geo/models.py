from django.db import models
from django.utils.translation import gettext_lazy as _

from tashil.accounts.scopes import ScopePaths, Subtree, scope_of, scoped
from tashil.core.models import BilingualName
from tashil.core.text import search_key

# Whoever works in a province sees its whole subtree.
AREA_READERS = ScopePaths(provinces=Subtree("path"))
MANAGED_PROVINCES = ScopePaths(managed_provinces="pk")


class AreaQuerySet(models.QuerySet):
    visible_to = scoped(AREA_READERS)

    def provinces_managed_by(self, user):
        """The provinces whose areas, offices, agencies and calendar the user manages."""
        return scope_of(user).filter(self.filter(level=Area.Level.PROVINCE), MANAGED_PROVINCES)

    def descendants_of(self, area, include_self=True):
        qs = self.filter(path__startswith=area.path)
        return qs if include_self else qs.exclude(pk=area.pk)

    def neighbourhoods(self):
        return self.filter(level=Area.Level.NEIGHBOURHOOD)


class Area(BilingualName):
    """A node of the area tree: province → county → city → neighbourhood.

    `path` is the materialised chain of codes ("KHZ/AHV/AHV-C/ZOV/") so that a
    subtree is one indexed prefix query on SQLite and PostgreSQL alike."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("province")
        COUNTY = "county", _("county")
        CITY = "city", _("city")
        NEIGHBOURHOOD = "neighbourhood", _("neighbourhood")

    LEVEL_ORDER = [Level.PROVINCE, Level.COUNTY, Level.CITY, Level.NEIGHBOURHOOD]

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.CharField(_("level"), max_length=16, choices=Level)
    code = models.SlugField(_("code"), max_length=64, unique=True)
    path = models.CharField(max_length=512, unique=True, editable=False)
    name_fa = models.CharField(_("name (Persian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    search_key = models.CharField(max_length=400, editable=False, db_index=True)
    population = models.PositiveIntegerField(_("population (estimate)"), null=True, blank=True)
    households = models.PositiveIntegerField(_("households (estimate)"), null=True, blank=True)
    is_marginal = models.BooleanField(_("deprived or informal settlement"), default=False)
    # GeoJSON geometry (Polygon or MultiPolygon) in WGS84, plus a centroid.
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    centroid_lat = models.FloatField(_("latitude"), null=True, blank=True)
    centroid_lng = models.FloatField(_("longitude"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]

    @property
    def depth(self):
        return self.path.count("/") - 1

    def build_path(self):
        prefix = self.parent.path if self.parent_id else ""
        return f"{prefix}{self.code}/"

    def province_id_from_path(self):
        return self.path.split("/", 1)[0]

    def refresh_derived_fields(self):
        self.path = self.build_path()
        self.search_key = search_key(f"{self.name_fa} {self.name_en}")


class HazardZoneQuerySet(models.QuerySet):
    visible_to = scoped(AREA_READERS.under("area"))


class HazardZone(BilingualName):
    class HazardType(models.TextChoices):
        FLOOD = "flood", _("flood")
        SUBSIDENCE = "subsidence", _("subsidence")
        POWER_LINE = "power_line", _("high-voltage power line corridor")
        PIPELINE = "pipeline", _("oil or gas pipeline corridor")
        RIVERBANK = "riverbank", _("riverbank")
        INDUSTRIAL = "industrial", _("industrial hazard")
        OTHER = "other", _("other")

    class RiskLevel(models.IntegerChoices):
        LOW = 1, _("low")
        MEDIUM = 2, _("medium")
        HIGH = 3, _("high")
        SEVERE = 4, _("severe")

    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="hazard_zones"
    )
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_fa = models.CharField(_("name (Persian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    hazard_type = models.CharField(_("hazard type"), max_length=32, choices=HazardType)
    risk_level = models.PositiveSmallIntegerField(_("risk level"), choices=RiskLevel)
    boundary = models.JSONField(_("boundary (GeoJSON)"))
    centroid_lat = models.FloatField(_("latitude"), null=True, blank=True)
    centroid_lng = models.FloatField(_("longitude"), null=True, blank=True)
    households_estimate = models.PositiveIntegerField(
        _("households (estimate)"), null=True, blank=True
    )
    description = models.TextField(_("description"), blank=True)

    objects = HazardZoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("hazard zone")
        verbose_name_plural = _("hazard zones")
        ordering = ["code"]
