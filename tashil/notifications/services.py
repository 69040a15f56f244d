"""Queue messages inside a write's transaction; deliver them after commit."""

import datetime as dt

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from .backends import DeliveryError, backend_for
from .models import Notification

MAX_ATTEMPTS = 3
# Wait before the second and third attempt, where the task backend can defer:
# an SMS gateway that is down is rarely back within seconds.
RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=10))


def notify(
    *, channel: str, recipient: str, body: str, subject: str = "", user=None, topic: str = ""
) -> Notification | None:
    """Record a message and schedule its delivery once the transaction commits."""
    if not recipient:
        return None
    notification = Notification.objects.create(
        channel=channel, recipient=recipient, body=body, subject=subject, user=user, topic=topic
    )
    transaction.on_commit(lambda: deliver.enqueue(notification.pk))
    return notification


def notify_user(*, user, body: str, subject: str = "", topic: str = "") -> list[Notification]:
    """SMS to the user's mobile when they have one, and email when they have one."""
    sent = []
    if user.mobile:
        sent.append(notify(channel="sms", recipient=user.mobile, body=body, user=user, topic=topic))
    if user.email:
        sent.append(
            notify(
                channel="email",
                recipient=user.email,
                body=body,
                subject=subject,
                user=user,
                topic=topic,
            )
        )
    return [n for n in sent if n]


@task()
def deliver(notification_id: int) -> str:
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status == Notification.Status.SENT:
            return "skipped"
        notification.attempts += 1
        try:
            notification.provider_id = backend_for(notification.channel).send(notification)[:100]
        except DeliveryError as exc:
            notification.error = str(exc)[:2000]
            if notification.attempts >= MAX_ATTEMPTS:
                notification.status = Notification.Status.FAILED
            else:
                attempts = notification.attempts
                transaction.on_commit(lambda: _retry(notification_id, attempts))
            notification.save(update_fields=["attempts", "error", "status"])
            return "failed" if notification.status == Notification.Status.FAILED else "retrying"
        notification.status = Notification.Status.SENT
        notification.sent_at = timezone.now()
        notification.save(update_fields=["attempts", "provider_id", "status", "sent_at"])
        return "sent"


def _retry(notification_id: int, attempts: int) -> None:
    task = deliver
    if deliver.get_backend().supports_defer:
        delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
        task = deliver.using(run_after=timezone.now() + delay)
    task.enqueue(notification_id)
