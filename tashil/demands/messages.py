"""The texts Tashil sends about demands, and to whom.

Residents get SMS in Persian (the public pages are Persian first); staff get
SMS and email in their own language preference."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from tashil.accounts.models import Role, RoleMembership
from tashil.core.jalali import format_date
from tashil.notifications.services import notify, notify_user


def track_url(demand) -> str:
    """The resident's tracking page on the public site (SMS, API, Open311)."""
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/track/{demand.code}"


RESIDENT_TEXTS = {
    "registered": lambda d, **kw: _("Your demand is registered. Tracking code: %(code)s %(url)s"),
    "needs_info": lambda d, **kw: _(
        "The office needs more information about demand %(code)s: %(message)s"
    ),
    "rejected": lambda d, **kw: _("Demand %(code)s was not accepted: %(reason)s"),
    "merged": lambda d, **kw: _(
        "Demand %(code)s was merged into demand %(into)s, which is followed up for everyone."
    ),
    "referred": lambda d, **kw: _("Demand %(code)s was referred to %(agency)s. %(url)s"),
    "answered": lambda d, **kw: _("%(agency)s answered demand %(code)s. %(url)s"),
    "closed": lambda d, **kw: _(
        "Demand %(code)s is closed: %(outcome)s. Are you satisfied? Tell us: %(url)s"
    ),
}


def to_resident(demand, event: str, **params) -> None:
    if not demand.submitter_mobile:
        return
    with translation.override("fa"):
        values = {"code": demand.display_code, "url": track_url(demand), **params}
        body = RESIDENT_TEXTS[event](demand) % values
    notify(channel="sms", recipient=demand.submitter_mobile, body=body, topic=f"demand:{demand.pk}")


def send_to_users(users, body_fn, topic):
    for user in users:
        with translation.override(user.preferred_language or "fa"):
            notify_user(user=user, body=body_fn(), subject=_("Tashil"), topic=topic)


def _members(role, **where):
    return [
        m.user
        for m in RoleMembership.objects.active().filter(role=role, **where).select_related("user")
    ]


def liaisons_of(agency):
    return _members(Role.AGENCY_LIAISON, agency=agency)


def office_managers_of(office):
    if office is None:
        return []
    return _members(Role.OFFICE_MANAGER, office=office)


def province_managers_of(province):
    return _members(Role.PROVINCE_MANAGER, province=province)


def to_liaisons(referral, event: str) -> None:
    def body():
        # The agency knows the demand by its public id, never the tracking code.
        return _("New referral %(code)s from %(office)s: %(title)s. Due %(due)s.") % {
            "code": referral.demand.public_id,
            "office": referral.demand.office.name if referral.demand.office_id else "",
            "title": referral.demand.title,
            "due": _jalali(referral.due_date),
        }

    send_to_users(liaisons_of(referral.agency), body, f"referral:{referral.pk}")


OFFICE_TEXTS = {
    "referral_answered": lambda: _("%(agency)s answered demand %(code)s."),
    "referral_rejected": lambda: _("%(agency)s rejected the referral of demand %(code)s."),
    "referral_not_responsible": lambda: _(
        "%(agency)s says it is not responsible for demand %(code)s; re-route it."
    ),
    "reopened": lambda: _("The resident is not satisfied: demand %(code)s is reopened."),
}


def to_office(demand, event: str, **params) -> None:
    def body():
        return OFFICE_TEXTS[event]() % {"code": demand.display_code, **params}

    send_to_users(office_managers_of(demand.office), body, f"demand:{demand.pk}")


def _jalali(value):
    return format_date(value)
