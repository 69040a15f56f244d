from django.urls import path

from . import views

app_name = "system"

urlpatterns = [
    path("audit/", views.audit_log, name="audit"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/holidays/<int:pk>/", views.holiday_edit, name="holiday_edit"),
    path("calendar/closures/<int:pk>/delete/", views.closure_delete_view, name="closure_delete"),
]
