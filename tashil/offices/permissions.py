"""Who may do what to offices, operators and office staff, and the one way
to fetch an office for a user.

- national admin and the province manager of the office's province manage the
  office record, its status, its areas and all of its staff;
- an office manager manages the facilitators of their own office, and nothing
  else (not the office record, not other managers);
- facilitators, liaisons and analysts manage nothing here.
"""

from django.shortcuts import get_object_or_404

from tashil.accounts.models import Role
from tashil.accounts.scopes import scope_of
from tashil.geo.models import Area

from .models import Office, Operator

STAFF_ROLES = (Role.OFFICE_MANAGER, Role.FACILITATOR)


def access_office(user, code, *, queryset=None) -> Office:
    """The office `code` if the user may see it; Http404 alike when it does
    not exist and when it is not the user's."""
    queryset = Office.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.visible_to(user), code=code)


def can_manage_office(user, office: Office) -> bool:
    """May edit the office record, its status and areas."""
    return scope_of(user).manages_province(office.province_id)


def can_create_office(user, province: Area | None = None) -> bool:
    scope = scope_of(user)
    if province is None:
        return scope.manages_any_province
    return scope.manages_province(province.pk)


def can_manage_staff(user, office: Office, role: str | None = None) -> bool:
    """May add or remove staff of `role` (any staff role when None)."""
    if can_manage_office(user, office):
        return True
    if not scope_of(user).manages_office(office.pk):
        return False
    return role is None or role == Role.FACILITATOR


def staff_roles_for(user, office: Office) -> list[str]:
    return [role for role in STAFF_ROLES if can_manage_staff(user, office, role)]


def can_see_staff(user, office: Office) -> bool:
    """Staff names are personal data: shown to the office's own staff and to
    those who manage it, not to analysts or agency liaisons."""
    return can_manage_office(user, office) or scope_of(user).staffs_office(office.pk)


def can_manage_operators(user) -> bool:
    return scope_of(user).manages_any_province


def can_edit_operator(user, operator: Operator) -> bool:
    """A province manager may edit an operator that runs offices only in
    their provinces; one working elsewhere too is the national admin's."""
    scope = scope_of(user)
    if scope.is_national:
        return True
    if not scope.managed_province_ids:
        return False
    return not operator.offices.exclude(province_id__in=scope.managed_province_ids).exists()
