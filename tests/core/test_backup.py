"""`manage.py backup` and `manage.py restore`: back up, wipe, restore, and
find the same demands, households and files. Run in subprocesses against a
database of their own (a SQLite file, or a scratch PostgreSQL database when
the suite runs on PostgreSQL)."""

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command

from tests.deployment import clean_environ, manage, recreate_database, scratch_database

ADD_FILES = """
from django.core.files.base import ContentFile
from tashil.demands.models import Attachment, Demand
for i, demand in enumerate(Demand.objects.order_by("pk")[:3]):
    attachment = Attachment(demand=demand, kind="photo", content_type="image/jpeg", size=5)
    attachment.file.save(f"photo-{i}.jpg", ContentFile(f"photo {i} of {demand.pk}".encode()))
"""

SNAPSHOT = """
import hashlib, json
from pathlib import Path
from django.conf import settings
from tashil.demands.models import Attachment, Demand
from tashil.registry.models import Household, Person
media = Path(settings.MEDIA_ROOT)
print(json.dumps({
    "demands": list(Demand.objects.order_by("pk").values()),
    "households": list(Household.objects.order_by("pk").values()),
    "persons": list(Person.objects.order_by("pk").values()),
    "attachments": list(Attachment.objects.order_by("pk").values("pk", "demand_id", "file")),
    "files": {
        p.relative_to(media).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(media.rglob("*")) if p.is_file()
    } if media.exists() else {},
}, default=str, sort_keys=True))
"""


def snapshot(env) -> dict:
    return json.loads(manage("shell", "-c", SNAPSHOT, env=env).stdout.strip().splitlines()[-1])


def test_backup_wipe_restore_gives_back_the_same_data_and_files(tmp_path):
    var = tmp_path / "var"
    with scratch_database("backup") as database_url:
        env = clean_environ(
            TASHIL_VAR_DIR=var,
            TASHIL_MEDIA_ROOT=var / "media",
            DATABASE_URL=database_url or None,
        )
        manage("migrate", "--no-input", env=env)
        manage("seed_demo", "--skip-holidays", env=env)
        before = json.loads(
            manage("shell", "-c", ADD_FILES + SNAPSHOT, env=env).stdout.strip().splitlines()[-1]
        )
        assert before["demands"] and before["households"] and before["persons"]
        assert len(before["files"]) == 3
        assert sorted(a["file"] for a in before["attachments"]) == sorted(before["files"])

        backup_dir = tmp_path / "backups" / "first"
        out = manage("backup", str(backup_dir), env=env).stdout
        assert "3 file(s)" in out
        manifest = json.loads((backup_dir / "manifest.json").read_text())
        assert manifest["engine"] == ("postgresql" if database_url else "sqlite")
        # Nothing is left under a temporary name beside the backup.
        assert [p.name for p in backup_dir.parent.iterdir()] == ["first"]
        # A second backup into the same directory is refused.
        assert manage("backup", str(backup_dir), env=env, check=False).returncode != 0

        # Wipe: every row, every uploaded file; something new appears meanwhile.
        manage("flush", "--no-input", env=env)
        for path in sorted((var / "media").rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        (var / "media" / "stray.txt").write_text("written after the backup")
        wiped = snapshot(env)
        assert not wiped["demands"] and not wiped["households"]
        assert list(wiped["files"]) == ["stray.txt"]

        manage("restore", str(backup_dir), "--no-input", env=env)
        assert snapshot(env) == before

        # And into a database that is gone entirely.
        if database_url:
            recreate_database(database_url)
        else:
            for path in var.glob("tashil.sqlite3*"):
                path.unlink()
        manage("restore", str(backup_dir), "--no-input", env=env)
        assert snapshot(env) == before
        manage("migrate", "--check", env=env)


def _fake_backup(path, *, damaged: bool):
    path.mkdir()
    database, media = path / "database.sqlite3", path / "media.tar"
    database.write_bytes(b"not really a database")
    media.write_bytes(b"")
    parts = {
        p.name: {"size": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in (database, media)
    }
    if damaged:
        database.write_bytes(b"NOT really a database")  # same size, other bytes
    manifest = {"format": 1, "engine": "sqlite", "created_at": "2026-01-01", "parts": parts}
    (path / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.django_db
def test_a_damaged_backup_is_refused_before_anything_changes(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    (settings.MEDIA_ROOT / "kept.txt").write_text("still here")
    _fake_backup(tmp_path / "backup", damaged=True)
    with pytest.raises(CommandError, match="damaged"):
        call_command("restore", str(tmp_path / "backup"), "--no-input")
    assert (settings.MEDIA_ROOT / "kept.txt").read_text() == "still here"
    # No half-restored media directory is left behind either.
    assert {p.name for p in tmp_path.iterdir()} == {"backup", "media"}


def test_a_directory_that_is_not_a_backup_is_refused(tmp_path):
    with pytest.raises(CommandError, match="not a Tashil backup"):
        call_command("restore", str(tmp_path), "--no-input")


def test_restore_asks_before_replacing_everything(tmp_path, monkeypatch):
    _fake_backup(tmp_path / "backup", damaged=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="cancelled"):
        call_command("restore", str(tmp_path / "backup"))
