"""Demand.next_due_date: the earliest due date of the demand's referrals whose
clock is running, so that the staff list sorts by due date on an index
instead of a subquery per demand (see docs/benchmarks.md).

The index is built before existing rows are filled: built after, over rows
the fill has just updated in place, PostgreSQL could not use it for queries
whose snapshot predates it, which on a busy database means for a while."""

from django.db import migrations, models

# The statuses of models.CLOCK_RUNNING_STATUSES, as they were when this was written.
CLOCK_RUNNING = ("sent", "received", "in_progress")


def fill(apps, schema_editor):
    Demand = apps.get_model("demands", "Demand")
    Referral = apps.get_model("demands", "Referral")
    running = Referral.objects.filter(demand=models.OuterRef("pk"), status__in=CLOCK_RUNNING)
    Demand.objects.filter(models.Exists(running)).update(
        next_due_date=models.Subquery(running.order_by("due_date").values("due_date")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0002_postgres_search_and_duplicate_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="demand",
            name="next_due_date",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="next due date"
            ),
        ),
        migrations.AddIndex(
            model_name="demand",
            index=models.Index(
                fields=["next_due_date", "-submitted_at", "-id"], name="demand_next_due"
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
