"""Forms only parse and check input; the services normalise, decide and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tashil.agencies.models import Agency, DemandCategory
from tashil.core.forms import JalaliDateField, MobileField, StyledFormMixin
from tashil.core.text import to_ascii_digits

from . import selectors
from .models import Consent, Household, Membership, Person
from .services.common import CIRCUMSTANCE_FIELDS, ENDING_REASONS, LIVING_FIELDS

BLANK = [("", "—")]


def _choices(model, name, *, blank=True):
    field = model._meta.get_field(name)
    return (BLANK if blank else []) + list(field.choices)


class _LocalNumberMixin:
    """A number typed in Persian, Arabic or ASCII digits, in a left-to-right input."""

    inputmode = "numeric"
    separators = str.maketrans({})

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": self.inputmode, "dir": "ltr"})
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = to_ascii_digits(value).translate(self.separators).strip()
        return super().to_python(value)


class LocalIntegerField(_LocalNumberMixin, forms.IntegerField):
    """An integer typed in Persian, Arabic or ASCII digits."""


class LocalFloatField(_LocalNumberMixin, forms.FloatField):
    """A decimal number; the Persian decimal separator counts as the point."""

    inputmode = "decimal"
    separators = str.maketrans({"٫": "."})


class NationalCodeInput(forms.CharField):
    """Raw text: the service normalises and checks it, and reports the
    duplicate with a link the form alone could not build."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"}),
        )
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)


class SectionsMixin:
    """A long form shown in titled groups: SECTIONS holds (title, field names)."""

    SECTIONS = ()
    # Fields that take a whole row.
    WIDE_FIELDS = ()

    def sections(self):
        for title, names in self.SECTIONS:
            yield title, [self[name] for name in names if name in self.fields]


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


# --- Households ---------------------------------------------------------------------------


class HouseholdForm(SectionsMixin, StyledFormMixin, forms.Form):
    office = forms.ModelChoiceField(
        label=_("Office"), queryset=None, to_field_name="code", empty_label="—"
    )
    area = AreaChoiceField(
        label=_("Neighbourhood"),
        queryset=None,
        required=False,
        empty_label="—",
        help_text=_("Leave empty to find it from the point on the map."),
    )
    external_id = forms.CharField(
        label=_("Household id"),
        max_length=60,
        required=False,
        help_text=_("The office's own number for the household, if it has one."),
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    address = forms.CharField(
        label=_("Address or description"),
        max_length=400,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Informal dwellings often have no address: describe how to find it."),
    )
    latitude = LocalFloatField(label=_("Latitude"), required=False)
    longitude = LocalFloatField(label=_("Longitude"), required=False)
    dwelling_type = forms.ChoiceField(label=_("Dwelling type"), required=False)
    tenure = forms.ChoiceField(label=_("Tenure"), required=False)
    water = forms.ChoiceField(label=_("Water"), required=False)
    electricity = forms.ChoiceField(label=_("Electricity"), required=False)
    sewage = forms.ChoiceField(label=_("Sewage"), required=False)
    gas = forms.ChoiceField(label=_("Gas"), required=False)
    main_income = forms.ChoiceField(label=_("Main income source"), required=False)
    support_relief = forms.BooleanField(
        label=_("Supported by the Relief Foundation"), required=False
    )
    support_welfare = forms.BooleanField(
        label=_("Supported by the Welfare Organization"), required=False
    )
    support_other = forms.CharField(label=_("Other support"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    WIDE_FIELDS = ("address", "note")
    SECTIONS = (
        (_("Where"), ("office", "area", "external_id", "address", "latitude", "longitude")),
        (
            _("Dwelling and utilities"),
            ("dwelling_type", "tenure", "water", "electricity", "sewage", "gas"),
        ),
        (
            _("Income and support"),
            ("main_income", "support_relief", "support_welfare", "support_other", "note"),
        ),
    )

    def __init__(self, *args, offices, areas, household=None, single_office=False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in LIVING_FIELDS:
            self.fields[name].choices = _choices(Household, name)
        self.fields["area"].queryset = areas
        if household is not None or single_office:
            del self.fields["office"]
        else:
            self.fields["office"].queryset = offices
            self.fields["office"].label_from_instance = lambda obj: obj.name
        self.style_fields()

    def data_for_service(self, exclude=("version", "office")) -> dict:
        return super().data_for_service(exclude)


class HouseholdFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        help_text=_("Names, address, household id, or a whole national code."),
    )
    area = AreaChoiceField(
        label=_("Neighbourhood"), queryset=None, required=False, empty_label=_("All")
    )
    group = forms.ChoiceField(label=_("Vulnerability group"), required=False)
    vulnerable = forms.BooleanField(label=_("Vulnerable only"), required=False)
    hazard = forms.ChoiceField(
        label=_("Hazard zone"),
        required=False,
        choices=[("", _("All")), ("yes", _("In a hazard zone")), ("no", _("Not in a hazard zone"))],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("updated", _("Recently changed")),
            ("score", _("Vulnerability score")),
            ("name", _("Head's name")),
            ("household_id", _("Household id")),
            ("created", _("Recently registered")),
        ],
    )

    def __init__(self, *args, areas, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["group"].choices = [("", _("All"))] + list(groups)
        self.style_fields()

    def filters(self) -> dict:
        """The valid form as the household list's filters."""
        d = self.cleaned_data
        return {
            "area": d["area"],
            "group": d["group"],
            "vulnerable_only": d["vulnerable"],
            "hazard": d["hazard"],
            "query": d["q"].strip(),
            "sort": d["sort"] or "updated",
        }


class VulnerableFilterForm(StyledFormMixin, forms.Form):
    area = AreaChoiceField(
        label=_("Neighbourhood"), queryset=None, required=False, empty_label=_("All")
    )
    group = forms.ChoiceField(label=_("Group"), required=False)

    def __init__(self, *args, areas, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["group"].choices = [("", _("All vulnerable households"))] + list(groups)
        self.style_fields()


def initial_of(record, fields) -> dict:
    """An edit form's first values: the record's `fields` and the version it was read at."""
    return {**{name: getattr(record, name) for name in fields}, "version": record.version}


def scoped_filter_form(form_class, data, user):
    """A household filter form offering the areas and groups `user` may filter by."""
    return form_class(data, areas=selectors.registry_areas(user), groups=selectors.group_choices())


# --- Persons -------------------------------------------------------------------------------------


class PersonForm(SectionsMixin, StyledFormMixin, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    father_name = forms.CharField(label=_("Father's name"), max_length=100, required=False)
    national_code = NationalCodeInput(
        label=_("National code"), required=False, help_text=_("Leave empty if the person has none.")
    )
    sex = forms.ChoiceField(label=_("Sex"), required=False)
    birth_date = JalaliDateField(label=_("Birth date"), required=False)
    birth_year = LocalIntegerField(
        label=_("Birth year (Jalali)"),
        required=False,
        help_text=_("If the exact date is not known."),
    )
    nationality = forms.ChoiceField(label=_("Nationality or status"))
    mobile = MobileField(label=_("Mobile"), required=False)
    marital_status = forms.ChoiceField(label=_("Marital status"), required=False)
    education = forms.ChoiceField(label=_("Education"), required=False)
    in_school = forms.NullBooleanField(label=_("Enrolled in school"), required=False)
    employment = forms.ChoiceField(label=_("Employment"), required=False)
    has_disability = forms.BooleanField(label=_("Has a disability"), required=False)
    disability_note = forms.CharField(label=_("Disability"), max_length=200, required=False)
    chronic_illness = forms.BooleanField(label=_("Chronic illness"), required=False)
    health_insurance = forms.ChoiceField(label=_("Health insurance"), required=False)
    relation = forms.ChoiceField(label=_("Relation to the head of household"))
    joined_on = JalaliDateField(label=_("Member since"), required=False)
    confirm_new = forms.BooleanField(
        label=_("I checked the similar records: this is a different person."), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    SECTIONS = (
        (
            _("Identity"),
            (
                "first_name",
                "last_name",
                "father_name",
                "national_code",
                "sex",
                "birth_date",
                "birth_year",
                "nationality",
                "mobile",
                "relation",
                "joined_on",
            ),
        ),
        (_("Circumstances"), CIRCUMSTANCE_FIELDS),
    )

    def __init__(self, *args, creating: bool, ask_confirm: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("sex", "marital_status", "education", "employment", "health_insurance"):
            self.fields[name].choices = _choices(Person, name)
        self.fields["nationality"].choices = _choices(Person, "nationality", blank=False)
        self.fields["relation"].choices = _choices(Membership, "relation")
        if not creating:
            del self.fields["relation"]
            del self.fields["joined_on"]
        if not ask_confirm:
            del self.fields["confirm_new"]
        self.style_fields()

    def data_for_service(self, exclude=("version", "relation", "joined_on", "confirm_new")) -> dict:
        return super().data_for_service(exclude)


class MembershipEndForm(StyledFormMixin, forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=[(r.value, r.label) for r in ENDING_REASONS])
    left_on = JalaliDateField(label=_("Date"), required=False, help_text=_("Today if left empty."))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class MembershipRelationForm(StyledFormMixin, forms.Form):
    relation = forms.ChoiceField(label=_("Relation to the head of household"))
    previous_head_relation = forms.ChoiceField(
        label=_("What the current head becomes"),
        required=False,
        help_text=_("Only when this member becomes the head."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["relation"].choices = _choices(Membership, "relation", blank=False)
        self.fields["previous_head_relation"].choices = BLANK + [
            c for c in Membership.Relation.choices if c[0] != Membership.Relation.HEAD
        ]
        self.style_fields()


class MembershipAddForm(StyledFormMixin, forms.Form):
    national_code = NationalCodeInput(label=_("National code of the person"))
    relation = forms.ChoiceField(label=_("Relation to the head of household"))
    joined_on = JalaliDateField(
        label=_("Member since"), required=False, help_text=_("Today if left empty.")
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["relation"].choices = _choices(Membership, "relation")
        self.style_fields()


class ConsentForm(StyledFormMixin, forms.Form):
    purpose = forms.ChoiceField(
        label=_("Consent to"), choices=_choices(Consent, "purpose", blank=False)
    )
    given_by = forms.CharField(label=_("Given by"), max_length=200)
    given_on = JalaliDateField(label=_("Date"), required=False, help_text=_("Today if left empty."))


class ReferForm(StyledFormMixin, forms.Form):
    indicator = forms.ModelChoiceField(
        label=_("Because of"), queryset=None, required=False, empty_label=_("Other need")
    )
    category = forms.ModelChoiceField(label=_("Demand category"), queryset=None, empty_label="—")
    agency = forms.ModelChoiceField(
        label=_("Agency"),
        queryset=None,
        required=False,
        empty_label=_("The one the routing table names"),
    )
    note = forms.CharField(
        label=_("Note to the agency"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The agency reads this. Write no national codes or addresses here."),
    )

    def __init__(self, *args, indicators, province, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].queryset = indicators
        self.fields["indicator"].label_from_instance = lambda obj: obj.name
        self.fields["category"].queryset = (
            DemandCategory.objects.active()
            .leaves()
            .select_related("parent")
            .order_by("parent__sort_order", "sort_order", "code")
        )
        self.fields["category"].label_from_instance = lambda obj: (
            f"{obj.parent.name} › {obj.name}" if obj.parent_id else obj.name
        )
        self.fields["agency"].queryset = Agency.objects.filter(
            province=province, is_active=True
        ).order_by("name_fa")
        self.fields["agency"].label_from_instance = lambda obj: obj.name
        self.style_fields()


# --- Catalogue -----------------------------------------------------------------------------------


class IndicatorForm(StyledFormMixin, forms.Form):
    weight = LocalIntegerField(label=_("Weight"), min_value=0, max_value=20)
    parameter = LocalIntegerField(label=_("Parameter"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)
    referral_category = forms.ModelChoiceField(
        label=_("Usual referral category"), queryset=None, required=False, empty_label="—"
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, has_parameter: bool, parameter_help: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if has_parameter:
            self.fields["parameter"].required = True
            self.fields["parameter"].help_text = parameter_help
        else:
            del self.fields["parameter"]
        self.fields["referral_category"].queryset = (
            DemandCategory.objects.active().leaves().order_by("code")
        )
        self.fields["referral_category"].label_from_instance = lambda obj: obj.name
        self.style_fields()


class ThresholdForm(StyledFormMixin, forms.Form):
    threshold_score = LocalIntegerField(label=_("Vulnerable from score"), min_value=1, max_value=50)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class MergeForm(forms.Form):
    keep = forms.ChoiceField(label=_("Keep"), widget=forms.RadioSelect)
    first_version = forms.IntegerField(widget=forms.HiddenInput)
    second_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, first, second, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [(str(first.pk), str(first)), (str(second.pk), str(second))]
