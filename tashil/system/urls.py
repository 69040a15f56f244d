from django.urls import include, path

from . import views

app_name = "system"

urlpatterns = [
    path("audit/", views.audit_log, name="audit"),
    path(
        "calendar/",
        include(
            [
                path("", views.calendar_page, name="calendar"),
                path("holidays/<int:pk>/", views.holiday_edit, name="holiday_edit"),
                path("closures/<int:pk>/delete/", views.closure_delete_view, name="closure_delete"),
            ]
        ),
    ),
]
