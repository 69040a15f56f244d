"""Background tasks of the import: reading the upload, checking (the
preview), committing and rolling back. Each takes the batch's id and is safe to run twice."""

import logging

from django.contrib.auth import get_user_model
from django.tasks import task

from . import engine

logger = logging.getLogger(__name__)


@task()
def inspect_import(batch_id: int) -> str:
    from .services import inspect_batch

    try:
        return inspect_batch(batch_id)
    except engine.BatchBusy:
        return "busy"


@task()
def check_import(batch_id: int) -> str:
    return engine.check_batch(batch_id)


@task()
def commit_import(batch_id: int) -> str:
    try:
        outcome = engine.commit_batch(batch_id)
    except engine.BatchBusy:
        return "busy"
    if outcome is None:
        return "skipped"
    return "failed" if outcome.failed else "committed"


@task()
def rollback_import(batch_id: int, actor_id: int | None = None) -> str:
    from .services import rollback_batch

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        return rollback_batch(batch_id, actor=actor)
    except engine.BatchBusy:
        return "busy"
