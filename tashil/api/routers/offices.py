import datetime as dt

from ninja import Router, Schema

from tashil.api.errors import READ_ERRORS
from tashil.offices.models import Office
from tashil.offices.permissions import access_office

router = Router(tags=["offices"])


class OfficeOut(Schema):
    code: str
    name_fa: str
    name_en: str
    status: str
    province_code: str
    county_code: str | None
    operator: str | None
    opened_on: dt.date | None
    contract_start: dt.date | None
    contract_end: dt.date | None
    latitude: float | None
    longitude: float | None
    area_codes: list[str]
    version: int

    @staticmethod
    def resolve_province_code(office: Office) -> str:
        return office.province.code

    @staticmethod
    def resolve_county_code(office: Office) -> str | None:
        return office.county.code if office.county_id else None

    @staticmethod
    def resolve_operator(office: Office) -> str | None:
        return office.operator.name_fa if office.operator_id else None

    @staticmethod
    def resolve_area_codes(office: Office) -> list[str]:
        return [a.code for a in office.areas.all()]


def _related():
    return Office.objects.select_related("province", "county", "operator").prefetch_related("areas")


def _queryset(request):
    return _related().visible_to(request.user)


@router.get("/", response={200: list[OfficeOut], **READ_ERRORS}, summary="Offices the user may see")
def list_offices(request, status: str | None = None, county: str | None = None):
    qs = _queryset(request)
    if status:
        qs = qs.filter(status=status)
    if county:
        qs = qs.filter(county__code=county)
    return qs


@router.get("/{slug:code}", response={200: OfficeOut, **READ_ERRORS})
def get_office(request, code: str):
    return access_office(request.user, code, queryset=_related())
