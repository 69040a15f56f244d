"""Indexes that only PostgreSQL can use, for province-scale data (see
docs/benchmarks.md).

- A trigram GIN index on Demand.search_key: the staff search matches every
  word with LIKE '%word%', which no B-tree can serve; without it each search
  reads the whole table.
- A partial index on open, unmerged demands by category and neighbourhood,
  newest first: the duplicate suggestion reads the newest open demands of one
  category around a place, which otherwise means intersecting two large
  bitmaps and sorting thousands of rows on every keystroke of the public form.
- Supporters first, for the staff list's "most supporters" order: without it
  every such page sorts the whole province.

They are built CONCURRENTLY so that migrating a live database does not block
intake, which is why this migration is not atomic. SQLite has neither
extension nor need: its data sets are small, and the migration does nothing
there. The indexes are not part of the model state on purpose, so Django
never proposes to drop them."""

from django.db import migrations

OPEN = "('new', 'needs_info', 'accepted', 'referred')"

INDEXES = {
    "demand_search_trgm": "ON demands_demand USING gin (search_key gin_trgm_ops)",
    "demand_open_category_area": (
        "ON demands_demand (category_id, area_id, submitted_at DESC, id DESC) "
        f"WHERE status IN {OPEN} AND merged_into_id IS NULL"
    ),
    "demand_supporters_order": "ON demands_demand (supporters_count DESC, submitted_at DESC, id DESC)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Trusted since PostgreSQL 13: the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("demands", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
