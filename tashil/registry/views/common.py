"""What the registry pages share: who may open them at all, paging, and
the link to an existing record a national-code clash names."""

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator

from tashil.core.decorators import only_for

from ..permissions import can_use_registry

PAGE_SIZE = 30


# Lists and forms are for office staff, province managers and national
# admins; liaisons and analysts never see household rows.
registry_required = only_for(can_use_registry)


def page_of(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def duplicate_link(error: ValidationError):
    """The existing record a national-code clash names, when the user may see it."""
    for item in getattr(error, "error_dict", {}).get("national_code", []):
        if item.code == "duplicate_national_code" and item.params and item.params.get("person_id"):
            return {
                "person_id": item.params["person_id"],
                "household_id": item.params["household_id"],
            }
    return None
