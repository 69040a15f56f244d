from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    name = "tashil.geo"
    label = "geo"
    verbose_name = _("Areas and hazard zones")

    def ready(self):
        # Connects the signals that keep the in-process point index current.
        from . import lookup  # noqa: F401
