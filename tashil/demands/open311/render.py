"""GeoReport v2 output in its two formats.

The JSON form follows the spec's "Spark" mapping of the XML: the root element
and the list wrappers disappear and lists become arrays. Both are built from
the same Python values, so the two formats cannot drift apart."""

import datetime as dt
import json
import re
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The list wrappers of the spec and the element name of their items.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


class Open311Error(Exception):
    """An error the spec lists: `status` is the HTTP status, `code` the one in
    the body (the spec allows a more specific code than the HTTP one)."""

    retry_after: int | None = None

    def __init__(self, status: int, description, code: int | None = None, *, more=()):
        self.status = status
        self.errors = [(code or status, str(description)), *more]
        super().__init__(str(description))


def w3c(value) -> str | None:
    """W3C datetime with the Tehran offset, e.g. 2024-03-20T10:00:00+03:30."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    # A date alone: the start of that day in local time.
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min)).isoformat(
        timespec="seconds"
    )


# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _build(parent, tag: str, value):
    element = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, child in value.items():
            _build(element, key, child)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _build(element, LIST_ITEMS[tag], item)
    else:
        element.text = _text(value)
    return element


def to_xml(root: str, value) -> str:
    """`value` is a dict (an object root) or a list (a list root)."""
    element = ET.Element(root)
    if isinstance(value, dict):
        for key, child in value.items():
            _build(element, key, child)
    else:
        for item in value:
            _build(element, LIST_ITEMS[root], item)
    # The spec asks for the declaration with the encoding; ElementTree would
    # write it with single quotes and a different case, so it is written here.
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")


def respond(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False)
    else:
        body = to_xml(root, value)
    return HttpResponse(body.encode(), status=status, content_type=FORMATS[fmt])


def error_response(fmt: str, error: Open311Error) -> HttpResponse:
    """The spec's error list; an unknown format gets XML, the required one."""
    fmt = fmt if fmt in FORMATS else "xml"
    errors = [{"code": code, "description": description} for code, description in error.errors]
    return respond(fmt, "errors", errors, status=error.status)
