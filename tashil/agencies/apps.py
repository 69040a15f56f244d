from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    name = "tashil.agencies"
    label = "agencies"
    verbose_name = _("Executive agencies")

    def ready(self):
        # The area page belongs to geo, below this app: it learns which
        # agencies serve an area from here rather than importing them.
        from tashil.geo.selectors import register_area_servers

        from .selectors import agencies_serving_area

        register_area_servers("agencies", agencies_serving_area)
