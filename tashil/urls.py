from django.contrib import admin
from django.urls import include, path

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
    path("system/", include("tashil.core.urls")),
    path("api/v1/", include("tashil.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
