"""One warning scan (dispatch.warnings.warnings_scan) over 100,000 open phases.

    make run                      # once: the demo district (or any loaded city)
    .venv/bin/python -m bench scan [--open 100000] [--due 300] [--cleanup]

Writes (or reuses) `--open` incidents in the handling phase with `next_warning_at` set, by
bulk inserts copied from the demo's own handling cases (their category, grid, location,
reporter, owning centre and lead unit), not through the services. `--due` of them passed
their deadline ten minutes ago while still stored yellow, so the scan records one red
warning for each (and notifies the lead unit and the centre through the outbox); the
others are due days ahead. Then times ONE `warnings_scan()` call and prints JSON.

Queuing delivery on the broker after commit is replaced by a counter during the run, so the
benchmark never touches the machine's Redis; the outbox rows are written as usual. Every row
is marked by the description prefix "压测预警 "; `--cleanup` deletes them (and their outbox
messages and notifications) afterwards. A rerun without --cleanup reuses them and makes the
same `--due` rows due again.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "压测预警 "
NUMBER = "BENCH-W-{:07d}"
INDEX = "incident_warning_due_idx"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govgrid.settings.local")
    import django

    django.setup()


def generate(count: int, now) -> int:
    """Bulk-insert the missing rows up to `count`; returns how many were written."""
    from incidents.models import Incident

    have = Incident.objects.filter(description__startswith=PREFIX).count()
    if have >= count:
        return 0
    models = list(
        Incident.objects.filter(
            state="in_progress", lead_unit__isnull=False, owner_unit__isnull=False
        )
        .exclude(description__startswith=PREFIX)
        .only(
            "category_id",
            "grid_id",
            "location",
            "reporter_id",
            "owner_unit_id",
            "lead_unit_id",
            "channel",
        )[:200]
    )
    if not models:
        sys.exit("No handling case to copy: load a city first (make run).")
    batch: list[Incident] = []
    written = 0
    for n in range(have, count):
        m = models[n % len(models)]
        started = now - timedelta(days=1, minutes=n % 600)
        deadline = started + timedelta(days=10)
        batch.append(
            Incident(
                number=NUMBER.format(n),
                channel=m.channel,
                category_id=m.category_id,
                description=f"{PREFIX}{n}",
                location=m.location,
                location_source="gps",
                grid_id=m.grid_id,
                reporter_id=m.reporter_id,
                urgency="normal",
                state="in_progress",
                owner_unit_id=m.owner_unit_id,
                lead_unit_id=m.lead_unit_id,
                phase="handle",
                phase_started_at=started,
                deadline_at=deadline,
                original_deadline_at=deadline,
                warning_level="",
                next_warning_at=started + timedelta(days=5),
                reported_at=started - timedelta(hours=2),
            )
        )
        if len(batch) == 5000:
            Incident.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    if batch:
        Incident.objects.bulk_create(batch)
        written += len(batch)
    return written


def make_due(due: int, now) -> None:
    """The first `due` rows: deadline passed ten minutes ago, stored yellow, due now."""
    from incidents.models import Incident

    ids = list(
        Incident.objects.filter(description__startswith=PREFIX)
        .order_by("pk")
        .values_list("pk", flat=True)[:due]
    )
    started = now - timedelta(days=8)
    deadline = now - timedelta(minutes=10)
    Incident.objects.filter(pk__in=ids).update(
        state="in_progress",
        phase="handle",
        phase_started_at=started,
        deadline_at=deadline,
        original_deadline_at=deadline,
        warning_level="yellow",
        next_warning_at=deadline,
    )


def explain_claim(now) -> tuple[str, str]:
    """EXPLAIN ANALYZE of the scan's claim query (rolled back); (plan, index it used).

    Besides the partial index (INDEX) the column has its plain db_index; either serves.
    """
    from django.db import connection, transaction

    from incidents.models import Incident

    qs = (
        Incident.objects.filter(next_warning_at__lte=now)
        .select_related("category")
        .order_by("next_warning_at")
        .select_for_update(of=("self",), skip_locked=True)[:500]
    )
    with transaction.atomic():
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    used = re.findall(r"Index (?:Only )?Scan(?: Backward)? (?:using|on) (\S+)", plan)
    return plan, ", ".join(dict.fromkeys(used)) or "none (sequential scan)"


def cleanup() -> dict:
    from django.db import transaction

    from govgrid.notifications.models import Notification, OutboxMessage
    from incidents.models import Incident

    with transaction.atomic():
        ids = Incident.objects.filter(description__startswith=PREFIX).values("pk")
        notifications = Notification.objects.filter(incident__in=ids).delete()[0]
        messages = OutboxMessage.objects.filter(incident__in=ids).delete()[0]
        incidents = Incident.objects.filter(description__startswith=PREFIX).delete()[0]
    return {
        "deleted_incidents_and_history": incidents,
        "outbox": messages,
        "notifications": notifications,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scan")
    parser.add_argument("--open", type=int, default=100_000, help="open phases to have")
    parser.add_argument("--due", type=int, default=300, help="of which due now")
    parser.add_argument("--cleanup", action="store_true", help="delete the rows afterwards")
    parser.add_argument("--plan", action="store_true", help="print the whole query plan")
    args = parser.parse_args(argv)

    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dispatch import warnings
    from govgrid.notifications import services
    from incidents.models import Incident, IncidentEvent

    now = timezone.now()
    t0 = time.perf_counter()
    written = generate(args.open, now)
    make_due(args.due, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
    prepare = time.perf_counter() - t0

    open_phases = Incident.objects.filter(next_warning_at__isnull=False).count()
    due = Incident.objects.filter(next_warning_at__lte=now).count()
    plan, used_index = explain_claim(now)

    queued = 0

    def count_enqueue() -> None:
        nonlocal queued
        queued += 1

    real_enqueue = services._enqueue_delivery
    services._enqueue_delivery = count_enqueue
    events_before = IncidentEvent.objects.count()
    try:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            recorded = warnings.warnings_scan(now=now)
            seconds = time.perf_counter() - started
    finally:
        services._enqueue_delivery = real_enqueue
    events_written = IncidentEvent.objects.count() - events_before

    result = {
        "open_phases": open_phases,
        "due": due,
        "levels_recorded": recorded,
        "history_rows": events_written,
        "seconds": round(seconds, 3),
        "queries": len(queries),
        "deliveries_queued": queued,
        "claim_index": used_index,
        "claim_uses_partial_index": INDEX in used_index.split(", "),
        "rows_written": written,
        "prepare_seconds": round(prepare, 1),
        "target_seconds": 2.0,
    }
    if args.cleanup:
        result.update(cleanup())
    print(json.dumps(result, indent=2))
    if args.plan:
        print(plan)
    else:
        print("\n".join(line for line in plan.splitlines()[:6]))


if __name__ == "__main__":
    main(sys.argv[1:])
