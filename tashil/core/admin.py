from django.contrib import admin

from .models import AuditLog, Closure, Holiday, WeekendRule


def national_admin_only(request) -> bool:
    """The Django admin is a configuration tool for national administrators only."""
    from tashil.accounts.scopes import scope_of

    user = request.user
    return bool(user.is_active and user.is_staff and scope_of(user).is_national)


admin.site.has_permission = national_admin_only
admin.site.site_header = "Tashil · تسهیل"


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


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
