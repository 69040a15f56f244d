"""Who is running an import: a process running a batch holds a lease on it
(owner and expiry), renewed with each chunk, so two workers never run the same
batch, and a batch whose process died is seen as stalled and may be taken over."""

import os
import socket

from django.db import transaction
from django.utils import timezone

from ..models import ImportBatch

LEASE_SECONDS = 300
# All-or-nothing runs in one transaction, where a renewal is invisible to others.
LONG_LEASE_SECONDS = 6 * 3600


class BatchBusy(Exception):
    """Another live process is running this batch."""


def lease_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_is_alive(owner: str) -> bool | None:
    """True/False for a process on this host; None when it runs elsewhere."""
    host, _sep, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lease_is_free(batch: ImportBatch, now=None) -> bool:
    if not batch.lease_owner:
        return True
    now = now or timezone.now()
    alive = owner_is_alive(batch.lease_owner)
    if alive is False:
        return True
    if alive is True and batch.lease_owner == lease_owner():
        # Our own process: a previous run in it has ended, or it would still hold the batch.
        return True
    return batch.lease_until is None or batch.lease_until < now


def claim(batch_id: int, *, seconds: int = LEASE_SECONDS) -> ImportBatch:
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update(of=("self",))
            .select_related("office__province", "uploaded_by")
            .get(pk=batch_id)
        )
        if not lease_is_free(batch):
            raise BatchBusy(batch.lease_owner)
        batch.lease_owner = lease_owner()
        batch.lease_until = timezone.now() + timezone.timedelta(seconds=seconds)
        batch.save(update_fields=["lease_owner", "lease_until"])
    return batch


def release(batch: ImportBatch) -> None:
    ImportBatch.objects.filter(pk=batch.pk, lease_owner=lease_owner()).update(
        lease_owner="", lease_until=None
    )


def is_stalled(batch: ImportBatch) -> bool:
    """A batch left running by a process that is gone. One that is queued and
    not yet picked up by a worker holds no lease and is not stalled."""
    return (
        batch.is_running
        and bool(batch.lease_owner)
        and lease_is_free(batch)
        and batch.lease_owner != lease_owner()
    )
