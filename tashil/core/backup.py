"""Backing up and restoring all of Tashil's state: the database and the
uploaded files (MEDIA_ROOT). `manage.py backup DIR` and `manage.py restore
DIR` use it; docs/operations.md says when and how.

A backup is a directory:

    manifest.json     what is in it: engine, time, file sizes and SHA-256
    database.sqlite3  SQLite: a copy made with SQLite's online backup API,
                      consistent while the application writes (WAL included)
    database.dump     PostgreSQL: pg_dump's custom format (-Fc)
    media.tar         every file under MEDIA_ROOT, paths relative to it

It is written under a temporary name beside DIR and renamed to DIR only when
complete, so DIR either is a whole backup or does not exist. A restore checks
every part against the manifest before it changes anything, replaces the
database in one transaction (SQLite's backup API into the live file;
pg_restore's script run by psql with --single-transaction after emptying the
schema), then swaps the restored media directory in by renaming."""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connections

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media.tar"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}


class BackupError(Exception):
    pass


def engine(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    return vendor


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pg_env(alias: str) -> tuple[dict, str]:
    """libpq's environment for the database of `alias`, and its name."""
    params = connections[alias].settings_dict
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
    ):
        if params.get(key):
            env[variable] = str(params[key])
    options = params.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = options["sslmode"]
    return env, params["NAME"]


def _run(command: list[str], **kwargs) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} is not installed: {exc}") from exc
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


# --- Backup ---------------------------------------------------------------------------------


def _dump_database(target: Path, alias: str) -> None:
    connection = connections[alias]
    if engine(alias) == "sqlite":
        connection.close()
        source = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=60)
        try:
            copy = sqlite3.connect(str(target))
            try:
                source.backup(copy)
                # A self-contained file, readable without -wal or -shm files
                # (even from read-only storage).
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
        finally:
            source.close()
    else:
        env, name = _pg_env(alias)
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "-f",
                str(target),
                name,
            ],
            env=env,
        )


def _pack_media(target: Path, media_root: Path) -> int:
    count = 0
    with tarfile.open(target, "w") as tar:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=path.relative_to(media_root).as_posix())
                    count += 1
    return count


def backup(destination: Path, *, alias: str = "default") -> dict:
    """Write a backup into `destination`, which must not exist yet. Returns
    the manifest."""
    destination = Path(destination).absolute()
    if destination.exists():
        raise BackupError(f"{destination} already exists; a backup goes into a new directory.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    vendor = engine(alias)
    partial = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        database = partial / DATABASE_FILES[vendor]
        _dump_database(database, alias)
        files = _pack_media(partial / MEDIA, Path(settings.MEDIA_ROOT))
        manifest = {
            "format": FORMAT,
            "engine": vendor,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "media_files": files,
            "parts": {
                part.name: {"size": part.stat().st_size, "sha256": _sha256(part)}
                for part in (database, partial / MEDIA)
            },
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        for part in partial.iterdir():
            _fsync(part)
        partial.chmod(0o700)
        os.rename(partial, destination)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


# --- Restore --------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict:
    """The manifest of the backup in `source`, once every part matches it."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} is not a Tashil backup: {exc}") from exc
    if manifest.get("format") != FORMAT or manifest.get("engine") not in DATABASE_FILES:
        raise BackupError(f"{source}: unknown backup format.")
    expected = {DATABASE_FILES[manifest["engine"]], MEDIA}
    if set(manifest.get("parts", {})) != expected:
        raise BackupError(f"{source}: the manifest does not list the expected parts.")
    for name, facts in manifest["parts"].items():
        path = source / name
        if not path.is_file() or path.stat().st_size != facts["size"]:
            raise BackupError(f"{source}: {name} is missing or incomplete.")
        if _sha256(path) != facts["sha256"]:
            raise BackupError(f"{source}: {name} is damaged (checksum mismatch).")
    return manifest


def _restore_sqlite(dump: Path, alias: str) -> None:
    connection = connections[alias]
    connection.close()
    # The backup API copies every page into the live file in one write
    # transaction: other connections see the old database or the new one.
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        live = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=60)
        try:
            source.backup(live)
        finally:
            live.close()
    finally:
        source.close()


def _restore_postgresql(dump: Path, alias: str) -> None:
    connections[alias].close()
    env, name = _pg_env(alias)
    script = Path(tempfile.mkstemp(suffix=".sql")[1])
    try:
        _run(
            ["pg_restore", "--no-owner", "--no-privileges", "-f", str(script), str(dump)],
            env=env,
        )
        # Emptying the schema first also drops tables the backup does not
        # have; the whole script is one transaction, so a failure changes nothing.
        _run(
            [
                "psql",
                "--no-psqlrc",
                "--quiet",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-c",
                "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;",
                "-f",
                str(script),
                "-d",
                name,
            ],
            env=env,
        )
    finally:
        script.unlink(missing_ok=True)


def _unpack_media(archive: Path, media_root: Path) -> Path:
    """Extract into a new directory beside MEDIA_ROOT and return it."""
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{media_root.name}.restoring.", dir=media_root.parent))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _swap_media(staging: Path, media_root: Path) -> None:
    old, mode = None, 0o755
    if media_root.exists():
        mode = media_root.stat().st_mode & 0o777
        old = Path(tempfile.mkdtemp(prefix=f".{media_root.name}.old.", dir=media_root.parent))
        old.rmdir()
        os.rename(media_root, old)
    staging.chmod(mode)  # mkdtemp made it private
    os.rename(staging, media_root)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def restore(source: Path, *, alias: str = "default") -> dict:
    """Replace the database and MEDIA_ROOT with the backup in `source`."""
    source = Path(source).absolute()
    manifest = read_manifest(source)
    vendor = engine(alias)
    if manifest["engine"] != vendor:
        raise BackupError(
            f"This backup is of a {manifest['engine']} database; the configured database is {vendor}."
        )
    media_root = Path(settings.MEDIA_ROOT).absolute()
    staging = _unpack_media(source / MEDIA, media_root)
    try:
        dump = source / DATABASE_FILES[vendor]
        if vendor == "sqlite":
            _restore_sqlite(dump, alias)
        else:
            _restore_postgresql(dump, alias)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_media(staging, media_root)
    return manifest
