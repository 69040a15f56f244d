"""Recording and withdrawing a household's consent."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tashil.core.editing import save_form
from tashil.core.errors import ConflictError

from ..forms import ConsentForm
from ..permissions import access_consent, access_household
from ..services import consent as consent_services


def consent_create(request, pk):
    household = access_household(request.user, pk, manage=True)
    form = ConsentForm(request.POST or None)
    return save_form(
        request,
        form,
        lambda data: consent_services.consent_record(
            household=household, acting_user=request.user, **data
        ),
        message=_("The consent was recorded."),
        success=lambda _consent: redirect(
            reverse("registry:household_detail", kwargs={"pk": household.pk}) + "#consent"
        ),
        page=lambda edit: render(
            request, "registry/consent_form.html", {"form": edit.form, "household": household}
        ),
    )


@require_POST
def consent_withdraw(request, pk):
    consent = access_consent(request.user, pk, manage=True)
    try:
        consent_services.consent_withdraw(consent=consent, acting_user=request.user)
    except (ValidationError, ConflictError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, _("The consent was withdrawn."))
    return redirect(
        reverse("registry:household_detail", kwargs={"pk": consent.household_id}) + "#consent"
    )
