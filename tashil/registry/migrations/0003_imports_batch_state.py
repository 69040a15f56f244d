from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_registry_households_catalogue"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="columnmapping",
            options={
                "ordering": ["name"],
                "verbose_name": "saved column mapping",
                "verbose_name_plural": "saved column mappings",
            },
        ),
        migrations.AlterModelOptions(
            name="importbatch",
            options={
                "ordering": ["-created_at", "-id"],
                "verbose_name": "import",
                "verbose_name_plural": "imports",
            },
        ),
        migrations.AddField(
            model_name="importbatch",
            name="checksum",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="columns",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="delimiter",
            field=models.CharField(blank=True, max_length=2),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="failure",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="header_row",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="language",
            field=models.CharField(default="fa", max_length=8),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="lease_owner",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="lease_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="notice",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="processed_rows",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="size",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="stats",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="importchunk",
            name="errors",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="importchunk",
            name="stats",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="importbatch",
            name="status",
            field=models.CharField(
                choices=[
                    ("uploaded", "uploaded"),
                    ("mapped", "columns mapped"),
                    ("validating", "checking the rows"),
                    ("validated", "validated"),
                    ("committing", "committing"),
                    ("committed", "committed"),
                    ("failed", "failed"),
                    ("rolling_back", "rolling back"),
                    ("rolled_back", "rolled back"),
                ],
                default="uploaded",
                max_length=12,
            ),
        ),
    ]
