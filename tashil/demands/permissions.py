"""Who may do what to a demand. Services call these before writing; views
call them to decide which buttons to show."""

from tashil.accounts.scopes import scope_of


def can_record_for_office(user, office) -> bool:
    """Record a demand on a resident's behalf for `office`."""
    scope = scope_of(user)
    if scope.is_national:
        return True
    if office is None:
        return False
    return office.pk in scope.office_ids or office.province_id in scope.managed_province_ids


def can_work_on(user, demand) -> bool:
    """Triage, refer, follow up and close: the office's staff and the province manager."""
    scope = scope_of(user)
    if scope.is_national:
        return True
    return (demand.office_id is not None and demand.office_id in scope.office_ids) or (
        demand.province_id in scope.managed_province_ids
    )


def can_answer_referral(user, referral) -> bool:
    """Acknowledge, answer, reject, mark done: the agency's liaisons."""
    scope = scope_of(user)
    return scope.is_national or referral.agency_id in scope.agency_ids


def can_see_contact(user, demand, referral=None) -> bool:
    """The resident's name and mobile: office staff and province managers;
    a liaison of the referred agency only when the resident consented."""
    if can_work_on(user, demand):
        return True
    return bool(
        demand.contact_consent and referral is not None and can_answer_referral(user, referral)
    )
