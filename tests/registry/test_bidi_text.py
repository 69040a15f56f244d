"""Names and notes typed into the registry or read from an import file are
stored without direction controls (U+202A-U+202E, U+2066-U+2069)."""

# The shared fixtures are imported by name, which pyflakes reads as a redefinition.
# ruff: noqa: F811

import pytest

from tashil.core.text import BIDI_CONTROLS
from tashil.registry.models import Household, Person

from .test_import_fixtures import code, english, imp, person  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.django_db

RLO, PDF, RLI, PDI = "\u202e", "\u202c", "\u2067", "\u2069"


def has_controls(*texts) -> bool:
    return any(c in text for text in texts for c in BIDI_CONTROLS)


def test_household_and_person_forms_store_no_direction_controls(reg):
    household = reg.make_household(address=f"کوچه {RLO}۱۲", note=f"{RLI}یادداشت{PDI}\nخط دوم")
    member = reg.make_person(household, first_name=f"{RLO}مریم", last_name=f"احمدی{PDF}")
    household.refresh_from_db()
    member.refresh_from_db()
    assert not has_controls(household.address, household.note)
    assert not has_controls(member.first_name, member.last_name)
    assert (member.first_name, member.last_name) == ("مریم", "احمدی")


def test_imported_names_store_no_direction_controls(imp):
    rows = [
        person(
            "H1",
            first=f"{RLO}زهرا{PDF}",
            last=f"{RLI}کریمی",
            national=code("100010000"),
            address=f"کوچه ۱۲{RLO}",
        )
    ]
    batch = imp.run(rows)
    assert batch.committed_rows == 1, batch.failure
    imported = Person.objects.get()
    assert (imported.first_name, imported.last_name) == ("زهرا", "کریمی")
    assert not has_controls(Household.objects.get().address)
