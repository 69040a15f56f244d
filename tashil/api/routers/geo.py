from ninja import Router, Schema

from tashil.api.errors import READ_ERRORS
from tashil.core.text import search_terms
from tashil.geo.models import Area
from tashil.geo.permissions import access_area

router = Router(tags=["areas"])


class AreaOut(Schema):
    code: str
    level: str
    name_fa: str
    name_en: str
    parent_code: str | None
    population: int | None
    households: int | None
    is_marginal: bool
    centroid_lat: float | None
    centroid_lng: float | None

    @staticmethod
    def resolve_parent_code(area: Area) -> str | None:
        return area.parent.code if area.parent_id else None


class AreaDetailOut(AreaOut):
    boundary: dict | None


@router.get("/", response={200: list[AreaOut], **READ_ERRORS}, summary="Areas the user may see")
def list_areas(
    request,
    level: str | None = None,
    parent: str | None = None,
    q: str | None = None,
    marginal: bool | None = None,
):
    qs = Area.objects.visible_to(request.user).select_related("parent")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    if marginal is not None:
        qs = qs.filter(is_marginal=marginal)
    for term in search_terms(q):
        qs = qs.filter(search_key__contains=term)
    return qs


@router.get("/{slug:code}", response={200: AreaDetailOut, **READ_ERRORS})
def get_area(request, code: str):
    return access_area(request.user, code)
