"""Who may do what in the household registry, and the one way to fetch a
row for a user.

A household is seen by the staff of its office, its province manager and
national admins; a person is seen through the households they belong or
belonged to. The `access_*` fetchers answer 404 alike for a row that does
not exist and for one the user may not see, so a key reveals nothing; with
`manage=True`, a row the user sees but may not change is a 403."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from tashil.accounts.scopes import scope_of
from tashil.geo.models import Area
from tashil.offices.models import Office

from .models import Consent, Household, Membership, Person
from .selectors import person_household


def can_use_registry(user) -> bool:
    """Holds a role that works with household rows at all."""
    return scope_of(user).works_on_records


def can_manage_office_registry(user, office: Office) -> bool:
    return scope_of(user).works_on_office(office.pk, office.province_id)


def can_manage_household(user, household: Household) -> bool:
    scope = scope_of(user)
    # The office's province is read only when the user is not its staff.
    return scope.is_national or (
        scope.staffs_office(household.office_id)
        or scope.manages_province(household.office.province_id)
    )


def can_manage_person(user, person: Person) -> bool:
    household = person_household(person)
    return household is not None and can_manage_household(user, household)


def can_see_stats(user) -> bool:
    scope = scope_of(user)
    return can_use_registry(user) or bool(scope.analyst_province_ids)


def can_manage_catalogue(user, province: Area) -> bool:
    return scope_of(user).manages_province(province.pk)


def can_see_access_log(user, person: Person) -> bool:
    """Who read a record is shown to those who answer for the data: the office
    manager, the province manager and national admins."""
    household = person_household(person)
    if household is None:
        return False
    scope = scope_of(user)
    return scope.manages_office(household.office_id) or scope.manages_province(
        household.office.province_id
    )


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("You do not have permission to do this."))


# --- Fetchers ---------------------------------------------------------------------------


def _key(key) -> int:
    """A primary key from a URL or a form; anything else is a row nobody has."""
    if isinstance(key, bool):
        raise Http404
    try:
        return int(key)
    except (TypeError, ValueError):
        raise Http404 from None


def _one(queryset, key):
    try:
        return queryset.get(pk=_key(key))
    except queryset.model.DoesNotExist:
        raise Http404 from None


def access_household(user, key, *, manage: bool = False) -> Household:
    """The household `key` as `user` may see it; 404 when it does not exist
    or lies outside the user's scope, 403 (with `manage`) when they see it
    but may not change it."""
    household = _one(
        Household.objects.visible_to(user).select_related(
            "area", "office__province", "hazard_zone", "created_by"
        ),
        key,
    )
    if manage and not can_manage_household(user, household):
        raise PermissionDenied
    return household


def access_person(user, key, *, manage: bool = False) -> Person:
    """The person `key`, when they are or were a member of a household the
    user sees; otherwise 404. With `manage`, 403 when the user may not change
    their record."""
    visible = Household.objects.visible_to(user)
    person = _one(
        Person.objects.filter(
            pk__in=Membership.objects.filter(household__in=visible).values("person_id")
        ).select_related("merged_into"),
        key,
    )
    if manage and not can_manage_person(user, person):
        raise PermissionDenied
    return person


def access_membership(user, key, *, manage: bool = False) -> Membership:
    membership = _one(
        Membership.objects.filter(household__in=Household.objects.visible_to(user)).select_related(
            "household__office__province", "household__area", "person"
        ),
        key,
    )
    if manage and not can_manage_household(user, membership.household):
        raise PermissionDenied
    return membership


def access_consent(user, key, *, manage: bool = False) -> Consent:
    consent = _one(
        Consent.objects.filter(household__in=Household.objects.visible_to(user)).select_related(
            "household__office__province"
        ),
        key,
    )
    if manage and not can_manage_household(user, consent.household):
        raise PermissionDenied
    return consent
