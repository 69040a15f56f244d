"""The REST API at /api/v1/ (schema at /api/v1/openapi.json).

Every handler reads through the same `visible_to(user)` querysets as the
HTML pages, so the API can never show more than the UI."""

from ninja import NinjaAPI
from ninja.security import django_auth

from . import errors
from .routers import agencies, demands, geo, offices
from .throttle import ApiWriteThrottle

api = NinjaAPI(
    title="Tashil API",
    version="1",
    description="REST API of Tashil, the information system of the Local Development Facilitation Offices.",
    urls_namespace="api",
    auth=django_auth,
    throttle=[ApiWriteThrottle()],
    parser=errors.JsonObjectParser(),
)
errors.register(api)
api.add_router("/areas", geo.router)
api.add_router("/offices", offices.router)
api.add_router("/agencies", agencies.router)
api.add_router("", demands.router)
