from django.urls import re_path

from . import views

app_name = "open311"

# Every resource takes its format as a suffix: services.xml, requests/ABCD.json.
FORMAT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.discovery, name="discovery"),
    re_path(r"^services" + FORMAT, views.services, name="services"),
    re_path(
        r"^services/(?P<service_code>[-\w]+)" + FORMAT, views.service_definition, name="service"
    ),
    re_path(r"^requests" + FORMAT, views.requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[-\w]+)" + FORMAT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[-\w]+)" + FORMAT, views.token_detail, name="token"),
    # Anything else is the spec's 404, in the format its suffix asks for.
    re_path(r"^.*?(?:\.(?P<fmt>json|xml))?$", views.not_found, name="not_found"),
]
