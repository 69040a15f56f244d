from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .models import Role
from .scopes import scope_of

# (url name, label, roles that see it; None = every signed-in user)
NAV = [
    ("demands:list", _("Demands"), {Role.PROVINCE_MANAGER, Role.OFFICE_MANAGER, Role.FACILITATOR}),
    ("demands:referrals", _("Referrals"), {Role.AGENCY_LIAISON}),
    (
        "registry:households",
        _("Households"),
        {Role.PROVINCE_MANAGER, Role.OFFICE_MANAGER, Role.FACILITATOR},
    ),
    ("registry:stats", _("Registry statistics"), {Role.ANALYST}),
    ("offices:network", _("Network"), {Role.PROVINCE_MANAGER, Role.ANALYST}),
    (
        "offices:list",
        _("Offices"),
        {Role.PROVINCE_MANAGER, Role.OFFICE_MANAGER, Role.FACILITATOR, Role.ANALYST},
    ),
    (
        "geo:list",
        _("Areas"),
        {Role.PROVINCE_MANAGER, Role.OFFICE_MANAGER, Role.FACILITATOR, Role.ANALYST},
    ),
    ("agencies:list", _("Agencies"), None),
    (
        "agencies:categories",
        _("Categories and routing"),
        {Role.PROVINCE_MANAGER, Role.OFFICE_MANAGER},
    ),
    ("system:calendar", _("Working calendar"), {Role.PROVINCE_MANAGER}),
    ("system:audit", _("Audit log"), {Role.PROVINCE_MANAGER, Role.OFFICE_MANAGER}),
    ("accounts:province_security", _("Login rules"), {Role.PROVINCE_MANAGER}),
    ("admin:index", _("Administration"), {Role.NATIONAL_ADMIN}),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_of(user)
    items = []
    for name, label, roles in NAV:
        if roles is not None and not scope.has(*roles):
            continue
        if name == "admin:index" and not scope.is_national:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append(
            {"url": url, "label": label, "active": request.path.startswith(url) and url != "/"}
        )
    return {"scope": scope, "nav_items": items}
