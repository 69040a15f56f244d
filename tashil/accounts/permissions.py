"""Who may change account-wide security rules."""

from .models import Role
from .scopes import scope_of


def can_open_province_security(user) -> bool:
    """The province security page is the province managers' (national admins too)."""
    return scope_of(user).has(Role.PROVINCE_MANAGER)


def can_set_province_security(user, province) -> bool:
    """Whether everyone working in `province` must use two-factor login."""
    return province.level == "province" and scope_of(user).manages_province(province.pk)
