"""Message delivery backends. SMS is the main channel in Iran, email is
secondary. Choose with settings.SMS_BACKEND / EMAIL via Django's own mail
settings.

A backend's `send(notification)` returns a provider id or raises
DeliveryError; it never touches the database."""

import http.client
import json
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string


class DeliveryError(Exception):
    pass


class LogSmsBackend:
    """The default: the message is only recorded (the Notification row is the
    log), which is what a demo or an intranet without an SMS gateway needs."""

    def send(self, notification) -> str:
        return "logged"


class HttpSmsBackend:
    """A JSON-over-HTTP SMS gateway, configured by settings:

    SMS_HTTP_URL, SMS_HTTP_TOKEN (sent as a bearer token), SMS_HTTP_SENDER.
    The body posted is {"to": "+98…", "text": "…", "sender": "…"}; the
    provider's "id" in the answer is kept."""

    def send(self, notification) -> str:
        payload = json.dumps(
            {
                "to": notification.recipient,
                "text": notification.body,
                "sender": settings.SMS_HTTP_SENDER,
            }
        ).encode()
        try:
            # Inside the try: a missing or malformed URL is a failed delivery
            # to record, not a crash of the delivery task.
            request = urllib.request.Request(
                settings.SMS_HTTP_URL,
                data=payload,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}",
                },
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=settings.SMS_HTTP_TIMEOUT) as response:
                answer = json.loads(response.read() or b"{}")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # OSError covers URLError/HTTPError, timeouts and a connection the
            # gateway drops while answering.
            raise DeliveryError(str(exc)) from exc
        return str(answer.get("id", "")) if isinstance(answer, dict) else ""


class DjangoEmailBackend:
    def send(self, notification) -> str:
        try:
            send_mail(
                notification.subject or "Tashil", notification.body, None, [notification.recipient]
            )
        except Exception as exc:  # noqa: BLE001 - any mail failure is a delivery failure
            raise DeliveryError(str(exc)) from exc
        return "email"


def backend_for(channel: str):
    path = (
        settings.SMS_BACKEND
        if channel == "sms"
        else "tashil.notifications.backends.DjangoEmailBackend"
    )
    return import_string(path)()
