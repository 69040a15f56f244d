"""Forms of the public pages: the resident's demand, support for an existing
demand, feedback, and the tracking-code lookup. They parse and check input;
the services write."""

import uuid

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tashil.agencies.models import DemandCategory
from tashil.core.forms import MobileField
from tashil.geo.lookup import get_index
from tashil.geo.models import Area

from .forms import description_field, map_point_fields
from .services import SERVING_OFFICE_STATUSES, validate_photo
from .tracking import parse_code

OUTSIDE_MESSAGE = _("This point is outside the neighbourhoods the offices serve in the province.")
NOT_IN_AREA_MESSAGE = _(
    "The point on the map is not inside the chosen neighbourhood. Move the marker, or choose "
    "the neighbourhood the point is in."
)
NO_PLACE_MESSAGE = _("Choose a neighbourhood or mark the place on the map.")
CATEGORY_MESSAGE = _("Choose a demand category from the list.")
AREA_MESSAGE = _("Choose your neighbourhood from the list.")
SUPPORT_SALT = "tashil.demands.public.support"
# A suggestion's support button stays valid while the resident fills the form.
SUPPORT_TOKEN_MAX_AGE = 6 * 60 * 60


# --- what the public may choose from ---------------------------------------------


def served_neighbourhoods():
    """Neighbourhoods that an open (pilot or active) office serves: the only
    places a public demand can be sent to someone."""
    return (
        Area.objects.neighbourhoods()
        .filter(offices__status__in=SERVING_OFFICE_STATUSES)
        .select_related("parent")
        .distinct()
        .order_by("parent__name_fa", "name_fa")
    )


def public_categories():
    """Active leaf categories with their parent, in display order."""
    return (
        DemandCategory.objects.active()
        .leaves()
        .select_related("parent")
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")
    )


def _chosen(choices, code, message):
    """The one row of `choices` a post names; the lists themselves are never loaded."""
    found = choices.filter(code=code).first()
    if found is None:
        raise forms.ValidationError(message, code="invalid_choice")
    return found


def _parsed(value, message):
    """A parser's answer, where None means the text did not parse."""
    if value is None:
        raise forms.ValidationError(message)
    return value


def _code_field(label, attrs, **kwargs):
    """A short code the resident types or pastes, always left to right."""
    return forms.CharField(
        label=label, max_length=20, widget=forms.TextInput(attrs={**attrs, "dir": "ltr"}), **kwargs
    )


def _grouped(items, group_name, label):
    """[(group, [(value, label), ...]), ...] keeping the first-seen group order."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(group_name(item), []).append((item.code, label(item)))
    return [(name, options) if name else (None, options) for name, options in groups.items()]


def _flatten(grouped):
    choices = [("", "—")]
    for group, options in grouped:
        if group is None:
            choices += options
        else:
            choices.append((group, options))
    return choices


class _CheckedChoiceField(forms.ChoiceField):
    """A select whose posted value the form's clean_<field> checks with one
    query, instead of reading every choice to find it."""

    def valid_value(self, value):
        return True


class _Once:
    """Calls `fn` the first time it is called and answers the same after:
    rendering a select reads its choices more than once."""

    def __init__(self, fn):
        self.fn = fn
        self.value = None

    def __call__(self):
        if self.value is None:
            self.value = self.fn()
        return self.value


def category_choices():
    return _flatten(
        _grouped(
            public_categories(), lambda c: c.parent.name if c.parent_id else "", lambda c: c.name
        )
    )


def area_choices():
    return _flatten(
        _grouped(
            served_neighbourhoods(),
            lambda a: a.parent.name if a.parent_id else "",
            lambda a: a.name,
        )
    )


# --- tracking codes ----------------------------------------------------------------


def support_token(demand) -> str:
    """A signed, expiring reference to a suggested demand, so the suggestions
    never reveal tracking codes (a code lets its holder give feedback)."""
    return signing.dumps(demand.pk, salt=SUPPORT_SALT, compress=True)


def demand_id_from_token(token: str) -> int | None:
    try:
        value = signing.loads(token or "", salt=SUPPORT_SALT, max_age=SUPPORT_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


# --- forms -------------------------------------------------------------------------


class PublicDemandForm(forms.Form):
    category = _CheckedChoiceField(
        label=_("What is the demand about?"),
        error_messages={"required": CATEGORY_MESSAGE, "invalid_choice": CATEGORY_MESSAGE},
    )
    area = _CheckedChoiceField(
        label=_("Neighbourhood"),
        required=False,
        error_messages={"invalid_choice": AREA_MESSAGE},
    )
    latitude, longitude = map_point_fields()
    description = description_field(
        _("Describe the problem"),
        _("Where exactly, since when, and how many households it affects."),
        error_messages={"required": _("Describe the demand in a few words.")},
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("A JPEG, PNG or WebP photo, up to 5 MB."),
    )
    submitter_mobile = MobileField(
        label=_("Mobile number (optional)"),
        required=False,
        help_text=_("We send the tracking code and news about your demand to this number by SMS."),
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    # The honeypot: hidden from people by the page's style, filled in by bots.
    website = forms.CharField(
        required=False,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Callables: the lists are read only when the form is rendered. A post
        # is checked against the one category and neighbourhood it names.
        self.fields["category"].choices = _Once(category_choices)
        self.fields["area"].choices = _Once(area_choices)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())
        for name in ("category", "area", "description", "submitter_mobile"):
            self.fields[name].widget.attrs.setdefault(
                "class", "form-select" if name in ("category", "area") else "form-control"
            )
        self.fields["photo"].widget.attrs["class"] = "form-control"
        self.fields["submitter_mobile"].widget.attrs["placeholder"] = "09xx xxx xxxx"

    @property
    def is_bot(self) -> bool:
        return bool(self.is_bound and (self.data.get("website") or "").strip())

    @property
    def raw_key(self) -> str | None:
        """The idempotency key as posted, if it is a UUID."""
        try:
            return str(uuid.UUID(str(self.data.get("idempotency_key", ""))))
        except ValueError:
            return None

    def clean_category(self):
        return _chosen(public_categories(), self.cleaned_data["category"], CATEGORY_MESSAGE)

    def clean_area(self):
        code = self.cleaned_data.get("area")
        return _chosen(served_neighbourhoods(), code, AREA_MESSAGE) if code else None

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo:
            return None
        try:
            validate_photo(photo)
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["photo"]) from None
        return photo

    def clean(self):
        data = super().clean()
        lat, lng = data.get("latitude"), data.get("longitude")
        if "latitude" in self.errors or "longitude" in self.errors:
            return data
        if (lat is None) != (lng is None):
            self.add_error("latitude", _("Mark the place on the map again."))
            return data
        area = data.get("area")
        if lat is not None:
            hit = get_index().area_id_for_point(lat, lng)
            if area is not None and area.pk == hit:
                return data
            served = served_neighbourhoods().filter(pk=hit).first() if hit is not None else None
            if served is None:
                self.add_error("latitude", OUTSIDE_MESSAGE)
                return data
            if area is not None:
                self.add_error("area", NOT_IN_AREA_MESSAGE)
                return data
            data["area"] = served
        elif area is None and "area" not in self.errors:
            self.add_error("area", NO_PLACE_MESSAGE)
        return data

    def apply_service_error(self, error: ValidationError) -> None:
        """Show a service's field errors on this form's fields."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, messages in error.message_dict.items():
            target = field if field in self.fields else None
            for message in messages:
                self.add_error(target, message)


class SupportForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    # Named like the form's field so the suggestion buttons can send it along.
    submitter_mobile = MobileField(label=_("Mobile number (optional)"), required=False)

    def clean_token(self):
        return _parsed(
            demand_id_from_token(self.cleaned_data["token"]),
            _("This suggestion has expired. Reload the page and try again."),
        )


class FeedbackForm(forms.Form):
    satisfied = forms.TypedChoiceField(
        label=_("Are you satisfied with the result?"),
        choices=[("yes", _("Yes, satisfied")), ("no", _("No, not satisfied"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Choose whether you are satisfied.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )
    # The second factor, besides the code in the address (see resident_factor).
    check = _code_field(
        _("The last four digits of the mobile number you gave, or the code we sent by SMS"),
        {"class": "form-control ltr", "inputmode": "numeric", "autocomplete": "one-time-code"},
        error_messages={"required": _("Enter the last four digits of the mobile number you gave.")},
    )


class TrackForm(forms.Form):
    code = _code_field(
        _("Tracking code"),
        {
            "class": "form-control form-control-lg text-center",
            "autocomplete": "off",
            "autocapitalize": "characters",
            "placeholder": "ABCD-EFGH",
        },
    )

    def clean_code(self):
        return _parsed(
            parse_code(self.cleaned_data["code"]),
            _("A tracking code has 8 letters and digits, like ACDE-3479."),
        )
