from django.urls import include, path

from . import views

app_name = "registry"

urlpatterns = [
    path("households/", views.household_list, name="households"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/persons/new/", views.person_create, name="person_create"),
    path("households/<int:pk>/persons/similar/", views.person_suggest, name="person_suggest"),
    path("households/<int:pk>/members/add/", views.membership_add, name="membership_add"),
    path("households/<int:pk>/consent/", views.consent_create, name="consent_create"),
    path("households/<int:pk>/refer/", views.household_refer, name="household_refer"),
    path("memberships/<int:pk>/end/", views.membership_end, name="membership_end"),
    path("memberships/<int:pk>/relation/", views.membership_relation, name="membership_relation"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("persons/<int:first>/merge/<int:second>/", views.person_merge, name="person_merge"),
    path(
        "persons/<int:first>/not-duplicate/<int:second>/", views.not_duplicate, name="not_duplicate"
    ),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("vulnerable/", views.vulnerable_list, name="vulnerable"),
    path("vulnerability/", views.catalogue, name="catalogue"),
    path("vulnerability/<int:pk>/edit/", views.indicator_edit, name="indicator_edit"),
    path("stats/", views.stats, name="stats"),
    # Upload, mapping, preview and commit of spreadsheet imports.
    path("import/", include("tashil.registry.import_urls")),
]
