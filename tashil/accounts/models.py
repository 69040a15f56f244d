from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    mobile = models.CharField(
        _("mobile"), max_length=16, blank=True, help_text=_("Stored as E.164.")
    )
    preferred_language = models.CharField(
        _("language"), max_length=8, choices=[("fa", "فارسی"), ("en", "English")], default="fa"
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.username


class Role(models.TextChoices):
    NATIONAL_ADMIN = "national_admin", _("national administrator")
    PROVINCE_MANAGER = "province_manager", _("province manager")
    OFFICE_MANAGER = "office_manager", _("office manager")
    FACILITATOR = "facilitator", _("facilitator")
    AGENCY_LIAISON = "agency_liaison", _("agency liaison")
    ANALYST = "analyst", _("analyst")


# Which scope column each role is held in. national_admin holds no scope.
ROLE_SCOPE = {
    Role.NATIONAL_ADMIN: None,
    Role.PROVINCE_MANAGER: "province",
    Role.ANALYST: "province",
    Role.OFFICE_MANAGER: "office",
    Role.FACILITATOR: "office",
    Role.AGENCY_LIAISON: "agency",
}
SCOPE_FIELDS = ("province", "office", "agency")


class RoleMembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True, user__is_active=True)

    def staff_of(self, office):
        return (
            self.active()
            .filter(office=office)
            .select_related("user")
            .order_by("role", "user__last_name")
        )


def _scope_column(to, label, related_name="memberships"):
    """One of the scope columns (SCOPE_FIELDS): at most the one its role needs is
    set, and the membership goes with what it scopes."""
    return models.ForeignKey(
        to,
        verbose_name=label,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name=related_name,
    )


class RoleMembership(models.Model):
    """A role a user holds within one scope. An office-scoped membership is
    also that person's place on the office's staff."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role)
    province = _scope_column("geo.Area", _("province"), related_name="+")
    office = _scope_column("offices.Office", _("office"))
    agency = _scope_column("agencies.Agency", _("agency"))
    title = models.CharField(_("job title"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RoleMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("role membership")
        verbose_name_plural = _("role memberships")
        # One constraint per scope column: NULLs are distinct in unique indexes,
        # and SQLite has no NULLS NOT DISTINCT.
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", scope],
                condition=models.Q(**{f"{scope}__isnull": False}),
                name=f"membership_unique_{scope}_role",
            )
            for scope in SCOPE_FIELDS
        ] + [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(province__isnull=True, office__isnull=True, agency__isnull=True),
                name="membership_unique_unscoped_role",
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.scope_object or ''}"

    @property
    def scope_object(self):
        field = ROLE_SCOPE.get(self.role)
        return getattr(self, field) if field else None

    def clean(self):
        field = ROLE_SCOPE.get(self.role)
        for name in SCOPE_FIELDS:
            has_value = getattr(self, f"{name}_id") is not None
            if name == field and not has_value:
                raise ValidationError(
                    {name: _("This role is held within a %(scope)s.") % {"scope": _(name)}}
                )
            if name != field and has_value:
                raise ValidationError(
                    {name: _("This role does not take a %(scope)s.") % {"scope": _(name)}}
                )
        if field == "province" and self.province and self.province.level != "province":
            raise ValidationError({"province": _("Choose an area at province level.")})


class LoginAttempt(models.Model):
    """Failed logins, for throttling by account and address (accounts.throttle)."""

    class Step(models.TextChoices):
        PASSWORD = "password", _("password")
        CODE = "code", _("two-factor code")

    username = models.CharField(max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    step = models.CharField(max_length=8, choices=Step, default=Step.PASSWORD)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return f"{self.username} @ {self.at:%Y-%m-%d %H:%M}"


class ApiKey(models.Model):
    """A key for machine clients (Open311 apps, partner systems). Only a hash
    is stored; the key itself is shown once when it is created."""

    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key: str) -> str:
        import hashlib

        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def create(cls, *, name: str, raw_key: str | None = None) -> tuple["ApiKey", str]:
        import secrets

        raw_key = raw_key or secrets.token_urlsafe(32)
        return cls.objects.create(
            name=name, prefix=raw_key[:8], key_hash=cls.hash(raw_key)
        ), raw_key

    @classmethod
    def authenticate(cls, raw_key: str | None) -> "ApiKey | None":
        if not raw_key:
            return None
        return cls.objects.filter(key_hash=cls.hash(raw_key), is_active=True).first()


class ProvinceSecurity(models.Model):
    """Login rules a province sets for everyone who works in it. With
    `require_two_factor`, every staff account with a role in the province
    (its managers and analysts, its offices' staff, its agencies' liaisons)
    must set up two-factor login before using the system."""

    province = models.OneToOneField(
        "geo.Area",
        verbose_name=_("province"),
        on_delete=models.CASCADE,
        related_name="security",
        limit_choices_to={"level": "province"},
    )
    require_two_factor = models.BooleanField(_("require two-factor login"), default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("province login rules")
        verbose_name_plural = _("province login rules")

    def __str__(self):
        return str(self.province)

    def clean(self):
        if self.province_id and self.province.level != "province":
            raise ValidationError({"province": _("Choose an area at province level.")})
