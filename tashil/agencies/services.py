"""Writes to agencies, the demand category tree and the routing table.

Who may do what is written once, in `tashil.agencies.permissions`.
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tashil.accounts.scopes import scope_of
from tashil.core import audit
from tashil.core.services import create_audited, reject_unknown, save_versioned
from tashil.core.text import join_words, normalize, to_ascii_digits
from tashil.geo.models import Area

from . import routing
from .models import Agency, DemandCategory, RoutingRule
from .permissions import (
    can_create_agency,
    can_edit_contact,
    can_manage_agency,
    can_manage_categories,
    can_manage_routing,
)

SLA_MIN_DAYS, SLA_MAX_DAYS = 1, 365

AGENCY_FIELDS = ("code", "name_fa", "name_en", "short_name", "phone", "email", "is_active")
CATEGORY_FIELDS = (
    "code",
    "name_fa",
    "name_en",
    "parent",
    "description",
    "sla_working_days",
    "is_active",
    "sort_order",
)

# Path segments under /agencies/ that an agency code would shadow.
RESERVED_CODES = {"new", "categories", "routing"}

_PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-()]{3,19}$")


def _deny(message):
    raise PermissionDenied(message)


def _audit_province_for(user):
    """The province to file a taxonomy change under, so that the province
    manager who made it finds it in their own audit log."""
    scope = scope_of(user)
    if scope.is_national or not scope.managed_province_ids:
        return None
    return Area.objects.filter(pk=min(scope.managed_province_ids)).first()


# --- Validation helpers -------------------------------------------------------


def normalize_phone(value: str) -> str:
    """An agency's phone as typed, with ASCII digits. Landlines with area
    codes and extensions are common, so only the characters are checked."""
    value = to_ascii_digits(normalize(value))
    if value and not _PHONE_RE.match(value):
        raise ValidationError(
            _("Enter a phone number of digits, optionally with spaces, dashes or a leading +."),
            code="phone",
        )
    return value


def _clean_phone(value: str) -> str:
    try:
        return normalize_phone(value)
    except ValidationError as error:
        raise ValidationError({"phone": error.messages}) from None


def _clean_text_fields(values: dict) -> dict:
    cleaned = dict(values)
    for name in ("name_fa", "name_en", "short_name", "description"):
        if name in cleaned and cleaned[name] is not None:
            cleaned[name] = normalize(cleaned[name])
    if "code" in cleaned and cleaned["code"] is not None:
        cleaned["code"] = str(cleaned["code"]).strip().lower()
    if "email" in cleaned and cleaned["email"] is not None:
        cleaned["email"] = cleaned["email"].strip()
    if "phone" in cleaned and cleaned["phone"] is not None:
        cleaned["phone"] = _clean_phone(cleaned["phone"])
    return cleaned


def _check_jurisdiction(province: Area, areas) -> list[Area]:
    areas = list(areas)
    outside = [a for a in areas if not a.path.startswith(province.path)]
    if outside:
        raise ValidationError(
            {
                "jurisdiction": _(
                    "These areas are not in the agency's province (%(province)s): %(areas)s."
                )
                % {"province": province.name, "areas": join_words(a.name for a in outside)}
            }
        )
    return areas


def _check_agency_code(code) -> None:
    if code in RESERVED_CODES:
        raise ValidationError({"code": _("This code is reserved. Choose another one.")})


# --- Agencies -------------------------------------------------------------------


def agency_create(
    *,
    acting_user,
    code: str,
    name_fa: str,
    province: Area,
    name_en: str = "",
    short_name: str = "",
    phone: str = "",
    email: str = "",
    is_active: bool = True,
    jurisdiction=(),
) -> Agency:
    if not can_create_agency(acting_user, province):
        _deny(_("You may only add agencies in a province you manage."))
    if province.level != Area.Level.PROVINCE:
        raise ValidationError({"province": _("Choose an area at province level.")})
    values = _clean_text_fields(
        {
            "code": code,
            "name_fa": name_fa,
            "name_en": name_en,
            "short_name": short_name,
            "phone": phone,
            "email": email,
        }
    )
    _check_agency_code(values["code"])
    agency = Agency(province=province, is_active=is_active, **values)
    agency.refresh_derived_fields()
    agency.full_clean()
    areas = _check_jurisdiction(province, jurisdiction)
    with transaction.atomic():
        agency.save()
        agency.jurisdiction.set(areas)
        audit.record(
            actor=acting_user,
            action="agency.create",
            obj=agency,
            changes=audit.diff(
                {}, audit.snapshot(agency, [*AGENCY_FIELDS, "province", "jurisdiction"])
            ),
            province=province,
        )
    return agency


def agency_update(*, agency: Agency, acting_user, expected_version: int, **fields) -> Agency:
    """Change an agency's record and jurisdiction (`jurisdiction=` a list of
    areas). Raises ConflictError if the agency changed since `expected_version`.

    Areas routed to the agency must stay in its jurisdiction: narrowing it past
    a routing rule is refused, so the routing table never points at an agency
    for an area it does not serve."""
    reject_unknown(fields, (*AGENCY_FIELDS, "jurisdiction"), "agency")
    if not can_manage_agency(acting_user, agency):
        _deny(_("You may not edit this agency."))
    return _agency_save(
        agency=agency,
        acting_user=acting_user,
        expected_version=expected_version,
        fields=fields,
        action="agency.update",
    )


def agency_update_contact(
    *, agency: Agency, acting_user, expected_version: int, phone: str, email: str
) -> Agency:
    """The agency's phone and email, which its own liaisons keep up to date."""
    if not can_edit_contact(acting_user, agency):
        _deny(_("You may not edit this agency's contact details."))
    return _agency_save(
        agency=agency,
        acting_user=acting_user,
        expected_version=expected_version,
        fields={"phone": phone, "email": email},
        action="agency.update_contact",
    )


def _agency_save(*, agency, acting_user, expected_version, fields, action) -> Agency:
    fields = _clean_text_fields(fields)
    if "code" in fields:
        _check_agency_code(fields["code"])
    jurisdiction = fields.pop("jurisdiction", None)
    names = list(fields)
    tracked = names + (["jurisdiction"] if jurisdiction is not None else [])
    # A refused write leaves the caller's instance as it was loaded, so a page
    # re-rendered after an error still shows the saved values.
    original = {
        name: getattr(agency, name) for name in [*names, "search_key", "version", "updated_at"]
    }
    try:
        with transaction.atomic():
            before = audit.snapshot(agency, tracked)
            for name, value in fields.items():
                setattr(agency, name, value)
            agency.refresh_derived_fields()
            if jurisdiction is not None:
                areas = _check_jurisdiction(agency.province, jurisdiction)
                _check_routes_still_served(agency, areas)
            changes = save_versioned(
                agency,
                fields=[*names, "search_key"],
                expected_version=expected_version,
                before=before,
            )
            changes.pop("search_key", None)
            if jurisdiction is not None:
                agency.jurisdiction.set(areas)
                changes |= audit.diff(
                    {"jurisdiction": before["jurisdiction"]},
                    audit.snapshot(agency, ["jurisdiction"]),
                )
            audit.record(
                actor=acting_user,
                action=action,
                obj=agency,
                changes=changes,
                province=agency.province,
            )
    except Exception:
        for name, value in original.items():
            setattr(agency, name, value)
        raise
    return agency


def _check_routes_still_served(agency: Agency, areas: list[Area]) -> None:
    prefixes = [a.path for a in areas]
    orphaned = [
        rule
        for rule in agency.routing_rules.select_related("area", "category")
        if not any(rule.area.path.startswith(p) for p in prefixes)
    ]
    if orphaned:
        listed = join_words(f"{r.category.name} · {r.area.name}" for r in orphaned[:5])
        raise ValidationError(
            {
                "jurisdiction": _(
                    "The routing table still sends demands to this agency in areas it would no longer serve "
                    "(%(rules)s). Change or delete those rules first."
                )
                % {"rules": listed}
            }
        )


# --- Demand categories -----------------------------------------------------------


def _check_sla(value) -> None:
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = None
    if days is None or not SLA_MIN_DAYS <= days <= SLA_MAX_DAYS:
        raise ValidationError(
            {
                "sla_working_days": _(
                    "The answer time must be between %(min)s and %(max)s working days."
                )
                % {"min": SLA_MIN_DAYS, "max": SLA_MAX_DAYS}
            }
        )


def _check_no_cycle(category: DemandCategory) -> None:
    if category.parent_id is None:
        return
    if category.pk is not None and category.parent_id == category.pk:
        raise ValidationError({"parent": _("A category cannot be its own parent.")})
    parents = dict(DemandCategory.objects.values_list("id", "parent_id"))
    node, seen = category.parent_id, set()
    while node is not None and node not in seen:
        if node == category.pk:
            raise ValidationError(
                {"parent": _("A category cannot be placed under one of its own subcategories.")}
            )
        seen.add(node)
        node = parents.get(node)


def category_create(
    *,
    acting_user,
    code: str,
    name_fa: str,
    name_en: str = "",
    parent: DemandCategory | None = None,
    description: str = "",
    sla_working_days: int = 10,
    is_active: bool = True,
    sort_order: int = 0,
) -> DemandCategory:
    if not can_manage_categories(acting_user):
        _deny(_("You may not change the demand categories."))
    values = _clean_text_fields(
        {"code": code, "name_fa": name_fa, "name_en": name_en, "description": description}
    )
    _check_sla(sla_working_days)
    category = DemandCategory(
        parent=parent,
        sla_working_days=sla_working_days,
        is_active=is_active,
        sort_order=sort_order,
        **values,
    )
    return create_audited(
        category,
        CATEGORY_FIELDS,
        actor=acting_user,
        action="category.create",
        province=_audit_province_for(acting_user),
    )


def category_update(*, category: DemandCategory, acting_user, **fields) -> DemandCategory:
    reject_unknown(fields, CATEGORY_FIELDS, "category")
    if not can_manage_categories(acting_user):
        _deny(_("You may not change the demand categories."))
    fields = _clean_text_fields(fields)
    if "sla_working_days" in fields:
        _check_sla(fields["sla_working_days"])
    with transaction.atomic():
        category = DemandCategory.objects.select_for_update().get(pk=category.pk)
        before = audit.snapshot(category, list(fields))
        for name, value in fields.items():
            setattr(category, name, value)
        _check_no_cycle(category)
        category.full_clean()
        changes = audit.diff(before, audit.snapshot(category, list(fields)))
        if changes:
            category.save(update_fields=[*fields, "updated_at"])
            audit.record(
                actor=acting_user,
                action="category.update",
                obj=category,
                changes=changes,
                province=_audit_province_for(acting_user),
            )
    return category


# --- Routing table ------------------------------------------------------------------


def routing_rule_set(
    *, category: DemandCategory, area: Area, agency: Agency, acting_user
) -> RoutingRule:
    """Route `category` in `area` to `agency`, replacing the rule already there."""
    if not can_manage_routing(acting_user, agency):
        _deny(_("You may only route demands to agencies of a province you manage."))
    if not agency.is_active:
        raise ValidationError(
            {"agency": _("This agency is inactive. Activate it before routing demands to it.")}
        )
    if not routing.serves(agency, area):
        raise ValidationError(
            {
                "agency": _(
                    "%(agency)s does not serve %(area)s. Add the area (or a larger area containing it) "
                    "to the agency's jurisdiction first."
                )
                % {"agency": agency.name, "area": area.name}
            }
        )
    province = Area.objects.get(pk=agency.province_id)
    with transaction.atomic():
        rule = RoutingRule.objects.select_for_update().filter(category=category, area=area).first()
        if rule is None:
            try:
                with transaction.atomic():
                    rule = RoutingRule.objects.create(category=category, area=area, agency=agency)
            except IntegrityError:
                # Someone created the same category × area rule a moment ago: replace theirs.
                rule = RoutingRule.objects.select_for_update().get(category=category, area=area)
            else:
                audit.record(
                    actor=acting_user,
                    action="routing_rule.create",
                    obj=rule,
                    changes=audit.diff({}, audit.snapshot(rule, ["category", "area", "agency"])),
                    province=province,
                )
                return rule
        if rule.agency_id != agency.pk:
            if not can_manage_routing(acting_user, rule.agency):
                _deny(_("The existing rule routes to an agency you may not manage."))
            old = rule.agency_id
            rule.agency = agency
            rule.save(update_fields=["agency", "updated_at"])
            audit.record(
                actor=acting_user,
                action="routing_rule.replace",
                obj=rule,
                changes={"agency": [str(old), str(agency.pk)]},
                province=province,
            )
    return rule


def routing_rule_delete(*, rule: RoutingRule, acting_user) -> None:
    if not can_manage_routing(acting_user, rule.agency):
        _deny(_("You may only change the routing of agencies of a province you manage."))
    with transaction.atomic():
        audit.record(
            actor=acting_user,
            action="routing_rule.delete",
            obj=rule,
            changes={
                "category": [str(rule.category_id), None],
                "area": [str(rule.area_id), None],
                "agency": [str(rule.agency_id), None],
            },
            province=Area.objects.filter(pk=rule.agency.province_id).first(),
        )
        rule.delete()
