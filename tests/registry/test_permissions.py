"""The registry's one fetcher per row kind: a row that does not exist and a
row outside the user's scope are the same 404, so a key reveals nothing."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from tashil.registry import permissions
from tashil.registry.models import Household, Membership, Person
from tashil.registry.services.memberships import membership_add
from tashil.registry.views import households as household_views
from tashil.registry.views import persons as person_views

pytestmark = pytest.mark.django_db

NOBODY = 10**9


@pytest.fixture
def rows(reg):
    here = reg.make_household()
    head = reg.make_person(here)
    there = reg.make_household(office=reg.other_office)
    stranger = reg.make_person(there, first_name="رضا")
    return here, head, there, stranger


@pytest.mark.parametrize("role", ["facilitator", "office_manager", "province_manager"])
def test_a_household_of_another_office_is_the_same_404_as_none(reg, rows, role):
    here, _head, there, _stranger = rows
    user = reg.users[role]
    assert permissions.access_household(user, here.pk) == here
    for key in (there.pk, NOBODY, "x", None):
        with pytest.raises(Http404):
            permissions.access_household(user, key)


@pytest.mark.parametrize("role", ["facilitator", "office_manager", "province_manager"])
def test_a_person_of_another_office_is_the_same_404_as_none(reg, rows, role):
    _here, head, _there, stranger = rows
    user = reg.users[role]
    assert permissions.access_person(user, head.pk) == head
    for key in (stranger.pk, NOBODY, str(stranger.pk), "12a"):
        with pytest.raises(Http404):
            permissions.access_person(user, key)


@pytest.mark.parametrize("role", ["analyst", "agency_liaison"])
def test_roles_without_the_registry_get_404_for_every_row(reg, rows, role):
    here, head, _there, _stranger = rows
    user = reg.users[role]
    with pytest.raises(Http404):
        permissions.access_household(user, here.pk)
    with pytest.raises(Http404):
        permissions.access_person(user, head.pk)


def test_a_national_admin_reaches_every_row(reg, rows):
    _here, _head, there, stranger = rows
    admin = reg.users["national_admin"]
    assert permissions.access_household(admin, there.pk, manage=True) == there
    assert permissions.access_person(admin, stranger.pk, manage=True) == stranger


def test_a_person_who_moved_away_is_seen_but_not_managed_by_the_old_office(reg):
    """Their past membership keeps them visible; their record is now
    another office's to change, which is a 403, not a 404."""
    here = reg.make_household()
    mover = reg.make_person(here)
    there = reg.make_household(office=reg.other_office)
    membership_add(
        person=mover, household=there, relation="head", acting_user=reg.users["national_admin"]
    )
    user = reg.users["facilitator"]
    assert permissions.access_person(user, mover.pk) == mover
    with pytest.raises(PermissionDenied):
        permissions.access_person(user, mover.pk, manage=True)


def test_memberships_and_consents_follow_their_household(reg, rows):
    here, head, there, stranger = rows
    user = reg.users["facilitator"]
    mine = Membership.objects.get(person=head)
    theirs = Membership.objects.get(person=stranger)
    assert permissions.access_membership(user, mine.pk, manage=True) == mine
    for key in (theirs.pk, NOBODY):
        with pytest.raises(Http404):
            permissions.access_membership(user, key)
        with pytest.raises(Http404):
            permissions.access_consent(user, key)


def test_the_pages_fetch_through_the_one_fetcher(client, reg, rows, monkeypatch):
    """The household and person pages ask registry.permissions, and answer
    404 alike for another office's row and for a missing one."""
    here, head, there, stranger = rows
    asked = []

    def spy(real):
        def fetch(user, key, **kwargs):
            asked.append(int(key))
            return real(user, key, **kwargs)

        return fetch

    monkeypatch.setattr(household_views, "access_household", spy(permissions.access_household))
    monkeypatch.setattr(person_views, "access_person", spy(permissions.access_person))
    client.force_login(reg.users["facilitator"])
    detail = "registry:household_detail"
    assert client.get(reverse(detail, kwargs={"pk": here.pk})).status_code == 200
    assert client.get(reverse(detail, kwargs={"pk": there.pk})).status_code == 404
    assert client.get(reverse(detail, kwargs={"pk": NOBODY})).status_code == 404
    person = "registry:person_detail"
    assert client.get(reverse(person, kwargs={"pk": head.pk})).status_code == 200
    assert client.get(reverse(person, kwargs={"pk": stranger.pk})).status_code == 404
    assert client.get(reverse(person, kwargs={"pk": NOBODY})).status_code == 404
    assert asked == [here.pk, there.pk, NOBODY, head.pk, stranger.pk, NOBODY]
    assert Household.objects.count() == 2 and Person.objects.count() == 2
