from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tashil.core.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database and the uploaded files (MEDIA_ROOT) into a new directory; "
        "safe while Tashil runs. Restore with `manage.py restore DIR`."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="The backup's directory; must not exist.")
        parser.add_argument("--database", default="default", help="The database alias.")

    def handle(self, *args, directory, database, **options):
        try:
            manifest = backup(directory, alias=database)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = sum(part["size"] for part in manifest["parts"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up the {manifest['engine']} database and {manifest['media_files']} "
                f"file(s) into {directory} ({size / 1e6:.1f} MB)."
            )
        )
