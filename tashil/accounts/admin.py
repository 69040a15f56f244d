from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from .models import ProvinceSecurity, RoleMembership, User
from .two_factor import forget_province_rules


def admin_login(request, extra_context=None):
    """The admin has no login form of its own: it uses the site's, with the
    password step, the two-factor step and the throttle."""
    return redirect_to_login(
        request.GET.get("next") or reverse("admin:index"), login_url=reverse("accounts:login")
    )


admin.site.login = admin_login


class RoleMembershipInline(admin.TabularInline):
    model = RoleMembership
    extra = 0
    autocomplete_fields = ["office", "agency"]
    fields = ["role", "province", "office", "agency", "title", "is_active"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [RoleMembershipInline]
    fieldsets = BaseUserAdmin.fieldsets + ((None, {"fields": ["mobile", "preferred_language"]}),)
    list_display = ["username", "first_name", "last_name", "is_active", "is_staff"]


@admin.register(RoleMembership)
class RoleMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "province", "office", "agency", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__last_name"]


@admin.register(ProvinceSecurity)
class ProvinceSecurityAdmin(admin.ModelAdmin):
    list_display = ["province", "require_two_factor", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def save_model(self, request, obj, form, change):
        from django.db import transaction

        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        forget_province_rules()
        transaction.on_commit(forget_province_rules)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        forget_province_rules()
