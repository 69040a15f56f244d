"""The form an edit page shows again after a conflict."""


def rebound(form, make_form, request, version):
    """The user's input as sent, now at the `version` saved since: nothing
    typed is lost, and sending it again is a deliberate overwrite.
    `make_form(data)` builds a form like `form`; the new one is validated."""
    data = request.POST.copy()
    data[form.add_prefix("version")] = str(version)
    again = make_form(data)
    again.is_valid()
    return again
