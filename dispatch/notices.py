"""Who hears about what happens to an incident: the loop and the warning engine call these
inside their transactions; the outbox (govgrid.notifications) delivers after commit.

- dispatched (also a whistle, a re-dispatch and an overrule): the lead unit's handlers and head;
- returned: the owning centre;
- extension decided: the lead unit;
- closed: the reporter;
- supervised (督办): the lead unit's handlers and head, or the owning centre while no unit
  holds the case (whoever is to reply);
- a colour change or a supervision card: the lead unit's handlers and head, and the owning
  centre (PRODUCT.md section 7).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import pgettext_lazy

from govgrid.accounts.models import JURISDICTION_ROLES, Role, User
from govgrid.notifications.models import Event
from govgrid.notifications.services import notify
from incidents.models import Incident, WarningLevel

# Staff hear in the inbox always, by SMS when they have a phone, by e-mail when they have an
# address.
STAFF_CHANNELS = ("inapp", "sms", "email")

# The loop's actions that tell someone, and which event template they use.
ACTION_EVENTS = {
    "dispatch": Event.DISPATCHED,
    "whistle": Event.DISPATCHED,
    "redispatch": Event.DISPATCHED,
    "overrule": Event.DISPATCHED,
    "return": Event.RETURNED,
    "decide_extension": Event.EXTENSION_DECIDED,
    "verify": Event.CLOSED,
    "supervise": Event.SUPERVISION,
}
# Manual supervision levels, as the message names them ("收到黄牌督办").
SUPERVISION_LEVEL_LABELS = {
    "yellow": pgettext_lazy("supervision level", "Yellow card"),
    "red": pgettext_lazy("supervision level", "Red card"),
}
LEVEL_EVENTS = {
    WarningLevel.BLUE: Event.WARNING_BLUE,
    WarningLevel.YELLOW: Event.WARNING_YELLOW,
    WarningLevel.RED: Event.WARNING_RED,
    WarningLevel.YELLOW_CARD: Event.SUPERVISION,
    WarningLevel.RED_CARD: Event.SUPERVISION,
}


def _unit_people(unit_id: int | None) -> Q:
    """Handlers of the unit and its head."""
    if unit_id is None:
        return Q(pk__in=[])
    return Q(unit_id=unit_id, roles__contains=[Role.UNIT_HANDLER]) | Q(headed_units__pk=unit_id)


def _centre_people(unit_id: int) -> Q:
    return Q(unit_id=unit_id, roles__overlap=list(JURISDICTION_ROLES))


def _users(q: Q) -> list[User]:
    return list(User.objects.filter(q, is_active=True).distinct())


def _context(incident: Incident, **extra) -> dict:
    deadline = (
        date_format(timezone.localtime(incident.deadline_at), "SHORT_DATETIME_FORMAT")
        if incident.deadline_at
        else ""
    )
    return {"deadline": deadline, **extra}


def notify_action(
    *, incident: Incident, action: str, event_pk: int, note: str = "", data: dict | None = None
) -> None:
    """Tell the people an action concerns (one outbox row each, written in this transaction)."""
    event = ACTION_EVENTS.get(action)
    if event is None:
        return
    extra: dict = {}
    if event == Event.SUPERVISION:
        from dispatch.services import supervision_responder

        data = data or {}
        unit_id, _roles = supervision_responder(incident)
        if unit_id == incident.owner_unit_id:
            who = _users(_centre_people(unit_id))
        else:
            who = _users(_unit_people(unit_id))
        level = data.get("level", "")
        extra["level"] = str(SUPERVISION_LEVEL_LABELS.get(level, level))
        if data.get("reply_by"):
            # The reply deadline, not the phase's.
            extra["deadline"] = date_format(
                timezone.localtime(datetime.fromisoformat(data["reply_by"])),
                "SHORT_DATETIME_FORMAT",
            )
    elif event == Event.RETURNED:
        who = _users(_centre_people(incident.owner_unit_id))
    elif event == Event.CLOSED:
        who = [incident.reporter] if incident.reporter_id else []
    else:
        who = _users(_unit_people(incident.lead_unit_id))
    if not who:
        return
    notify(
        event=event,
        recipients=who,
        incident=incident,
        context=_context(incident, note=note, **extra),
        dedupe_key=f"incident:{incident.pk}:event:{event_pk}",
        channels=STAFF_CHANNELS,
    )


def notify_level(
    *, incident: Incident, level: str, at: datetime, cache: dict | None = None
) -> None:
    """A colour change or card: the lead unit's handlers and head, and the owning centre.

    `cache` (a dict the caller keeps for one batch) saves looking up the same people again.
    """
    event = LEVEL_EVENTS.get(level)
    if event is None:
        return
    key = (incident.lead_unit_id, incident.owner_unit_id)
    if cache is not None and key in cache:
        who = cache[key]
    else:
        who = _users(_unit_people(incident.lead_unit_id) | _centre_people(incident.owner_unit_id))
        if cache is not None:
            cache[key] = who
    if not who:
        return
    notify(
        event=event,
        recipients=who,
        incident=incident,
        context=_context(incident, level=str(WarningLevel(level).label)),
        channels=STAFF_CHANNELS,
        # One message per level of one phase: a second scan, or a racing one, adds nothing.
        dedupe_key=f"incident:{incident.pk}:warning:{incident.phase}:"
        f"{incident.phase_started_at.isoformat() if incident.phase_started_at else ''}:{level}",
    )
