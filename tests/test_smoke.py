import pytest


@pytest.mark.django_db
def test_healthz_is_public_and_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_network_fixture_scopes(network):
    from tashil.offices.models import Office

    pm = network.users["province_manager"]
    assert list(Office.objects.visible_to(pm)) == [network.office]
    assert Office.objects.visible_to(network.users["no_role"]).count() == 0
