"""The scheduler enqueues each periodic job once per period, however many
schedulers run, and starts with the worker under `make run`."""

import datetime as dt
import re
import threading

import pytest
from django.core.management import call_command
from django.tasks import task

from tashil.core import scheduler
from tashil.core.models import ScheduledRun
from tests.deployment import ROOT

CALLS: list[str] = []


@task()
def probe_task() -> str:
    CALLS.append("probe")
    return "ok"


@pytest.fixture
def probe(settings):
    CALLS.clear()
    settings.SCHEDULED_JOBS = {
        "probe": {"every": 600, "task": "tests.core.test_scheduler.probe_task"},
    }
    yield
    CALLS.clear()


def at(hour, minute, second=0):
    return dt.datetime(2026, 3, 1, hour, minute, second, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_two_schedulers_in_the_same_period_enqueue_once(probe):
    first, second = scheduler.tick(now=at(9, 1)), scheduler.tick(now=at(9, 9, 59))
    assert first == ["probe"] and second == []
    assert CALLS == ["probe"]
    run = ScheduledRun.objects.get()
    assert (run.job, run.period_start, run.period_end) == ("probe", at(9, 0), at(9, 10))
    assert run.task_id


@pytest.mark.django_db
def test_a_scheduler_that_lost_the_race_does_not_enqueue(probe, monkeypatch):
    # Another scheduler inserted this period's row after our check found none:
    # the insert fails on the unique constraint and nothing is enqueued.
    ScheduledRun.objects.create(job="probe", period_start=at(9, 0), period_end=at(9, 10))
    monkeypatch.setattr("django.db.models.query.QuerySet.exists", lambda self: False, raising=True)
    assert scheduler.tick(now=at(9, 5)) == []
    assert CALLS == []
    assert ScheduledRun.objects.count() == 1


@pytest.mark.django_db
def test_each_new_period_runs_again_and_old_rows_are_pruned(probe):
    assert scheduler.tick(now=at(9, 1)) == ["probe"]
    assert scheduler.tick(now=at(9, 10)) == ["probe"]
    assert CALLS == ["probe", "probe"]
    assert scheduler.tick(now=at(9, 1) + dt.timedelta(days=3)) == ["probe"]
    assert list(ScheduledRun.objects.values_list("period_start", flat=True)) == [
        at(9, 0) + dt.timedelta(days=3)
    ]


@pytest.mark.django_db
def test_a_task_that_cannot_be_enqueued_leaves_the_period_open(probe, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ConnectionError("queue down")

    monkeypatch.setattr(type(probe_task), "enqueue", refuse)
    with pytest.raises(ConnectionError):
        scheduler.tick(now=at(9, 1))
    assert not ScheduledRun.objects.exists()
    monkeypatch.undo()
    assert scheduler.tick(now=at(9, 2)) == ["probe"]


@pytest.mark.django_db
def test_the_command_runs_once(probe, capsys):
    call_command("scheduler", "--once")
    assert "probe" in capsys.readouterr().out
    assert CALLS == ["probe"]


def test_the_project_schedules_escalation_and_the_clean_ups(settings):
    from django.utils.module_loading import import_string

    jobs = {job.name: job for job in scheduler.jobs()}
    assert set(jobs) >= {"escalate_referrals", "remove_old_exports", "remove_old_import_files"}
    assert jobs["escalate_referrals"].every == dt.timedelta(minutes=10)
    for job in jobs.values():
        assert hasattr(import_string(job.task), "enqueue"), job.task


def _target(makefile: str, name: str) -> str:
    match = re.search(rf"^{name}:.*?(?=^\S)", makefile, re.M | re.S)
    assert match, name
    return match.group(0)


def test_make_run_and_make_worker_start_a_scheduler_beside_the_worker():
    makefile = (ROOT / "Makefile").read_text()
    run = _target(makefile, "run")
    assert "manage.py db_worker" in run and "manage.py scheduler &" in run
    assert re.search(r"trap 'kill [^']*\$\$scheduler", run)
    worker = _target(makefile, "worker")
    assert "manage.py db_worker" in worker and "manage.py scheduler &" in worker


def test_the_loop_goes_on_after_a_failed_tick(monkeypatch):
    from django.db import OperationalError

    calls, stop = [], threading.Event()

    def flaky_tick():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("the database is restarting")
        stop.set()

    closed = []
    monkeypatch.setattr(scheduler, "tick", flaky_tick)
    monkeypatch.setattr(scheduler, "close_old_connections", lambda: closed.append(1))
    scheduler.run_forever(interval=0, stop=stop)
    assert len(calls) == 2
    # A broken connection is dropped after every tick, so the next one reconnects.
    assert len(closed) == 2
