"""The Django admin's gate (national administrators only) and the audit log
in the admin, shown by the same rule as the log page."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device

from tashil.accounts.scopes import scope_of
from tashil.core.admin import ReadOnlyAdmin
from tashil.core.models import AuditLog

from .audit import present


def national_admin_only(request) -> bool:
    """The Django admin is a configuration tool for national administrators only."""
    user = request.user
    if not (user.is_active and user.is_staff and scope_of(user).is_national):
        return False
    # An account with two-factor login uses the admin only from a session
    # that passed the code step.
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is None or is_verified() or not user_has_device(user))


admin.site.has_permission = national_admin_only
admin.site.site_header = "Tashil · تسهیل"


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """Shows rows by the same rule as the log page (tashil.system.audit.present)."""

    list_display = ["at", "actor", "action", "object_type", "shown_object"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "action"]
    fields = ["at", "actor", "action", "object_type", "object_id", "shown_object", "shown_changes"]
    readonly_fields = fields

    def get_queryset(self, request):
        self._viewer = request.user
        return super().get_queryset(request).select_related("actor")

    def _row(self, obj):
        return present([obj], self._viewer)[0]

    @admin.display(description=_("object"))
    def shown_object(self, obj):
        return self._row(obj)["object"]

    @admin.display(description=_("changes"))
    def shown_changes(self, obj):
        lines = []
        for change in self._row(obj)["changes"]:
            if change["withheld"]:
                lines.append(f"{change['field']}: {_('changed (not shown in the log)')}")
            else:
                lines.append(f"{change['field']}: {change['old']} → {change['new']}")
        return "\n".join(lines)
