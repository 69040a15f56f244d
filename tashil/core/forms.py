"""What every app's forms share: Bootstrap styling with a service's errors
shown on the form, and fields for the values every app enters: Jalali dates,
mobile numbers and national codes. Each field cleans to the stored form (a
Gregorian date, E.164, ten ASCII digits) and shows the stored form back the
way people read it."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from . import jalali
from .text import to_persian_digits
from .validators import format_mobile_display, normalize_mobile, normalize_national_code

_PLACEHOLDER = "1403/01/15"


def _html_attrs(attrs: dict) -> str:
    # As Django's attrs.html: True is a bare name, False leaves the attribute out.
    return mark_safe(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )


class PythonSelect(forms.Select):
    """Django's <select>, written in Python instead of through the template
    engine, which renders a template per option: the demand list's filter
    form alone spent about 8 ms per page on a hundred options."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        html = [format_html('<select name="{}"{}>', widget["name"], _html_attrs(widget["attrs"]))]
        for group, options, _index in widget["optgroups"]:
            if group:
                html.append(format_html('<optgroup label="{}">', group))
            html.extend(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    option["value"],
                    _html_attrs(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            if group:
                html.append("</optgroup>")
        html.append("</select>")
        return mark_safe("".join(html))


class StyledFormMixin:
    """Bootstrap classes on every widget, so the shared field include renders
    any form without per-form markup. Forms that add fields in __init__ call
    `style_fields()` again afterwards."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_fields()

    def style_fields(self):
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxSelectMultiple):
                css = "form-check-input me-1"
            elif isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
                if type(widget) is forms.Select:
                    # Same widget and state, only a cheaper render.
                    widget.__class__ = PythonSelect
            else:
                css = "form-control"
            classes = widget.attrs.get("class", "").split()
            if css.split()[0] not in classes:
                widget.attrs["class"] = " ".join([*classes, css])

    def full_clean(self):
        super().full_clean()
        self._mark_invalid()

    def _mark_invalid(self):
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"

    def apply_service_error(self, error: ValidationError, aliases=None) -> None:
        apply_service_error(self, error, aliases)

    def data_for_service(self, exclude=("version",)) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in exclude}


def apply_service_error(form, error: ValidationError, aliases=None) -> None:
    """Put a service's ValidationError on the fields it names (`aliases` maps
    the service's name to the form's); anything the form does not show goes
    to the form-wide errors."""
    aliases = aliases or {}
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = aliases.get(name, name)
            for e in errors:
                form.add_error(target if target in form.fields else None, e)
    else:
        form.add_error(None, error)
    if hasattr(form, "_mark_invalid"):
        form._mark_invalid()


class StyledForm(StyledFormMixin, forms.Form):
    pass


class RecordForm(StyledForm):
    """A form that edits one record: unbound, it shows the record's values, and
    the hidden `version` is the one the record was loaded at (see save_form)."""

    version = forms.CharField(widget=forms.HiddenInput, required=False, empty_value=None)

    def __init__(self, *args, record=None, version="", **kwargs):
        if record is not None:
            names = [name for name in self.base_fields if name != "version"]
            kwargs.setdefault(
                "initial", {name: getattr(record, name) for name in names} | {"version": version}
            )
        super().__init__(*args, **kwargs)


def model_field(model, name, **kwargs):
    """The form field a model field would give, for forms that are not
    ModelForms because a service does the writing."""
    return model._meta.get_field(name).formfield(**kwargs)


def _is_fa() -> bool:
    return (get_language() or "fa").startswith("fa")


class JalaliDateInput(forms.TextInput):
    """A text input the Jalali date picker attaches to (it looks for
    `data-jdp`). Typing stays possible, which is faster for data entry."""

    def __init__(self, attrs=None):
        defaults = {
            "data-jdp": True,
            "inputmode": "numeric",
            "autocomplete": "off",
            "dir": "ltr",
        }
        super().__init__({**defaults, **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        # Chosen at render time, not at import, so it follows the request's language.
        widget_attrs.setdefault(
            "placeholder", to_persian_digits(_PLACEHOLDER) if _is_fa() else _PLACEHOLDER
        )
        return context


class JalaliDateField(forms.Field):
    """Entered as a Jalali 'YYYY/MM/DD' in any digits; cleaned to a Gregorian
    `datetime.date`."""

    widget = JalaliDateInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return jalali.parse_date(str(value))
        except ValueError as error:
            raise ValidationError(error.args[0], code="invalid") from None

    def prepare_value(self, value):
        if isinstance(value, dt.date):
            return jalali.format_date(value, "short")
        return value


class _NormalizedField(forms.CharField):
    """Text typed in any digits and cleaned by `normalize`, in a left-to-right input."""

    input_attrs: dict = {}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={**self.input_attrs, "dir": "ltr"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return self.normalize(value)


class MobileField(_NormalizedField):
    """An Iranian mobile number, cleaned to E.164 (+989xxxxxxxxx)."""

    input_attrs = {"inputmode": "tel", "autocomplete": "tel"}
    normalize = staticmethod(normalize_mobile)

    def prepare_value(self, value):
        if isinstance(value, str) and value.startswith("+"):
            return format_mobile_display(value)
        return value


class NationalCodeField(_NormalizedField):
    """A national code, cleaned to ten ASCII digits."""

    input_attrs = {"inputmode": "numeric", "autocomplete": "off"}
    normalize = staticmethod(normalize_national_code)
