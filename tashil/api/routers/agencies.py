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


class CategoryOut(Schema):
    code: str
    parent_code: str | None
    name_fa: str
    name_en: str
    sla_working_days: int
    is_active: bool


def _related():
    return Agency.objects.select_related("province").prefetch_related("jurisdiction")


def _queryset(request):
    return _related().visible_to(request.user)


def _out(agency: Agency) -> dict:
    return {
        "code": agency.code,
        "name_fa": agency.name_fa,
        "name_en": agency.name_en,
        "short_name": agency.short_name,
        "province_code": agency.province.code,
        "phone": agency.phone,
        "email": agency.email,
        "is_active": agency.is_active,
        "jurisdiction_codes": [a.code for a in agency.jurisdiction.all()],
    }


@router.get(
    "/", response={200: list[AgencyOut], **READ_ERRORS}, summary="Agencies the user may see"
)
def list_agencies(request):
    return [_out(a) for a in _queryset(request)]


@router.get(
    "/categories",
    response={200: list[CategoryOut], **READ_ERRORS},
    summary="Demand categories (a tree)",
)
def list_categories(request):
    qs = DemandCategory.objects.select_related("parent")
    return [
        {
            "code": c.code,
            "parent_code": c.parent.code if c.parent_id else None,
            "name_fa": c.name_fa,
            "name_en": c.name_en,
            "sla_working_days": c.sla_working_days,
            "is_active": c.is_active,
        }
        for c in qs
    ]


@router.get("/{slug:code}", response={200: AgencyOut, **READ_ERRORS})
def get_agency(request, code: str):
    return _out(access_agency(request.user, code, queryset=_related()))
