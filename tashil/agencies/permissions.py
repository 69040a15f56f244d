"""Who may do what to agencies, the category tree and the routing table, and
the one way to fetch an agency for a user.

- national administrators: everything;
- province managers: the agencies of their provinces (including jurisdiction),
  the routing rules of those agencies, and the category tree, which is one
  taxonomy shared by the provinces;
- an agency's liaisons: that agency's phone and email only;
- office managers, facilitators and analysts: read only.
"""

from django.shortcuts import get_object_or_404

from tashil.accounts.scopes import scope_of
from tashil.geo.models import Area

from .models import Agency


def access_agency(user, code, *, queryset=None) -> Agency:
    """The agency `code` if the user may see it; Http404 alike when it does
    not exist and when it is not the user's."""
    queryset = Agency.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.visible_to(user), code=code)


def can_create_agency(user, province: Area | None = None) -> bool:
    scope = scope_of(user)
    if province is None:
        return scope.manages_any_province
    return scope.manages_province(province.pk)


def can_manage_agency(user, agency: Agency) -> bool:
    return scope_of(user).manages_province(agency.province_id)


def can_edit_contact(user, agency: Agency) -> bool:
    return can_manage_agency(user, agency) or scope_of(user).liaises_agency(agency.pk)


def can_see_liaisons(user, agency: Agency) -> bool:
    return can_edit_contact(user, agency)


def can_manage_categories(user) -> bool:
    return scope_of(user).manages_any_province


def can_manage_routing(user, agency: Agency | None = None) -> bool:
    """Without an agency: whether the user manages routing anywhere."""
    scope = scope_of(user)
    if agency is None:
        return scope.manages_any_province
    return scope.manages_province(agency.province_id)
