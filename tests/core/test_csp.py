"""The Content-Security-Policy header is on every response: pages, JSON,
errors, redirects and static files, whoever asks."""

import pytest
from django.contrib.auth.decorators import login_not_required
from django.test import override_settings
from django.urls import path, reverse

from tashil.settings import tile_source

pytestmark = pytest.mark.django_db


@login_not_required
def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken", broken)]

EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(response):
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


def assert_strict(response, *, page=True):
    assert policy(response) == EXPECTED
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    if page:  # static files are served before the X-Frame-Options middleware
        assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path, status",
    [
        ("/accounts/login/", 200),  # HTML
        ("/submit", 200),
        ("/healthz", 200),
        ("/public/neighbourhoods.geojson", 200),  # JSON
        ("/open311/v2/services.json", 200),
        ("/api/v1/demands/", 401),  # JSON error
        ("/track/ZZZZZZZZ", 404),  # error page
        ("/no-such-page/", 404),
        ("/offices/", 302),  # redirect to the login
        ("/admin/login/", 302),  # sent to the site login, which has the code step
        ("/static/tashil/css/tashil.css", 200),
    ],
)
def test_every_response_carries_the_policy(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_strict(response, page=not path.startswith("/static/"))


def test_staff_pages_and_server_errors_carry_the_policy(client, network, settings):
    client.force_login(network.users["province_manager"])
    assert_strict(client.get(reverse("offices:network")))
    assert_strict(client.get(reverse("registry:households")))
    # A 403 and a 404 inside the staff pages.
    client.force_login(network.users["agency_liaison"])
    assert_strict(client.get(reverse("registry:households")))
    assert_strict(client.get(reverse("offices:detail", args=["no-such-office"])))


@override_settings(ROOT_URLCONF="tests.core.test_csp")
def test_a_server_error_carries_the_policy(client):
    client.raise_request_exception = False
    response = client.get("/broken")
    assert response.status_code == 500
    assert_strict(response)


@pytest.mark.parametrize(
    "url, source",
    [
        ("", None),
        ("/tiles/{z}/{x}/{y}.png", None),
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("http://tiles.intranet.ir:8080/{z}/{x}/{y}.png", "http://tiles.intranet.ir:8080"),
    ],
)
def test_the_tile_server_is_the_only_other_image_source(url, source):
    assert tile_source(url) == source


def test_a_tile_url_with_a_variable_host_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        tile_source("https://{a}.tiles.example.ir/{z}/{x}/{y}.png")
