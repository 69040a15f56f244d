"""An Open311 client's round trip over real HTTP, in JSON and in XML:
discovery → services → service definition → POST with the demo key →
the request → its token → the request list under each filter."""

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache

from tashil.demands.models import Demand
from tashil.demo.api_keys import DEMO_RAW_KEY, load_api_keys
from tashil.geo import lookup


@pytest.fixture
def server(live_server, demand_setup):
    load_api_keys()
    cache.clear()
    lookup.invalidate()
    return live_server


def call(url, data=None, headers=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def children(element) -> dict:
    return {child.tag: child for child in element}


def xml_items(text, root, item) -> list[dict]:
    """The items of a list root as {tag: text}, checking the spec's names."""
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    element = ET.fromstring(text.encode())
    assert element.tag == root
    assert all(child.tag == item for child in element)
    return [{c.tag: c.text for c in child} for child in element]


def parse(fmt, text, root, item):
    return json.loads(text) if fmt == "json" else xml_items(text, root, item)


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_round_trip(server, demand_setup, fmt):
    base = f"{server.url}/open311/v2"
    content_type = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}[
        fmt
    ]

    # Discovery: where the endpoint is and what it speaks.
    status, headers, body = call(f"{base}/discovery.{fmt}")
    assert status == 200 and headers["Content-Type"] == content_type
    if fmt == "json":
        endpoint = json.loads(body)["endpoints"][0]
        formats = endpoint["formats"]
    else:
        root = ET.fromstring(body.encode())
        assert root.tag == "discovery"
        assert {"changeset", "contact", "key_service", "endpoints"} <= set(children(root))
        node = root.find("endpoints/endpoint")
        endpoint = {c.tag: c.text for c in node}
        formats = [f.text for f in node.findall("formats/format")]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == base
    assert set(formats) == {"text/xml", "application/json"}

    # Services: leaf categories, grouped under their parent.
    status, _h, body = call(f"{endpoint['url']}/services.{fmt}")
    services = {s["service_code"]: s for s in parse(fmt, body, "services", "service")}
    assert status == 200 and set(services) == {"drinking-water"}
    service = services["drinking-water"]
    assert service["group"] == "آب" and service["type"] == "realtime"
    assert service["metadata"] in (True, "true")

    # The service definition and its attributes.
    status, _h, body = call(f"{base}/services/drinking-water.{fmt}")
    assert status == 200
    if fmt == "json":
        definition = json.loads(body)
        attributes = definition["attributes"]
        assert definition["service_code"] == "drinking-water"
    else:
        root = ET.fromstring(body.encode())
        assert (
            root.tag == "service_definition" and root.findtext("service_code") == "drinking-water"
        )
        attributes = [
            {
                **{c.tag: c.text for c in a},
                "values": [{v.tag: v.text for v in value} for value in a.find("values")],
            }
            for a in root.findall("attributes/attribute")
        ]
    kind = next(a for a in attributes if a["code"] == "submitter_kind")
    assert kind["datatype"] == "singlevaluelist" and kind["required"] in (False, "false")
    assert {v["key"] for v in kind["values"]} == {"resident", "group", "meeting"}

    # POST with the demo key, as an Open311 app sends it.
    status, _h, body = call(
        f"{base}/requests.{fmt}",
        {
            "api_key": DEMO_RAW_KEY,
            "service_code": "drinking-water",
            "lat": "31.35123",
            "long": "48.65123",
            "description": "آب آشامیدنی کوچه ۱۲ سه روز است قطع است",
            "first_name": "مریم",
            "last_name": "احمدی",
            "phone": "09121234567",
            "email": "maryam@example.com",
            "media_url": "https://example.com/photo.jpg",
            "attribute[submitter_kind]": "group",
        },
    )
    assert status == 200, body
    created = parse(fmt, body, "service_requests", "request")
    assert len(created) == 1 and "token" not in created[0]
    code = created[0]["service_request_id"]
    assert created[0]["service_notice"]
    demand = Demand.objects.get(public_id=code)
    assert code != demand.code
    assert demand.channel == "open311" and demand.area == demand_setup.hood
    assert demand.submitter_kind == "group" and demand.submitter_mobile == "+989121234567"

    # The request by its id: public fields only.
    status, _h, body = call(f"{base}/requests/{code}.{fmt}")
    assert status == 200
    (request,) = parse(fmt, body, "service_requests", "request")
    assert request["service_request_id"] == code
    assert request["status"] == "open"
    assert request["service_code"] == "drinking-water"
    assert request["address_id"] == demand_setup.hood.code
    assert float(request["lat"]) == 31.351 and float(request["long"]) == 48.651
    assert dt.datetime.fromisoformat(request["requested_datetime"]) == demand.submitted_at.replace(
        microsecond=0
    )
    for private in (
        "مریم",
        "احمدی",
        "0912",
        "989121234567",
        "maryam@example.com",
        "photo.jpg",
        demand.code,
        demand.display_code,
    ):
        assert private not in body

    # The token is the public id.
    status, _h, body = call(f"{base}/tokens/{code}.{fmt}")
    assert status == 200
    assert parse(fmt, body, "service_requests", "request") == [
        {"service_request_id": code, "token": code}
    ]

    # The list, under each filter.
    def listed(**params):
        status, _h, body = call(f"{base}/requests.{fmt}?{urllib.parse.urlencode(params)}")
        assert status == 200, body
        return {r["service_request_id"] for r in parse(fmt, body, "service_requests", "request")}

    now = demand.submitted_at
    assert listed() == {code}
    assert listed(service_request_id=f"{code},PACDEFHJKM") == {code}
    assert listed(service_request_id=f"{code[:5]}-{code[5:]}".lower()) == {code}
    # The tracking code is no id here.
    assert listed(service_request_id=demand.code) == set()
    assert listed(service_code="drinking-water") == {code}
    assert listed(service_code="sewage") == set()
    assert listed(
        start_date=iso(now - dt.timedelta(hours=1)), end_date=iso(now + dt.timedelta(hours=1))
    ) == {code}
    assert (
        listed(
            start_date=iso(now - dt.timedelta(days=30)), end_date=iso(now - dt.timedelta(days=1))
        )
        == set()
    )
    assert listed(end_date=iso(now + dt.timedelta(minutes=5))) == {code}
    assert listed(status="open") == {code}
    assert listed(status="closed") == set()
    assert listed(status="open,closed") == {code}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_over_http(server, fmt):
    base = f"{server.url}/open311/v2"
    status, headers, body = call(
        f"{base}/requests.{fmt}", {"api_key": "wrong", "service_code": "drinking-water"}
    )
    assert status == 403
    errors = parse(fmt, body, "errors", "error")
    assert [str(e["code"]) for e in errors] == ["403"] and errors[0]["description"]
    status, _h, body = call(f"{base}/requests/ACDEFHJK.{fmt}")
    assert status == 404 and str(parse(fmt, body, "errors", "error")[0]["code"]) == "404"
    status, _h, body = call(
        f"{base}/requests.{fmt}", {"api_key": DEMO_RAW_KEY, "service_code": "drinking-water"}
    )
    assert status == 400 and str(parse(fmt, body, "errors", "error")[0]["code"]) == "400"
    assert Demand.objects.count() == 0
