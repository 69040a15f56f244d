from ninja import Router, Schema

from tashil.agencies.models import Agency, DemandCategory
from tashil.agencies.permissions import access_agency
from tashil.api.errors import READ_ERRORS

router = Router(tags=["agencies"])


class AgencyOut(Schema):
    code: str
    name_fa: str
    name_en: str
    short_name: str
    province_code: str
    phone: str
    email: str
    is_active: bool
    jurisdiction_codes: list[str]

    @staticmethod
    def resolve_province_code(agency: Agency) -> str:
        return agency.province.code

    @staticmethod
    def resolve_jurisdiction_codes(agency: Agency) -> list[str]:
        return [a.code for a in agency.jurisdiction.all()]


class CategoryOut(Schema):
    code: str
    parent_code: str | None
    name_fa: str
    name_en: str
    sla_working_days: int
    is_active: bool

    @staticmethod
    def resolve_parent_code(category: DemandCategory) -> str | None:
        return category.parent.code if category.parent_id else None


def _related():
    return Agency.objects.select_related("province").prefetch_related("jurisdiction")


def _queryset(request):
    return _related().visible_to(request.user)


@router.get(
    "/", response={200: list[AgencyOut], **READ_ERRORS}, summary="Agencies the user may see"
)
def list_agencies(request):
    return _queryset(request)


@router.get(
    "/categories",
    response={200: list[CategoryOut], **READ_ERRORS},
    summary="Demand categories (a tree)",
)
def list_categories(request):
    return DemandCategory.objects.select_related("parent")


@router.get("/{slug:code}", response={200: AgencyOut, **READ_ERRORS})
def get_agency(request, code: str):
    return access_agency(request.user, code, queryset=_related())
