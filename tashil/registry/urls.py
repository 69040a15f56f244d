from django.urls import include, path

from . import views

app_name = "registry"

urlpatterns = [
    path(
        "households/",
        include(
            [
                path("", views.household_list, name="households"),
                path("new/", views.household_create, name="household_create"),
                path(
                    "<int:pk>/",
                    include(
                        [
                            path("", views.household_detail, name="household_detail"),
                            path("edit/", views.household_edit, name="household_edit"),
                            path("persons/new/", views.person_create, name="person_create"),
                            path("persons/similar/", views.person_suggest, name="person_suggest"),
                            path("members/add/", views.membership_add, name="membership_add"),
                            path("consent/", views.consent_create, name="consent_create"),
                            path("refer/", views.household_refer, name="household_refer"),
                        ]
                    ),
                ),
            ]
        ),
    ),
    path("memberships/<int:pk>/end/", views.membership_end, name="membership_end"),
    path("memberships/<int:pk>/relation/", views.membership_relation, name="membership_relation"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path(
        "persons/",
        include(
            [
                path("<int:pk>/", views.person_detail, name="person_detail"),
                path("<int:pk>/edit/", views.person_edit, name="person_edit"),
                path("<int:first>/merge/<int:second>/", views.person_merge, name="person_merge"),
                path(
                    "<int:first>/not-duplicate/<int:second>/",
                    views.not_duplicate,
                    name="not_duplicate",
                ),
            ]
        ),
    ),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("vulnerable/", views.vulnerable_list, name="vulnerable"),
    path("vulnerability/", views.catalogue, name="catalogue"),
    path("vulnerability/<int:pk>/edit/", views.indicator_edit, name="indicator_edit"),
    path("stats/", views.stats, name="stats"),
    # Upload, mapping, preview and commit of spreadsheet imports.
    path("import/", include("tashil.registry.import_urls")),
]
