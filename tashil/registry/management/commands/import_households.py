"""Import a household spreadsheet from the command line.

    manage.py import_households FILE --office CODE [--user NAME] [--mode all_or_nothing]

Running it again on the same file after it was stopped (killed, crashed,
power cut) resumes the same import after its last committed chunk; nothing
is written twice. --new starts a separate import instead.
"""

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tashil.offices.models import Office
from tashil.registry.importer import engine, services, tasks
from tashil.registry.importer.fields import suggest_mapping
from tashil.registry.importer.sources import FileProblem
from tashil.registry.models import ColumnMapping, ImportBatch


class Command(BaseCommand):
    help = "Import households and persons from an XLSX or CSV file (one row per person)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--office", required=True, help="Code of the office the households belong to."
        )
        parser.add_argument(
            "--user", help="Username recorded as the importer (must be allowed to import)."
        )
        parser.add_argument(
            "--mode", choices=ImportBatch.Mode.values, default=ImportBatch.Mode.VALID_ROWS
        )
        parser.add_argument(
            "--sheet", default="", help="Worksheet name (XLSX); the first sheet by default."
        )
        parser.add_argument(
            "--mapping", default="", help="Name of a saved column mapping of the office."
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=None,
            help=f"Rows per committed chunk (default {engine.CHUNK_SIZE}).",
        )
        parser.add_argument(
            "--new",
            action="store_true",
            help="Start a new import even if one of this file was left unfinished.",
        )

    def handle(self, *args, **options):
        office = Office.objects.select_related("province").filter(code=options["office"]).first()
        if office is None:
            raise CommandError(f"No office with the code {options['office']!r}.")
        user = None
        if options["user"]:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.")
            if not services.can_import(user, office):
                raise CommandError(f"{user.username} may not import into {office.code}.")
        path = options["file"]
        verbosity = options["verbosity"]
        batch = None if options["new"] else self._unfinished(office, path)
        if batch is not None:
            self.stdout.write(
                f"Resuming import #{batch.pk} after {batch.chunks.count()} committed chunks."
            )
            # A failed run is moved on (and audited) like a resume from the pages; a
            # killed one is still committing and is taken over by the engine.
            if batch.status == ImportBatch.Status.FAILED:
                try:
                    services.import_resume(acting_user=user, batch=batch, enqueue=False)
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from None
        else:
            batch = self._start(office, path, user, options)
        started = time.monotonic()

        def progress(read, committed):
            if verbosity >= 2:
                self.stdout.write(f"  {read} rows read, {committed} committed")

        try:
            outcome = engine.commit_batch(
                batch.pk, chunk_size=options["chunk_size"], progress=progress
            )
        except engine.BatchBusy as exc:
            raise CommandError(
                f"Import #{batch.pk} is being run by another process ({exc})."
            ) from None
        seconds = time.monotonic() - started
        batch.refresh_from_db()
        if outcome is None:
            raise CommandError(f"Import #{batch.pk} is {batch.status}; nothing to do.")
        rate = outcome.total / seconds if seconds else 0
        self.stdout.write(
            f"Import #{batch.pk}: {batch.status}. {outcome.total} rows, {batch.committed_rows} committed, "
            f"{outcome.errors} with errors, in {seconds:.1f} s ({rate:,.0f} rows/s)."
        )
        if outcome.timings:
            parts = ", ".join(
                f"{name} {seconds:.1f} s" for name, seconds in sorted(outcome.timings.items())
            )
            self.stdout.write(f"Of which: {parts}; the rest is reading and checking.")
        if batch.notice:
            self.stdout.write(batch.notice)
        if batch.error_file:
            self.stdout.write(f"Error file: {batch.error_file.path}")
        if batch.failure:
            self.stderr.write(batch.failure)
        if batch.status != ImportBatch.Status.COMMITTED:
            raise CommandError(f"Import #{batch.pk} did not complete.")

    def _unfinished(self, office, path):
        checksum, _size = services._checksum(path)
        return (
            ImportBatch.objects.filter(
                office=office,
                checksum=checksum,
                status__in=[ImportBatch.Status.COMMITTING, ImportBatch.Status.FAILED],
                chunks__isnull=False,
                mode=ImportBatch.Mode.VALID_ROWS,
            )
            .order_by("-pk")
            .first()
        )

    def _start(self, office, path, user, options):
        try:
            batch = services.create_batch(
                office=office,
                path=path,
                original_name=path.rsplit("/", 1)[-1],
                uploaded_by=user,
                sheet=options["sheet"],
                enqueue=False,
            )
        except FileProblem as exc:
            raise CommandError(exc.message) from None
        # Read under the same limits as an upload, in a child process.
        tasks.inspect_batch(batch.pk)
        batch.refresh_from_db()
        if batch.status != ImportBatch.Status.UPLOADED:
            raise CommandError(batch.failure or f"Import #{batch.pk} is {batch.status}.")
        saved = None
        if options["mapping"]:
            saved = ColumnMapping.objects.filter(office=office, name=options["mapping"]).first()
            if saved is None:
                raise CommandError(f"The office has no saved mapping {options['mapping']!r}.")
        mapping = suggest_mapping(batch.columns, saved=saved.mapping if saved else None)
        try:
            services.import_start(
                acting_user=user, batch=batch, mapping=mapping, mode=options["mode"]
            )
        except ValidationError as exc:
            services.import_refuse(acting_user=user, batch=batch, message=" ".join(exc.messages))
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            f"Import #{batch.pk}: {len(batch.columns)} columns, header in row {batch.header_row}, "
            f"{len(batch.mapping)} mapped."
        )
        return batch
