from django.db import models
from django.utils.translation import gettext_lazy as _

from tashil.accounts.scopes import ScopePaths, scoped
from tashil.core.models import BilingualName, TimeStampedModel, VersionedModel
from tashil.core.text import search_key

# Liaisons see their own agency; everyone else working in a province sees its agencies.
AGENCY_READERS = ScopePaths(
    agencies="pk",
    managed_provinces="province",
    analysed_provinces="province",
    staffed_provinces="province",
)


class AgencyQuerySet(models.QuerySet):
    visible_to = scoped(AGENCY_READERS)
    manageable_by = scoped(ScopePaths(managed_provinces="province"))

    def with_list_data(self):
        return self.select_related("province").annotate(
            jurisdiction_count=models.Count("jurisdiction", distinct=True)
        )


class Agency(BilingualName, VersionedModel):
    """An executive agency (دستگاه اجرایی) that demands are referred to."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_fa = models.CharField(_("name (Persian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    province = models.ForeignKey(
        "geo.Area",
        verbose_name=_("province"),
        on_delete=models.PROTECT,
        related_name="province_agencies",
    )
    jurisdiction = models.ManyToManyField(
        "geo.Area", verbose_name=_("areas served"), blank=True, related_name="agencies"
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    search_key = models.CharField(max_length=400, editable=False, db_index=True, default="")

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name_fa"]

    def refresh_derived_fields(self):
        self.search_key = search_key(f"{self.name_fa} {self.name_en} {self.short_name}")


class DemandCategoryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def leaves(self):
        return self.filter(children__isnull=True)


class DemandCategory(BilingualName, TimeStampedModel):
    """A node of the demand category tree (water → drinking water, …)."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_fa = models.CharField(_("name (Persian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    sla_working_days = models.PositiveSmallIntegerField(
        _("answer time (working days)"),
        default=10,
        help_text=_("Default deadline for an agency's answer."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = DemandCategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("demand category")
        verbose_name_plural = _("demand categories")
        ordering = ["sort_order", "code"]


class RoutingRuleQuerySet(models.QuerySet):
    visible_to = scoped(AGENCY_READERS.under("agency"))


class RoutingRule(TimeStampedModel):
    """category × area → the agency responsible. The most specific rule wins:
    the deepest area, then the most specific category."""

    category = models.ForeignKey(
        DemandCategory,
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="routing_rules",
    )
    area = models.ForeignKey(
        "geo.Area", verbose_name=_("area"), on_delete=models.CASCADE, related_name="routing_rules"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="routing_rules"
    )

    objects = RoutingRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing table")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "area"], name="routing_unique_category_area"
            )
        ]

    def __str__(self):
        return f"{self.category} · {self.area} → {self.agency}"
