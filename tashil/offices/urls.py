from django.urls import include, path

from . import views

app_name = "offices"

urlpatterns = [
    path("", views.office_list, name="list"),
    # Fixed words before "<code>/" so they are never read as office codes.
    path("network/", views.network, name="network"),
    path("new/", views.office_create, name="create"),
    path(
        "operators/",
        include(
            [
                path("", views.operator_list, name="operators"),
                path("new/", views.operator_create, name="operator_create"),
                path("<int:pk>/edit/", views.operator_edit, name="operator_edit"),
            ]
        ),
    ),
    path(
        "<slug:code>/",
        include(
            [
                path("", views.office_detail, name="detail"),
                path("edit/", views.office_edit, name="edit"),
                path("status/", views.office_status, name="status"),
                path("staff/", views.office_staff, name="staff"),
            ]
        ),
    ),
]
