"""Telling people: one `notify` for every event, an outbox, and its delivery.

`notify` renders the admin-edited templates and writes one `OutboxMessage` per recipient and
channel in the caller's transaction, so a notification exists exactly when the action that
caused it committed. After commit a Celery task delivers it; when Redis or the workers are
down, the beat sweep (every minute) delivers whatever is pending once they are back.
Duplicates are stopped by the unique `dedupe_key`, in-app delivery by a row lock and the
unique link from the inbox row to its outbox message.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from govgrid.notifications import sms, tasks
from govgrid.notifications.models import (
    Channel,
    Notification,
    NotificationTemplate,
    OutboxMessage,
    OutboxStatus,
)
from govgrid.notifications.template_seed import DEFAULT_TEMPLATES

logger = logging.getLogger(__name__)

# Placeholders every template may use, whatever the event; a caller's context adds more.
KNOWN_PLACEHOLDERS = frozenset(
    {"number", "category", "grid", "unit", "deadline", "level", "link", "note"}
)
# A claimed message is someone's for this long; after it, a message whose worker died
# mid-send is claimed again.
CLAIM_LEASE = timedelta(minutes=10)
# Attempts before a message is given up (status failed); waits 1, 2, 4 … 64 minutes between.
MAX_ATTEMPTS = 8


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------


def _field_text(name: str, spec: str | None, conversion: str | None) -> str:
    return (
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    )


def _fields(text: str) -> list[str]:
    """The placeholder names in `text`.

    Raises ValueError on bad brace syntax or on anything but a plain `{name}` (attribute or
    index access, conversions and format specs are refused: templates are edited in the
    admin and must not reach into the objects they are filled with).
    """
    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(_field_text(name, spec, conversion))
        names.append(name)
    return names


def template_validate(body: str, *, allowed: Iterable[str] = KNOWN_PLACEHOLDERS) -> None:
    """Refuse a template (subject or body) the renderer could not fill.

    Placeholders are plain `{name}` fields from `allowed`; a literal brace is written `{{`
    or `}}`. Raises ValidationError naming the offending placeholder.
    """
    allowed = frozenset(allowed)
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise ValidationError(
            _("The template is not valid (%(detail)s). Write a literal brace as {{ or }}.")
            % {"detail": exc},
            code="template_syntax",
        ) from exc
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValidationError(
                _("Write placeholders as a plain {name}: %(field)s is not allowed.")
                % {"field": _field_text(name, spec, conversion)},
                code="template_syntax",
            )
        names.append(name)
    unknown = sorted({n for n in names if n not in allowed})
    if unknown:
        raise ValidationError(
            _("Unknown placeholder %(unknown)s. Use only: %(known)s.")
            % {
                "unknown": ", ".join("{%s}" % n for n in unknown),
                "known": ", ".join("{%s}" % n for n in sorted(allowed)),
            },
            code="template_placeholder",
        )


def _render(text: str, values: dict[str, str]) -> str:
    _fields(text)  # no attribute or index access, whatever is stored
    return text.format_map(values)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _incident_values(incident) -> dict[str, str]:
    if incident is None:
        return {}
    values = {
        "number": incident.number,
        "link": reverse("dispatch:incident_detail", args=[incident.pk]),
    }
    # Only what the caller already loaded or a cheap FK read; the caller's context wins.
    if incident.category_id:
        values["category"] = incident.category.name
    if incident.grid_id:
        values["grid"] = incident.grid.name
    if incident.lead_unit_id:
        values["unit"] = incident.lead_unit.name
    if incident.deadline_at:
        values["deadline"] = _text(incident.deadline_at)
    return values


def _render_message(
    template: NotificationTemplate | None, event: str, channel: str, values: dict[str, str]
) -> tuple[str, str] | None:
    """(subject, body) for one channel, or None when nothing is to be sent on it.

    A stored template that cannot be rendered (edited outside the admin form, or naming a
    placeholder this event does not supply) must not lose the message nor break the
    caller's action: it is logged and the built-in default is sent instead.
    """
    if template is not None and not template.is_active:
        return None
    default = DEFAULT_TEMPLATES.get((event, channel))
    if template is not None:
        try:
            return _render(template.subject, values), _render(template.body, values)
        except (KeyError, ValueError, IndexError, AttributeError) as exc:
            logger.error(
                "Notification template %s/%s (id %s) cannot be rendered (%r); "
                "sending the default text instead.",
                event,
                channel,
                template.pk,
                exc,
            )
    if default is None:
        return None
    try:
        return _render(default[0], values), _render(default[1], values)
    except (KeyError, ValueError, IndexError, AttributeError) as exc:
        logger.error("Default template %s/%s cannot be rendered: %r", event, channel, exc)
        return None


# --------------------------------------------------------------------------------------
# Writing the outbox
# --------------------------------------------------------------------------------------


def _enqueue_delivery() -> None:
    """Ask a worker to deliver now. If the broker is down, say so and carry on: the rows
    are committed and the beat sweep delivers them once it is back."""
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    try:
        # retry=False: fail fast instead of holding the request while kombu retries.
        tasks.outbox_deliver.apply_async(retry=False)
    except (KombuOperationalError, RedisConnectionError, ConnectionError) as exc:
        logger.warning("Could not queue outbox delivery (%s); the periodic sweep will.", exc)


def notify(
    *,
    event: str,
    recipients: Iterable[Any],
    incident=None,
    context: dict[str, Any],
    dedupe_key: str,
    channels: Iterable[str] = (Channel.INAPP, Channel.SMS),
    phone: str = "",
    email: str = "",
) -> int:
    """Write the messages for `event` to the outbox, in the caller's transaction.

    One row per recipient and channel (users in `recipients`; a resident by `phone` for
    SMS or `email` for e-mail), rendered from the active template of each channel. Users
    without a phone get no SMS, without an address no e-mail. `dedupe_key` names the cause
    (e.g. "incident:12:dispatched:345"): calling again with the same key writes nothing
    new. Delivery is queued after commit. Returns the number of rows written.

    number, category, grid, unit (the lead unit), deadline and link are filled from
    `incident` unless `context` gives them: pass it with category, grid and lead_unit
    selected when notifying in a loop.
    """
    channels = list(dict.fromkeys(channels))
    templates = {
        t.channel: t for t in NotificationTemplate.objects.filter(event=event, channel__in=channels)
    }
    values = dict.fromkeys(KNOWN_PLACEHOLDERS, "")
    values.update(_incident_values(incident))
    values.update({k: _text(v) for k, v in context.items()})
    link = values["link"]

    users = list({u.pk: u for u in recipients}.values())
    rows: dict[str, OutboxMessage] = {}
    for channel in channels:
        rendered = _render_message(templates.get(channel), event, channel, values)
        if rendered is None:
            continue
        subject, body = rendered
        targets: list[tuple[Any, str, str]] = []  # (user, phone, email)
        if channel == Channel.INAPP:
            targets = [(u, "", "") for u in users]
        elif channel == Channel.SMS:
            targets = [(u, u.phone, "") for u in users if u.phone]
            if phone:
                targets.append((None, phone, ""))
        elif channel == Channel.EMAIL:
            targets = [(u, "", u.email) for u in users if u.email]
            if email:
                targets.append((None, "", email))
        for user, to_phone, to_email in targets:
            who = user.pk if user is not None else (to_phone or to_email)
            key = f"{dedupe_key}:{channel}:{who}"[:255]
            rows[key] = OutboxMessage(
                event=event,
                channel=channel,
                recipient=user,
                recipient_phone=to_phone,
                recipient_email=to_email,
                incident=incident,
                subject=subject[:200],
                body=body,
                link=link[:500],
                dedupe_key=key,
            )
    if not rows:
        return 0
    existing = set(
        OutboxMessage.objects.filter(dedupe_key__in=list(rows)).values_list("dedupe_key", flat=True)
    )
    new = [m for k, m in rows.items() if k not in existing]
    if not new:
        return 0
    # ignore_conflicts: a concurrent caller with the same key loses quietly, not with an
    # IntegrityError that would roll back its action (the count returned may then include
    # the rows it lost).
    OutboxMessage.objects.bulk_create(new, ignore_conflicts=True)
    transaction.on_commit(_enqueue_delivery)
    return len(new)


@transaction.atomic
def outbox_retry(*, message_ids: Iterable[int], now: datetime | None = None) -> int:
    """Put failed messages back in the queue now (the admin's "retry now").

    Keeps their attempt count, so each retry is one more attempt. Queues delivery after
    commit. Returns how many were requeued.
    """
    now = now or timezone.now()
    count = OutboxMessage.objects.filter(pk__in=message_ids, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.PENDING, next_attempt_at=now
    )
    if count:
        transaction.on_commit(_enqueue_delivery)
    return count


# --------------------------------------------------------------------------------------
# Delivering the outbox
# --------------------------------------------------------------------------------------


def _claim(*, limit: int, now: datetime) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this worker, in one short transaction.

    skip_locked: two workers sweeping at once take different rows instead of waiting for
    each other. A claim is a lease (next_attempt_at moves CLAIM_LEASE ahead), so rows
    claimed by a worker that died are due again once it lapses.
    """
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(
                status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING],
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at", "pk")[:limit]
        )
        if not messages:
            return []
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
            status=OutboxStatus.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=now + CLAIM_LEASE,
        )
    for m in messages:
        m.status = OutboxStatus.SENDING
        m.attempts += 1
        m.next_attempt_at = now + CLAIM_LEASE
    return messages


def _ours(message: OutboxMessage):
    """The message's row if this worker's claim still holds (its attempt number is the
    fencing token: a later claim by another worker has raised it)."""
    return OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, attempts=message.attempts
    )


def _deliver_inapp(message: OutboxMessage, now: datetime) -> bool:
    # The inbox row and "sent" commit together under the message's row lock: exactly once.
    with transaction.atomic():
        if _ours(message).select_for_update().first() is None:
            return False
        Notification.objects.create(
            recipient_id=message.recipient_id,
            title=message.subject or message.get_event_display(),
            body=message.body,
            link=message.link,
            incident_id=message.incident_id,
            outbox_message=message,
            created_at=now,
        )
        _ours(message).update(status=OutboxStatus.SENT, sent_at=now, last_error="")
    return True


def _send_external(message: OutboxMessage) -> None:
    if message.channel == Channel.SMS:
        sms.sms_send(phone=message.recipient_phone, text=message.body)
    elif message.channel == Channel.EMAIL:
        send_mail(
            message.subject or message.get_event_display(),
            message.body,
            None,
            [message.recipient_email],
            fail_silently=False,
        )
    else:
        raise ValueError(f"unknown channel {message.channel!r}")


def _fail(message: OutboxMessage, error: str, now: datetime) -> None:
    """Schedule the next attempt 1, 2, 4 … minutes on, or give up after MAX_ATTEMPTS."""
    if message.attempts >= MAX_ATTEMPTS:
        _ours(message).update(status=OutboxStatus.FAILED, last_error=error[:2000])
        logger.error(
            "Outbox message %s (%s) failed after %s attempts: %s",
            message.pk,
            message.channel,
            message.attempts,
            error,
        )
        return
    delay = timedelta(minutes=2 ** (message.attempts - 1))
    _ours(message).update(
        status=OutboxStatus.PENDING, next_attempt_at=now + delay, last_error=error[:2000]
    )
    logger.warning(
        "Outbox message %s (%s) attempt %s failed, retrying in %s: %s",
        message.pk,
        message.channel,
        message.attempts,
        delay,
        error,
    )


def outbox_deliver_due(*, limit: int = 200, now: datetime | None = None) -> int:
    """Deliver the messages that are due; returns how many were attempted.

    Claims them (short transaction, row locks skipped by other workers), then sends each
    outside any lock: in-app by creating the inbox row, SMS through the gateway, e-mail
    through Django's mail backend. A failure is retried with back-off and, after
    MAX_ATTEMPTS, left as failed with its error for the admins.
    """
    messages = _claim(limit=limit, now=now or timezone.now())
    for message in messages:
        try:
            if message.channel == Channel.INAPP:
                _deliver_inapp(message, now or timezone.now())
            else:
                _send_external(message)
        except sms.SmsError as exc:
            _fail(message, str(exc), now or timezone.now())
        except Exception as exc:
            # Whatever else goes wrong with one message must not stop the others.
            logger.exception("Outbox message %s could not be delivered", message.pk)
            _fail(message, f"{type(exc).__name__}: {exc}", now or timezone.now())
        else:
            if message.channel != Channel.INAPP:
                _ours(message).update(
                    status=OutboxStatus.SENT, sent_at=now or timezone.now(), last_error=""
                )
    return len(messages)


# --------------------------------------------------------------------------------------
# The inbox
# --------------------------------------------------------------------------------------


def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (no-op if it already is).

    Raises Notification.DoesNotExist for someone else's notification, as for a missing one.
    """
    notification = Notification.objects.get(pk=notification_id, recipient=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
