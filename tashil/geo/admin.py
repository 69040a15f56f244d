from django.contrib import admin

from .models import Area, HazardZone


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fa", "name_en", "level", "population", "is_marginal"]
    list_filter = ["level", "is_marginal"]
    search_fields = ["code", "name_fa", "name_en", "search_key"]

    def save_model(self, request, obj, form, change):
        obj.refresh_derived_fields()
        super().save_model(request, obj, form, change)


@admin.register(HazardZone)
class HazardZoneAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fa", "hazard_type", "risk_level", "area"]
    autocomplete_fields = ["area"]
