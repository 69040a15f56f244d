"""Load the Khuzestan demo data. Safe to run any number of times."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tashil.core import calendar
from tashil.core.models import Holiday
from tashil.demo import khuzestan, loader


class Command(BaseCommand):
    help = (
        "Load the Khuzestan demo data: areas, hazard zones, operators, offices, agencies, demand "
        "categories, the routing table, demo accounts, the weekend rule and official holidays. "
        "Idempotent: a second run changes nothing, and records users have edited are kept "
        "unless --refresh is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-holidays",
            action="store_true",
            help="Do not load Iranian official holidays from the holidays package.",
        )
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="Put demo records that users have edited back to their demo values.",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load the demo into a production deployment (a training server, for example).",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["allow_production"]:
            # The demo accounts share a published password and the demo API
            # key is in the README: on a live server they are open doors.
            raise CommandError(
                "This is a production deployment: the demo accounts and API key would be "
                "open to anyone who has read the README. Use --allow-production for a "
                "training server."
            )
        started = time.monotonic()
        report = loader.Report(refresh=options["refresh"])
        holiday_error = None
        with transaction.atomic():
            loader.load_khuzestan(report)
            if not options["skip_holidays"]:
                holiday_error = self._sync_holidays(report)

        width = max(len(label) for label in report.counts)
        for label, counts in report.counts.items():
            self.stdout.write(
                f"{label:<{width}}  {counts.created:>4} created  {counts.updated:>4} updated  "
                f"{counts.unchanged:>4} unchanged"
            )
        if holiday_error:
            self.stderr.write(
                self.style.ERROR(f"Official holidays were not loaded: {holiday_error}")
            )
        verdict = "Demo data loaded" if report.changed else "Demo data already up to date"
        self.stdout.write(self.style.SUCCESS(f"{verdict} in {time.monotonic() - started:.1f} s."))
        self.stdout.write(
            f"Demo accounts: {', '.join(u.username for u in khuzestan.USERS)}; "
            f"password for new accounts: {khuzestan.DEMO_PASSWORD}"
        )

    def _sync_holidays(self, report) -> str | None:
        """Sync official holidays; returns the error message if that failed.

        A failure here (the package missing or changed) must not cost the rest
        of the demo data, so it is rolled back alone and reported."""
        try:
            with transaction.atomic():
                result = calendar.sync_holidays(khuzestan.HOLIDAY_YEARS)
        except Exception as exc:  # reported to the operator by handle()
            return f"{type(exc).__name__}: {exc}"
        counts = report.counts["official holidays"]
        counts.created, counts.updated = result.created, result.updated
        # The sync reports only what it wrote; the rest of the table is as it was.

        counts.unchanged = max(
            Holiday.objects.filter(original_date__year__in=list(khuzestan.HOLIDAY_YEARS)).count()
            - result.created
            - result.updated,
            0,
        )
        if result.removed:
            self.stdout.write(
                f"official holidays: {result.removed} no longer listed by the package, removed"
            )
        return None
