"""The production build serves: collectstatic, migrate and gunicorn with
TASHIL_ENV=production, then the login page, a staff page and the public pages
over HTTP, as a TLS-terminating proxy in front of it would ask for them.

Production trusts `X-Forwarded-Proto: https` from its proxy
(SECURE_PROXY_SSL_HEADER) and redirects anything else to HTTPS; this test is
that proxy."""

import http.client
import json
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from types import SimpleNamespace
from urllib.parse import urlencode

import gunicorn
import pytest

from tests.deployment import ROOT, manage, production_environ, scratch_database

pytestmark = pytest.mark.production

DEMO_PASSWORD = "tashil-demo-1403"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProxyClient:
    """Talks to gunicorn as the TLS proxy does, and keeps cookies as a
    browser would (recording their attributes for the assertions)."""

    def __init__(self, port: int):
        self.port = port
        self.host = f"127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}
        self.set_cookies: dict[str, str] = {}

    def request(self, method, path, *, body=None, headers=None, https=True):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        all_headers = {"Host": self.host}
        if https:
            all_headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        response.content = response.read()
        conn.close()
        for raw in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(raw)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
                self.set_cookies[name] = raw
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post_form(self, path, data):
        origin = f"https://{self.host}"
        return self.request(
            "POST",
            path,
            body=urlencode(data),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": origin,
                "Referer": origin + path,
            },
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("production")
    with scratch_database("prod") as database_url:
        env = production_environ(var_dir, database_url)
        # check --deploy is tests/test_settings.py's; these two are independent.
        with ThreadPoolExecutor(2) as pool:
            for step in [
                pool.submit(manage, "collectstatic", "--no-input", env=env),
                pool.submit(manage, "migrate", "--no-input", env=env),
            ]:
                step.result()
        manage("seed_demo", "--allow-production", "--skip-holidays", env=env)
        port = _free_port()
        log = open(var_dir / "gunicorn.log", "wb")
        command = [sys.executable, "-m", "gunicorn", "tashil.wsgi", "-w", "1"]
        command += ["-b", f"127.0.0.1:{port}"]
        if gunicorn.version_info >= (27,):
            # Not the control socket in the home directory every gunicorn shares.
            command.append("--no-control-socket")
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if ProxyClient(port).get("/healthz").status == 200:
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "gunicorn did not start:\n" + (var_dir / "gunicorn.log").read_text()
                    )
                time.sleep(0.2)
            yield SimpleNamespace(port=port, env=env)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def _assert_production_headers(response):
    headers = response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_plain_http_is_redirected_to_https(server):
    response = ProxyClient(server.port).get("/accounts/login/", https=False)
    assert response.status == 301
    assert response.headers["Location"].startswith("https://")


def test_login_page_serves_with_hashed_static_files(server):
    client = ProxyClient(server.port)
    response = client.get("/accounts/login/")
    assert response.status == 200, response.content[:2000]
    _assert_production_headers(response)
    html = response.content.decode()
    # The manifest storage names every static file by its content hash.
    css = re.search(r'href="(/static/tashil/css/tashil\.[0-9a-f]{12}\.css)"', html)
    assert css, html[:3000]
    assert 'href="/static/tashil/css/tashil.css"' not in html
    static = client.get(css.group(1))
    assert static.status == 200
    assert b"font-face" in static.content
    assert "immutable" in static.headers["Cache-Control"]
    vendor = re.search(
        r'src="(/static/vendor/bootstrap/bootstrap\.bundle\.min\.[0-9a-f]{12}\.js)"', html
    )
    assert vendor and client.get(vendor.group(1)).status == 200
    # The CSRF cookie is only ever sent back over HTTPS.
    assert "secure" in client.set_cookies["csrftoken"].lower()


def test_staff_page_after_logging_in(server):
    client = ProxyClient(server.port)
    page = client.get("/accounts/login/")
    assert page.status == 200
    # Post the form as it is on the page (its hidden fields and the CSRF
    # token included), with the credentials in its username and password fields.
    data = {}
    for field in re.finditer(r"<input\b[^>]*>", page.content.decode()):
        name = re.search(r'\bname="([^"]+)"', field.group(0))
        value = re.search(r'\bvalue="([^"]*)"', field.group(0))
        if name:
            data[name.group(1)] = value.group(1) if value else ""
    for name in data:
        if name.endswith("username"):
            data[name] = "zoviyeh"
        elif name.endswith("password"):
            data[name] = DEMO_PASSWORD
    assert "zoviyeh" in data.values() and data.get("csrfmiddlewaretoken"), data
    response = client.post_form("/accounts/login/", data)
    assert response.status == 302, response.content[:3000]
    session_cookie = client.set_cookies["sessionid"].lower()
    assert "secure" in session_cookie and "httponly" in session_cookie

    response = client.get("/demands/")
    assert response.status == 200, response.content[:3000]
    _assert_production_headers(response)
    assert "no-store" in response.headers["Cache-Control"]
    assert "logout" in response.content.decode()


def test_public_pages(server):
    client = ProxyClient(server.port)
    for path in ("/submit", "/board"):
        response = client.get(path)
        assert response.status == 200, (path, response.content[:3000])
        _assert_production_headers(response)


def test_two_schedulers_enqueue_each_job_once_per_period(server):
    """Two `manage.py scheduler` processes at once, as beside two workers."""
    command = [sys.executable, "manage.py", "scheduler", "--once"]
    procs = [
        subprocess.Popen(command, cwd=ROOT, env=server.env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), outputs
    enqueued = [
        name.strip()
        for output in outputs
        for name in output.split("enqueued:", 1)[1].split(",")
        if name.strip() and name.strip() != "nothing due"
    ]
    counts = manage(
        "shell",
        "-c",
        "import json; from tashil.core.models import ScheduledRun; "
        "from django_tasks_db.models import DBTaskResult; "
        "from django.conf import settings; "
        "paths = [job['task'] for job in settings.SCHEDULED_JOBS.values()]; "
        "print(json.dumps([list(ScheduledRun.objects.values_list('job', 'period_start')"
        ".order_by('job', 'period_start')), "
        "DBTaskResult.objects.filter(task_path__in=paths).count()], default=str))",
        env=server.env,
    )
    runs, queued = json.loads(counts.stdout.strip().splitlines()[-1])
    jobs = [job for job, _start in runs]
    assert {"escalate_referrals", "remove_old_exports", "remove_old_import_files"} <= set(jobs)
    # One run per job and period, one queued task per run, whoever enqueued it.
    assert len(runs) == len({tuple(run) for run in runs}) == len(enqueued) == queued


def test_the_scheduler_runs_until_it_is_stopped(server):
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "scheduler", "--interval", "1"],
        cwd=ROOT,
        env=server.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = iter(proc.stdout.readline, "")
        started = next((line for line in lines if line.startswith("scheduler started")), "")
        assert "escalate_referrals every 0:10:00" in started, started
    finally:
        proc.terminate()
    output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output
    assert "scheduler stopped" in output
