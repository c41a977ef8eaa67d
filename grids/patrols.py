"""Patrols 巡查: start, positions, stop, the reports filed meanwhile, and today's tracks.

The phone posts positions in batches and keeps them in localStorage while offline, so
batches arrive late, twice or out of order. Each position is stored once (unique on patrol
and time), and the track is rebuilt in SQL from all positions ordered by the phone's clock:
ST_MakeLine for the line, ST_Length on geography for metres. Late positions are accepted
after the stop as long as they fall inside the patrol's time span.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from govgrid.accounts.models import GRID_ROLES
from govgrid.accounts.scoping import scope_queryset
from govgrid.lib.errors import DomainError
from grids.models import Area, Patrol, PatrolPoint, PatrolReport
from grids.selectors import grid_posts_for_user

# Positions further than this from the phone's clock into the future are refused (a phone
# with a wrong clock would otherwise stretch the patrol).
CLOCK_SKEW = timedelta(minutes=5)
MAX_POINTS_PER_BATCH = 500
# How far a grid worker on foot sees and is seen from the street (metres), for coverage.
PATROL_REACH_M = 50


@dataclass(frozen=True)
class Position:
    at: datetime
    lon: float
    lat: float
    accuracy_m: float | None = None


def _worker_grid(worker) -> Area:
    post = grid_posts_for_user(user=worker).order_by("role", "grid__code").first()
    if post is None:
        raise DomainError(_("You are not assigned to a grid."), code="no_grid")
    return post.grid


@transaction.atomic
def patrol_start(*, worker, grid: Area | None = None, at: datetime | None = None) -> Patrol:
    """Start a patrol, or return the one already running (the phone may ask twice)."""
    if not worker.has_role(*GRID_ROLES):
        raise PermissionDenied
    running = Patrol.objects.select_for_update().filter(worker=worker, ended_at__isnull=True)
    if (patrol := running.first()) is not None:
        return patrol
    if grid is None:
        grid = _worker_grid(worker)
    elif not scope_queryset(worker, Area.objects.grids().filter(pk=grid.pk)).exists():
        raise PermissionDenied
    return Patrol.objects.create(worker=worker, grid=grid, started_at=at or timezone.now())


def patrol_track_rebuild(patrol_id: int) -> None:
    """Track, distance, duration, positions and coverage from the stored positions (one
    UPDATE). Coverage is the share of the grid's area within PATROL_REACH_M of the track.
    The synthetic city calls it too, so its patrols carry the same figures."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE grids_patrol p SET
              track = sub.line,
              distance_m = COALESCE(ST_Length(sub.line::geography), 0),
              point_count = sub.n,
              duration_s = GREATEST(0, EXTRACT(EPOCH FROM
                  COALESCE(p.ended_at, GREATEST(sub.last_at, p.started_at)) - p.started_at))::int,
              coverage = CASE WHEN sub.line IS NULL OR a.boundary IS NULL THEN 0 ELSE LEAST(1,
                  COALESCE(ST_Area(ST_Intersection(
                      ST_Buffer(sub.line::geography, %s)::geometry, a.boundary)::geography)
                    / NULLIF(ST_Area(a.boundary::geography), 0), 0)) END,
              updated_at = now()
            FROM (
              SELECT CASE WHEN count(*) >= 2 THEN ST_MakeLine(location ORDER BY at) END AS line,
                     count(*) AS n, max(at) AS last_at
              FROM grids_patrolpoint WHERE patrol_id = %s
            ) sub, grids_area a
            WHERE p.id = %s AND a.id = p.grid_id
            """,
            [PATROL_REACH_M, patrol_id, patrol_id],
        )


@transaction.atomic
def patrol_points_add(*, patrol: Patrol, worker, positions: list[Position]) -> Patrol:
    """Store a batch of positions (duplicates ignored) and rebuild the track.

    Takes the patrol row lock so two batches do not rebuild over each other.
    """
    patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
    if patrol.worker_id != worker.pk:
        raise PermissionDenied
    if len(positions) > MAX_POINTS_PER_BATCH:
        raise DomainError(_("Too many positions in one batch."), code="batch")
    latest = min(patrol.ended_at or timezone.now() + CLOCK_SKEW, timezone.now() + CLOCK_SKEW)
    rows = [
        PatrolPoint(
            patrol=patrol,
            at=p.at,
            location=Point(p.lon, p.lat, srid=4326),
            accuracy_m=p.accuracy_m,
        )
        for p in positions
        if patrol.started_at <= p.at <= latest and -180 <= p.lon <= 180 and -90 <= p.lat <= 90
    ]
    if rows:
        PatrolPoint.objects.bulk_create(rows, ignore_conflicts=True)
        patrol_track_rebuild(patrol.pk)
        patrol.refresh_from_db()
    return patrol


@transaction.atomic
def patrol_stop(
    *, patrol: Patrol, worker, at: datetime | None = None, positions: list[Position] = ()
) -> Patrol:
    """End the patrol (once); the last positions may come with the stop."""
    patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
    if patrol.worker_id != worker.pk:
        raise PermissionDenied
    if patrol.ended_at is None:
        patrol.ended_at = max(min(at or timezone.now(), timezone.now()), patrol.started_at)
        patrol.save(update_fields=["ended_at", "updated_at"])
    if positions:
        return patrol_points_add(patrol=patrol, worker=worker, positions=list(positions))
    patrol_track_rebuild(patrol.pk)
    patrol.refresh_from_db()
    return patrol


def patrol_link_report(*, incident, actor) -> PatrolReport | None:
    """Link an incident to the reporter's running patrol, if any (called at filing)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    patrol = patrol_running_for(actor, "pk")
    if patrol is None:
        return None
    return PatrolReport.objects.create(patrol=patrol, incident=incident)


def patrol_running_for(worker, *fields: str) -> Patrol | None:
    """The worker's running patrol, if any (one at most: a unique constraint); `fields`
    limits the columns read (the track can be long)."""
    running = Patrol.objects.filter(worker=worker, ended_at__isnull=True)
    return (running.only(*fields) if fields else running).first()


def patrols_today_for_user(*, user) -> QuerySet:
    """Patrols started today (Asia/Shanghai) in the user's scope, with worker and grid, and
    the number of reports filed during each."""
    from django.db.models import Count

    start = timezone.make_aware(
        datetime.combine(timezone.localdate(), datetime.min.time()),
        timezone.get_current_timezone(),
    )
    return (
        scope_queryset(user, Patrol.objects.filter(started_at__gte=start))
        .select_related("worker", "grid")
        .annotate(report_count=Count("reports"))
        .order_by("-started_at")
    )
