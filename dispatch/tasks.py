"""Periodic dispatch jobs (declared in CELERY_BEAT_SCHEDULE in the settings)."""

from celery import shared_task
from django.db import OperationalError

from dispatch import services, warnings


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    max_retries=5,
    default_retry_delay=10,
)
def warnings_scan_task() -> int:
    """Record the warning colours and supervision cards due by now (dispatch.warnings).

    Safe to run twice, on several workers at once, or again after a worker died mid-scan:
    each change is claimed by one scan and recorded once.
    """
    return warnings.warnings_scan()


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    max_retries=5,
    default_retry_delay=60,
)
def rating_requests_send() -> int:
    """Ask reporters to rate cases closed the day before (回访 by SMS link); once per case."""
    return services.rating_requests_due()


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OperationalError,), max_retries=5)
def warnings_rebuild_task(category_ids: list[int] | None = None) -> int:
    """Recompute the next warning times after thresholds changed (dispatch.warnings)."""
    return warnings.warnings_rebuild(category_ids=category_ids)


# The monthly assessment's jobs (dispatch/assessment/tasks.py), found by the worker here.
from dispatch.assessment.tasks import *  # noqa: E402, F403
