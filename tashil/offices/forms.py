"""Forms parse and check input; the office services decide and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tashil.accounts.models import Role, RoleMembership
from tashil.core.forms import JalaliDateField, MobileField, RecordForm, StyledForm, model_field
from tashil.geo.models import Area

from .models import Office, Operator
from .services import OFFICE_FIELDS

ROLE_LABELS = dict(Role.choices)


def _area_label(area: Area) -> str:
    if area.parent_id and area.level != Area.Level.COUNTY:
        return f"{area.name} · {area.parent.name}"
    return f"{area.name} · {area.get_level_display()}"


class OfficeForm(StyledForm):
    """The office record. `province` is chosen only when creating: it is the
    office's scope and does not change afterwards."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    code = model_field(
        Office,
        "code",
        help_text=_("Short Latin letters, digits and dashes, used in links; e.g. zoviyeh."),
    )
    name_fa = model_field(Office, "name_fa")
    name_en = model_field(Office, "name_en")
    province = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("province"))
    county = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("county"), required=False)
    operator = forms.ModelChoiceField(
        queryset=Operator.objects.none(), label=_("operator"), required=False
    )
    status = model_field(Office, "status")
    opened_on = JalaliDateField(label=_("opening date"), required=False)
    contract_start = JalaliDateField(label=_("contract start"), required=False)
    contract_end = JalaliDateField(label=_("contract end"), required=False)
    areas = forms.ModelMultipleChoiceField(
        queryset=Area.objects.none(),
        label=_("areas served"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    address = model_field(Office, "address")
    phone = model_field(Office, "phone")
    latitude = model_field(Office, "latitude")
    longitude = model_field(Office, "longitude")
    note = model_field(Office, "note", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, provinces, office: Office | None = None, **kwargs):
        self.office = office
        if office is not None:
            initial = {
                name: getattr(office, name)
                for name in OFFICE_FIELDS
                if name not in ("county", "operator")
            }
            initial |= {
                "county": office.county_id,
                "operator": office.operator_id,
                "version": office.version,
                "areas": [a.pk for a in office.areas.all()],
            }
            kwargs["initial"] = initial | kwargs.get("initial", {})
        super().__init__(*args, **kwargs)
        provinces = list(provinces)
        province_q = Area.objects.none()
        for province in provinces:
            province_q = province_q | Area.objects.filter(path__startswith=province.path)
        if office is not None:
            # Editing: province and status have their own rules and forms.
            del self.fields["province"]
            del self.fields["status"]
        else:
            self.fields["province"].queryset = Area.objects.filter(pk__in=[p.pk for p in provinces])
            if len(provinces) == 1:
                self.fields["province"].initial = provinces[0].pk
        self.fields["county"].queryset = province_q.filter(level=Area.Level.COUNTY).order_by(
            "name_fa"
        )
        self.fields["operator"].queryset = Operator.objects.order_by("name_fa")
        areas = self.fields["areas"]
        areas.queryset = (
            province_q.exclude(level=Area.Level.PROVINCE).select_related("parent").order_by("path")
        )
        areas.label_from_instance = _area_label
        for name in ("code", "name_en", "phone", "latitude", "longitude"):
            self.fields[name].widget.attrs["dir"] = "ltr"
        self.fields["latitude"].widget.attrs["step"] = "any"
        self.fields["longitude"].widget.attrs["step"] = "any"
        self.style_fields()

    def area_groups(self):
        """The area checkboxes grouped by county, for a compact list."""
        groups: list[tuple[str, list]] = []
        county_names: dict[str, str] = {}
        for choice in self["areas"]:
            area = choice.data["value"].instance
            if area.level == Area.Level.COUNTY:
                county_names[area.path] = area.name
            county_path = "/".join(area.path.split("/")[:2]) + "/"
            name = county_names.get(county_path, "")
            if not groups or groups[-1][0] != name:
                groups.append((name, []))
            groups[-1][1].append(choice)
        return groups


class OfficeStatusForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    status = model_field(Office, "status", label=_("new status"))
    opened_on = JalaliDateField(
        label=_("opening date"),
        required=False,
        help_text=_("Needed when the office becomes pilot or active, if not recorded yet."),
    )

    def __init__(self, *args, office: Office, allowed, **kwargs):
        kwargs.setdefault("initial", {"version": office.version, "opened_on": office.opened_on})
        # Prefixed: it shares the edit page with the office form.
        super().__init__(*args, prefix="status", **kwargs)
        self.fields["status"].choices = [
            (s, label) for s, label in Office.Status.choices if s in allowed
        ]


class OperatorForm(RecordForm):
    name_fa = model_field(Operator, "name_fa")
    name_en = model_field(Operator, "name_en")
    kind = model_field(Operator, "kind")
    registration_number = model_field(Operator, "registration_number")
    phone = model_field(Operator, "phone")

    def __init__(self, *args, operator: Operator | None = None, version: str = "", **kwargs):
        super().__init__(*args, record=operator, version=version, **kwargs)
        for name in ("name_en", "registration_number", "phone"):
            self.fields[name].widget.attrs["dir"] = "ltr"


def _role_choices(roles):
    return [(role, ROLE_LABELS[role]) for role in roles]


class StaffAddForm(StyledForm):
    """Add someone who already has an account."""

    username = forms.CharField(
        label=_("username"),
        max_length=150,
        widget=forms.TextInput(attrs={"dir": "ltr", "autocapitalize": "none"}),
    )
    role = forms.ChoiceField(label=_("role"))
    title = forms.CharField(label=_("job title"), max_length=120, required=False)

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(roles)
        if len(roles) == 1:
            self.fields["role"].initial = roles[0]


class StaffNewUserForm(StyledForm):
    """Create an account for a new staff member; the system makes up a
    temporary password and shows it once. Prefixed, as it shares a page with
    StaffAddForm."""

    username = forms.CharField(
        label=_("username"),
        max_length=150,
        help_text=_("Latin letters, digits and @ . + - _ only."),
        widget=forms.TextInput(attrs={"dir": "ltr", "autocapitalize": "none"}),
    )
    first_name = forms.CharField(label=_("first name"), max_length=150)
    last_name = forms.CharField(label=_("last name"), max_length=150)
    mobile = MobileField(label=_("mobile"), required=False)
    role = forms.ChoiceField(label=_("role"))
    title = forms.CharField(label=_("job title"), max_length=120, required=False)

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, prefix="new", **kwargs)
        self.fields["role"].choices = _role_choices(roles)
        if len(roles) == 1:
            self.fields["role"].initial = roles[0]
        self.style_fields()


class StaffRemoveForm(forms.Form):
    membership = forms.ModelChoiceField(queryset=RoleMembership.objects.none())

    def __init__(self, *args, office: Office, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = (
            RoleMembership.objects.active()
            .filter(office=office)
            .select_related("user", "office__province")
        )
