"""Two staff save the same record: the second save answers 409, shows the
conflict, and overwrites nothing. The other person's write is made to land
between the page's read and its own write, which is where a real race hits."""

# The shared fixtures are imported by name, which pyflakes reads as a redefinition.
# ruff: noqa: F811

import pytest
from django.urls import reverse
from django.utils import translation

from tashil.core.errors import ConflictError
from tashil.core.models import AuditLog
from tashil.registry.importer import services as import_services
from tashil.registry.models import ColumnMapping, ImportBatch, Membership
from tashil.registry.services import memberships as membership_services

from .test_import_fixtures import english, imp  # noqa: F401 - fixtures, used by name
from .test_import_views import world as import_world  # noqa: F401 - fixture, used by name
from .test_views import as_role, world  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.django_db


def shows_the_conflict(response) -> bool:
    with translation.override("fa"):
        message = str(ConflictError().message)
    return message in response.content.decode() and response.context["form"].non_field_errors()


def first_the_colleague(monkeypatch, module, name, colleague_call):
    """Make `module.name` run the colleague's save just before the page's own."""
    real = getattr(module, name)

    def racing(**kwargs):
        colleague_call(real)
        return real(**kwargs)

    monkeypatch.setattr(module, name, racing)


def test_ending_a_membership_someone_just_ended_is_a_conflict(as_role, world, monkeypatch):
    client = as_role("facilitator")
    membership = world.child.memberships.get()
    first_the_colleague(
        monkeypatch,
        membership_services,
        "membership_end",
        lambda real: real(
            membership=Membership.objects.get(pk=membership.pk),
            reason="moved",
            acting_user=world.users["office_manager"],
        ),
    )
    response = client.post(
        reverse("registry:membership_end", kwargs={"pk": membership.pk}),
        {"reason": "died", "left_on": "۱۴۰۴/۰۱/۱۰"},
    )
    assert response.status_code == 409
    assert shows_the_conflict(response)
    membership.refresh_from_db()
    assert membership.end_reason == "moved"
    assert AuditLog.objects.filter(action="membership.end").count() == 1


def test_changing_a_relation_someone_just_changed_is_a_conflict(as_role, world, monkeypatch):
    client = as_role("facilitator")
    membership = world.child.memberships.get()
    first_the_colleague(
        monkeypatch,
        membership_services,
        "membership_set_relation",
        lambda real: real(
            membership=Membership.objects.get(pk=membership.pk),
            relation="relative",
            acting_user=world.users["office_manager"],
        ),
    )
    response = client.post(
        reverse("registry:membership_relation", kwargs={"pk": membership.pk}),
        {"relation": "grandchild"},
    )
    assert response.status_code == 409
    assert shows_the_conflict(response)
    membership.refresh_from_db()
    assert membership.relation == "relative"


def test_committing_an_import_someone_just_committed_is_a_conflict(
    client, import_world, monkeypatch
):
    batch = import_world.pending
    client.force_login(import_world.n.users["facilitator"])
    first_the_colleague(
        monkeypatch,
        import_services,
        "import_commit",
        lambda real: real(
            acting_user=import_world.n.users["office_manager"],
            batch=ImportBatch.objects.get(pk=batch.pk),
            mode="valid_rows",
        ),
    )
    response = client.post(
        reverse("registry:import_preview", args=[batch.pk]), {"mode": "all_or_nothing"}
    )
    assert response.status_code == 409
    assert shows_the_conflict(response)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTING and batch.mode == "valid_rows"
    assert (
        AuditLog.objects.filter(
            action="registry.import_commit_start", object_id=str(batch.pk)
        ).count()
        == 1
    )


def test_mapping_an_import_someone_just_mapped_is_a_conflict(client, import_world, monkeypatch):
    batch = import_world.uploaded
    client.force_login(import_world.n.users["facilitator"])
    columns = {f"col_{i}": v for i, v in batch.mapping.items()}
    first_the_colleague(
        monkeypatch,
        import_services,
        "import_set_mapping",
        lambda real: real(
            acting_user=import_world.n.users["office_manager"],
            batch=ImportBatch.objects.get(pk=batch.pk),
            mapping={int(i): v for i, v in batch.mapping.items()},
            save_as="قالب همکار",
        ),
    )
    response = client.post(
        reverse("registry:import_mapping", args=[batch.pk]), columns | {"save_as": "قالب من"}
    )
    assert response.status_code == 409
    assert shows_the_conflict(response)
    assert ColumnMapping.objects.filter(name="قالب همکار").exists()
    assert not ColumnMapping.objects.filter(name="قالب من").exists()
