"""Periodic jobs: a small scheduler that enqueues django.tasks tasks.

settings.SCHEDULED_JOBS lists the jobs, `{name: {"every": seconds, "task":
"dotted.path.to.task"}}`. Time is cut into periods of `every` seconds counted
from the Unix epoch (so a daily job's period starts at 00:00 UTC). On each
tick, for each job whose current period has no `ScheduledRun` row, the
scheduler inserts the row and enqueues the task in one transaction. The row
is unique per job and period, so when two or more schedulers run (one beside
each worker), exactly one of them enqueues each period and the others' insert
fails. A period missed while no scheduler ran is not made up: the next
period's run does the work, so the jobs must be catch-up by nature (the
escalation ladder and the clean-ups are).

`manage.py scheduler` runs the loop; it works with any tasks backend, since it
only calls `Task.enqueue()`."""

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import ScheduledRun

logger = logging.getLogger(__name__)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Rows of periods that ended longer ago than this are removed by the tick.
_KEEP_FINISHED = dt.timedelta(days=2)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: dt.timedelta
    task: str

    def period(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The [start, end) of the period `now` falls in."""
        step = self.every.total_seconds()
        index = int((now - _EPOCH).total_seconds() // step)
        start = _EPOCH + dt.timedelta(seconds=index * step)
        return start, start + self.every


def jobs() -> list[PeriodicJob]:
    configured = getattr(settings, "SCHEDULED_JOBS", {})
    return [
        PeriodicJob(name=name, every=dt.timedelta(seconds=int(spec["every"])), task=spec["task"])
        for name, spec in configured.items()
        if int(spec["every"]) > 0
    ]


def tick(now: dt.datetime | None = None) -> list[str]:
    """Enqueue every job due in its current period that no scheduler has
    started yet. Returns the names of the jobs this call enqueued."""

    now = now or timezone.now()
    enqueued = []
    for job in jobs():
        start, end = job.period(now)
        if ScheduledRun.objects.filter(job=job.name, period_start=start).exists():
            continue
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, period_start=start, period_end=end)
                # Enqueued inside the transaction: if the queue refuses it,
                # the row goes too and the next tick tries again.
                result = import_string(job.task).enqueue()
                run.task_id = str(getattr(result, "id", "") or "")[:64]
                run.save(update_fields=["task_id"])
        except IntegrityError:
            continue  # another scheduler took this period
        logger.info("scheduled %s for the period from %s", job.name, start.isoformat())
        enqueued.append(job.name)
    ScheduledRun.objects.filter(period_end__lt=now - _KEEP_FINISHED).delete()
    return enqueued


def run_forever(*, interval: float, stop: threading.Event | None = None) -> None:
    """Tick every `interval` seconds until `stop` is set. A failed tick (the
    database restarting, say) is logged and tried again at the next one."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            tick()
        except Exception:
            logger.exception("scheduler tick failed")
        finally:
            close_old_connections()
        stop.wait(interval)
