"""Forms only parse and check input; the services decide and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tashil.core.forms import StyledFormMixin, model_field
from tashil.geo.models import Area

from .models import Agency, DemandCategory
from .services import SLA_MAX_DAYS, SLA_MIN_DAYS, normalize_phone


class AreaChoiceField(forms.ModelChoiceField):
    """Areas indented by depth, so the tree reads in a plain select."""

    def label_from_instance(self, obj):
        return f"{'— ' * max(obj.depth - 1, 0)}{obj.name}"


def area_field(queryset, *, area_list=None, required=True, label=None):
    """A select of areas. `area_list`, the same areas already loaded, lets
    several selects on one page share one query; the queryset still
    validates the choice."""
    field = AreaChoiceField(
        queryset=queryset, to_field_name="code", required=required, label=label or _("Area")
    )
    if area_list is not None:
        field.choices = [("", field.empty_label)] + [
            (a.code, field.label_from_instance(a)) for a in area_list
        ]
    return field


class CheckboxList(forms.CheckboxSelectMultiple):
    """Checkboxes styled one by one: a class on the widget itself would also
    land on the wrapper around them."""

    def create_option(self, *args, **kwargs):
        option = super().create_option(*args, **kwargs)
        option["attrs"]["class"] = "form-check-input me-1"
        return option


class AreaMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{'— ' * max(obj.depth - 1, 0)}{obj.name}"


class CategoryChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, depths=None, **kwargs):
        self.depths = depths or {}
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return f"{'— ' * self.depths.get(obj.pk, 0)}{obj.name}"


def category_field(tree, *, required=True, label=None, exclude=()):
    """A select of the categories in tree order."""
    nodes = [n for n in tree if n.category.pk not in exclude]
    field = CategoryChoiceField(
        queryset=DemandCategory.objects.filter(pk__in=[n.category.pk for n in nodes]),
        to_field_name="code",
        required=required,
        label=label or _("Category"),
        depths={n.category.pk: n.depth for n in nodes},
    )
    # The select lists the tree already loaded, in tree order, with no extra query.
    field.choices = [("", field.empty_label)] + [
        (n.category.code, field.label_from_instance(n.category)) for n in nodes
    ]
    return field


# --- Agencies --------------------------------------------------------------------------


class PhoneMixin:
    def clean_phone(self):
        return normalize_phone(self.cleaned_data.get("phone", ""))


class AgencyForm(PhoneMixin, StyledFormMixin, forms.Form):
    code = model_field(
        Agency, "code", help_text=_("Latin letters, digits and dashes; used in links.")
    )
    name_fa = model_field(Agency, "name_fa")
    name_en = model_field(Agency, "name_en")
    short_name = model_field(Agency, "short_name")
    phone = model_field(Agency, "phone")
    email = model_field(Agency, "email")
    is_active = model_field(Agency, "is_active")
    jurisdiction = AreaMultipleChoiceField(
        queryset=Area.objects.none(),
        to_field_name="code",
        required=False,
        widget=CheckboxList,
        label=_("Areas served"),
        help_text=_("An agency serving an area also serves every area inside it."),
    )

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].queryset = areas if areas is not None else Area.objects.none()
        self.fields["phone"].widget.attrs.update({"dir": "ltr", "inputmode": "tel"})
        self.fields["email"].widget.attrs["dir"] = "ltr"
        self.fields["code"].widget.attrs["dir"] = "ltr"


class AgencyCreateForm(AgencyForm):
    province = AreaChoiceField(
        queryset=Area.objects.none(), label=_("Province"), to_field_name="code"
    )

    field_order = [
        "province",
        "code",
        "name_fa",
        "name_en",
        "short_name",
        "phone",
        "email",
        "is_active",
    ]

    def __init__(self, *args, provinces=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].queryset = (
            provinces if provinces is not None else Area.objects.none()
        )


class AgencyEditForm(AgencyForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class AgencyContactForm(PhoneMixin, StyledFormMixin, forms.Form):
    phone = model_field(Agency, "phone")
    email = model_field(Agency, "email")
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update({"dir": "ltr", "inputmode": "tel"})
        self.fields["email"].widget.attrs["dir"] = "ltr"


class AgencyFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    county = AreaChoiceField(
        queryset=Area.objects.none(), required=False, label=_("County served"), to_field_name="code"
    )

    def __init__(self, *args, counties=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties if counties is not None else Area.objects.none()
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": _("Name or code")})


# --- Categories ------------------------------------------------------------------------


class CategoryForm(StyledFormMixin, forms.Form):
    code = model_field(DemandCategory, "code")
    name_fa = model_field(DemandCategory, "name_fa")
    name_en = model_field(DemandCategory, "name_en")
    sla_working_days = forms.IntegerField(
        label=_("Answer time (working days)"),
        min_value=SLA_MIN_DAYS,
        max_value=SLA_MAX_DAYS,
        initial=10,
        help_text=_("Default deadline for an agency's answer."),
    )
    description = model_field(DemandCategory, "description")
    sort_order = model_field(DemandCategory, "sort_order")
    is_active = model_field(DemandCategory, "is_active")

    def __init__(self, *args, tree=(), exclude=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"] = category_field(
            tree, required=False, label=_("Parent category"), exclude=exclude
        )
        self.order_fields(["parent", "code", "name_fa", "name_en", "sla_working_days"])
        self.style_fields()
        self.fields["code"].widget.attrs["dir"] = "ltr"
        self.fields["description"].widget.attrs["rows"] = 3
        self.fields["sla_working_days"].widget.attrs["inputmode"] = "numeric"


# --- Routing -----------------------------------------------------------------------------


class RoutingFilterForm(StyledFormMixin, forms.Form):
    def __init__(self, *args, tree=(), areas=None, area_list=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"] = category_field(tree, required=False)
        self.fields["area"] = area_field(
            areas if areas is not None else Area.objects.none(), area_list=area_list, required=False
        )
        self.style_fields()


class RoutingRuleForm(StyledFormMixin, forms.Form):
    prefix = "set"

    def __init__(self, *args, tree=(), areas=None, area_list=None, agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"] = category_field(tree)
        self.fields["area"] = area_field(
            areas if areas is not None else Area.objects.none(), area_list=area_list
        )
        self.fields["agency"] = forms.ModelChoiceField(
            queryset=agencies if agencies is not None else Agency.objects.none(),
            label=_("Agency"),
            to_field_name="code",
        )
        self.style_fields()


class RouteTestForm(StyledFormMixin, forms.Form):
    prefix = "t"

    def __init__(self, *args, tree=(), areas=None, area_list=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"] = category_field(tree)
        self.fields["area"] = area_field(
            areas if areas is not None else Area.objects.none(), area_list=area_list
        )
        self.style_fields()
