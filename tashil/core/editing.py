"""The one path of an edit view: form → service → field errors, or 409 with
the conflict shown.

    return save_form(
        request, form, update_with(services.thing_update, request, form, thing=thing),
        success=lambda thing: redirect("things:detail", pk=thing.pk),
        message=_("The thing was saved."),
        page=form_page(request, "things/form.html", thing=thing),
    )

On GET, or when the form is not valid, the page is shown with the form.
A ValidationError from the service lands on the fields it names. A
ConflictError (someone saved the record after it was loaded) shows the page
again with status 409: the user's input stays, `reload` may rebuild the form
from what is saved now (so that saving again is a deliberate overwrite), and
the message is on the form too unless the page shows `edit.conflict` itself.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render

from .errors import ConflictError
from .forms import apply_service_error


@dataclass
class Edit:
    """What the page needs to show the form again."""

    form: Any
    conflict: str | None = None
    status: int = 200


def save_form(
    request,
    form,
    save: Callable[[dict], Any],
    *,
    success: Callable[[Any], HttpResponse],
    page: Callable[[Edit], HttpResponse],
    message: str | None = None,
    aliases: dict | None = None,
    on_error: Callable[[Any, ValidationError], None] | None = None,
    reload: Callable[[], Any] | None = None,
    conflict_on_form: bool = True,
) -> HttpResponse:
    """Validate `form`, call `save(form.cleaned_data)` and answer.

    success: builds the answer from what `save` returned (usually a redirect).
    page: renders the page for an `Edit` (GET, invalid input, or conflict).
    message: a success message to flash before `success`.
    aliases: service field name → form field name, for the field errors.
    on_error: puts a ValidationError on the form when the default does not fit.
    reload: on a conflict, returns a new form built from the record as saved now.
    conflict_on_form: also add the conflict message to the form's own errors
        (for pages that do not show `edit.conflict`).
    """
    edit = Edit(form)
    if request.method == "POST" and form.is_valid():
        try:
            result = save(form.cleaned_data)
        except ValidationError as error:
            (on_error or (lambda f, e: apply_service_error(f, e, aliases)))(form, error)
        except ConflictError as error:
            if reload is not None:
                edit.form = reload()
            if conflict_on_form:
                edit.form.add_error(None, error.message)
            edit.conflict, edit.status = error.message, 409
        else:
            if message:
                messages.success(request, message)
            return success(result)
    return page(edit)


def form_page(request, template: str, **context) -> Callable[[Edit], HttpResponse]:
    """The usual `page`: `template` with `context`, the form and the conflict, in
    the answer's status."""
    return lambda edit: render(
        request,
        template,
        {**context, "form": edit.form, "conflict": edit.conflict},
        status=edit.status,
    )


def update_with(service, request, form, **target) -> Callable[[dict], Any]:
    """The usual `save` of an edit: `service` gets the record (`target`), the
    acting user, the version the form was loaded at and the form's fields."""
    return lambda data: service(
        **target,
        acting_user=request.user,
        expected_version=data["version"],
        **form.data_for_service(),
    )


def rebound(form, make_form, request, version):
    """The user's input as sent, now at the `version` saved since: nothing
    typed is lost, and sending it again is a deliberate overwrite.
    `make_form(data)` builds a form like `form`; the new one is validated."""
    data = request.POST.copy()
    data[form.add_prefix("version")] = str(version)
    again = make_form(data)
    again.is_valid()
    return again
