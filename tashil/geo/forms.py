"""Forms parse and check input; the geo services decide and write."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from tashil.core.forms import RecordForm, model_field

from . import lookup
from .models import Area, HazardZone


class GeoJSONField(forms.CharField):
    """A boundary pasted as GeoJSON text (Polygon or MultiPolygon)."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.Textarea(
                attrs={
                    "rows": 6,
                    "dir": "ltr",
                    "class": "font-monospace small",
                    "spellcheck": "false",
                }
            ),
        )
        kwargs.setdefault(
            "help_text",
            _("GeoJSON Polygon or MultiPolygon in WGS84. Positions are [longitude, latitude]."),
        )
        super().__init__(strip=True, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        return lookup.validate_geojson(value)


class AreaForm(RecordForm):
    name_fa = model_field(Area, "name_fa")
    name_en = model_field(Area, "name_en")
    population = model_field(Area, "population")
    households = model_field(Area, "households")
    is_marginal = model_field(Area, "is_marginal")
    note = model_field(Area, "note", widget=forms.Textarea(attrs={"rows": 3}))
    boundary = GeoJSONField(label=_("boundary (GeoJSON)"), required=False)

    def __init__(self, *args, area: Area, version: str, **kwargs):
        super().__init__(*args, record=area, version=version, **kwargs)
        self.fields["name_en"].widget.attrs["dir"] = "ltr"


class HazardZoneForm(RecordForm):
    area = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("area"))
    code = model_field(HazardZone, "code")
    name_fa = model_field(HazardZone, "name_fa")
    name_en = model_field(HazardZone, "name_en")
    hazard_type = model_field(HazardZone, "hazard_type")
    risk_level = model_field(HazardZone, "risk_level")
    households_estimate = model_field(HazardZone, "households_estimate")
    description = model_field(HazardZone, "description", widget=forms.Textarea(attrs={"rows": 3}))
    boundary = GeoJSONField(label=_("boundary (GeoJSON)"))

    def __init__(self, *args, areas, zone: HazardZone | None = None, version: str = "", **kwargs):
        super().__init__(*args, record=zone, version=version, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["area"].label_from_instance = lambda a: f"{a.name} · {a.get_level_display()}"
        self.fields["code"].widget.attrs["dir"] = "ltr"
        self.fields["name_en"].widget.attrs["dir"] = "ltr"
