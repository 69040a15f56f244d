from django.urls import path

from . import actions, portal, views

app_name = "demands"

urlpatterns = [
    path("", views.demand_list, name="list"),
    path("new/", views.demand_create, name="create"),
    path("export/", views.export, name="export"),
    path("exports/<int:pk>/", views.export_job, name="export_job"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("referrals/", portal.referral_list, name="referrals"),
    path("referrals/<int:pk>/", portal.referral_detail, name="referral"),
    path("referrals/<int:pk>/move/", portal.referral_move, name="referral_move"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("<str:code>/", views.demand_detail, name="detail"),
    path("<str:code>/accept/", actions.demand_accept, name="accept"),
    path("<str:code>/request-info/", actions.demand_request_info, name="request_info"),
    path("<str:code>/reject/", actions.demand_reject, name="reject"),
    path("<str:code>/merge/", actions.demand_merge, name="merge"),
    path("<str:code>/refer/", actions.demand_refer, name="refer"),
    path("<str:code>/close/", actions.demand_close, name="close"),
    path("<str:code>/referrals/<int:pk>/follow-up/", actions.follow_up, name="follow_up"),
    path(
        "<str:code>/referrals/<int:pk>/move/",
        actions.office_referral_move,
        name="office_referral_move",
    ),
]
