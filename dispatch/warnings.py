"""Warning colours of a running phase (蓝/黄/红预警) and automatic supervision cards (督办).

Every open phase (sign-in, handling, verification) has a colour, from the category's
thresholds:

- blue: `blue_percent` of the phase's time is gone;
- yellow: `yellow_percent` is gone or less than one working day is left, whichever comes
  first. A phase counted in clock hours (urgent cases, whistle summonses) uses a fifth of its
  limit instead of the working day, which would swallow an 8-hour phase whole. Yellow never
  comes before blue: in a phase of two working days or less the two arrive together;
- red: the deadline has passed;
- yellow card, red card: `yellow_card_days` and `red_card_days` working days after the deadline.

The thresholds are counted back from the current deadline against the time the phase was given
(its start to its original deadline). A suspension moves the deadline by exactly the time it
lasted, so a suspended case does not advance; an approved extension moves the deadline, and
every colour with it, by the days granted, which can make the case calmer.

The incident keeps its colour (`warning_level`) and the instant of its next change
(`next_warning_at`). The beat task reads only the rows whose `next_warning_at` has come,
through a partial index, so a scan costs what the colour changes cost, not what the open cases
cost. Each change is recorded once as an `IncidentEvent` and handed to `on_level_change`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from dispatch import services
from dispatch.calendar import DAY_SECONDS, add_working_time, working_seconds_between
from dispatch.workflow import State
from incidents.models import DeadlineUnit, Incident, IncidentEvent, WarningLevel

W = WarningLevel
# Calm to hottest; a colour change upwards is recorded, one downwards (an extension) is not.
RANK = {level: rank for rank, level in enumerate(W.values)}
# The history action of each level: cards are supervision (督办), the colours warnings.
EVENT_ACTION = {
    W.BLUE: "warning",
    W.YELLOW: "warning",
    W.RED: "warning",
    W.YELLOW_CARD: "supervision_card",
    W.RED_CARD: "supervision_card",
}


def _thresholds(incident: Incident) -> list[tuple[str, datetime]] | None:
    """(level, instant it is reached) in rank order, or None when no phase runs."""
    if (
        not incident.phase
        or incident.phase_started_at is None
        or incident.deadline_at is None
        or incident.state == State.SUSPENDED
    ):
        return None
    category = incident.category
    start, deadline = incident.phase_started_at, incident.deadline_at
    original = incident.original_deadline_at or deadline

    on_clock = services._phase_unit(incident) == DeadlineUnit.HOUR
    limit = 0 if on_clock else working_seconds_between(start, original)
    # A phase with no working time at all (a two-hour whistle summons on a holiday) is
    # measured on the clock, or every colour would fall on its first instant.
    on_clock = on_clock or limit == 0
    if on_clock:
        limit = max(0, int((original - start).total_seconds()))
        yellow_margin = limit // 5

        def before_deadline(seconds: int) -> datetime:
            return max(start, deadline - timedelta(seconds=seconds))

    else:
        span = working_seconds_between(start, deadline)
        yellow_margin = DAY_SECONDS

        def before_deadline(seconds: int) -> datetime:
            # The earliest instant with `seconds` of working time left before the deadline.
            return add_working_time(start, max(0, span - seconds))

    blue_at = before_deadline(limit * (100 - category.blue_percent) // 100)
    yellow_left = max(limit * (100 - category.yellow_percent) // 100, yellow_margin)
    yellow_at = max(blue_at, before_deadline(yellow_left))
    yellow_card_at = add_working_time(deadline, category.yellow_card_days * DAY_SECONDS)
    red_card_at = add_working_time(deadline, category.red_card_days * DAY_SECONDS)
    return [
        (W.BLUE, blue_at),
        (W.YELLOW, yellow_at),
        (W.RED, deadline),
        (W.YELLOW_CARD, yellow_card_at),
        (W.RED_CARD, max(yellow_card_at, red_card_at)),
    ]


def _level_at(thresholds: list[tuple[str, datetime]], now: datetime) -> tuple[str, datetime | None]:
    level = W.NONE
    for name, at in thresholds:
        if at > now:
            return level, at
        level = name
    return level, None


def warning_schedule(*, incident: Incident, now: datetime) -> tuple[str, datetime | None]:
    """The phase's colour at `now` and the instant it next changes (None: it will not).

    Pure: reads the incident and its category (select it with the incident) and the
    working-day calendar. No phase, or suspended: ("", None).
    """
    thresholds = _thresholds(incident)
    if thresholds is None:
        return W.NONE, None
    return _level_at(thresholds, now)


def levels_reached(*, incident: Incident, now: datetime) -> list[tuple[str, datetime]]:
    """Each level the running phase has reached by `now`, with the instant it was reached
    (what the scan would have recorded had it run all along). Pure, like warning_schedule."""
    thresholds = _thresholds(incident)
    return [(name, at) for name, at in thresholds or [] if at <= now]


def warning_reset(*, incident: Incident, now: datetime, new_phase: bool = False) -> Incident:
    """Bring `warning_level` and `next_warning_at` in step after a phase or deadline change.

    Records nothing and only changes the instance; the caller saves. A calmer colour (an
    extension, a phase that stopped) is taken at once. A hotter one is a change to record and
    notify, so it is left to the scan, due now. Suspended: no next change; the colour stays
    until the case resumes. `new_phase`: the colour of the previous phase does not carry over.
    """
    if new_phase:
        incident.warning_level = W.NONE
    if incident.state == State.SUSPENDED:
        incident.next_warning_at = None
        return incident
    level, next_at = warning_schedule(incident=incident, now=now)
    if RANK[level] > RANK[incident.warning_level]:
        incident.next_warning_at = now
    else:
        incident.warning_level, incident.next_warning_at = level, next_at
    return incident


def on_level_change(
    incident: Incident, level: str, at: datetime, *, cache: dict | None = None
) -> None:
    """Called once for each colour change the scan records, `at` the instant it was reached.

    The notification service connects here: it tells the handler, the lead unit's head and
    the owning centre. It runs inside the scan's transaction with the incident's row locked,
    so it must send nothing itself: enqueue delivery with `transaction.on_commit`. A scan that
    rolls back (a worker died) then sends nothing, and the next scan records and notifies the
    change once.
    """
    from dispatch import notices

    notices.notify_level(incident=incident, level=level, at=at, cache=cache)


def _advance(incident: Incident, now: datetime) -> list[IncidentEvent]:
    """Move a due incident to its colour at `now`; the history rows of each level crossed."""
    thresholds = _thresholds(incident)
    if thresholds is None:
        # Nothing runs (warning_reset normally clears next_warning_at first).
        if incident.state != State.SUSPENDED:
            incident.warning_level = W.NONE
        incident.next_warning_at = None
        return []
    level, next_at = _level_at(thresholds, now)
    stored = RANK[incident.warning_level]
    # A worker down for a while finds several levels crossed: each is recorded, in order,
    # at the instant it was reached.
    events = [
        IncidentEvent(
            incident=incident,
            at=at,
            actor=None,
            action=EVENT_ACTION[name],
            data={"level": str(name), "phase": incident.phase},
        )
        for name, at in thresholds
        if stored < RANK[name] <= RANK[level]
    ]
    incident.warning_level, incident.next_warning_at = level, next_at
    return events


def warnings_scan(*, now: datetime | None = None, limit: int = 500) -> int:
    """Record every colour change due by `now`; returns how many were recorded.

    Works in short transactions of at most `limit` incidents, each claimed with
    `SELECT ... FOR UPDATE SKIP LOCKED` on the `next_warning_at` index: two scans at once
    share the work instead of doing it twice, and an incident someone is acting on is picked up
    by the next scan. Appends one history row per level crossed and calls `on_level_change`
    for it, then stores the new colour and next instant, so a second scan finds nothing to do.
    A scan that dies rolls its batch back; the rows stay due.
    """
    now = now or timezone.now()
    recorded = 0
    while True:
        with transaction.atomic():
            due = list(
                Incident.objects.filter(next_warning_at__lte=now)
                # what the notification texts name, loaded with the claim
                .select_related("category", "grid", "lead_unit", "owner_unit")
                .order_by("next_warning_at")
                .select_for_update(of=("self",), skip_locked=True)[:limit]
            )
            events = [event for incident in due for event in _advance(incident, now)]
            if due:
                IncidentEvent.objects.bulk_create(events)
                changed_at = timezone.now()
                for incident in due:
                    incident.updated_at = changed_at
                Incident.objects.bulk_update(
                    due, ["warning_level", "next_warning_at", "updated_at"]
                )
            recipients_cache: dict = {}  # who to tell, per (lead unit, centre), this batch
            for event in events:
                on_level_change(
                    event.incident, event.data["level"], event.at, cache=recipients_cache
                )
        recorded += len(events)
        if len(due) < limit:
            return recorded


def warnings_rebuild(*, category_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Recompute `next_warning_at` of running phases, e.g. after a category's thresholds
    changed. Records nothing itself: a colour that is now due is left to the next scan, which
    records and notifies it once. Works in batches of short transactions; returns rows seen."""
    now = now or timezone.now()
    qs = Incident.objects.exclude(phase="").exclude(state=State.SUSPENDED)
    if category_ids is not None:
        qs = qs.filter(category_id__in=category_ids)
    ids = list(qs.values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            batch = list(
                Incident.objects.filter(pk__in=ids[start : start + 500])
                .select_related("category")
                .select_for_update(of=("self",), skip_locked=True)
            )
            for incident in batch:
                warning_reset(incident=incident, now=now)
            Incident.objects.bulk_update(batch, ["warning_level", "next_warning_at"])
    return len(ids)
