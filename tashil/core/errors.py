"""Errors that services raise and views/API turn into user-facing messages."""

from django.core.exceptions import PermissionDenied, ValidationError  # noqa: F401 - re-exported
from django.utils.translation import gettext_lazy as _


class ConflictError(Exception):
    """Someone else saved the record after it was loaded (optimistic locking)."""

    code = "conflict"

    def __init__(self, message=None):
        self.message = message or _(
            "Someone else changed this record after you opened it. Reload it, check their changes and try again."
        )
        super().__init__(str(self.message))
