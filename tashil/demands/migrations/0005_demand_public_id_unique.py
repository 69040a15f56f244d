"""Demand.public_id, filled for every row by 0004, becomes unique and required."""

from django.db import migrations, models

import tashil.demands.models


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0004_demand_public_id_is_listed"),
    ]

    operations = [
        migrations.AlterField(
            model_name="demand",
            name="public_id",
            field=models.CharField(
                default=tashil.demands.models.new_public_id,
                editable=False,
                max_length=12,
                unique=True,
                verbose_name="public id",
            ),
        ),
    ]
