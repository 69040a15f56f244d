"""Who may do what to a demand, and the one way to fetch a demand or a
referral for a user. Services call the predicates before writing; views call
them to decide which buttons to show. Views, the API, Open311 and exports
fetch through `access_demand` and `access_referral`."""

from django.http import Http404

from tashil.accounts.scopes import scope_of

from .models import Demand, Referral
from .tracking import parse_code, parse_public_id

# Ids above this are not ids (the API would otherwise pass them to the database).
MAX_ID = 2**63 - 1


def access_demand(user, key, *, public_id=False, queryset=None, fetch=None):
    """The demand whose tracking code (or, with `public_id`, public id) is
    `key`, if `user` may see it. Raises Http404 alike when there is no such demand and when it is
    not the user's, so a probe learns nothing.

    `queryset` is for callers with their own, already narrowed, view of the
    demands: Open311 passes the listed requests (its `user` is None). `fetch`
    turns the matching one-row queryset into what the caller needs."""
    parsed = parse_public_id(key) if public_id else parse_code(key)
    if parsed is None:
        raise Http404
    if queryset is None:
        queryset = Demand.objects.visible_to(user).with_detail_data()
    queryset = queryset.filter(**{"public_id" if public_id else "code": parsed})
    demand = fetch(queryset) if fetch else queryset.first()
    if demand is None:
        raise Http404
    return demand


def access_referral(user, pk, *, demand=None):
    """The referral `pk` if `user` may see it (of `demand` when given);
    Http404 otherwise, as for `access_demand`."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 1 <= pk <= MAX_ID:
        raise Http404
    queryset = Referral.objects.visible_to(user).with_detail_data()
    if demand is not None:
        queryset = queryset.filter(demand=demand)
    referral = queryset.filter(pk=pk).first()
    if referral is None:
        raise Http404
    return referral


def can_record_for_office(user, office) -> bool:
    """Record a demand on a resident's behalf for `office`."""
    scope = scope_of(user)
    if scope.is_national:
        return True
    if office is None:
        return False
    return scope.works_on_office(office.pk, office.province_id)


def can_work_on(user, demand) -> bool:
    """Triage, refer, follow up and close: the office's staff and the province manager."""
    return scope_of(user).works_on_office(demand.office_id, demand.province_id)


def can_answer_referral(user, referral) -> bool:
    """Acknowledge, answer, reject, mark done: the agency's liaisons."""
    scope = scope_of(user)
    return scope.is_national or scope.liaises_agency(referral.agency_id)


def can_see_contact(user, demand, referral=None) -> bool:
    """The resident's name and mobile: office staff and province managers;
    a liaison of the referred agency only when the resident consented."""
    if can_work_on(user, demand):
        return True
    return bool(
        demand.contact_consent and referral is not None and can_answer_referral(user, referral)
    )
