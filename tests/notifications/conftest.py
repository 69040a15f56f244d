import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.demands.conftest import demand_setup, submit  # noqa: F401  (shared fixtures)


class Gateway:
    """A real SMS gateway stand-in on 127.0.0.1: records what it is sent and
    answers with the statuses it is told to, in order (the last one repeats)."""

    def __init__(self):
        self.requests = []
        self.statuses = [200]
        self.delay = 0.0
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with gateway._lock:
                    gateway.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    index = len(gateway.requests) - 1
                    status = gateway.statuses[min(index, len(gateway.statuses) - 1)]
                if gateway.delay:
                    threading.Event().wait(gateway.delay)
                answer = json.dumps(
                    {"id": f"msg-{index + 1}"} if status == 200 else {"error": "unavailable"}
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(answer.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting, as a timed-out sender does

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def json(self, index=0):
        return json.loads(self.requests[index]["body"])


@pytest.fixture
def gateway(settings):
    """The HTTP SMS backend, configured through settings, pointed at a local gateway."""
    gw = Gateway()
    gw.thread.start()
    settings.SMS_BACKEND = "tashil.notifications.backends.HttpSmsBackend"
    settings.SMS_HTTP_URL = gw.url
    settings.SMS_HTTP_TOKEN = "gateway-token-123"
    settings.SMS_HTTP_SENDER = "300012345"
    settings.SMS_HTTP_TIMEOUT = 5
    yield gw
    gw.server.shutdown()
    gw.server.server_close()
