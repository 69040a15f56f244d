"""The one edit-view path: form → service → field errors, or 409 with the
conflict shown."""

from django import forms
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory

from tashil.core.editing import save_form
from tashil.core.errors import ConflictError
from tashil.core.forms import StyledForm


class NameForm(StyledForm):
    name = forms.CharField()
    version = forms.IntegerField(required=False)


def request(method="post", data=None):
    req = getattr(RequestFactory(), method)("/", data or {})
    req.session = {}
    req._messages = FallbackStorage(req)
    return req


def run(req, save, **kwargs):
    form = NameForm(req.POST or None)
    seen = {}

    def page(edit):
        seen["edit"] = edit
        return HttpResponse("page", status=edit.status)

    response = save_form(
        req, form, save, success=lambda result: HttpResponse(f"saved {result}"), page=page, **kwargs
    )
    return response, seen.get("edit")


def test_a_get_shows_the_page_and_saves_nothing():
    calls = []
    response, edit = run(request("get"), calls.append)
    assert response.status_code == 200 and edit.conflict is None and calls == []


def test_invalid_input_never_reaches_the_service():
    calls = []
    response, edit = run(request(data={"name": ""}), calls.append)
    assert response.status_code == 200 and calls == [] and "name" in edit.form.errors


def test_success_answers_with_what_the_service_returned_and_flashes_the_message():
    req = request(data={"name": "Ali"})
    response, _edit = run(req, lambda data: data["name"].upper(), message="Saved.")
    assert response.content == b"saved ALI"
    assert [str(m) for m in req._messages] == ["Saved."]


def test_service_errors_land_on_the_named_field_or_on_top():
    def refuse(data):
        raise ValidationError({"title": "Too short.", "elsewhere": "Not here."})

    response, edit = run(request(data={"name": "Ali"}), refuse, aliases={"title": "name"})
    assert response.status_code == 200
    assert edit.form.errors["name"] == ["Too short."]
    assert edit.form.non_field_errors() == ["Not here."]
    assert edit.form.fields["name"].widget.attrs["aria-invalid"] == "true"


def test_a_conflict_answers_409_and_shows_the_message_on_the_form():
    def clash(data):
        raise ConflictError("Changed meanwhile.")

    response, edit = run(request(data={"name": "Ali"}), clash)
    assert response.status_code == 409 and edit.status == 409
    assert edit.conflict == "Changed meanwhile."
    assert edit.form.non_field_errors() == ["Changed meanwhile."]


def test_a_conflict_can_rebuild_the_form_from_what_is_saved_now():
    fresh = NameForm({"name": "Ali", "version": "7"})
    fresh.is_valid()

    def clash(data):
        raise ConflictError()

    response, edit = run(
        request(data={"name": "Ali", "version": "6"}),
        clash,
        reload=lambda: fresh,
        conflict_on_form=False,
    )
    assert response.status_code == 409
    assert edit.form is fresh and not fresh.non_field_errors() and edit.conflict
