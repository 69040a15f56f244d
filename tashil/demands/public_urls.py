from django.urls import include, path

from . import public_views as views

app_name = "public"

urlpatterns = [
    path("submit", views.submit, name="submit"),
    path("submit/done/<uuid:key>", views.submitted, name="submitted"),
    path("track", views.track_lookup, name="track_lookup"),
    path(
        "track/<str:code>",
        include(
            [
                path("", views.track, name="track"),
                path("/feedback", views.feedback, name="feedback"),
                path("/feedback/code", views.feedback_code, name="feedback_code"),
            ]
        ),
    ),
    path("board", views.board, name="board"),
    path(
        "public/",
        include(
            [
                path("similar", views.similar, name="similar"),
                path("support", views.support, name="support"),
                path("supported/<str:public_id>", views.supported, name="supported"),
                path("neighbourhoods.geojson", views.neighbourhoods_geojson, name="neighbourhoods"),
            ]
        ),
    ),
]
