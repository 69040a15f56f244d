from django.contrib import admin

from tashil.core.admin import ReadOnlyAdmin

from .models import (
    Consent,
    Household,
    HouseholdReferral,
    Membership,
    Person,
    PersonalDataAccess,
    VulnerabilityIndicator,
    VulnerabilityPolicy,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["person"]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "external_id",
        "office",
        "area",
        "vulnerability_score",
        "is_vulnerable",
        "updated_at",
    ]
    list_filter = ["is_vulnerable", "office"]
    search_fields = ["external_id", "search_key"]
    raw_id_fields = ["area", "office", "created_by"]
    readonly_fields = [
        "version",
        "vulnerability_score",
        "is_vulnerable",
        "hazard_zone",
        "search_key",
    ]
    inlines = [MembershipInline]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["pk", "first_name", "last_name", "birth_year", "nationality", "merged_into"]
    search_fields = ["name_key", "national_code"]
    readonly_fields = ["version", "name_key", "merged_into"]


@admin.register(VulnerabilityIndicator)
class VulnerabilityIndicatorAdmin(admin.ModelAdmin):
    list_display = ["code", "province", "name_fa", "weight", "parameter", "is_active"]
    list_filter = ["province", "is_active"]
    readonly_fields = ["version"]


@admin.register(VulnerabilityPolicy)
class VulnerabilityPolicyAdmin(admin.ModelAdmin):
    list_display = ["province", "threshold_score"]
    readonly_fields = ["version"]


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["household", "purpose", "given_by", "given_on", "withdrawn_on"]
    raw_id_fields = ["household", "recorded_by"]


@admin.register(HouseholdReferral)
class HouseholdReferralAdmin(admin.ModelAdmin):
    list_display = ["household", "demand", "indicator", "created_at"]
    raw_id_fields = ["household", "demand", "indicator", "created_by"]


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    """Read-only: the access log is evidence and must not be edited."""

    list_display = ["at", "user", "person", "via"]
    list_filter = ["via"]
    raw_id_fields = ["user", "person"]
