"""Production mode refuses to start half-configured and passes check --deploy."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _manage(*args, **env):
    # The browser tests' async opt-out must not leak into a deployment check.
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TASHIL_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        # Only a guard against a hang: a busy machine (parallel workers) can take
        # minutes to run all migrations in a subprocess.
        timeout=600,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", TASHIL_ENV="production", TASHIL_ALLOWED_HOSTS="tashil.example.ir")
    assert result.returncode != 0
    assert "TASHIL_SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _manage("check", TASHIL_ENV="production", TASHIL_SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode != 0
    assert "TASHIL_ALLOWED_HOSTS" in result.stderr


def test_production_settings_pass_check_deploy():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        TASHIL_ENV="production",
        TASHIL_SECRET_KEY=secrets.token_urlsafe(50),
        TASHIL_ALLOWED_HOSTS="tashil.example.ir",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_email_goes_over_smtp_with_the_configured_server():
    result = _manage(
        "shell",
        "-c",
        "from django.core import mail; m = mail.mailers['default']; "
        "print(type(m).__name__, m.host, m.port, m.username, m.use_tls, m.use_ssl)",
        TASHIL_ENV="production",
        TASHIL_SECRET_KEY=secrets.token_urlsafe(50),
        TASHIL_ALLOWED_HOSTS="tashil.example.ir",
        TASHIL_EMAIL_HOST="smtp.example.ir",
        TASHIL_EMAIL_PORT="465",
        TASHIL_EMAIL_USER="tashil",
        TASHIL_EMAIL_PASSWORD="secret",
        TASHIL_EMAIL_SECURITY="ssl",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-6:] == [
        "EmailBackend",
        "smtp.example.ir",
        "465",
        "tashil",
        "False",
        "True",
    ]


def _redis_url() -> str | None:
    """A Redis database of its own for this test, or None when no server runs
    (a fresh developer machine has none; CI does)."""
    url = os.environ.get("TASHIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return None
    return url


def test_the_rq_backend_runs_tasks_in_its_worker(tmp_path):
    url = _redis_url()
    if url is None:
        pytest.skip(
            "no Redis server at " + os.environ.get("TASHIL_TEST_REDIS_URL", "127.0.0.1:6379")
        )
    import redis

    redis.Redis.from_url(url).flushdb()
    env = dict(
        TASHIL_TASKS_BACKEND="rq",
        REDIS_URL=url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert _manage("migrate", "--no-input", **env).returncode == 0
    task = "from tashil.demands.escalation import escalate_referrals_task as t; "
    queued = _manage("shell", "-c", task + "print(t.enqueue().id)", **env)
    assert queued.returncode == 0, queued.stderr
    job = queued.stdout.split()[-1]
    worker = _manage("rqworker", "--burst", "default", **env)
    assert worker.returncode == 0, worker.stderr
    done = _manage(
        "shell", "-c", task + f"r = t.get_result({job!r}); print(r.status, r.return_value)", **env
    )
    assert done.stdout.split()[-2:] == ["SUCCESSFUL", "0"], done.stdout + done.stderr


def test_the_demo_is_not_loaded_into_production_by_accident():
    result = _manage(
        "seed_demo",
        TASHIL_ENV="production",
        TASHIL_SECRET_KEY=secrets.token_urlsafe(50),
        TASHIL_ALLOWED_HOSTS="tashil.example.ir",
        DATABASE_URL="sqlite:///:memory:",
    )
    assert result.returncode != 0
    assert "--allow-production" in result.stderr
