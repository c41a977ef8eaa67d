"""A month computed by a real Celery worker (private Redis, tests/reliability's fixtures):
the request commits, the worker computes, and the progress the page polls moves to done."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dispatch.assessment.models import AssessmentResult, AssessmentRun, RunStatus
from dispatch.assessment.seed import seed_default
from dispatch.assessment.services import assessment_month_request
from tests.assessment.conftest import MonthBuilder
from tests.reliability import test_worker as reliability

# The real-worker fixtures of tests/reliability (a private redis-server, worker processes).
private_redis = reliability.private_redis
broker = reliability.broker
workers = reliability.workers
_seeded_data_back_after_the_last_flush = reliability._seeded_data_back_after_the_last_flush
wait_for = reliability.wait_for


@pytest.fixture(autouse=True)
def _celery_conf_back():
    """Give the Celery app its test configuration back afterwards (eager, the usual broker):
    the tests after this module must not send to the private Redis, which is gone by then."""
    from django.conf import settings

    from govgrid.celery import app

    original = {
        "broker_url": settings.CELERY_BROKER_URL,
        "result_backend": settings.CELERY_RESULT_BACKEND,
        "task_always_eager": settings.CELERY_TASK_ALWAYS_EAGER,
        "broker_connection_timeout": app.conf.broker_connection_timeout,
    }
    yield
    reliability._reset_producers(app)
    app.conf.update(original)


pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.worker,
]


def test_a_worker_computes_the_requested_month(city, people, workers, broker):
    seed_default()
    builder = MonthBuilder(city, people)
    builder.build_september()
    workers.start()
    workers.wait_ready(broker)
    run = assessment_month_request(
        month=date(2026, 9, 1),
        actor=people["admin"],
        now=datetime(2026, 11, 30, 12, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    # Queued after commit; this process only watches the row the page polls.
    seen = set()

    def done():
        fresh = AssessmentRun.objects.get(pk=run.pk)
        seen.add(fresh.progress)
        return fresh.status != RunStatus.COMPUTING

    wait_for(done, timeout=60, what="the worker to compute the month")
    run.refresh_from_db()
    assert run.status == RunStatus.DRAFT, workers.logs()
    assert run.progress == 100 and run.seconds is not None
    row = AssessmentResult.objects.get(
        run=run,
        scheme__name="承办单位“三率”考核",
        subject_key=f"unit:{builder.department.pk}",
    )
    assert row.score == Decimal("62.67")
