"""notify and the outbox: written in the caller's transaction, deduplicated, delivered once,
retried with back-off, and given up with a visible error."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from govgrid.notifications import services, tasks
from govgrid.notifications.models import (
    Channel,
    Event,
    Notification,
    NotificationTemplate,
    OutboxMessage,
    OutboxStatus,
)
from govgrid.notifications.services import (
    MAX_ATTEMPTS,
    notification_mark_read,
    notifications_mark_all_read,
    notify,
    outbox_deliver_due,
    outbox_retry,
    template_validate,
)
from govgrid.notifications.sms import TokenBucket
from tests.notifications.conftest import sms_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def handler(people):
    user = people["handler"]
    user.phone = "13800000001"
    user.email = "handler@example.gov.cn"
    user.save(update_fields=["phone", "email"])
    return user


def dispatched(incident, recipients, *, key="1", **kwargs) -> int:
    return notify(
        event=Event.DISPATCHED,
        recipients=recipients,
        incident=incident,
        context={"unit": "城管执法中队", "deadline": "2026-11-23 17:00"},
        dedupe_key=f"incident:{incident.pk}:dispatched:{key}",
        **kwargs,
    )


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def test_notify_writes_rendered_rows_in_the_callers_transaction_and_delivers_after_commit(
    templates, people, handler, incident, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        written = dispatched(incident, [handler, people["street"]])
        # Visible inside the transaction that caused them; nothing delivered yet.
        rows = {(m.channel, m.recipient_id): m for m in OutboxMessage.objects.all()}
    assert written == 3  # in-app for both, SMS only for the one with a phone
    assert set(rows) == {
        ("inapp", handler.pk),
        ("inapp", people["street"].pk),
        ("sms", handler.pk),
    }
    sms_row = rows[("sms", handler.pk)]
    assert sms_row.body == (
        f"【网格通】事件{incident.number}已派遣至城管执法中队，请于2026-11-23 17:00前签收。"
    )
    assert sms_row.recipient_phone == "13800000001"
    assert sms_row.dedupe_key == f"incident:{incident.pk}:dispatched:1:sms:{handler.pk}"
    inapp = rows[("inapp", handler.pk)]
    assert inapp.subject == f"事件{incident.number}已派遣"
    assert incident.grid.name in inapp.body
    assert inapp.link == reverse("dispatch:incident_detail", args=[incident.pk])
    assert all(m.status == OutboxStatus.PENDING for m in rows.values())
    assert not Notification.objects.exists()
    assert len(callbacks) == 1


def test_a_rolled_back_action_leaves_no_message_and_queues_nothing(
    templates, handler, incident, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        assert dispatched(incident, [handler]) == 2
        raise RuntimeError("the action failed after notify")
    assert not OutboxMessage.objects.exists()
    assert callbacks == []


def test_notify_twice_with_the_same_key_writes_once(templates, handler, people, incident):
    assert dispatched(incident, [handler, handler]) == 2
    assert dispatched(incident, [handler]) == 0
    assert OutboxMessage.objects.count() == 2
    # Another cause (a new dispatch) is another message; a new recipient only adds theirs.
    assert dispatched(incident, [handler, people["street"]]) == 1
    assert dispatched(incident, [handler], key="2") == 2


def test_delivery_after_commit_reaches_inbox_and_sms_file(
    templates, handler, incident, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dispatched(incident, [handler])
    notification = Notification.objects.get()
    assert notification.recipient == handler
    assert notification.title == f"事件{incident.number}已派遣"
    assert notification.incident == incident
    assert [line["phone"] for line in sms_lines(settings)] == ["13800000001"]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_a_broker_outage_is_logged_and_the_sweep_delivers_later(
    templates, handler, incident, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.outbox_deliver, "apply_async", broker_down)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        dispatched(incident, [handler])
    assert "periodic sweep" in caplog.text
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.PENDING}

    assert tasks.outbox_deliver() == 2  # what beat runs every minute
    assert Notification.objects.count() == 1
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_residents_get_sms_by_phone_and_users_without_phone_get_none(templates, people, incident):
    written = notify(
        event=Event.RATING_REQUEST,
        recipients=[people["worker"]],  # no phone
        incident=incident,
        context={"link": "https://wg.example.gov.cn/r/abc"},
        dedupe_key=f"incident:{incident.pk}:rating",
        channels=[Channel.SMS],
        phone="13900000002",
    )
    assert written == 1
    message = OutboxMessage.objects.get()
    assert message.recipient is None
    assert message.recipient_phone == "13900000002"
    assert "https://wg.example.gov.cn/r/abc" in message.body
    assert message.dedupe_key.endswith(":sms:13900000002")


def test_an_inactive_template_turns_its_channel_off(templates, handler, incident):
    NotificationTemplate.objects.filter(event=Event.DISPATCHED, channel=Channel.SMS).update(
        is_active=False
    )
    assert dispatched(incident, [handler]) == 1
    assert OutboxMessage.objects.get().channel == Channel.INAPP


def test_a_stored_template_with_an_unknown_placeholder_falls_back_to_the_default(
    templates, handler, incident, caplog
):
    # Written past the admin form (e.g. by SQL): the action must not fail, nor the message be lost.
    NotificationTemplate.objects.filter(event=Event.DISPATCHED, channel=Channel.INAPP).update(
        body="事件{number}，{oops}"
    )
    with caplog.at_level(logging.ERROR):
        assert dispatched(incident, [handler]) == 2
    assert "cannot be rendered" in caplog.text
    inapp = OutboxMessage.objects.get(channel=Channel.INAPP)
    assert inapp.body.startswith(f"事件{incident.number}（")
    assert "oops" not in inapp.body


def test_email_goes_through_djangos_mail_backend(templates, handler, incident):
    NotificationTemplate.objects.update_or_create(
        event=Event.CLOSED,
        channel=Channel.EMAIL,
        defaults={"subject": "事件{number}已结案", "body": "已结案。"},
    )
    notify(
        event=Event.CLOSED,
        recipients=[handler],
        incident=incident,
        context={},
        dedupe_key=f"incident:{incident.pk}:closed",
        channels=[Channel.EMAIL],
    )
    assert outbox_deliver_due() == 1
    assert [(m.subject, m.to) for m in mail.outbox] == [
        (f"事件{incident.number}已结案", ["handler@example.gov.cn"])
    ]


# --------------------------------------------------------------------------------------
# Delivering
# --------------------------------------------------------------------------------------


def test_inapp_is_delivered_exactly_once_however_often_the_sweep_runs(
    templates, handler, incident, settings
):
    dispatched(incident, [handler])
    assert outbox_deliver_due() == 2
    assert outbox_deliver_due() == 0
    assert tasks.outbox_deliver() == 0
    assert Notification.objects.filter(recipient=handler).count() == 1
    assert len(sms_lines(settings)) == 1
    for message in OutboxMessage.objects.all():
        assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
        assert message.sent_at is not None


def test_file_backend_appends_one_json_line_per_sms(templates, handler, incident, settings):
    dispatched(incident, [handler], channels=[Channel.SMS])
    dispatched(incident, [handler], channels=[Channel.SMS], key="2")
    outbox_deliver_due()
    lines = sms_lines(settings)
    assert [line["phone"] for line in lines] == ["13800000001", "13800000001"]
    assert lines[0]["text"].startswith("【网格通】事件")


def test_a_message_stuck_in_sending_is_delivered_once_after_its_claim_lapses(
    templates, handler, incident, settings
):
    dispatched(incident, [handler])
    t0 = timezone.now()
    # A worker claims both messages and dies before sending anything.
    assert len(services._claim(limit=10, now=t0)) == 2
    assert outbox_deliver_due(now=t0 + timedelta(minutes=5)) == 0
    assert outbox_deliver_due(now=t0 + timedelta(minutes=11)) == 2
    assert outbox_deliver_due(now=t0 + timedelta(minutes=30)) == 0
    assert Notification.objects.count() == 1
    assert len(sms_lines(settings)) == 1
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(OutboxStatus.SENT, 2)}


def test_a_late_worker_whose_claim_was_taken_over_does_not_deliver_again(
    templates, handler, incident
):
    dispatched(incident, [handler], channels=[Channel.INAPP])
    t0 = timezone.now()
    (slow,) = services._claim(limit=10, now=t0)
    assert outbox_deliver_due(now=t0 + timedelta(minutes=11)) == 1
    # The first worker wakes up and finishes its send: its claim (attempt 1) is gone.
    assert services._deliver_inapp(slow, t0 + timedelta(minutes=12)) is False
    assert Notification.objects.count() == 1


def test_http_gateway_success_sends_json_with_the_bearer_token(
    templates, handler, incident, gateway
):
    dispatched(incident, [handler], channels=[Channel.SMS])
    assert outbox_deliver_due() == 1
    (request,) = gateway.received
    assert request["authorization"] == "Bearer test-token"
    assert request["body"]["phone"] == "13800000001"
    assert request["body"]["text"].startswith("【网格通】事件")
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, "")


@pytest.mark.parametrize(
    ("failure", "error"),
    [("status", "HTTP 500"), ("timeout", "0.3"), ("refused", "could not be reached")],
)
def test_http_gateway_failures_are_retried_with_back_off_then_marked_failed(
    templates, handler, incident, gateway, settings, failure, error
):
    from django.utils import translation

    if failure == "status":
        gateway.status = 500
    elif failure == "timeout":
        gateway.delay = 1.0
    else:
        settings.SMS_HTTP_URL = "http://127.0.0.1:9/send"  # discard port: nothing listens
    dispatched(incident, [handler], channels=[Channel.SMS])
    message = OutboxMessage.objects.get()
    now = timezone.now()
    waits = []
    with translation.override("en"):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert outbox_deliver_due(now=now) == 1
            assert outbox_deliver_due(now=now) == 0  # not due again yet
            message.refresh_from_db()
            assert message.attempts == attempt
            assert error in message.last_error, message.last_error
            if message.status == OutboxStatus.FAILED:
                break
            assert message.status == OutboxStatus.PENDING
            waits.append(message.next_attempt_at - now)
            now = message.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64)]
    assert message.status == OutboxStatus.FAILED
    assert outbox_deliver_due(now=now + timedelta(days=1)) == 0  # given up: never sent again

    # The gateway is mended and an admin retries: it goes out once, attempts are kept.
    gateway.status, gateway.delay, settings.SMS_HTTP_URL = 200, 0.0, gateway.url
    assert outbox_retry(message_ids=[message.pk]) == 1
    assert outbox_deliver_due() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, MAX_ATTEMPTS + 1)
    assert gateway.received[-1]["body"]["phone"] == "13800000001"


def test_one_failing_sms_does_not_hold_back_the_others(templates, handler, incident, gateway):
    gateway.status = 503
    dispatched(incident, [handler])
    assert outbox_deliver_due() == 2
    statuses = dict(OutboxMessage.objects.values_list("channel", "status"))
    assert statuses == {Channel.INAPP: OutboxStatus.SENT, Channel.SMS: OutboxStatus.PENDING}


def test_token_bucket_spaces_out_sends_beyond_the_burst():
    clock = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        clock[0] += seconds

    bucket = TokenBucket(2.0, clock=lambda: clock[0], sleep=sleep)
    for _ in range(4):
        bucket.acquire()
    # A burst of two, then one every half second.
    assert slept == [0.5, 0.5]
    assert clock[0] == pytest.approx(1.0)


# --------------------------------------------------------------------------------------
# Templates and the inbox services
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("事件{number}{oops}", "{oops}"),
        ("事件{number", "not valid"),
        ("事件number}", "not valid"),
        ("{number.__class__}", "{number.__class__}"),
        ("{number!r}", "{number!r}"),
        ("{}", "{}"),
    ],
)
def test_template_validate_refuses_what_the_renderer_could_not_fill(text, fragment):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as caught:
        template_validate(text)
    assert fragment in caught.value.messages[0]


def test_template_validate_accepts_known_placeholders_and_literal_braces():
    template_validate("【网格通】事件{number}已派遣至{unit}，{{注意}}{deadline}")


def test_mark_read_is_for_the_recipient_only(templates, handler, people, incident):
    dispatched(incident, [handler, people["street"]], channels=[Channel.INAPP])
    outbox_deliver_due()
    mine = Notification.objects.get(recipient=handler)
    with pytest.raises(Notification.DoesNotExist):
        notification_mark_read(user=people["street"], notification_id=mine.pk)
    assert notification_mark_read(user=handler, notification_id=mine.pk).read_at is not None
    assert notifications_mark_all_read(user=handler) == 0
    assert notifications_mark_all_read(user=people["street"]) == 1
