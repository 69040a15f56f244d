"""Forms for the staff demand pages and the agency portal. They parse and
check input; the services decide and write."""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from tashil.agencies.forms import area_field, category_field
from tashil.agencies.models import Agency
from tashil.agencies.selectors import category_tree
from tashil.core.forms import JalaliDateField, MobileField, StyledFormMixin
from tashil.core.text import to_ascii_digits
from tashil.geo.lookup import area_for_point
from tashil.geo.models import Area
from tashil.offices.models import Office

from .filters import FIELDS as FILTER_FIELDS
from .filters import parse_demand_filters
from .models import (
    CLOSED_STATUSES,
    Channel,
    DemandStatus,
    FollowUp,
    ReferralStatus,
    SlaState,
    SubmitterKind,
)
from .selectors import DemandFilters, visible_offices
from .services import MAX_PHOTO_BYTES, STAFF_CHANNELS

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_FILES = 6


def map_point_fields():
    """The latitude and longitude a map widget fills in: hidden, optional, on the globe."""
    return (
        forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90),
        forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180),
    )


def description_field(label, help_text, **kwargs):
    """A demand's description, the same length and box on the staff and public forms."""
    return forms.CharField(
        label=label,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=help_text,
        **kwargs,
    )


def short_text_field(label, *, max_length=2000, required=True, help_text=""):
    """A reason or note of a line or two, as every staff action asks for one."""
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (empty when none)."""

    def __init__(self, *args, max_files=MAX_FILES, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(files) > self.max_files:
            raise ValidationError(
                _("Attach at most %(count)s files.") % {"count": self.max_files}, code="too_many"
            )
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def check_documents(files, *, allow_pdf=True):
    """Photos (checked again by the services) and PDF letters; nothing else."""
    for upload in files:
        head = upload.read(5)
        upload.seek(0)
        if allow_pdf and head == b"%PDF-":
            if upload.size > MAX_DOCUMENT_BYTES:
                raise ValidationError(_("A PDF may be at most 10 MB."))
            upload.content_type = "application/pdf"
            continue
        if upload.size > MAX_PHOTO_BYTES:
            raise ValidationError(_("The photo is larger than 5 MB."))
        # The services inspect the image itself; the type the browser claimed
        # only decides which check they run.
        upload.content_type = "image/upload"
    return files


class NeighbourhoodField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        parent = obj.parent.name if obj.parent_id and obj.parent else ""
        return f"{obj.name} — {parent}" if parent else obj.name


def leaf_category_field(tree, *, label=None):
    """Categories a demand can be filed under: the leaves, grouped under
    their top-level category so that a phone shows a short list."""
    field = category_field(tree, label=label or _("Category"))
    field.empty_label = _("Choose a category")
    parents = {n.category.parent_id for n in tree if n.category.parent_id}
    groups: list = []
    current = None
    for node in tree:
        c = node.category
        if not c.is_active:
            continue
        if node.depth == 0:
            current = (c.name, [])
            groups.append(current)
            if c.pk not in parents:
                current[1].append((c.code, c.name))
            continue
        if c.pk in parents:
            continue
        if current is not None:
            current[1].append((c.code, f"{'— ' * (node.depth - 1)}{c.name}"))
    field.choices = [("", field.empty_label)] + [
        (label_, options) if len(options) > 1 or options[0][1] != label_ else options[0]
        for label_, options in groups
        if options
    ]
    leaves = [n.category.pk for n in tree if n.category.pk not in parents and n.category.is_active]
    field.queryset = field.queryset.filter(pk__in=leaves)
    return field


# --- intake -----------------------------------------------------------------------------


class DemandCreateForm(StyledFormMixin, forms.Form):
    area = NeighbourhoodField(
        queryset=Area.objects.none(), to_field_name="code", label=_("Neighbourhood"), required=False
    )
    latitude, longitude = map_point_fields()
    description = description_field(
        _("Description"), _("What is the problem, where exactly, and since when?")
    )
    submitter_kind = forms.ChoiceField(
        label=_("The demand comes from"),
        choices=SubmitterKind.choices,
        initial=SubmitterKind.RESIDENT,
    )
    channel = forms.ChoiceField(
        label=_("How it reached the office"),
        choices=[(c.value, c.label) for c in Channel if c in STAFF_CHANNELS],
        initial=Channel.WALK_IN,
    )
    submitter_name = forms.CharField(label=_("Name"), required=False, max_length=200)
    submitter_mobile = MobileField(
        label=_("Mobile"),
        required=False,
        help_text=_("The tracking code and updates are sent to this number by SMS."),
    )
    contact_consent = forms.BooleanField(
        label=_("The submitter agrees that the agency may see their name and mobile"),
        required=False,
    )
    is_listed = forms.BooleanField(
        label=_("The submitter agrees to publish this demand in open data (Open311)"),
        required=False,
        help_text=_(
            "Only the category, the neighbourhood, the status and the description with names and "
            "numbers masked are published, never the tracking code."
        ),
    )
    photos = MultipleFileField(
        label=_("Photos"),
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("Up to 6 photos, 5 MB each."),
    )
    # A double tap on a slow connection must not record the demand twice.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)

    field_order = [
        "area",
        "category",
        "description",
        "photos",
        "submitter_kind",
        "channel",
        "submitter_name",
        "submitter_mobile",
        "contact_consent",
        "is_listed",
    ]

    def __init__(self, *args, areas=None, tree=(), **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", f"staff-{uuid.uuid4().hex}")
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas if areas is not None else Area.objects.none()
        self.fields["area"].empty_label = _("Choose a neighbourhood")
        self.fields["category"] = leaf_category_field(tree)
        self.order_fields(self.field_order)
        self.style_fields()
        self.fields["submitter_name"].widget.attrs["autocomplete"] = "name"
        self.fields["submitter_mobile"].widget.attrs["placeholder"] = "0912 345 6789"
        self.fields["description"].widget.attrs["maxlength"] = 4000

    def clean(self):
        data = super().clean()
        lat, lng, area = data.get("latitude"), data.get("longitude"), data.get("area")
        if (lat is None) != (lng is None):
            self.add_error("area", _("The map point is incomplete; mark it again."))
        elif lat is not None:
            found = area_for_point(lat, lng)
            if area is None:
                if found is None or not self.fields["area"].queryset.filter(pk=found.pk).exists():
                    self.add_error(
                        "area", _("This point is outside the neighbourhoods of your offices.")
                    )
                else:
                    data["area"] = found
            elif found is not None and found.pk != area.pk:
                self.add_error(
                    "area",
                    _("The point on the map is in %(found)s, not in the chosen neighbourhood.")
                    % {"found": found.name},
                )
        elif area is None and "area" not in self.errors:
            self.add_error("area", _("Choose a neighbourhood or mark the place on the map."))
        if data.get("contact_consent") and not (
            data.get("submitter_name") or data.get("submitter_mobile")
        ):
            self.add_error(
                "contact_consent", _("Consent needs a name or a mobile number to share.")
            )
        return data

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        for photo in photos:
            if photo.size > MAX_PHOTO_BYTES:
                raise ValidationError(_("The photo is larger than 5 MB."))
        return photos

    def clean_idempotency_key(self):
        key = self.cleaned_data["idempotency_key"]
        if not key.startswith("staff-"):
            raise ValidationError(_("Reload the form and try again."))
        return key


# --- the staff list ----------------------------------------------------------------------


def _status_choices():
    return [
        ("", _("Any status")),
        ("open", _("Open (any stage)")),
        ("closed", _("Closed (any result)")),
        *[(s.value, s.label) for s in DemandStatus],
    ]


SLA_CHOICES = [
    ("", _("Any")),
    (SlaState.ON_TRACK, SlaState.ON_TRACK.label),
    (SlaState.AT_RISK, SlaState.AT_RISK.label),
    (SlaState.BREACHED, SlaState.BREACHED.label),
]
SORT_CHOICES = [
    ("newest", _("Newest first")),
    ("oldest", _("Oldest first")),
    ("supporters", _("Most supporters")),
    ("due", _("Nearest due date")),
]


class DemandFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)
    sla = forms.ChoiceField(label=_("Deadline"), required=False, choices=SLA_CHOICES)
    date_from = JalaliDateField(label=_("Recorded from"), required=False)
    date_to = JalaliDateField(label=_("Recorded until"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)
    mine = forms.BooleanField(label=_("Recorded by me"), required=False)

    def __init__(
        self,
        *args,
        user=None,
        tree=(),
        areas=None,
        area_list=None,
        agencies=None,
        offices=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["status"].choices = _status_choices()
        self.fields["category"] = category_field(tree, required=False)
        self.fields["area"] = area_field(
            areas if areas is not None else Area.objects.none(), area_list=area_list, required=False
        )
        self.fields["agency"] = forms.ModelChoiceField(
            queryset=agencies if agencies is not None else Agency.objects.none(),
            to_field_name="code",
            required=False,
            label=_("Agency"),
        )
        self.fields["office"] = forms.ModelChoiceField(
            queryset=offices if offices is not None else Office.objects.none(),
            to_field_name="code",
            required=False,
            label=_("Office"),
        )
        for name, label in (
            ("area", _("Any area")),
            ("category", _("Any category")),
            ("agency", _("Any agency")),
            ("office", _("Any office")),
        ):
            field = self.fields[name]
            field.empty_label = label
            if isinstance(field.choices, list):
                field.choices = [("", label), *field.choices[1:]]
        self.order_fields(FILTER_FIELDS)
        self.style_fields()
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": _("Words or tracking code")}
        )

    def full_clean(self):
        """The fields render the filter; the input is read by
        `parse_demand_filters`, the one parser the exports and the API use
        too, and its errors land on the fields they name."""
        self._errors = ErrorDict()
        self.cleaned_data = {}
        self.filters = None
        if not self.is_bound:
            return
        try:
            self.filters = parse_demand_filters(self.user, self.data)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self._errors[name] = self.error_class(messages)
        else:
            self.cleaned_data = vars(self.filters)


def build_filter_form(user, data):
    """The list's filter form for `user` and the filters it yields (None when
    the input is invalid)."""
    areas = Area.objects.visible_to(user).order_by("path")
    form = DemandFilterForm(
        data or None,
        user=user,
        tree=category_tree(),
        areas=areas,
        area_list=list(areas.only("id", "code", "path", "name_fa", "name_en")),
        agencies=Agency.objects.visible_to(user).order_by("name_fa"),
        offices=visible_offices(user),
    )
    if not form.is_bound:
        return form, DemandFilters()
    return form, form.filters if form.is_valid() else None


# --- triage and the rest of the demand page --------------------------------------------------


class VersionedForm(StyledFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class AcceptForm(VersionedForm):
    prefix = "accept"


class RequestInfoForm(VersionedForm):
    prefix = "info"
    message = short_text_field(
        _("What information is needed?"),
        max_length=1000,
        help_text=_("The resident receives this by SMS and sees it on the tracking page."),
    )


class RejectForm(VersionedForm):
    prefix = "reject"
    reason = short_text_field(
        _("Reason"), max_length=1000, help_text=_("The resident is told this reason.")
    )


class MergeForm(VersionedForm):
    prefix = "merge"
    into = forms.CharField(
        label=_("Tracking code of the demand to merge into"),
        max_length=20,
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )

    def clean_into(self):
        return to_ascii_digits(self.cleaned_data["into"]).replace("-", "").replace(" ", "").upper()


class ReferForm(VersionedForm):
    prefix = "refer"
    agency = forms.ModelChoiceField(
        queryset=Agency.objects.none(), to_field_name="code", label=_("Agency")
    )
    letter_number = forms.CharField(
        label=_("Letter number"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    letter_date = JalaliDateField(label=_("Letter date"), required=False)
    note = short_text_field(_("Note to the agency"), required=False)

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies if agencies is not None else Agency.objects.none()


class FollowUpForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FollowUp.Kind.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=FollowUp.Outcome.choices)
    happened_on = JalaliDateField(label=_("Date"), required=False)
    note = short_text_field(_("Note"), required=False)


class CloseForm(VersionedForm):
    prefix = "close"
    outcome = forms.ChoiceField(
        label=_("Result"),
        choices=[(s.value, s.label) for s in DemandStatus if s in CLOSED_STATUSES],
        widget=forms.RadioSelect,
    )
    reason = short_text_field(
        _("Evidence or reason"),
        required=False,
        help_text=_(
            "Resolved: what was done (or attach evidence). Not feasible: why. The resident is told."
        ),
    )
    evidence = MultipleFileField(
        label=_("Evidence (photos or PDF)"),
        widget=MultipleFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}
        ),
    )

    def clean_evidence(self):
        return check_documents(self.cleaned_data["evidence"])


# --- referral moves ---------------------------------------------------------------------------


class ReferralMoveForm(VersionedForm):
    """One of the moves on a referral. The move itself comes from the button
    pressed (the form's prefix), so each move's fields and errors stay apart."""

    note = forms.CharField(
        label=_("Answer or reason"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    expected_date = JalaliDateField(label=_("Expected completion date"), required=False)
    attachments = MultipleFileField(
        label=_("Attachments (photos or PDF)"),
        widget=MultipleFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}
        ),
    )

    def __init__(self, *args, to_status, as_agency=True, **kwargs):
        self.to_status, self.as_agency = to_status, as_agency
        kwargs.setdefault("prefix", f"mv-{to_status}")
        super().__init__(*args, **kwargs)
        if to_status in (ReferralStatus.ANSWERED,):
            self.fields["note"].label = _("Answer")
            self.fields["note"].required = True
        elif to_status in (ReferralStatus.REJECTED, ReferralStatus.NOT_RESPONSIBLE):
            self.fields["note"].label = _("Reason")
            self.fields["note"].required = True
        else:
            self.fields["note"].label = _("Note")
        if to_status not in (ReferralStatus.IN_PROGRESS, ReferralStatus.ANSWERED) or not as_agency:
            del self.fields["expected_date"]
        if to_status not in (ReferralStatus.ANSWERED, ReferralStatus.DONE) or not as_agency:
            del self.fields["attachments"]
        if to_status == ReferralStatus.RECEIVED:
            del self.fields["note"]

    def clean_attachments(self):
        return check_documents(self.cleaned_data["attachments"])

    def clean(self):
        data = super().clean()
        # The agency says when; the office sending an answer back does not.
        if (
            "expected_date" in self.fields
            and self.to_status == ReferralStatus.IN_PROGRESS
            and not data.get("expected_date")
        ):
            self.add_error("expected_date", _("Give the date the work is expected to be finished."))
        return data
