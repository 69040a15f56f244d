from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tashil.core.backup import BackupError, backup


class BackupCommand(BaseCommand):
    """What backup and restore share: the backup's directory and the database
    alias as arguments, and a backup that cannot go on reported as the
    command's error. `run` does the work and returns the success message."""

    directory_help = "The backup's directory."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help=self.directory_help)
        parser.add_argument("--database", default="default", help="The database alias.")

    def handle(self, *args, **options):
        try:
            message = self.run(**options)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(message))

    def run(self, *, directory, database, **options) -> str:
        raise NotImplementedError


class Command(BackupCommand):
    help = (
        "Back up the database and the uploaded files (MEDIA_ROOT) into a new directory; "
        "safe while Tashil runs. Restore with `manage.py restore DIR`."
    )
    directory_help = "The backup's directory; must not exist."

    def run(self, *, directory, database, **options) -> str:
        manifest = backup(directory, alias=database)
        size = sum(part["size"] for part in manifest["parts"].values())
        return (
            f"Backed up the {manifest['engine']} database and {manifest['media_files']} "
            f"file(s) into {directory} ({size / 1e6:.1f} MB)."
        )
