import datetime as dt

import pytest

from tashil.core.models import Holiday


@pytest.fixture
def holiday(db):
    return Holiday.objects.create(
        date=dt.date(2027, 3, 10),
        original_date=dt.date(2027, 3, 10),
        name_fa="عید سعید فطر",
        name_en="Eid al-Fitr",
        is_estimated=True,
    )
