"""Demo data: an installed app only for its `seed_demo` command.

`khuzestan` holds the facts as Python structures and `loader` writes them to
the database idempotently; `manage.py seed_demo` runs the loader."""
