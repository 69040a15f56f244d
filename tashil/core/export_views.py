"""The answer of an export page, the same for every list that exports."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _


def export_answer(request, run, *, back: str, job_page: str) -> HttpResponse:
    """Run the export (`run()` returns an ExportResult): the file itself, or
    the page of the background job for a large one. A filter that does not
    validate sends the user back to the list (`back`), filter kept."""
    try:
        result = run()
    except ValidationError:
        messages.error(request, _("Correct the filter before exporting."))
        return redirect(f"{back}?{request.GET.urlencode()}")
    if result.job is not None:
        return redirect(job_page, pk=result.job.pk)
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response
