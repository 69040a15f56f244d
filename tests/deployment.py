"""Helpers for the tests that run Tashil as it is deployed: `manage.py` in a
subprocess with production settings, against a database of their own.

With DATABASE_URL pointing at PostgreSQL, `scratch_database` creates a
throwaway database on the same server (never the one pytest-django uses) and
drops it afterwards; without it the database is a SQLite file in the test's
temporary directory."""

import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else ""


@contextmanager
def scratch_database(label: str):
    """Yields a DATABASE_URL for a new, empty PostgreSQL database, or "" for
    SQLite when the suite runs on SQLite."""
    base = postgres_url()
    if not base:
        yield ""
        return
    import psycopg

    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'tashil'}_{label}_{secrets.token_hex(4)}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clean_environ(**env) -> dict:
    """The test process's environment without Tashil's own settings (and the
    browser tests' async opt-out), plus `env`."""
    full = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TASHIL_")
        and k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    full.update({k: str(v) for k, v in env.items() if v is not None})
    return full


def production_environ(var_dir: Path, database_url: str = "", **extra) -> dict:
    env = {
        "TASHIL_ENV": "production",
        "TASHIL_SECRET_KEY": secrets.token_urlsafe(50),
        "TASHIL_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TASHIL_VAR_DIR": var_dir,
        "TASHIL_STATIC_ROOT": var_dir / "static",
        "TASHIL_MEDIA_ROOT": var_dir / "media",
        "TASHIL_TASKS_BACKEND": "db",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return clean_environ(**env)


def manage(*args, env: dict, timeout: int = 180, check: bool = True):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def recreate_database(url: str) -> None:
    """Drop the PostgreSQL database of `url` and create it again, empty."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
