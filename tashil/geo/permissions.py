"""Who may change the area tree, and the one way to fetch an area for a user."""

from django.shortcuts import get_object_or_404

from tashil.accounts.scopes import scope_of

from .models import Area
from .selectors import province_of


def access_area(user, code, *, queryset=None) -> Area:
    """The area `code` if the user may see it; Http404 alike when it does not
    exist and when it is not the user's."""
    queryset = Area.objects.select_related("parent") if queryset is None else queryset
    return get_object_or_404(queryset.visible_to(user), code=code)


def can_manage_area(user, area: Area) -> bool:
    """The province manager of the area's province, and national admins."""
    scope = scope_of(user)
    return scope.is_national or scope.manages_province(province_of(area).pk)
