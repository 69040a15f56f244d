"""Production mode refuses to start half-configured and passes check --deploy."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

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
        timeout=120,
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


def test_the_rq_backend_brings_its_worker_command():
    result = _manage("help", "rqworker", TASHIL_TASKS_BACKEND="rq")
    assert result.returncode == 0, result.stderr


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
