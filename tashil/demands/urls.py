from django.urls import path

from . import views

app_name = "demands"

urlpatterns = [
    path("", views.demand_list, name="list"),
    path("new/", views.demand_create, name="create"),
    path("export/", views.export, name="export"),
    path("exports/<int:pk>/", views.export_job, name="export_job"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("referrals/", views.referral_list, name="referrals"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral"),
    path("referrals/<int:pk>/move/", views.referral_move, name="referral_move"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("<str:code>/", views.demand_detail, name="detail"),
    path("<str:code>/accept/", views.demand_accept, name="accept"),
    path("<str:code>/request-info/", views.demand_request_info, name="request_info"),
    path("<str:code>/reject/", views.demand_reject, name="reject"),
    path("<str:code>/merge/", views.demand_merge, name="merge"),
    path("<str:code>/refer/", views.demand_refer, name="refer"),
    path("<str:code>/close/", views.demand_close, name="close"),
    path("<str:code>/referrals/<int:pk>/follow-up/", views.follow_up, name="follow_up"),
    path(
        "<str:code>/referrals/<int:pk>/move/",
        views.office_referral_move,
        name="office_referral_move",
    ),
]
