from django.urls import include, path

from . import views

app_name = "agencies"

urlpatterns = [
    path("", views.agency_list, name="list"),
    path("new/", views.agency_create, name="create"),
    path(
        "categories/",
        include(
            [
                path("", views.categories, name="categories"),
                path("new/", views.category_create, name="category_create"),
                path("<slug:code>/edit/", views.category_edit, name="category_edit"),
            ]
        ),
    ),
    path(
        "routing/",
        include(
            [
                path("", views.routing, name="routing"),
                path("set/", views.routing_set, name="routing_set"),
                path("<int:pk>/delete/", views.routing_delete, name="routing_delete"),
            ]
        ),
    ),
    path("<slug:code>/", views.agency_detail, name="detail"),
    path("<slug:code>/edit/", views.agency_edit, name="edit"),
]
