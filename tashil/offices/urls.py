from django.urls import path

from . import views

app_name = "offices"

urlpatterns = [
    path("", views.office_list, name="list"),
    # Fixed words before "<code>/" so they are never read as office codes.
    path("network/", views.network, name="network"),
    path("new/", views.office_create, name="create"),
    path("operators/", views.operator_list, name="operators"),
    path("operators/new/", views.operator_create, name="operator_create"),
    path("operators/<int:pk>/edit/", views.operator_edit, name="operator_edit"),
    path("<slug:code>/", views.office_detail, name="detail"),
    path("<slug:code>/edit/", views.office_edit, name="edit"),
    path("<slug:code>/status/", views.office_status, name="status"),
    path("<slug:code>/staff/", views.office_staff, name="staff"),
]
