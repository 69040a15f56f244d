"""Demo data: a plain data package, not an installed app.

`khuzestan` holds the facts as Python structures and `loader` writes them to
the database idempotently; `manage.py seed_demo` runs the loader."""
