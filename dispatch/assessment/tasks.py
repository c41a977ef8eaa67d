"""Assessment jobs: the draft of last month on the 1st, and any month on demand."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OperationalError,), max_retries=3)
def assessment_run_compute_task(run_id: int) -> None:
    """Compute a run waiting in “computing” (a no-op when it was computed already)."""
    services.assessment_run_compute(run_id=run_id)


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OperationalError,), max_retries=3)
def assessment_month_close_task() -> None:
    """1st of the month: last month's draft, unless the month has a run already."""
    services.assessment_month_close()


__all__ = ["assessment_month_close_task", "assessment_run_compute_task"]
