"""Forms of the import pages: they parse input; the import services check
and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tashil.core.forms import StyledFormMixin

from .importer.columns import FIELDS
from .importer.fieldspec import HOUSEHOLD, MEMBERSHIP, PERSON
from .importer.limits import Limits, number
from .models import ImportBatch

LEVEL_LABELS = {HOUSEHOLD: _("Household"), PERSON: _("Person"), MEMBERSHIP: _("Person")}


class UploadForm(StyledFormMixin, forms.Form):
    office = forms.ModelChoiceField(label=_("Office"), queryset=None, empty_label=None)
    file = forms.FileField(
        label=_("Spreadsheet"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt"}),
    )
    sheet = forms.CharField(
        label=_("Sheet"),
        required=False,
        max_length=120,
        help_text=_("Only for a workbook whose data is not on its first sheet."),
    )

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices
        self.fields["file"].help_text = _(
            "Excel (.xlsx) or CSV, up to %(size)s MB. One row per person; see the template."
        ) % {"size": number(Limits.from_settings().upload_mb)}
        self.fields["office"].label_from_instance = lambda office: office.name
        only = list(offices[:2])
        if len(only) == 1:
            self.fields["office"].initial = only[0]
            self.fields["office"].widget = forms.HiddenInput()
        self.style_fields()


def field_choices():
    groups = {}
    for spec in FIELDS:
        label = f"{spec.label}{' *' if spec.required else ''}"
        groups.setdefault(LEVEL_LABELS[spec.level], []).append((spec.key, label))
    return [("", _("— not imported —")), *[(str(level), items) for level, items in groups.items()]]


class MappingForm(StyledFormMixin, forms.Form):
    """One choice per column of the file: which field it holds."""

    save_as = forms.CharField(
        label=_("Save this mapping as"),
        required=False,
        max_length=120,
        help_text=_("Give it a name to use it again for the next file."),
    )

    def __init__(self, *args, columns, samples, initial_mapping, **kwargs):
        super().__init__(*args, **kwargs)
        choices = field_choices()
        self.columns = []
        for index, header in enumerate(columns):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("(no header)"),
                choices=choices,
                required=False,
                initial=initial_mapping.get(index, ""),
            )
            self.columns.append((index, name, header, samples.get(index, [])))
        self.style_fields()

    def column_rows(self):
        for index, name, header, samples in self.columns:
            yield {"index": index, "field": self[name], "header": header, "samples": samples}

    def mapping(self) -> dict[int, str]:
        return {index: self.cleaned_data.get(name) or "" for index, name, _h, _s in self.columns}


class CommitForm(StyledFormMixin, forms.Form):
    mode = forms.ChoiceField(
        label=_("How to import"),
        choices=ImportBatch.Mode.choices,
        initial=ImportBatch.Mode.VALID_ROWS,
        widget=forms.RadioSelect,
    )

    def style_fields(self):
        # Radio buttons are laid out by the template.
        pass
