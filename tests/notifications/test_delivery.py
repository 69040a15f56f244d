"""Messages are recorded in the sender's transaction and delivered after it
commits, through the configured backend, with retries."""

import socket

import pytest
from django.core import mail
from django.db import transaction
from django.tasks import TaskResultStatus

from tashil.notifications import services
from tashil.notifications.backends import HttpSmsBackend, LogSmsBackend, backend_for
from tashil.notifications.models import Notification
from tashil.notifications.services import MAX_ATTEMPTS, deliver, notify, notify_user
from tests.factories import UserFactory

MOBILE = "+989121234567"


def send_one(django_capture_on_commit_callbacks, **kwargs):
    values = {
        "channel": "sms",
        "recipient": MOBILE,
        "body": "کد پیگیری شما: ACDE-FHJK",
        "topic": "demand:1",
    }
    values.update(kwargs)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            notification = notify(**values)
    notification.refresh_from_db()
    return notification


# --- the default backend ---------------------------------------------------------------------


@pytest.mark.django_db
def test_default_backend_records_and_marks_sent(django_capture_on_commit_callbacks):
    assert isinstance(backend_for("sms"), LogSmsBackend)
    notification = send_one(django_capture_on_commit_callbacks)
    assert notification.status == Notification.Status.SENT
    assert notification.attempts == 1
    assert notification.provider_id == "logged"
    assert notification.sent_at is not None
    assert notification.body == "کد پیگیری شما: ACDE-FHJK" and notification.topic == "demand:1"


@pytest.mark.django_db
def test_nothing_is_delivered_before_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = notify(channel="sms", recipient=MOBILE, body="متن")
    notification.refresh_from_db()
    assert len(callbacks) == 1
    assert notification.status == Notification.Status.QUEUED and notification.attempts == 0


@pytest.mark.django_db
def test_a_sent_message_is_not_sent_again(django_capture_on_commit_callbacks, gateway):
    notification = send_one(django_capture_on_commit_callbacks)
    result = deliver.enqueue(notification.pk)
    assert result.return_value == "skipped"
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert len(gateway.requests) == 1


@pytest.mark.django_db
def test_no_recipient_no_message():
    assert notify(channel="sms", recipient="", body="متن") is None
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_user_gets_sms_and_email_when_they_have_both(django_capture_on_commit_callbacks):
    both = UserFactory(mobile=MOBILE, email="maryam@example.org")
    sms_only = UserFactory(mobile="+989121110000", email="")
    neither = UserFactory(mobile="", email="")
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify_user(user=both, body="یادآوری ارجاع", subject="تسهیل", topic="referral:9")
        assert [n.channel for n in notify_user(user=sms_only, body="یادآوری")] == ["sms"]
        assert notify_user(user=neither, body="یادآوری") == []
    assert sorted(n.channel for n in sent) == ["email", "sms"]
    assert Notification.objects.filter(user=both, status=Notification.Status.SENT).count() == 2
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["maryam@example.org"]
    assert mail.outbox[0].subject == "تسهیل" and mail.outbox[0].body == "یادآوری ارجاع"


# --- the HTTP gateway ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_http_backend_posts_json_with_the_bearer_token(django_capture_on_commit_callbacks, gateway):
    assert isinstance(backend_for("sms"), HttpSmsBackend)
    notification = send_one(django_capture_on_commit_callbacks)

    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["path"] == "/sms/send"
    assert request["headers"]["Authorization"] == "Bearer gateway-token-123"
    assert request["headers"]["Content-Type"] == "application/json"
    assert gateway.json() == {
        "to": MOBILE,
        "text": "کد پیگیری شما: ACDE-FHJK",
        "sender": "300012345",
    }
    assert notification.status == Notification.Status.SENT
    assert notification.provider_id == "msg-1"
    assert notification.attempts == 1


@pytest.mark.django_db
def test_email_does_not_go_through_the_sms_gateway(django_capture_on_commit_callbacks, gateway):
    notification = send_one(
        django_capture_on_commit_callbacks,
        channel="email",
        recipient="a@example.org",
        subject="تسهیل",
    )
    assert notification.status == Notification.Status.SENT
    assert gateway.requests == []
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failing_gateway_is_retried_up_to_the_limit_then_failed(
    django_capture_on_commit_callbacks, gateway
):
    gateway.statuses = [503]
    notification = send_one(django_capture_on_commit_callbacks)
    assert len(gateway.requests) == MAX_ATTEMPTS == 3
    assert notification.status == Notification.Status.FAILED
    assert notification.attempts == MAX_ATTEMPTS
    assert "503" in notification.error
    assert notification.sent_at is None and notification.provider_id == ""
    # Every attempt sent the same message.
    assert all(gateway.json(i) == gateway.json(0) for i in range(3))


@pytest.mark.django_db
def test_a_gateway_that_recovers_delivers_on_a_later_attempt(
    django_capture_on_commit_callbacks, gateway
):
    gateway.statuses = [500, 502, 200]
    notification = send_one(django_capture_on_commit_callbacks)
    assert len(gateway.requests) == 3
    assert notification.status == Notification.Status.SENT
    assert notification.attempts == 3
    assert notification.provider_id == "msg-3"


@pytest.mark.django_db
def test_an_unreachable_gateway_is_a_failed_delivery(django_capture_on_commit_callbacks, settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SMS_BACKEND = "tashil.notifications.backends.HttpSmsBackend"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{port}/sms"
    notification = send_one(django_capture_on_commit_callbacks)
    assert notification.status == Notification.Status.FAILED
    assert notification.attempts == MAX_ATTEMPTS and notification.error


@pytest.mark.django_db
def test_a_gateway_that_does_not_answer_in_time_is_a_failed_attempt(
    django_capture_on_commit_callbacks, gateway, settings
):
    settings.SMS_HTTP_TIMEOUT = 0.2
    gateway.delay = 1
    gateway.statuses = [200]
    notification = send_one(django_capture_on_commit_callbacks)
    assert notification.status == Notification.Status.FAILED
    assert notification.attempts == MAX_ATTEMPTS


@pytest.mark.django_db
def test_a_missing_gateway_url_is_recorded_not_raised(django_capture_on_commit_callbacks, settings):
    settings.SMS_BACKEND = "tashil.notifications.backends.HttpSmsBackend"
    settings.SMS_HTTP_URL = ""
    notification = send_one(django_capture_on_commit_callbacks)
    assert notification.status == Notification.Status.FAILED and notification.error


@pytest.mark.django_db
def test_retries_wait_when_the_task_backend_can_defer(
    django_capture_on_commit_callbacks, gateway, settings
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    gateway.statuses = [503]
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(channel="sms", recipient=MOBILE, body="متن")
    backend = deliver.get_backend()
    assert [r.status for r in backend.results] == [TaskResultStatus.READY]
    # A worker runs the queued delivery; it fails and queues a deferred retry.
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver.call(notification.pk) == "retrying"
    assert len(backend.results) == 2
    retry = backend.results[1]
    assert retry.args == [notification.pk]
    assert retry.task.run_after is not None
    assert retry.task.run_after >= notification.created_at + services.RETRY_DELAYS[0]
    notification.refresh_from_db()
    assert notification.status == Notification.Status.QUEUED and notification.attempts == 1


# --- rolled-back writes send nothing ------------------------------------------------------------


@pytest.mark.django_db
def test_a_rolled_back_transaction_records_and_sends_nothing(
    django_capture_on_commit_callbacks, gateway
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                notify(channel="sms", recipient=MOBILE, body="ثبت شد")
                raise RuntimeError("the write failed after the message was queued")
    assert callbacks == []
    assert not Notification.objects.exists()
    assert gateway.requests == []


@pytest.mark.django_db(transaction=True)
def test_real_commit_and_rollback(gateway):
    """Without the test's wrapping transaction: commit delivers once, rollback never."""
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            notify(channel="sms", recipient=MOBILE, body="ثبت نشد")
            raise RuntimeError
    assert gateway.requests == []
    assert not Notification.objects.exists()

    with transaction.atomic():
        notify(channel="sms", recipient=MOBILE, body="ثبت شد")
        assert gateway.requests == []  # not before commit
    assert len(gateway.requests) == 1 and gateway.json()["text"] == "ثبت شد"
    assert Notification.objects.get().status == Notification.Status.SENT
