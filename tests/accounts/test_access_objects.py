"""access_office / access_agency / access_area: the pages and the API answer
404 alike for a code that does not exist and for one outside the user's scope."""

import pytest
from django.http import Http404
from django.urls import reverse

from tashil.agencies.permissions import access_agency
from tashil.geo.permissions import access_area
from tashil.offices.permissions import access_office

KINDS = {
    "office": (access_office, "offices:detail", "/api/v1/offices/{}"),
    "agency": (access_agency, "agencies:detail", "/api/v1/agencies/{}"),
    "area": (access_area, "geo:detail", "/api/v1/areas/{}"),
}


def _objects(network, kind):
    return {
        "office": (network.office, network.other_office),
        "agency": (network.agency, network.other_agency),
        "area": (network.hood, network.other_hood),
    }[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_access_returns_the_visible_and_404s_the_rest(network, kind):
    access, _name, _api = KINDS[kind]
    mine, theirs = _objects(network, kind)
    user = network.users["province_manager"]
    assert access(user, mine.code) == mine
    for code in (theirs.code, "no-such-code"):
        with pytest.raises(Http404):
            access(user, code)
    with pytest.raises(Http404):
        access(network.users["no_role"], mine.code)


@pytest.mark.parametrize("kind", KINDS)
def test_pages_and_api_answer_404_alike(client, network, kind):
    _access, name, api = KINDS[kind]
    mine, theirs = _objects(network, kind)
    client.force_login(network.users["province_manager"])
    assert client.get(reverse(name, args=[mine.code])).status_code == 200
    assert client.get(reverse(name, args=[theirs.code])).status_code == 404
    assert client.get(reverse(name, args=["no-such-code"])).status_code == 404
    assert client.get(api.format(mine.code)).status_code == 200
    foreign, absent = client.get(api.format(theirs.code)), client.get(api.format("no-such-code"))
    assert foreign.status_code == absent.status_code == 404
    assert foreign.json() == absent.json()
