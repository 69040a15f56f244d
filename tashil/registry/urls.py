from django.urls import include, path

from .views import catalogue, consent, duplicates, households, memberships, persons

app_name = "registry"

urlpatterns = [
    path("households/", households.household_list, name="households"),
    path("households/new/", households.household_create, name="household_create"),
    path("households/<int:pk>/", households.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", households.household_edit, name="household_edit"),
    path("households/<int:pk>/persons/new/", persons.person_create, name="person_create"),
    path("households/<int:pk>/persons/similar/", persons.person_suggest, name="person_suggest"),
    path("households/<int:pk>/members/add/", memberships.membership_add, name="membership_add"),
    path("households/<int:pk>/consent/", consent.consent_create, name="consent_create"),
    path("households/<int:pk>/refer/", households.household_refer, name="household_refer"),
    path("memberships/<int:pk>/end/", memberships.membership_end, name="membership_end"),
    path(
        "memberships/<int:pk>/relation/",
        memberships.membership_relation,
        name="membership_relation",
    ),
    path("consents/<int:pk>/withdraw/", consent.consent_withdraw, name="consent_withdraw"),
    path("persons/<int:pk>/", persons.person_detail, name="person_detail"),
    path("persons/<int:pk>/edit/", persons.person_edit, name="person_edit"),
    path("persons/<int:first>/merge/<int:second>/", duplicates.person_merge, name="person_merge"),
    path(
        "persons/<int:first>/not-duplicate/<int:second>/",
        duplicates.not_duplicate,
        name="not_duplicate",
    ),
    path("duplicates/", duplicates.duplicates, name="duplicates"),
    path("vulnerable/", households.vulnerable_list, name="vulnerable"),
    path("vulnerability/", catalogue.catalogue, name="catalogue"),
    path("vulnerability/<int:pk>/edit/", catalogue.indicator_edit, name="indicator_edit"),
    path("stats/", catalogue.stats, name="stats"),
    # Upload, mapping, preview and commit of spreadsheet imports.
    path("import/", include("tashil.registry.import_urls")),
]
