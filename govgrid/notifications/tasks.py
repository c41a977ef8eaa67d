"""Outbox delivery: queued after each commit that wrote messages, and swept every minute
by beat (CELERY_BEAT_SCHEDULE in settings) for whatever an outage left pending."""

import time

from celery import shared_task

from govgrid.notifications import services

# A sweep stops after this long so one busy worker does not hog the queue; the next
# sweep (or the next commit) carries on.
SWEEP_SECONDS = 30


@shared_task(acks_late=True, ignore_result=True)
def outbox_deliver() -> int:
    """Deliver due outbox messages until none is due or SWEEP_SECONDS have passed.

    Safe to run twice or on several workers at once: each message is claimed by one.
    """
    started = time.monotonic()
    total = 0
    while time.monotonic() - started < SWEEP_SECONDS:
        done = services.outbox_deliver_due()
        total += done
        if not done:
            break
    return total
