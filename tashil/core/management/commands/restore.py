from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tashil.core.backup import BackupError, read_manifest, restore


class Command(BaseCommand):
    help = (
        "Replace the database and the uploaded files (MEDIA_ROOT) with a backup made by "
        "`manage.py backup`. Stop the web and worker processes first."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="The backup's directory.")
        parser.add_argument("--database", default="default", help="The database alias.")
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="Do not ask to confirm."
        )

    def handle(self, *args, directory, database, interactive, **options):
        try:
            manifest = read_manifest(directory)
            if interactive:
                answer = input(
                    f"This replaces the whole database and every uploaded file with the backup "
                    f"of {manifest['created_at']}. Type 'yes' to go on: "
                )
                if answer.strip().lower() != "yes":
                    raise CommandError("Restore cancelled; nothing was changed.")
            manifest = restore(directory, alias=database)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored the backup of {manifest['created_at']}: the {manifest['engine']} "
                f"database and {manifest['media_files']} file(s). Run `manage.py migrate` if "
                "the backup is older than this version of Tashil."
            )
        )
