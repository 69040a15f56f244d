"""The one place that answers "what may this user see?".

`scope_of(user)` reads the user's active memberships once per request. The
`Scope` it returns answers questions (`manages_province(id)`,
`staffs_office(id)` …) and turns a model's declared `ScopePaths` into a
queryset filter, so HTML pages, the API and exports share one definition of
a user's reach.

The scope reads the provinces of offices and agencies through the membership
joins, so this module imports no model of the apps above it."""

from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Q

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
    # Provinces of the offices the user staffs and of the agencies they liaise for.
    staffed_province_ids: frozenset = frozenset()
    liaison_province_ids: frozenset = frozenset()
    office_ids: frozenset = frozenset()
    managed_office_ids: frozenset = frozenset()
    agency_ids: frozenset = frozenset()
    role_pairs: frozenset = field(default_factory=frozenset)

    def has(self, *roles) -> bool:
        return self.is_national or any(r in self.roles for r in roles)

    @property
    def is_staff_of_office(self) -> bool:
        return bool(self.office_ids)

    # --- Questions. "manages" includes national administrators; "staffs" and
    # "liaises" are facts about the user's own memberships.

    def manages_province(self, province_id) -> bool:
        return self.is_national or province_id in self.managed_province_ids

    @property
    def manages_any_province(self) -> bool:
        return self.is_national or bool(self.managed_province_ids)

    def analyses_province(self, province_id) -> bool:
        return province_id in self.analyst_province_ids

    def works_in_province(self, province_id) -> bool:
        return self.is_national or province_id in self.province_ids

    def staffs_office(self, office_id) -> bool:
        return office_id is not None and office_id in self.office_ids

    def manages_office(self, office_id) -> bool:
        """The office manager's role (national administrators too)."""
        return self.is_national or (office_id is not None and office_id in self.managed_office_ids)

    def works_on_office(self, office_id, province_id) -> bool:
        """Staff of the office, or manager of the province it stands in."""
        return self.staffs_office(office_id) or self.manages_province(province_id)

    def liaises_agency(self, agency_id) -> bool:
        return agency_id is not None and agency_id in self.agency_ids

    @property
    def works_on_records(self) -> bool:
        """Office staff, province managers and national administrators work
        on demand and household rows; liaisons and analysts do not."""
        return self.is_national or bool(self.office_ids or self.managed_province_ids)

    # --- Filters

    def filter(self, queryset, paths: "ScopePaths"):
        """`queryset` narrowed to the rows `paths` lets this scope reach."""
        if self.is_national:
            return queryset
        q = paths.q(self)
        if q is None:
            return queryset.none()
        queryset = queryset.filter(q)
        return queryset.distinct() if paths.distinct else queryset


EMPTY = Scope()


@dataclass(frozen=True)
class Subtree:
    """A path to an area's materialised `path`: the row is reached when its
    area lies under one of the scope's provinces."""

    path: str

    def prefixed(self, prefix: str) -> "Subtree":
        return Subtree(f"{prefix}__{self.path}")

    def q(self, province_ids) -> Q:
        # The area model is looked up, not imported: geo's models declare
        # their paths with this module.
        area = apps.get_model("geo", "Area")
        q = Q(pk__in=[])
        for prefix in area.objects.filter(pk__in=province_ids).values_list("path", flat=True):
            q |= Q(**{f"{self.path}__startswith": prefix})
        return q


class ScopePaths:
    """Which reach of a scope meets which lookup path of a model.

    Each keyword names one reach of the scope (a set of ids) and the path
    from the model's row to that kind of id; a row is visible when any
    declared path meets its reach. `distinct` is for paths that cross a
    to-many relation. For example, a demand is seen by its office's staff and
    its province's managers:

        ScopePaths(offices="office", managed_provinces="province")
    """

    REACHES = {
        "offices": "office_ids",
        "managed_offices": "managed_office_ids",
        "agencies": "agency_ids",
        "managed_provinces": "managed_province_ids",
        "analysed_provinces": "analyst_province_ids",
        "staffed_provinces": "staffed_province_ids",
        "liaison_provinces": "liaison_province_ids",
        "provinces": "province_ids",
    }

    def __init__(self, *, distinct: bool = False, **paths):
        unknown = set(paths) - set(self.REACHES)
        if unknown:
            raise TypeError(f"Unknown scope reach: {', '.join(sorted(unknown))}")
        if not paths:
            raise TypeError("ScopePaths needs at least one path.")
        self.paths = paths
        self.distinct = distinct

    def __repr__(self):
        return f"ScopePaths({self.paths!r}, distinct={self.distinct})"

    def under(self, prefix: str, *, distinct: bool | None = None) -> "ScopePaths":
        """The same rule seen from a model that points at this one by `prefix`."""
        paths = {
            reach: path.prefixed(prefix) if isinstance(path, Subtree) else f"{prefix}__{path}"
            for reach, path in self.paths.items()
        }
        return ScopePaths(distinct=self.distinct if distinct is None else distinct, **paths)

    def q(self, scope: Scope) -> Q | None:
        """The filter for a non-national scope; None when nothing is reached."""
        q = None
        for reach, path in self.paths.items():
            ids = getattr(scope, self.REACHES[reach])
            if not ids:
                continue
            part = path.q(ids) if isinstance(path, Subtree) else Q(**{f"{path}__in": ids})
            q = part if q is None else q | part
        return q


def scoped(paths: ScopePaths, doc: str = ""):
    """A QuerySet method `(self, user)` that keeps the rows `paths` lets the
    user reach. Declared as `visible_to = scoped(ScopePaths(...))`."""

    def method(self, user):
        return scope_of(user).filter(self, paths)

    method.paths = paths
    method.__doc__ = doc or f"Rows reached by the user's scope through {paths!r}."
    return method


def scope_of(user) -> Scope:
    """Compute (once per user object) the scope of an authenticated user."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return EMPTY
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached

    rows = list(
        user.memberships.filter(is_active=True).values_list(
            "role",
            "province_id",
            "office_id",
            "agency_id",
            "office__province_id",
            "agency__province_id",
        )
    )
    roles = {r[0] for r in rows}
    is_national = Role.NATIONAL_ADMIN in roles or user.is_superuser
    managed_provinces = {r[1] for r in rows if r[0] == Role.PROVINCE_MANAGER}
    analyst_provinces = {r[1] for r in rows if r[0] == Role.ANALYST}
    staff_rows = [r for r in rows if r[2] and r[0] in (Role.OFFICE_MANAGER, Role.FACILITATOR)]
    offices = {r[2] for r in staff_rows}
    managed_offices = {r[2] for r in staff_rows if r[0] == Role.OFFICE_MANAGER}
    liaison_rows = [r for r in rows if r[3] and r[0] == Role.AGENCY_LIAISON]
    agencies = {r[3] for r in liaison_rows}
    staffed_provinces = {r[4] for r in staff_rows}
    liaison_provinces = {r[5] for r in liaison_rows}

    scope = Scope(
        is_national=is_national,
        roles=frozenset(roles),
        province_ids=frozenset(
            managed_provinces | analyst_provinces | staffed_provinces | liaison_provinces
        ),
        managed_province_ids=frozenset(managed_provinces),
        analyst_province_ids=frozenset(analyst_provinces),
        staffed_province_ids=frozenset(staffed_provinces),
        liaison_province_ids=frozenset(liaison_provinces),
        office_ids=frozenset(offices),
        managed_office_ids=frozenset(managed_offices),
        agency_ids=frozenset(agencies),
        role_pairs=frozenset(r[:4] for r in rows),
    )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user) -> None:
    """Drop the cached scope after the user's memberships change."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
