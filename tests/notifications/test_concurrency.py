"""Two workers sweeping the outbox at the same moment, against the real database.

Each thread has its own connection; claims skip rows another worker holds, so every
message is delivered once.
"""

import threading

import pytest
from django.db import connection

from govgrid.notifications import tasks
from govgrid.notifications.models import Channel, Event, Notification, OutboxMessage
from govgrid.notifications.services import notify, outbox_deliver_due
from tests.notifications.conftest import sms_lines

# serialized_rollback: the flush after a transactional test must give back the seeded
# categories, calendar and templates for the tests that run after it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 4


@pytest.fixture(scope="module", autouse=True)
def _seeded_data_back_after_the_last_flush(seeded_rows_back_after_flush):
    """The flush after this module's last transactional test must not leave it empty."""


def test_sweeps_on_several_workers_at_once_deliver_each_message_once(
    templates, people, incident, settings, monkeypatch
):
    # The workers were down while the messages were written: nothing was queued.
    monkeypatch.setattr(tasks.outbox_deliver, "apply_async", lambda **kwargs: None)
    handler = people["handler"]
    handler.phone = "13800000001"
    handler.save(update_fields=["phone"])
    recipients = [handler, people["street"], people["district"], people["station"]]
    for n in range(5):
        notify(
            event=Event.DISPATCHED,
            recipients=recipients,
            incident=incident,
            context={},
            dedupe_key=f"incident:{incident.pk}:dispatched:{n}",
            channels=[Channel.INAPP, Channel.SMS],
        )
    total = OutboxMessage.objects.count()
    assert total == 5 * 5  # four inboxes and one phone, five times

    barrier = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def sweep(i: int) -> None:
        try:
            barrier.wait(timeout=20)
            done = 0
            # Small batches so the workers really interleave.
            while n := outbox_deliver_due(limit=3):
                done += n
            outcomes[i] = done
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) == total
    assert Notification.objects.count() == 4 * 5
    for user in recipients:
        assert Notification.objects.filter(recipient=user).count() == 5
    assert len(sms_lines(settings)) == 5
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}
