"""Writes to an office's staff: adding existing or new users in a role, and
removing them.

Who may: national admins and the province manager add and remove any staff
of the office; an office manager adds and removes the facilitators of their
own office, and nothing else."""

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tashil.accounts.models import RoleMembership, User
from tashil.accounts.scopes import forget_scope
from tashil.core import audit
from tashil.core.audit import record_in_office
from tashil.core.text import normalize
from tashil.core.validators import normalize_mobile

from .models import Office
from .permissions import STAFF_ROLES, can_manage_staff


def _deny(message):
    raise PermissionDenied(message)


def _check_staff_role(acting_user, office: Office, role: str) -> None:
    if role not in STAFF_ROLES:
        raise ValidationError({"role": [_("Office staff are office managers or facilitators.")]})
    if not can_manage_staff(acting_user, office, role):
        if can_manage_staff(acting_user, office):
            _deny(_("Only the province manager may appoint or remove office managers."))
        _deny(_("You may not change the staff of this office."))


def _add_membership(
    *, office: Office, user: User, role: str, title: str, acting_user
) -> RoleMembership:
    """Put the user on the staff; a removed member is taken back on the same row."""
    membership = RoleMembership.objects.filter(user=user, role=role, office=office).first()
    if membership is not None and membership.is_active:
        raise ValidationError(
            {
                "username": [
                    _("%(name)s is already on this office's staff in this role.") % {"name": user}
                ]
            }
        )
    before = {"is_active": False, "title": membership.title} if membership else {}
    if membership is None:
        membership = RoleMembership(user=user, role=role, office=office)
    membership.title = title
    membership.is_active = True
    membership.full_clean()
    membership.save()
    changes = audit.diff(
        before, {"user": user.username, "role": role, "title": title, "is_active": True}
    )
    record_in_office(office, "office.staff_add", membership, changes, actor=acting_user)
    forget_scope(user)
    return membership


def staff_add(
    *,
    office: Office,
    acting_user,
    role: str,
    user: User | None = None,
    username: str | None = None,
    title: str = "",
) -> RoleMembership:
    """Add an existing user account to the office's staff."""
    _check_staff_role(acting_user, office, role)
    if user is None:
        username = (username or "").strip()
        if not username:
            raise ValidationError({"username": [_("Enter the username of the staff member.")]})
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise ValidationError({"username": [_("There is no account with this username.")]})
    if not user.is_active:
        raise ValidationError({"username": [_("This account is disabled.")]})
    with transaction.atomic():
        return _add_membership(
            office=office, user=user, role=role, title=normalize(title), acting_user=acting_user
        )


# Letters and digits that cannot be mistaken for one another when read aloud
# or copied from paper.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def temporary_password() -> str:
    groups = ["".join(secrets.choice(_PASSWORD_ALPHABET) for _i in range(4)) for _j in range(3)]
    return "-".join(groups)


def staff_add_new_user(
    *,
    office: Office,
    acting_user,
    role: str,
    username: str,
    first_name: str,
    last_name: str,
    mobile: str = "",
    title: str = "",
    password: str | None = None,
) -> tuple[RoleMembership, str]:
    """Create an account for a new staff member and add them to the staff.

    Returns the membership and the temporary password, which is shown once to
    the person creating the account and never stored in clear."""
    _check_staff_role(acting_user, office, role)
    errors: dict = {}
    user = User(
        username=(username or "").strip(),
        first_name=normalize(first_name),
        last_name=normalize(last_name),
    )
    if mobile:
        try:
            user.mobile = normalize_mobile(mobile)
        except ValidationError as exc:
            errors["mobile"] = exc.messages
    if user.username and User.objects.filter(username__iexact=user.username).exists():
        errors["username"] = [_("This username is taken. Choose another one.")]
    if not user.first_name:
        errors["first_name"] = [_("Enter the first name.")]
    if not user.last_name:
        errors["last_name"] = [_("Enter the last name.")]
    password = password or temporary_password()
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = exc.messages
    try:
        user.full_clean(exclude=["password", *errors])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            record_in_office(
                office,
                "user.create",
                user,
                audit.diff({}, {"username": user.username, "mobile": user.mobile or None}),
                actor=acting_user,
            )
            membership = _add_membership(
                office=office, user=user, role=role, title=normalize(title), acting_user=acting_user
            )
    except IntegrityError:
        raise ValidationError(
            {"username": [_("This username is taken. Choose another one.")]}
        ) from None
    return membership, password


def staff_remove(*, membership: RoleMembership, acting_user) -> RoleMembership:
    """Take someone off the staff. The membership is deactivated, not deleted,
    so the record of who worked where stays."""
    office = membership.office
    if office is None or membership.role not in STAFF_ROLES:
        raise ValidationError({NON_FIELD_ERRORS: [_("This is not an office staff membership.")]})
    _check_staff_role(acting_user, office, membership.role)
    with transaction.atomic():
        current = RoleMembership.objects.select_for_update().get(pk=membership.pk)
        if not current.is_active:
            membership.is_active = False
            return current
        current.is_active = False
        current.save(update_fields=["is_active"])
        record_in_office(
            office, "office.staff_remove", current, {"is_active": [True, False]}, actor=acting_user
        )
    membership.is_active = False
    forget_scope(membership.user)
    return current
