"""Migrations 0004 and 0005 give every existing demand its own public id, lists what
residents sent through a public channel, and rewrites merged demands' public
notes that named the other demand by its tracking code."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import AreaFactory, DemandCategoryFactory

BEFORE = [("demands", "0003_demand_next_due_date")]
AFTER = [("demands", "0005_demand_public_id_unique")]


@pytest.mark.django_db(transaction=True)
def test_existing_demands_get_public_ids_and_listing():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Demand = old.get_model("demands", "Demand")
        DemandEvent = old.get_model("demands", "DemandEvent")
        province = AreaFactory()
        hood = AreaFactory(level="neighbourhood", parent=province)
        category = DemandCategoryFactory()
        now = timezone.now()

        def demand(code, channel, **extra):
            return Demand.objects.create(
                code=code,
                province_id=province.pk,
                area_id=hood.pk,
                category_id=category.pk,
                title="t",
                description="d",
                channel=channel,
                submitted_at=now,
                **extra,
            )

        web = demand("ACDEFHJK", "public_web")
        o311 = demand("ACDEFHJM", "open311")
        walk_in = demand("ACDEFHJN", "walk_in", status="merged")
        phone = demand("ACDEFHJP", "phone")
        Demand.objects.filter(pk=walk_in.pk).update(merged_into=web)
        note = DemandEvent.objects.create(
            demand_id=walk_in.pk,
            kind="status",
            at=now,
            to_status="merged",
            is_public=True,
            public_note="ادغام شد در مطالبه‌ی ACDE-FHJK که برای همه پیگیری می‌شود.",
        )

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        Demand = new.get_model("demands", "Demand")
        DemandEvent = new.get_model("demands", "DemandEvent")
        rows = {d.pk: d for d in Demand.objects.all()}
        ids = [d.public_id for d in rows.values()]
        assert all(i and len(i) == 10 and i.startswith("P") for i in ids)
        assert len(set(ids)) == 4
        assert {pk for pk, d in rows.items() if d.is_listed} == {web.pk, o311.pk}
        assert not rows[phone.pk].is_listed
        rewritten = DemandEvent.objects.get(pk=note.pk).public_note
        assert "ACDE-FHJK" not in rewritten and rows[web.pk].public_id in rewritten
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
