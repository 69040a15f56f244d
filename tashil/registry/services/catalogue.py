"""A province's vulnerability catalogue: indicators, weights and the threshold."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tashil.core import audit
from tashil.core.services import save_versioned
from tashil.geo.models import Area

from .. import vulnerability
from ..models import VulnerabilityIndicator, VulnerabilityPolicy
from ..permissions import can_manage_catalogue, require
from .common import Errors

THRESHOLD_RANGE = (1, 50)
WEIGHT_RANGE = (0, 20)
# Sensible bounds for each indicator's parameter; the rule's meaning is in vulnerability.SPECS.
PARAMETER_RANGES = {
    "elderly_alone": (50, 100),
    "out_of_school_child": (12, 18),
    "child_labour_risk": (12, 18),
    "large_household": (3, 30),
}


def indicator_update(
    *,
    indicator: VulnerabilityIndicator,
    acting_user,
    weight: int,
    parameter: int | None,
    is_active: bool,
    referral_category=None,
    expected_version: int | None = None,
) -> VulnerabilityIndicator:
    """Change an indicator of a province's catalogue; the province's
    households are rescored in the same transaction."""
    require(can_manage_catalogue(acting_user, indicator.province))
    errors = Errors()
    if weight is None or not WEIGHT_RANGE[0] <= weight <= WEIGHT_RANGE[1]:
        errors.add(
            "weight",
            _("The weight must be between %(low)s and %(high)s.")
            % {"low": WEIGHT_RANGE[0], "high": WEIGHT_RANGE[1]},
        )
    bounds = PARAMETER_RANGES.get(indicator.code)
    if bounds is None:
        parameter = None
    elif parameter is None or not bounds[0] <= parameter <= bounds[1]:
        errors.add(
            "parameter",
            _("The value must be between %(low)s and %(high)s.")
            % {"low": bounds[0], "high": bounds[1]},
        )
    if referral_category is not None and (
        not referral_category.is_active or referral_category.children.exists()
    ):
        errors.add("referral_category", _("Choose an active category without subcategories."))
    errors.raise_if_any()
    fields = ["weight", "parameter", "is_active", "referral_category"]
    before = audit.snapshot(indicator, fields)
    indicator.weight, indicator.parameter, indicator.is_active = weight, parameter, is_active
    indicator.referral_category = referral_category
    with transaction.atomic():
        changes = save_versioned(
            indicator, fields=fields, expected_version=expected_version, before=before
        )
        if changes:
            audit.record(
                actor=acting_user,
                action="vulnerability.indicator",
                obj=indicator,
                changes=changes,
                province=indicator.province,
            )
            vulnerability.recompute_province(indicator.province_id)
    return indicator


def catalogue_prepare(*, province: Area, acting_user) -> None:
    """Write the default catalogue of a province that has none yet, so its
    managers have something to edit before the first household is scored."""
    require(can_manage_catalogue(acting_user, province))
    vulnerability.ensure_catalogue([province.pk])


def threshold_update(
    *, province: Area, threshold_score: int, acting_user, expected_version: int | None = None
) -> VulnerabilityPolicy:
    require(can_manage_catalogue(acting_user, province))
    if threshold_score is None or not THRESHOLD_RANGE[0] <= threshold_score <= THRESHOLD_RANGE[1]:
        raise ValidationError(
            {
                "threshold_score": _("The threshold must be between %(low)s and %(high)s.")
                % {"low": THRESHOLD_RANGE[0], "high": THRESHOLD_RANGE[1]}
            }
        )
    with transaction.atomic():
        policy, _created = VulnerabilityPolicy.objects.get_or_create(province=province)
        before = audit.snapshot(policy, ["threshold_score"])
        policy.threshold_score = threshold_score
        changes = save_versioned(
            policy, fields=["threshold_score"], expected_version=expected_version, before=before
        )
        if changes:
            audit.record(
                actor=acting_user,
                action="vulnerability.threshold",
                obj=policy,
                changes=changes,
                province=province,
            )
            vulnerability.recompute_province(province.pk)
    return policy
