"""The demo registry: Zoviyeh households with their groups, loaded idempotently."""

import io

import pytest
from django.core.management import call_command

from tashil.registry import dedupe
from tashil.registry.models import Consent, Household, Membership, Person, VulnerabilityIndicator

pytestmark = pytest.mark.django_db


def seed():
    out = io.StringIO()
    call_command("seed_demo", "--skip-holidays", stdout=out, stderr=out)
    return out.getvalue()


def snapshot():
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Household, Person, Membership, Consent, VulnerabilityIndicator)
    }


def test_demo_registry_is_loaded_once_and_scored():
    seed()
    first = snapshot()
    output = seed()
    assert snapshot() == first
    assert "already up to date" in output
    households = {h.external_id: h for h in Household.objects.filter(office__code="khz-zoviyeh")}
    assert len(households) == 5
    assert VulnerabilityIndicator.objects.filter(province__code="khz").count() == 12
    groups = {
        eid: set(h.vulnerabilities.values_list("indicator__code", flat=True))
        for eid, h in households.items()
    }
    assert {"female_headed", "informal_dwelling"} <= groups["ZOV-0002"]
    assert {"elderly_alone", "member_disability"} <= groups["ZOV-0003"]
    assert {"undocumented_member", "unemployed_head", "child_labour_risk"} <= groups["ZOV-0004"]
    assert "large_household" in groups["ZOV-0005"]
    # Every demo national code passes the checksum and the planted duplicate is found.
    pairs = dedupe.duplicate_pairs(Household.objects.filter(office__code="khz-zoviyeh"))
    assert [(p.first.last_name, p.second.last_name) for p in pairs] == [("چعبی", "چعبی")]
    for code in Person.objects.exclude(national_code=None).values_list("national_code", flat=True):
        from tashil.core.validators import normalize_national_code

        assert normalize_national_code(code) == code
