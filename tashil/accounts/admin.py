from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import RoleMembership, User


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
