"""A command-line import killed (SIGKILL) part-way, then run again: only
whole chunks were written, the second run resumes the same batch after the
last committed chunk, and the end result has every row once.

The import runs in a real subprocess against a real database: on PostgreSQL
the test database itself (the test is transactional, so both processes see
the same committed rows); on SQLite a database file of its own, since the
test database is in memory and a second process cannot open it."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from .test_import_fixtures import family, write_csv

ROOT = Path(__file__).resolve().parents[2]
HOUSEHOLDS = 400
MEMBERS = 4
CHUNK = 20
TIMEOUT = 300


def _run(args, env, **kw):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kw,
    )


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TASHIL_VAR_DIR")}
    env.update(TASHIL_TASKS_BACKEND="immediate", TASHIL_LOG_LEVEL="ERROR", **extra)
    return env


def _kill_after_first_chunk(env, path, office, count_chunks):
    proc = _run(
        ["import_households", str(path), "--office", office, "--chunk-size", str(CHUNK)], env
    )
    deadline = time.monotonic() + TIMEOUT
    try:
        while count_chunks() < 1:
            if proc.poll() is not None:
                pytest.fail(f"the import ended before it could be killed:\n{proc.stdout.read()}")
            if time.monotonic() > deadline:
                pytest.fail("no chunk was committed in time")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        # Reaped, so the lease's owner is seen as gone.
        proc.wait()
    return proc.returncode


def _finish(env, path, office):
    proc = _run(
        ["import_households", str(path), "--office", office, "--chunk-size", str(CHUNK)], env
    )
    out, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, out
    return out


def _check(query, killed_at):
    """The same checks whichever database: `query(sql)` returns rows."""
    persons = HOUSEHOLDS * MEMBERS
    # After the kill: whole chunks only, and nothing beyond them.
    assert killed_at["persons"] == killed_at["chunk_rows"]
    assert killed_at["persons"] < persons
    assert killed_at["memberships"] == killed_at["persons"]
    # After the second run: every row exactly once.
    assert query("SELECT COUNT(*) FROM registry_person")[0][0] == persons
    assert query("SELECT COUNT(DISTINCT national_code) FROM registry_person")[0][0] == persons
    assert query("SELECT COUNT(*) FROM registry_household")[0][0] == HOUSEHOLDS
    assert query("SELECT COUNT(*) FROM registry_membership WHERE left_on IS NULL")[0][0] == persons
    assert (
        query("SELECT COUNT(*) FROM registry_membership WHERE relation = 'head'")[0][0]
        == HOUSEHOLDS
    )
    batches = query("SELECT id, status, committed_rows FROM registry_importbatch")
    assert len(batches) == 1 and batches[0][1] == "committed" and batches[0][2] == persons
    chunks = query(
        'SELECT index_, first_row, last_row, rows FROM (SELECT "index" AS index_, first_row, '
        "last_row, rows FROM registry_importchunk) c ORDER BY index_"
    )
    assert [c[0] for c in chunks] == list(range(len(chunks)))
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after[1] == before[2] + 1
    assert sum(c[3] for c in chunks) == persons


@pytest.mark.django_db(transaction=True)
def test_killed_import_resumes_without_duplicates_on_postgresql(tmp_path, network):
    if connection.vendor != "postgresql":
        pytest.skip("runs against PostgreSQL; the SQLite variant is the test below")
    s = connection.settings_dict
    url = f"postgres://{s['USER']}:{s.get('PASSWORD') or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = _env(DATABASE_URL=url, TASHIL_VAR_DIR=str(tmp_path / "var"))
    path = write_csv(tmp_path / "big.csv", family(HOUSEHOLDS, members=MEMBERS))
    office = network.office.code

    def query(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    _kill_after_first_chunk(
        env, path, office, lambda: query("SELECT COUNT(*) FROM registry_importchunk")[0][0]
    )
    killed_at = {
        "persons": query("SELECT COUNT(*) FROM registry_person")[0][0],
        "chunk_rows": query("SELECT COALESCE(SUM(rows), 0) FROM registry_importchunk")[0][0],
        "memberships": query("SELECT COUNT(*) FROM registry_membership")[0][0],
    }
    assert query("SELECT status FROM registry_importbatch")[0][0] == "committing"
    out = _finish(env, path, office)
    assert "Resuming import" in out
    _check(query, killed_at)


SETUP = """
from tests.factories import OfficeFactory, area_chain
province, county, city, hood = area_chain()
office = OfficeFactory(province=province, county=county, code="kill-test")
office.areas.add(hood)
"""


def test_killed_import_resumes_without_duplicates_on_sqlite(tmp_path):
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the suite runs on PostgreSQL; the PostgreSQL variant covers it")
    var = tmp_path / "var"
    env = _env(TASHIL_VAR_DIR=str(var))
    for args in (["migrate", "-v0"], ["shell", "-c", SETUP]):
        proc = _run(args, env)
        out, _ = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, out
    path = write_csv(tmp_path / "big.csv", family(HOUSEHOLDS, members=MEMBERS))
    db = var / "tashil.sqlite3"

    def query(sql):
        with sqlite3.connect(db, timeout=30) as con:
            return con.execute(sql).fetchall()

    _kill_after_first_chunk(
        env, path, "kill-test", lambda: query("SELECT COUNT(*) FROM registry_importchunk")[0][0]
    )
    killed_at = {
        "persons": query("SELECT COUNT(*) FROM registry_person")[0][0],
        "chunk_rows": query("SELECT COALESCE(SUM(rows), 0) FROM registry_importchunk")[0][0],
        "memberships": query("SELECT COUNT(*) FROM registry_membership")[0][0],
    }
    out = _finish(env, path, "kill-test")
    assert "Resuming import" in out
    _check(query, killed_at)
