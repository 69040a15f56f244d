from django.contrib import admin

from .models import Office, Operator


@admin.register(Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ["name_fa", "name_en", "kind"]
    search_fields = ["name_fa", "name_en"]


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fa", "status", "opened_on", "province", "operator"]
    list_filter = ["status", "province"]
    search_fields = ["code", "name_fa", "name_en"]
    filter_horizontal = ["areas"]
    readonly_fields = ["version"]
