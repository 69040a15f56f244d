"""API keys for machine clients (Open311 apps, partner systems)."""

from django.core.management.base import BaseCommand, CommandError

from tashil.accounts.models import ApiKey


class Command(BaseCommand):
    help = "Create, list or revoke API keys. A new key is shown once; only its hash is kept."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a key and print it once.")
        create.add_argument("name", help="Who the key is for, e.g. the client application.")
        actions.add_parser("list", help="List the keys by name and prefix.")
        revoke = actions.add_parser("revoke", help="Turn a key off.")
        revoke.add_argument("prefix", help="The first characters of the key, as listed.")

    def handle(self, *args, action, **options):
        if action == "create":
            name = options["name"].strip()
            if not name:
                raise CommandError("Give the key a name.")
            api_key, raw = ApiKey.create(name=name)
            self.stdout.write(raw)
            self.stderr.write(f"Created “{api_key}”. Keep the key: it is not shown again.")
        elif action == "list":
            for api_key in ApiKey.objects.order_by("created_at"):
                state = "active" if api_key.is_active else "revoked"
                used = api_key.last_used_at.isoformat() if api_key.last_used_at else "never used"
                self.stdout.write(f"{api_key.prefix}  {state:<7}  {used}  {api_key.name}")
        else:
            matches = list(ApiKey.objects.filter(prefix__startswith=options["prefix"]))
            if len(matches) != 1:
                raise CommandError(
                    f"{len(matches)} keys start with “{options['prefix']}”; give a prefix that names one."
                )
            (api_key,) = matches
            api_key.is_active = False
            api_key.save(update_fields=["is_active"])
            self.stdout.write(f"Revoked “{api_key}”.")
