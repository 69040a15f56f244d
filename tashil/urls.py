from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from tashil.accounts import views as account_views
from tashil.core.health import healthz

urlpatterns = [
    path("", account_views.home, name="home"),
    path("", include("tashil.demands.public_urls")),
    path("demands/", include("tashil.demands.urls")),
    path("open311/v2/", include("tashil.demands.open311.urls")),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("tashil.accounts.urls")),
    path("areas/", include("tashil.geo.urls")),
    path("offices/", include("tashil.offices.urls")),
    path("agencies/", include("tashil.agencies.urls")),
    path("registry/", include("tashil.registry.urls")),
    path("system/", include("tashil.system.urls")),
    path("api/v1/", include("tashil.api.urls")),
    # The language switch is on the login and public pages too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
]
