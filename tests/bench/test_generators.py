"""The benchmark data generators live outside the application."""

import csv
import re
from pathlib import Path

from django.core.management import call_command, get_commands

from bench.generators import registry_files

ROOT = Path(__file__).resolve().parents[2]


def test_the_application_does_not_import_the_generators():
    importing = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tashil").rglob("*.py")
        if re.search(r"^\s*(from|import)\s+bench\b", path.read_text(encoding="utf-8"), re.M)
    ]
    assert importing == []
    assert not {"generate_demands", "generate_registry_files"} & set(get_commands())


def test_registry_files_writes_the_import_layout(tmp_path):
    call_command(
        registry_files.Command(),
        persons=40,
        households=10,
        out=str(tmp_path),
        formats="csv",
        verbosity=0,
    )
    with open(tmp_path / "registry-40.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, persons = rows[0], rows[1:]
    assert len(persons) == 40
    assert len(header) == 30 and all(len(row) == 30 for row in persons)
