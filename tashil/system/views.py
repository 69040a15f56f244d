from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tashil.accounts.scopes import scope_of
from tashil.core import calendar as working_calendar
from tashil.core import jalali
from tashil.core.audit import personal_types
from tashil.core.editing import save_form
from tashil.core.forms import JalaliDateField, StyledForm
from tashil.core.models import Closure, Holiday
from tashil.geo.models import Area

from . import calendar, permissions
from .audit import audit_visible_to, present


class AuditFilterForm(StyledForm):
    q = forms.CharField(label=gettext_lazy("Object or action"), required=False)
    start = JalaliDateField(label=gettext_lazy("From"), required=False)
    end = JalaliDateField(label=gettext_lazy("To"), required=False)


@require_GET
def audit_log(request):
    if not permissions.can_browse_audit(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    entries = audit_visible_to(request.user)
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            by_name = Q(object_repr__icontains=data["q"])
            if not scope_of(request.user).is_national:
                # Residents' names are not searchable here: a hidden name must
                # not be guessable by searching for it. Their history is on
                # the household page.
                by_name &= ~Q(object_type__in=personal_types())
            entries = entries.filter(by_name | Q(action__icontains=data["q"]))
        if data["start"]:
            entries = entries.filter(at__date__gte=data["start"])
        if data["end"]:
            entries = entries.filter(at__date__lte=data["end"])
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    rows = present(page.object_list, request.user)
    return render(request, "system/audit_log.html", {"form": form, "page": page, "rows": rows})


def _calendar_province(request):
    """The province whose calendar the user manages (national admins may pick)."""
    provinces = Area.objects.provinces_managed_by(request.user)
    if not provinces.exists():
        raise PermissionDenied
    code = request.GET.get("province") or request.POST.get("province")
    return (provinces.filter(code=code).first() if code else None) or provinces.order_by(
        "code"
    ).first(), provinces


class ClosureForm(forms.Form):
    start_date = JalaliDateField(label=gettext_lazy("From"))
    end_date = JalaliDateField(label=gettext_lazy("To"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class HolidayForm(forms.Form):
    date = JalaliDateField(label=gettext_lazy("Corrected date"))


def calendar_page(request):
    """Official holidays of a Jalali year, one-off closures and the weekend."""
    province, provinces = _calendar_province(request)
    year = request.GET.get("year")
    year = (
        int(year)
        if year and year.isascii() and year.isdigit()
        else jalali.to_jalali(jalali.today()).year
    )
    period = jalali.Period("year", year)
    form = ClosureForm(request.POST or None)
    return save_form(
        request,
        form,
        lambda data: calendar.closure_create(province=province, acting_user=request.user, **data),
        message=_("The closure was saved. Deadlines now skip these days."),
        success=lambda _closure: redirect(f"{request.path}?province={province.code}&year={year}"),
        page=lambda edit: _calendar_page(request, province, provinces, year, period, edit.form),
    )


def _calendar_page(request, province, provinces, year, period, form):
    holidays = Holiday.objects.filter(date__range=(period.start, period.end)).order_by("date")
    closures = Closure.objects.filter(
        province=province, end_date__gte=period.start, start_date__lte=period.end
    )
    weekend = sorted(working_calendar.weekend_days(jalali.today(), province))
    context = {
        "province": province,
        "provinces": provinces,
        "year": year,
        "years": range(year - 2, year + 3),
        "holidays": holidays,
        "closures": closures.select_related("created_by"),
        "weekend_names": [
            jalali.WEEKDAYS_FA[d] if request.LANGUAGE_CODE == "fa" else jalali.WEEKDAYS_EN[d]
            for d in weekend
        ],
        "form": form,
        "can_correct_holidays": permissions.can_correct_holidays(request.user),
    }
    return render(request, "system/calendar.html", context)


def holiday_edit(request, pk):
    holiday = get_object_or_404(Holiday, pk=pk)
    if not permissions.can_correct_holidays(request.user):
        raise PermissionDenied
    form = HolidayForm(request.POST or None, initial={"date": holiday.date})
    if request.method == "POST" and form.is_valid():
        calendar.holiday_correct(
            holiday=holiday, new_date=form.cleaned_data["date"], acting_user=request.user
        )
        messages.success(request, _("The holiday date was corrected."))
        return redirect(
            f"{_calendar_url()}?year={jalali.to_jalali(form.cleaned_data['date']).year}"
        )
    return render(request, "system/holiday_edit.html", {"holiday": holiday, "form": form})


def _calendar_url():
    return reverse("system:calendar")


@require_POST
def closure_delete_view(request, pk):
    closure = get_object_or_404(Closure, pk=pk)
    calendar.closure_delete(closure=closure, acting_user=request.user)
    messages.success(request, _("The closure was removed."))
    return redirect(f"{_calendar_url()}?province={closure.province.code}")
