"""One error shape for the whole API: {"code", "message", "field"}, with the
message in the user's language."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tashil.core.errors import ConflictError


def error_body(code: str, message, field: str | None = None) -> dict:
    return {"code": code, "message": str(message), "field": field}


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
        loc = [
            str(p) for p in first.get("loc", []) if p not in ("body", "query", "path", "payload")
        ]
        message = _("This value is missing or not valid.")
        return api.create_response(
            request, error_body("invalid", message, ".".join(loc) or None), status=422
        )

    @api.exception_handler(PermissionDenied)
    def on_denied(request, exc):
        return api.create_response(
            request,
            error_body("forbidden", _("You do not have permission to do this.")),
            status=403,
        )

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request, exc):
        return api.create_response(
            request, error_body("unauthenticated", _("Log in to use the API.")), status=401
        )

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return api.create_response(request, error_body("not_found", _("Not found.")), status=404)

    @api.exception_handler(ConflictError)
    def on_conflict(request, exc):
        return api.create_response(
            request, error_body("conflict", exc.message, "version"), status=409
        )

    @api.exception_handler(HttpError)
    def on_http_error(request, exc):
        code, message = "error", exc.message
        if exc.status_code == 400 and str(message).startswith("Cannot parse request body"):
            # django-ninja's own words, in English whatever the client asked for.
            code, message = "invalid", _("The request body could not be read. Send valid JSON.")
        return api.create_response(request, error_body(code, message), status=exc.status_code)
