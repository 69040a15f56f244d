from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfficesConfig(AppConfig):
    name = "tashil.offices"
    label = "offices"
    verbose_name = _("Offices")

    def ready(self):
        # The area page and the maps belong to geo, below this app: they
        # learn about offices from here rather than importing them.
        from tashil.geo.selectors import register_area_servers
        from tashil.geo.views import register_map_labels

        from .models import Office
        from .selectors import offices_serving

        register_area_servers("offices", offices_serving)
        register_map_labels({f"status_{s}": label for s, label in Office.Status.choices})
