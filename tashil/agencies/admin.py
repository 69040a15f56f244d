from django.contrib import admin

from tashil.core.admin import DerivedFieldsAdmin

from .models import Agency, DemandCategory, RoutingRule


@admin.register(Agency)
class AgencyAdmin(DerivedFieldsAdmin):
    list_display = ["code", "name_fa", "short_name", "province", "is_active"]
    search_fields = ["code", "name_fa", "name_en", "short_name"]
    filter_horizontal = ["jurisdiction"]
    readonly_fields = ["version"]


@admin.register(DemandCategory)
class DemandCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fa", "parent", "sla_working_days", "is_active"]
    search_fields = ["code", "name_fa", "name_en"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "area", "agency"]
    list_filter = ["agency"]
    autocomplete_fields = ["category", "area", "agency"]
