from django.contrib import admin

from .models import Agency, DemandCategory, RoutingRule


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fa", "short_name", "province", "is_active"]
    search_fields = ["code", "name_fa", "name_en", "short_name"]
    filter_horizontal = ["jurisdiction"]
    readonly_fields = ["version"]

    def save_model(self, request, obj, form, change):
        obj.refresh_derived_fields()
        super().save_model(request, obj, form, change)


@admin.register(DemandCategory)
class DemandCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fa", "parent", "sla_working_days", "is_active"]
    search_fields = ["code", "name_fa", "name_en"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "area", "agency"]
    list_filter = ["agency"]
    autocomplete_fields = ["category", "area", "agency"]
