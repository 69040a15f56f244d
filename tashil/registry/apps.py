from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "tashil.registry"
    label = "registry"
    verbose_name = _("Household registry")

    def ready(self):
        from tashil.core import audit

        audit.register_personal_type("registry.person", _persons_in_full)
        audit.register_personal_type("registry.household", _households_in_full)


def _ids(ids) -> list[int]:
    return [int(i) for i in ids if str(i).isascii() and str(i).isdigit()]


def _households_in_full(user, ids):
    """The households among `ids` whose record `user` may open with personal data."""
    from .models import Household

    return Household.objects.visible_to(user).filter(pk__in=_ids(ids)).values_list("pk", flat=True)


def _persons_in_full(user, ids):
    """The persons among `ids` whose record `user` may open: members, now or
    before, of a household the user sees (as registry.permissions.access_person)."""
    from .models import Household, Membership

    return (
        Membership.objects.filter(
            household__in=Household.objects.visible_to(user), person_id__in=_ids(ids)
        )
        .values_list("person_id", flat=True)
        .distinct()
    )
