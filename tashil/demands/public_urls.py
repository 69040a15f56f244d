from django.urls import path

from . import public_views as views

app_name = "public"

urlpatterns = [
    path("submit", views.submit, name="submit"),
    path("submit/done/<uuid:key>", views.submitted, name="submitted"),
    path("track", views.track_lookup, name="track_lookup"),
    path("track/<str:code>", views.track, name="track"),
    path("track/<str:code>/feedback", views.feedback, name="feedback"),
    path("track/<str:code>/feedback/code", views.feedback_code, name="feedback_code"),
    path("board", views.board, name="board"),
    path("public/similar", views.similar, name="similar"),
    path("public/support", views.support, name="support"),
    path("public/supported/<str:public_id>", views.supported, name="supported"),
    path("public/neighbourhoods.geojson", views.neighbourhoods_geojson, name="neighbourhoods"),
]
