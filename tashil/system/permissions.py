"""Who may use the /system/ pages: the working calendar and the audit log."""

from tashil.accounts.models import Role
from tashil.accounts.scopes import ScopePaths, scope_of

# Province managers read their provinces' audit rows, office managers their offices'.
AUDIT_READERS = ScopePaths(managed_provinces="province", managed_offices="office")


def can_browse_audit(user) -> bool:
    return scope_of(user).has(Role.PROVINCE_MANAGER, Role.OFFICE_MANAGER)


def can_correct_holidays(user) -> bool:
    """Official holidays are national: only national administrators correct them."""
    return scope_of(user).is_national


def can_manage_calendar(user, province_id) -> bool:
    """Closures and weekend rules of a province: its managers and national admins."""
    return scope_of(user).manages_province(province_id)
