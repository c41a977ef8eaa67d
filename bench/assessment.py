"""One month's assessment (dispatch.assessment) computed on a Wuhan-sized city.

    createdb -h 127.0.0.1 -U postgres govgrid_bench                   # a bench-only database
    export DATABASE_URL=postgis://postgres@127.0.0.1:5432/govgrid_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python -m bench assessment --generate   # once: Wuhan areas, units, 16,274
                                                      # workers, 50,000 open and 500,000
                                                      # closed incidents (last month), by COPY
    .venv/bin/python -m bench assessment              # compute last month, print JSON

`--generate` builds the city with `govgrid.synthetic.city.build_city(scale_name="wuhan")`
without the residents (the month's field-work queries run all the same, on empty tables).
The run is created directly in "computing" and computed in this process by the same service
the Celery task calls (`assessment_run_compute`), so nothing touches the broker. Prints the
wall time, the time of each step, the Python heap peak (tracemalloc) and the process's peak
RSS, and the size of what was computed. A rerun replaces the month's bench run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govgrid.settings.local")
    import django

    django.setup()


def generate() -> dict:
    from govgrid.synthetic.city import build_city, city_exists

    if city_exists():
        sys.exit("A city is loaded already: drop the bench database to generate again.")
    t0 = time.perf_counter()
    counts = build_city(
        scale_name="wuhan",
        seed=2026,
        progress=lambda it, desc, total: it,
        incidents=True,
        residents=False,
    )
    return {"generated": counts, "generate_seconds": round(time.perf_counter() - t0, 1)}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench assessment")
    parser.add_argument("--generate", action="store_true", help="build the Wuhan city first")
    parser.add_argument("--month", default="", help="YYYY-MM (default: last month)")
    args = parser.parse_args(argv)

    setup_django()
    from datetime import date

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dispatch.assessment import services
    from dispatch.assessment.indicators import Month, month_of
    from dispatch.assessment.models import AssessmentRun, RunStatus
    from dispatch.assessment.seed import seed_default
    from govgrid.accounts.models import Role, Unit, User
    from incidents.models import Incident, IncidentEvent

    out: dict = {}
    if args.generate:
        out |= generate()
    seed_default()
    if args.month:
        first = date.fromisoformat(args.month + "-01")
    else:
        first = month_of(timezone.localdate()).previous().first
    month = Month(first)
    AssessmentRun.objects.filter(month=first).delete()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    run = AssessmentRun.objects.create(month=first, version=1, status=RunStatus.COMPUTING)

    tracemalloc.start()
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        run = services.assessment_run_compute(run_id=run.pk)
    seconds = time.perf_counter() - t0
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    steps = [
        {"ms": round(float(q["time"]) * 1000), "sql": q["sql"][:90]}
        for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:8]
    ]
    out |= {
        "month": f"{first:%Y-%m}",
        "status": run.status,
        "seconds": round(seconds, 2),
        "python_heap_peak_mb": round(peak / 1e6, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "queries": len(queries.captured_queries),
        "sql_seconds": round(sum(float(q["time"]) for q in queries.captured_queries), 2),
        "slowest_queries": steps,
        "results": run.results.count(),
        "grid_workers": User.objects.filter(roles__contains=[Role.GRID_WORKER]).count(),
        "units": Unit.objects.count(),
        "events_in_month": IncidentEvent.objects.filter(
            at__gte=month.start, at__lt=month.end
        ).count(),
        "cases_closed_in_month": IncidentEvent.objects.filter(
            at__gte=month.start, at__lt=month.end, action="verify"
        ).count(),
        "incidents_reported_in_month": Incident.objects.filter(
            reported_at__gte=month.start, reported_at__lt=month.end
        ).count(),
    }
    # What the pages cost at this size: the boards (红榜/黑榜 of every group), the Excel file.
    from dispatch.assessment import exports, selectors

    t0 = time.perf_counter()
    boards = selectors.run_boards(run=run)
    out["boards_ms"] = round((time.perf_counter() - t0) * 1000)
    out["groups"] = len(boards)
    t0 = time.perf_counter()
    workbook = exports.run_workbook(run=run)
    out["excel_seconds"] = round(time.perf_counter() - t0, 2)
    out["excel_mb"] = round(len(workbook) / 1e6, 1)
    # Drill-down (live, what a click on a figure costs): the busiest unit's dispatches and a
    # district's closed cases, as an admin sees them (count + first page of 50).
    from dispatch.assessment.indicators import cases_behind

    busiest = (
        run.results.filter(subject_kind="unit", unit__isnull=False)
        .order_by("-case_count")
        .values_list("unit_id", "case_count")
        .first()
    )
    district = run.results.filter(subject_kind="area", area__level=2).select_related("area")
    district = district.first()
    for label, kwargs in [
        ("unit_dispatched", {"code": "dispatched", "kind": "unit", "subject_id": busiest[0]}),
        (
            "district_closed",
            {
                "code": "closed",
                "kind": "area",
                "subject_id": district.area_id,
                "area_path": district.area.path,
            },
        ),
    ]:
        t0 = time.perf_counter()
        qs = cases_behind(month=month, **kwargs).order_by("-reported_at", "-pk")
        count = qs.count()
        first_page = list(qs.select_related("category", "grid", "lead_unit")[:50])
        out[f"drill_{label}_ms"] = round((time.perf_counter() - t0) * 1000)
        out[f"drill_{label}_cases"] = count
        del first_page
    print(json.dumps(out, ensure_ascii=False, indent=2))
