from django.db import models
from django.utils.translation import gettext_lazy as _

from tashil.accounts.scopes import ScopePaths, scoped
from tashil.core.models import BilingualName, TimeStampedModel, VersionedModel


class Operator(BilingualName, TimeStampedModel):
    """The company, institute or NGO (مجری) that runs offices under contract."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("company")
        INSTITUTE = "institute", _("institute")
        NGO = "ngo", _("NGO")

    name_fa = models.CharField(_("name (Persian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    registration_number = models.CharField(_("registration number"), max_length=40, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        ordering = ["name_fa"]


class OfficeQuerySet(models.QuerySet):
    # Staff see their own offices; managers and analysts their provinces'; a
    # liaison the offices of the province their agency serves.
    visible_to = scoped(
        ScopePaths(
            offices="pk",
            managed_provinces="province",
            analysed_provinces="province",
            liaison_provinces="province",
        )
    )
    manageable_by = scoped(
        ScopePaths(managed_provinces="province"),
        "Offices whose record (not only staff) the user may edit.",
    )
    worked_on_by = scoped(
        ScopePaths(offices="pk", managed_provinces="province"),
        "Offices whose demands and households the user works on: their own, and their provinces'.",
    )

    def with_list_data(self):
        return self.select_related("province", "operator").annotate(
            area_count=models.Count("areas", distinct=True)
        )


class Office(BilingualName, VersionedModel):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        PILOT = "pilot", _("pilot")
        ACTIVE = "active", _("active")
        SUSPENDED = "suspended", _("suspended")
        CLOSED = "closed", _("closed")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_fa = models.CharField(_("name (Persian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    province = models.ForeignKey(
        "geo.Area",
        verbose_name=_("province"),
        on_delete=models.PROTECT,
        related_name="province_offices",
    )
    county = models.ForeignKey(
        "geo.Area",
        verbose_name=_("county"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="county_offices",
    )
    operator = models.ForeignKey(
        Operator,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="offices",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PLANNED)
    opened_on = models.DateField(_("opening date"), null=True, blank=True)
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    areas = models.ManyToManyField(
        "geo.Area", verbose_name=_("areas served"), blank=True, related_name="offices"
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = OfficeQuerySet.as_manager()

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["province", "name_fa"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contract_end__isnull=True)
                | models.Q(contract_start__isnull=True)
                | models.Q(contract_end__gte=models.F("contract_start")),
                name="office_contract_end_after_start",
            )
        ]
