"""A province's vulnerability catalogue and the registry statistics."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tashil.core.editing import save_form

from .. import selectors, vulnerability
from ..forms import IndicatorForm, ThresholdForm
from ..models import VulnerabilityIndicator
from ..permissions import can_see_stats
from ..services import catalogue as catalogue_services


def _catalogue_province(request):
    provinces = list(selectors.catalogue_provinces(request.user))
    if not provinces:
        raise PermissionDenied
    code = request.GET.get("province") or request.POST.get("province")
    return next((p for p in provinces if p.code == code), provinces[0]), provinces


def _to_catalogue(province):
    """Where a saved change goes: the province's catalogue."""
    return lambda _saved: redirect(f"{reverse('registry:catalogue')}?province={province.code}")


def catalogue(request):
    province, provinces = _catalogue_province(request)
    catalogue_services.catalogue_prepare(province=province, acting_user=request.user)
    policy = selectors.policy_for(province)
    form = ThresholdForm(
        request.POST or None,
        initial={
            "threshold_score": policy.threshold_score,
            "version": policy.version if policy.pk else None,
        },
    )
    return save_form(
        request,
        form,
        lambda data: catalogue_services.threshold_update(
            province=province,
            acting_user=request.user,
            threshold_score=data["threshold_score"],
            expected_version=data["version"],
        ),
        message=_("The threshold was saved and the province's households rescored."),
        success=_to_catalogue(province),
        conflict_on_form=False,
        page=lambda edit: render(
            request,
            "registry/catalogue.html",
            {
                "province": province,
                "provinces": provinces,
                "indicators": selectors.catalogue_for(province),
                "policy": policy,
                "form": edit.form,
                "conflict": edit.conflict,
                "specs": vulnerability.SPECS,
            },
            status=edit.status,
        ),
    )


def indicator_edit(request, pk):
    if not selectors.catalogue_provinces(request.user).exists():
        raise PermissionDenied
    indicator = get_object_or_404(
        VulnerabilityIndicator.objects.manageable_by(request.user).select_related(
            "province", "referral_category"
        ),
        pk=pk,
    )
    spec = vulnerability.SPECS.get(indicator.code)
    has_parameter = indicator.code in catalogue_services.PARAMETER_RANGES
    form = IndicatorForm(
        request.POST or None,
        has_parameter=has_parameter,
        parameter_help=spec.parameter_help if spec else "",
        initial={
            "weight": indicator.weight,
            "parameter": indicator.parameter,
            "is_active": indicator.is_active,
            "referral_category": indicator.referral_category,
            "version": indicator.version,
        },
    )

    def reload():
        indicator.refresh_from_db()
        return form

    return save_form(
        request,
        form,
        lambda data: catalogue_services.indicator_update(
            indicator=indicator,
            acting_user=request.user,
            weight=data["weight"],
            parameter=data.get("parameter"),
            is_active=data["is_active"],
            referral_category=data["referral_category"],
            expected_version=data["version"],
        ),
        message=_("The indicator was saved and the province's households rescored."),
        success=_to_catalogue(indicator.province),
        reload=reload,
        conflict_on_form=False,
        page=lambda edit: render(
            request,
            "registry/indicator_form.html",
            {"form": edit.form, "indicator": indicator, "conflict": edit.conflict},
            status=edit.status,
        ),
    )


# --- Statistics --------------------------------------------------------------------------------------------


@require_GET
def stats(request):
    if not can_see_stats(request.user):
        raise PermissionDenied
    columns, rows = selectors.stats_table(request.user)
    return render(
        request,
        "registry/stats.html",
        {"columns": columns, "rows": rows, "small_cell": selectors.SMALL_CELL},
    )
