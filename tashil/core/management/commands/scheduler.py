"""Run the periodic jobs of settings.SCHEDULED_JOBS (see core.scheduler)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from tashil.core import scheduler


class Command(BaseCommand):
    help = (
        "Enqueue the periodic jobs (escalation, clean-ups) when they are due. Run it beside "
        "the workers; any number may run, each job still runs once per period."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Check once, enqueue what is due, and exit."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.SCHEDULER_INTERVAL_SECONDS,
            help="Seconds between checks (default: %(default)s).",
        )

    def handle(self, *args, **options):
        if options["once"]:
            names = scheduler.tick()
            self.stdout.write(f"enqueued: {', '.join(names) or 'nothing due'}")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        jobs = ", ".join(f"{job.name} every {job.every}" for job in scheduler.jobs())
        self.stdout.write(f"scheduler started: {jobs or 'no jobs'}")
        self.stdout.flush()
        scheduler.run_forever(interval=options["interval"], stop=stop)
        self.stdout.write("scheduler stopped")
