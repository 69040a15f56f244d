from django.contrib import admin

from tashil.core.admin import DerivedFieldsAdmin

from .models import Area, HazardZone


@admin.register(Area)
class AreaAdmin(DerivedFieldsAdmin):
    list_display = ["code", "name_fa", "name_en", "level", "population", "is_marginal"]
    list_filter = ["level", "is_marginal"]
    search_fields = ["code", "name_fa", "name_en", "search_key"]


@admin.register(HazardZone)
class HazardZoneAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fa", "hazard_type", "risk_level", "area"]
    autocomplete_fields = ["area"]
