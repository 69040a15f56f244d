"""The one place that answers "what may this user see?".

Every `visible_to(user)` QuerySet method starts from `scope_of(user)`, so HTML
pages, the API and exports share one definition of a user's reach."""

from dataclasses import dataclass, field

from .models import Role

_CACHE_ATTR = "_tashil_scope"


@dataclass(frozen=True)
class Scope:
    is_national: bool = False
    roles: frozenset = frozenset()
    # Provinces the user works in, whatever the role: derived from offices and agencies too.
    province_ids: frozenset = frozenset()
    # Provinces where the user manages (province_manager) or analyses (analyst).
    managed_province_ids: frozenset = frozenset()
    analyst_province_ids: frozenset = frozenset()
    office_ids: frozenset = frozenset()
    managed_office_ids: frozenset = frozenset()
    agency_ids: frozenset = frozenset()
    role_pairs: frozenset = field(default_factory=frozenset)

    def has(self, *roles) -> bool:
        return self.is_national or any(r in self.roles for r in roles)

    @property
    def is_staff_of_office(self) -> bool:
        return bool(self.office_ids)


EMPTY = Scope()


def scope_of(user) -> Scope:
    """Compute (once per user object) the scope of an authenticated user."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return EMPTY
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached

    from tashil.agencies.models import Agency
    from tashil.offices.models import Office

    rows = list(
        user.memberships.filter(is_active=True).values_list(
            "role", "province_id", "office_id", "agency_id"
        )
    )
    roles = {r[0] for r in rows}
    is_national = Role.NATIONAL_ADMIN in roles or user.is_superuser
    managed_provinces = {p for role, p, _o, _a in rows if role == Role.PROVINCE_MANAGER}
    analyst_provinces = {p for role, p, _o, _a in rows if role == Role.ANALYST}
    offices = {
        o for role, _p, o, _a in rows if o and role in (Role.OFFICE_MANAGER, Role.FACILITATOR)
    }
    managed_offices = {o for role, _p, o, _a in rows if o and role == Role.OFFICE_MANAGER}
    agencies = {a for role, _p, _o, a in rows if a and role == Role.AGENCY_LIAISON}

    provinces = set(managed_provinces) | analyst_provinces
    if offices:
        provinces |= set(
            Office.objects.filter(pk__in=offices).values_list("province_id", flat=True)
        )
    if agencies:
        provinces |= set(
            Agency.objects.filter(pk__in=agencies).values_list("province_id", flat=True)
        )

    scope = Scope(
        is_national=is_national,
        roles=frozenset(roles),
        province_ids=frozenset(provinces),
        managed_province_ids=frozenset(managed_provinces),
        analyst_province_ids=frozenset(analyst_provinces),
        office_ids=frozenset(offices),
        managed_office_ids=frozenset(managed_offices),
        agency_ids=frozenset(agencies),
        role_pairs=frozenset(rows),
    )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user) -> None:
    """Drop the cached scope after the user's memberships change."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
