"""Demand.public_id, the id public surfaces (Open311, the agency side) use
instead of the tracking code, and Demand.is_listed, whether Open311 lists the
demand at all.

Existing rows get a random public id each, and are listed when the resident
sent them through a public channel (the public form or Open311); demands the
office recorded are not listed. The column is added nullable and filled here,
then made unique and required by 0005, in a transaction of its own:
PostgreSQL refuses to ALTER a table with updates still pending in the same
transaction."""

import secrets

from django.db import migrations, models

# As models.CODE_ALPHABET and new_public_id were when this was written.
ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
PUBLIC_CHANNELS = ("public_web", "open311")
BATCH = 1000


def _new_id() -> str:
    return "P" + "".join(secrets.choice(ALPHABET) for _ in range(9))


def fill(apps, schema_editor):
    Demand = apps.get_model("demands", "Demand")
    Demand.objects.filter(channel__in=PUBLIC_CHANNELS).update(is_listed=True)
    used = set()
    pks = list(Demand.objects.filter(public_id__isnull=True).values_list("pk", flat=True))
    for start in range(0, len(pks), BATCH):
        rows = []
        for pk in pks[start : start + BATCH]:
            public_id = _new_id()
            while public_id in used:
                public_id = _new_id()
            used.add(public_id)
            rows.append(Demand(pk=pk, public_id=public_id))
        Demand.objects.bulk_update(rows, ["public_id"])
    # Public timeline notes of merged demands named the other demand by its
    # tracking code (XXXX-XXXX); they name it by its public id from now on.
    DemandEvent = apps.get_model("demands", "DemandEvent")
    merged = Demand.objects.filter(merged_into__isnull=False).values_list(
        "pk", "merged_into__code", "merged_into__public_id"
    )
    for pk, code, public_id in merged.iterator():
        for shown in (f"{code[:4]}-{code[4:]}", code):
            events = DemandEvent.objects.filter(demand_id=pk, public_note__contains=shown)
            for event in events:
                event.public_note = event.public_note.replace(shown, public_id)
                event.save(update_fields=["public_note"])


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0003_demand_next_due_date"),
    ]

    operations = [
        migrations.AddField(
            model_name="demand",
            name="public_id",
            field=models.CharField(
                editable=False, max_length=12, null=True, verbose_name="public id"
            ),
        ),
        migrations.AddField(
            model_name="demand",
            name="is_listed",
            field=models.BooleanField(default=False, verbose_name="listed in open data"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
