"""One error shape for the whole API: {"code", "message", "field"}, with the
message in the user's language."""

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    SuspiciousOperation,
    ValidationError,
)
from django.http import (
    Http404,
    HttpResponsePermanentRedirect,
    JsonResponse,
    RawPostDataException,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from tashil.core.errors import ConflictError
from tashil.core.templatetags.tashil import num


class ErrorOut(Schema):
    """The one error shape of the API."""

    code: str
    message: str
    field: str | None


# The error answers each kind of operation documents in the schema: a read can
# be refused (401, 403), miss (404) or get a query parameter it cannot use (400);
# a write can also send a body that does not fit (422), be stale (409) or come
# too often (429).
READ_ERRORS = {frozenset({400, 401, 403, 404}): ErrorOut}
WRITE_ERRORS = {frozenset({400, 401, 403, 404, 409, 422, 429}): ErrorOut}

# What Django raises while reading a request body it cannot parse: a multipart
# body without a boundary, a broken upload, a form body already consumed by the
# session's CSRF check (RawPostDataException) and (as SuspiciousOperation or
# BadRequest) too many fields or too large a body.
# django-ninja turns them into a 500 (a traceback page in development); the
# API answers a 400 in its own shape.
BAD_BODY_ERRORS = (
    BadRequest,
    SuspiciousOperation,
    MultiPartParserError,
    RawPostDataException,
    UnreadablePostError,
)


class JsonObjectParser(Parser):
    """Every operation's body is a JSON object. An array, a string or a
    number is refused here, so it gets the same 400 as a body that is not
    JSON at all ("Cannot parse request body" below), not a 422 naming the
    first field of the schema. A NUL character, in the body or in a query
    parameter, is refused too: PostgreSQL cannot store or compare it, and
    no text a person types contains one."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the body is not a JSON object")
        if _has_nul(data):
            raise ValueError("the body contains a NUL character")
        return data

    def parse_querydict(self, data, list_fields, request):
        for key, values in data.lists():
            if _has_nul(key) or any(_has_nul(value) for value in values):
                raise NinjaValidationError(
                    [{"loc": ("query", key), "type": "string_nul", "msg": "NUL character"}]
                )
        return super().parse_querydict(data, list_fields, request)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


# Exceptions whose answer never depends on the request: (status, code, message).
FIXED_ANSWERS = {
    Throttled: (
        429,
        "rate_limited",
        gettext_lazy("Too many requests. Wait a minute and try again."),
    ),
    PermissionDenied: (403, "forbidden", gettext_lazy("You do not have permission to do this.")),
    AuthenticationError: (401, "unauthenticated", gettext_lazy("Log in to use the API.")),
    Http404: (404, "not_found", gettext_lazy("Not found.")),
}


def error_body(code: str, message, field: str | None = None) -> dict:
    return {"code": code, "message": str(message), "field": field}


def _unreadable_body():
    return _("The request body could not be read. Send valid JSON.")


def not_found(request, *args, **kwargs):
    """Any /api/v1/ URL that names no operation: the API's 404, not the HTML
    page. A GET that only lacks its final slash is sent on, as Django's
    APPEND_SLASH would (this view matching everything stops it doing so)."""
    if request.method in ("GET", "HEAD") and not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def register(api):
    @api.exception_handler(ValidationError)
    def on_validation(request, exc):
        if hasattr(exc, "error_dict"):
            field, errors = next(iter(exc.error_dict.items()))
            message = errors[0].messages[0]
            field = None if field == "__all__" else field
        else:
            field, message = None, exc.messages[0]
        return api.create_response(request, error_body("invalid", message, field), status=400)

    @api.exception_handler(NinjaValidationError)
    def on_schema_validation(request, exc):
        first = exc.errors[0] if exc.errors else {}
        where = list(first.get("loc") or ["body"])
        loc = [str(p) for p in where if p not in ("body", "query", "path", "payload")]
        limit = first.get("ctx") or {}
        if first.get("type") == "greater_than_equal":
            message = _("The smallest allowed value is %(limit)s.") % {"limit": num(limit["ge"])}
        elif first.get("type") == "less_than_equal":
            message = _("The largest allowed value is %(limit)s.") % {"limit": num(limit["le"])}
        else:
            message = _("This value is missing or not valid.")
        # A query or path parameter the API cannot use (a page number out of
        # range, an unknown choice) is a bad request; a body that is JSON but
        # does not fit the operation's schema is unprocessable.
        status = 400 if where[0] in ("query", "path") else 422
        return api.create_response(
            request, error_body("invalid", message, ".".join(loc) or None), status=status
        )

    def on_bad_request(request, exc):
        return api.create_response(request, error_body("invalid", _unreadable_body()), status=400)

    for exc_class in BAD_BODY_ERRORS:
        api.add_exception_handler(exc_class, on_bad_request)

    def fixed_answer(code, message, status):
        """A handler that answers every exception of its class the same way."""

        def handler(request, exc):
            return api.create_response(request, error_body(code, message), status=status)

        return handler

    for exc_class, (status, code, message) in FIXED_ANSWERS.items():
        api.add_exception_handler(exc_class, fixed_answer(code, message, status))

    @api.exception_handler(ConflictError)
    def on_conflict(request, exc):
        return api.create_response(
            request, error_body("conflict", exc.message, "version"), status=409
        )

    @api.exception_handler(HttpError)
    def on_http_error(request, exc):
        code, message = "error", exc.message
        # django-ninja's own words are English whatever the client asked for.
        if exc.status_code == 400 and str(message).startswith("Cannot parse request body"):
            code, message = "invalid", _unreadable_body()
        elif exc.status_code == 403 and str(message).startswith("CSRF"):
            code, message = (
                "forbidden",
                _("The CSRF token is missing or not valid. Reload the page."),
            )
        return api.create_response(request, error_body(code, message), status=exc.status_code)
