from django.core.management.base import CommandError

from tashil.core.backup import read_manifest, restore

from .backup import BackupCommand


class Command(BackupCommand):
    help = (
        "Replace the database and the uploaded files (MEDIA_ROOT) with a backup made by "
        "`manage.py backup`. Stop the web and worker processes first."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="Do not ask to confirm."
        )

    def run(self, *, directory, database, interactive, **options) -> str:
        manifest = read_manifest(directory)
        if interactive:
            answer = input(
                f"This replaces the whole database and every uploaded file with the backup "
                f"of {manifest['created_at']}. Type 'yes' to go on: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")
        manifest = restore(directory, alias=database)
        return (
            f"Restored the backup of {manifest['created_at']}: the {manifest['engine']} "
            f"database and {manifest['media_files']} file(s). Run `manage.py migrate` if "
            "the backup is older than this version of Tashil."
        )
