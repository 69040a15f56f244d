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


def _out(office: Office) -> dict:
    return {
        "code": office.code,
        "name_fa": office.name_fa,
        "name_en": office.name_en,
        "status": office.status,
        "province_code": office.province.code,
        "county_code": office.county.code if office.county_id else None,
        "operator": office.operator.name_fa if office.operator_id else None,
        "opened_on": office.opened_on,
        "contract_start": office.contract_start,
        "contract_end": office.contract_end,
        "latitude": office.latitude,
        "longitude": office.longitude,
        "area_codes": [a.code for a in office.areas.all()],
        "version": office.version,
    }


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
    return [_out(o) for o in qs]


@router.get("/{slug:code}", response={200: OfficeOut, **READ_ERRORS})
def get_office(request, code: str):
    return _out(access_office(request.user, code, queryset=_related()))
