from django.contrib import admin

from .models import Closure, Holiday, WeekendRule


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name_fa", "name_en", "is_estimated", "source", "is_active"]
    list_filter = ["is_estimated", "source", "is_active"]
    search_fields = ["name_fa", "name_en"]
    date_hierarchy = "date"


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["start_date", "end_date", "province", "reason"]
    list_filter = ["province"]


@admin.register(WeekendRule)
class WeekendRuleAdmin(admin.ModelAdmin):
    list_display = ["valid_from", "province", "weekdays", "note"]
