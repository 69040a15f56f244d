# The import and export pages' routes; they are names in the "registry"
# namespace (this module has no app_name of its own).
from django.urls import path

from . import import_views as views

urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("upload/", views.import_upload, name="import_upload"),
    path("template.<str:file_format>", views.import_template, name="import_template"),
    path("<int:pk>/", views.import_detail, name="import_detail"),
    path("<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("<int:pk>/preview/", views.import_preview, name="import_preview"),
    path("<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("<int:pk>/errors.xlsx", views.import_error_file, name="import_error_file"),
    path("<int:pk>/rollback/", views.import_rollback, name="import_rollback"),
    path("<int:pk>/resume/", views.import_resume, name="import_resume"),
    path("mappings/<int:pk>/delete/", views.mapping_delete, name="import_mapping_delete"),
    # The household list's export, with the list's own filter parameters.
    path("export/", views.household_export, name="household_export"),
    path("export/<int:pk>/", views.export_job, name="export_job"),
    path("export/<int:pk>/download/", views.export_download, name="export_download"),
]
