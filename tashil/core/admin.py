from django.contrib import admin

from .models import Closure, Holiday, WeekendRule


class ReadOnlyAdmin(admin.ModelAdmin):
    """For logs that are evidence: shown, never added, changed or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DerivedFieldsAdmin(admin.ModelAdmin):
    """Recomputes the fields derived from the others (search keys and the
    like) before saving, as the services do."""

    def save_model(self, request, obj, form, change):
        obj.refresh_derived_fields()
        super().save_model(request, obj, form, change)


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
