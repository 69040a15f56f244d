"""Pages of the spreadsheet import (upload → mapping → preview → progress →
done) and of the household export. Views parse input, call a service or
selector and render; every batch is looked up through
ImportBatch.objects.visible_to(user), so another office's import is a 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tashil.core.editing import form_page, save_form
from tashil.core.export_views import export_answer
from tashil.core.exports import CONTENT_TYPES, download
from tashil.core.models import ExportJob

from . import exports
from .import_forms import CommitForm, MappingForm, UploadForm
from .importer import services, template
from .importer.lease import is_stalled
from .importer.lifecycle import IMPORT
from .models import ColumnMapping, ImportBatch

PAGE_SIZE = 30
SAMPLE_ROWS = 3
PREVIEW_ERRORS = 100


def _require_importer(user):
    if not services.import_offices(user).exists():
        raise PermissionDenied


def _batch(request, pk, *, manage=True) -> ImportBatch:
    batch = get_object_or_404(ImportBatch.objects.visible_to(request.user).with_list_data(), pk=pk)
    if manage and not services.can_import(request.user, batch.office):
        raise PermissionDenied
    return batch


# --- List and upload ---------------------------------------------------------------------------


def import_list(request):
    _require_importer(request.user)
    batches = (
        ImportBatch.objects.visible_to(request.user).with_list_data().order_by("-created_at", "-id")
    )
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry/import/list.html", {"page": page})


def import_upload(request):
    user = request.user
    offices = services.import_offices(user)
    if not offices.exists():
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None, offices=offices)
    return save_form(
        request,
        form,
        lambda data: services.import_upload(
            acting_user=user, office=data["office"], upload=data["file"], sheet=data["sheet"]
        ),
        success=lambda batch: redirect("registry:import_mapping", pk=batch.pk),
        page=form_page(request, "registry/import/upload.html"),
    )


def import_template(request, file_format):
    _require_importer(request.user)
    if file_format not in CONTENT_TYPES:
        raise Http404
    response = HttpResponse(template.build(file_format), content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="registry-template.{file_format}"'
    return response


# --- Mapping -------------------------------------------------------------------------------------


def _samples(batch) -> dict[int, list[str]]:
    """The first few values of each column, to recognise it by: the bounded
    preview kept when the file was read (never the file itself)."""
    samples = (batch.stats or {}).get("samples") or {}
    return {int(index): values[:SAMPLE_ROWS] for index, values in samples.items()}


def _reading(request, batch):
    """The upload is being read in the background: a page that polls until
    the columns are known (or the file was refused)."""
    if request.htmx:
        if batch.status != ImportBatch.Status.INSPECTING:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("registry:import_mapping", kwargs={"pk": batch.pk})
            return response
        template_name = "registry/import/_reading.html"
    else:
        template_name = "registry/import/reading.html"
    return render(
        request,
        template_name,
        {"batch": batch, "stalled": services.inspection_stalled(batch)},
    )


def import_mapping(request, pk):
    batch = _batch(request, pk)
    if batch.status == ImportBatch.Status.INSPECTING or (request.htmx and request.method == "GET"):
        return _reading(request, batch)
    if services.inspection_failed(batch):
        return render(request, "registry/import/refused.html", {"batch": batch})
    if not services.is_editable(batch):
        return redirect("registry:import_detail", pk=batch.pk)
    saved = list(services.saved_mappings(batch.office))
    initial = {int(k): v for k, v in (batch.mapping or {}).items()}
    chosen = None
    if request.GET.get("saved"):
        chosen = next((m for m in saved if str(m.pk) == request.GET["saved"]), None)
        if chosen is not None:
            initial = services.mapping_from_saved(batch, chosen)
    form = MappingForm(
        request.POST or None,
        columns=batch.columns,
        samples=_samples(batch),
        initial_mapping=initial,
    )
    return save_form(
        request,
        form,
        lambda data: services.import_set_mapping(
            acting_user=request.user,
            batch=batch,
            mapping=form.mapping(),
            save_as=data["save_as"],
        ),
        success=lambda _batch: redirect("registry:import_progress", pk=batch.pk),
        on_error=_errors_on_top("mapping"),
        page=form_page(
            request,
            "registry/import/mapping.html",
            batch=batch,
            saved=saved,
            chosen=chosen,
            sheets=(batch.stats or {}).get("sheets", []),
        ),
    )


def _errors_on_top(field):
    """The page shows the service's complaints about `field` above the form."""

    def on_error(form, error):
        for message in error.message_dict.get(field, error.messages):
            form.add_error(None, message)

    return on_error


# --- Preview, commit, progress, done --------------------------------------------------------------


def import_preview(request, pk):
    batch = _batch(request, pk)
    if batch.status == ImportBatch.Status.INSPECTING or services.inspection_failed(batch):
        return redirect("registry:import_mapping", pk=batch.pk)
    if batch.status in (ImportBatch.Status.MAPPED, ImportBatch.Status.VALIDATING):
        return redirect("registry:import_progress", pk=batch.pk)
    if (
        batch.status not in (ImportBatch.Status.VALIDATED, ImportBatch.Status.FAILED)
        or batch.chunks.exists()
    ):
        return redirect("registry:import_detail", pk=batch.pk)
    form = CommitForm(request.POST or None, initial={"mode": batch.mode})
    return save_form(
        request,
        form,
        lambda data: services.import_commit(
            acting_user=request.user, batch=batch, mode=data["mode"]
        ),
        success=lambda _result: redirect("registry:import_progress", pk=batch.pk),
        on_error=_errors_on_top("mode"),
        page=form_page(
            request,
            "registry/import/preview.html",
            batch=batch,
            errors=batch.errors[:PREVIEW_ERRORS],
            more_errors=max(len(batch.errors) - PREVIEW_ERRORS, 0),
            columns=sorted(
                (batch.stats or {}).get("columns", {}).items(), key=lambda item: -item[1]
            ),
            counts=(batch.stats or {}).get("counts", {}),
            can_commit=batch.valid_rows > 0,
        ),
    )


def _next_page(batch) -> str | None:
    """Where the progress page goes once the work is done."""
    if batch.status == ImportBatch.Status.INSPECTING or services.inspection_failed(batch):
        return reverse("registry:import_mapping", kwargs={"pk": batch.pk})
    if batch.status == ImportBatch.Status.VALIDATED:
        return reverse("registry:import_preview", kwargs={"pk": batch.pk})
    if batch.status == ImportBatch.Status.FAILED and not batch.chunks.exists():
        return reverse("registry:import_preview", kwargs={"pk": batch.pk})
    if batch.is_running or batch.status == ImportBatch.Status.MAPPED:
        return None
    return reverse("registry:import_detail", kwargs={"pk": batch.pk})


def import_progress(request, pk):
    batch = _batch(request, pk)
    target = _next_page(batch)
    stalled = is_stalled(batch) if batch.is_running else False
    if request.htmx:
        if target:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return render(
            request, "registry/import/_progress.html", {"batch": batch, "stalled": stalled}
        )
    if target:
        return redirect(target)
    return render(request, "registry/import/progress.html", {"batch": batch, "stalled": stalled})


def import_detail(request, pk):
    batch = _batch(request, pk)
    if batch.is_running and not is_stalled(batch):
        return redirect("registry:import_progress", pk=batch.pk)
    if batch.status in (ImportBatch.Status.UPLOADED, ImportBatch.Status.INSPECTING):
        return redirect("registry:import_mapping", pk=batch.pk)
    counts = (batch.stats or {}).get("counts", {})
    return render(
        request,
        "registry/import/detail.html",
        {
            "batch": batch,
            "counts": counts,
            "chunks": batch.chunks.count(),
            "moves": {t.name for t in IMPORT.available_moves(batch, request.user)},
            "errors": batch.errors[:PREVIEW_ERRORS],
            "stalled": is_stalled(batch) if batch.is_running else False,
        },
    )


def import_error_file(request, pk):
    batch = _batch(request, pk)
    if not batch.error_file:
        raise Http404
    stamp = timezone.localdate().isoformat()
    return FileResponse(
        batch.error_file.open("rb"),
        as_attachment=True,
        filename=f"import-{batch.pk}-errors-{stamp}.xlsx",
        content_type=CONTENT_TYPES["xlsx"],
    )


def _batch_command(request, pk, command):
    """Run `command` on the batch. Returns the batch and, when the service
    refused, the answer that says why on the batch's page."""
    batch = _batch(request, pk)
    try:
        command(acting_user=request.user, batch=batch)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return batch, redirect("registry:import_detail", pk=batch.pk)
    return batch, None


@require_POST
def import_rollback(request, pk):
    batch, refused = _batch_command(request, pk, services.import_rollback)
    if refused:
        return refused
    batch.refresh_from_db()
    if batch.status == ImportBatch.Status.ROLLED_BACK:
        messages.success(request, _("The import was rolled back: everything it wrote was undone."))
    elif batch.failure:
        messages.error(request, batch.failure)
    return redirect("registry:import_progress", pk=batch.pk)


@require_POST
def import_resume(request, pk):
    batch, refused = _batch_command(request, pk, services.import_resume)
    return refused or redirect("registry:import_progress", pk=batch.pk)


@require_POST
def mapping_delete(request, pk):
    mapping = get_object_or_404(ColumnMapping.objects.select_related("office"), pk=pk)
    if not services.can_import(request.user, mapping.office):
        raise Http404
    services.mapping_delete(acting_user=request.user, mapping=mapping)
    messages.success(request, _("The saved mapping was deleted."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("registry:import_list")
    return redirect(target)


# --- Export ----------------------------------------------------------------------------------------


def household_export(request):
    user = request.user
    if not exports.may_export(user):
        raise PermissionDenied
    return export_answer(
        request,
        lambda: exports.export_households(
            user=user,
            params=exports.params_of(request.GET),
            file_format=request.GET.get("format", "xlsx"),
            layout=request.GET.get("layout", "households"),
        ),
        back=reverse("registry:households"),
        job_page="registry:export_job",
    )


def _own_job(request, pk) -> ExportJob:
    return get_object_or_404(ExportJob, pk=pk, owner=request.user, kind__in=exports.KINDS)


def export_job(request, pk):
    job = _own_job(request, pk)
    template_name = (
        "registry/import/_export_progress.html"
        if request.htmx
        else "registry/import/export_job.html"
    )
    return render(request, template_name, {"job": job})


def export_download(request, pk):
    return download(_own_job(request, pk))
