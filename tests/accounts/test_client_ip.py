"""Which address the login throttle and the public rate limits count."""

from django.test import RequestFactory

from tashil.accounts.throttle import client_ip


def request(forwarded=None):
    extra = {"REMOTE_ADDR": "10.0.0.5"}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_a_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request("203.0.113.9")) == "10.0.0.5"


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request("203.0.113.9")) == "203.0.113.9"
    # What the client wrote itself comes first and is not believed.
    assert client_ip(request("1.2.3.4, 203.0.113.9")) == "203.0.113.9"


def test_behind_two_proxies_the_first_proxy_names_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request("1.2.3.4, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"


def test_a_missing_or_short_header_falls_back_to_the_socket(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request()) == "10.0.0.5"
    assert client_ip(request("203.0.113.9")) == "10.0.0.5"
