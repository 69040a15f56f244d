from django.urls import include, path

from . import views

app_name = "demands"

urlpatterns = [
    path("", views.demand_list, name="list"),
    path("new/", views.demand_create, name="create"),
    path("export/", views.export, name="export"),
    path(
        "exports/<int:pk>/",
        include(
            [
                path("", views.export_job, name="export_job"),
                path("download/", views.export_download, name="export_download"),
            ]
        ),
    ),
    path(
        "referrals/",
        include(
            [
                path("", views.referral_list, name="referrals"),
                path("<int:pk>/", views.referral_detail, name="referral"),
                path("<int:pk>/move/", views.referral_move, name="referral_move"),
            ]
        ),
    ),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path(
        "<str:code>/",
        include(
            [
                path("", views.demand_detail, name="detail"),
                path("accept/", views.demand_accept, name="accept"),
                path("request-info/", views.demand_request_info, name="request_info"),
                path("reject/", views.demand_reject, name="reject"),
                path("merge/", views.demand_merge, name="merge"),
                path("refer/", views.demand_refer, name="refer"),
                path("close/", views.demand_close, name="close"),
                path(
                    "referrals/<int:pk>/",
                    include(
                        [
                            path("follow-up/", views.follow_up, name="follow_up"),
                            path("move/", views.office_referral_move, name="office_referral_move"),
                        ]
                    ),
                ),
            ]
        ),
    ),
]
