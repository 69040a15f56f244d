from django.urls import path

from . import views

app_name = "geo"

urlpatterns = [
    path("", views.area_list, name="list"),
    # Before "<code>/" so that a map request is never read as an area code.
    path("geojson/", views.geojson, name="geojson"),
    path("hazards/<slug:code>/edit/", views.hazard_edit, name="hazard_edit"),
    path("<slug:code>/", views.area_detail, name="detail"),
    path("<slug:code>/edit/", views.area_edit, name="edit"),
    path("<slug:code>/hazards/new/", views.hazard_create, name="hazard_create"),
]
