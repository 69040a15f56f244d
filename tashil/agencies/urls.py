from django.urls import path

from . import views

app_name = "agencies"

urlpatterns = [
    path("", views.agency_list, name="list"),
    path("new/", views.agency_create, name="create"),
    path("categories/", views.categories, name="categories"),
    path("categories/new/", views.category_create, name="category_create"),
    path("categories/<slug:code>/edit/", views.category_edit, name="category_edit"),
    path("routing/", views.routing, name="routing"),
    path("routing/set/", views.routing_set, name="routing_set"),
    path("routing/<int:pk>/delete/", views.routing_delete, name="routing_delete"),
    path("<slug:code>/", views.agency_detail, name="detail"),
    path("<slug:code>/edit/", views.agency_edit, name="edit"),
]
