"""Compile locale/*/LC_MESSAGES/*.po into .mo with polib, so that a machine
without GNU gettext (msgfmt) can still run Tashil."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile translation catalogues (.po → .mo) without GNU gettext."

    def handle(self, *args, **options):
        count = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
                catalogue = polib.pofile(str(po_path))
                catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
                count += 1
                self.stdout.write(
                    f"{po_path.relative_to(settings.BASE_DIR)}: {catalogue.percent_translated()}%"
                )
        self.stdout.write(self.style.SUCCESS(f"compiled {count} catalogue(s)"))
