"""Reads for the centre's map dashboard (PRODUCT.md §8), built to hold at city scale.

Everything starts from `dashboard_incidents`, which is the one scoping function plus the
dashboard's filters, so the map, the per-area heat, the counters and the charts always
agree with each other and with the lists. The map payloads are built by PostgreSQL
(GeoJSON and JSON aggregation), never assembled row by row in Python:

- incidents inside the visible bounding box come back as points while there are at most
  `POINT_LIMIT` of them, and as server-side clusters (one per snapped cell) beyond that, so
  a district centre zoomed out over 50,000 open cases gets a few hundred features;
- the heat layer is one grouped count per area of the level being drawn;
- counters are one aggregate with FILTER clauses; each chart is one grouped query.

Live screens poll with conditional requests: `incident_change_version` is a counter that a
deferred trigger moves when any incident row commits (migration incidents 0004).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy

from dispatch.workflow import OPEN_STATES, STATE_LABELS, STATES, State
from govgrid.accounts.models import DASHBOARD_ROLES
from govgrid.accounts.scoping import scope_queryset
from govgrid.lib.geojson import feature, feature_collection
from grids.models import PATH_SEPARATOR, Area
from grids.selectors import area_list_for_user, area_roots_for_user
from incidents.models import Category, Channel, Incident, Rating, WarningLevel

# At most this many incidents are sent as points; beyond it the box is clustered in SQL.
POINT_LIMIT = 2000
# Size of a server-side cluster cell in screen pixels (256-pixel web-mercator tiles).
CLUSTER_CELL_PX = 64
NO_WARNING = "none"
# The "reported within" filter: its values, the days before today they reach back (None:
# no limit) and their labels, in the order the page lists them.
WINDOWS = {
    "all": (None, gettext_lazy("Any time")),
    "today": (0, gettext_lazy("Today")),
    "7d": (7, gettext_lazy("Last 7 days")),
    "30d": (30, gettext_lazy("Last 30 days")),
    "90d": (90, gettext_lazy("Last 90 days")),
}
CHART_DAYS = 30
# How often an open dashboard asks whether anything changed (conditional requests).
POLL_SECONDS = 5


@dataclass(frozen=True)
class DashboardFilters:
    """The dashboard's filters, already validated (see dispatch.dashboard_api)."""

    states: tuple[str, ...] = ()
    category_codes: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    window: str = "all"
    area: Area | None = None
    include_closed: bool = False


def dashboard_allowed(user) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(set(user.roles) & DASHBOARD_ROLES))


def dashboard_page_context(*, user) -> dict:
    """What the dashboard page needs to draw itself: the user's area, where to look first,
    and the choices of every filter (four small queries)."""
    roots = list(area_roots_for_user(user=user).only("code", "name", "level", "path"))
    extent = (
        Area.objects.filter(pk__in=[a.pk for a in roots]).aggregate(e=Extent("boundary"))["e"]
        if roots
        else None
    )
    children = (
        list(
            area_list_for_user(user=user)
            .filter(parent__in=roots)
            .only("code", "name", "level")
            .order_by("path")
        )
        if roots
        else []
    )
    categories = list(
        Category.objects.filter(is_active=True)
        .select_related("parent")
        .order_by("parent__sort", "parent_id", "sort", "code")
    )
    groups: dict[int | None, list] = {}
    for c in categories:
        groups.setdefault(c.parent_id, []).append(c)
    category_groups = [(top, groups.get(top.pk, [])) for top in groups.get(None, [])]
    return {
        "roots": roots,
        "area_children": children,
        "category_groups": category_groups,
        "state_choices": [(s, STATE_LABELS[s]) for s in STATES],
        "channel_choices": Channel.choices,
        "colour_choices": [(NO_WARNING, WarningLevel.NONE.label)]
        + [(v, label) for v, label in WarningLevel.choices if v],
        "window_choices": [(value, label) for value, (_days, label) in WINDOWS.items()],
        "dashboard_config": {
            "bbox": list(extent) if extent else None,
            "rootCodes": [a.code for a in roots],
            "rootLevel": min((a.level for a in roots), default=1),
            "pollSeconds": POLL_SECONDS,
            "keyRank": [str(k) for k in _KEY_RANK],
        },
    }


def incident_change_version() -> int:
    """A number that grows whenever an incident row changes (one cheap read)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_value + (CASE WHEN is_called THEN 1 ELSE 0 END) FROM incidents_change_seq"
        )
        return int(cursor.fetchone()[0])


def _midnight(moment: datetime) -> datetime:
    """The start of `moment`'s day in the deployment's time zone (Asia/Shanghai)."""
    return timezone.localtime(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def window_start(window: str, now: datetime | None = None) -> datetime | None:
    days = WINDOWS[window][0]
    if days is None:
        return None
    return _midnight(now or timezone.now()) - timedelta(days=days)


def dashboard_incidents(*, user, filters: DashboardFilters) -> QuerySet[Incident]:
    """The incidents the dashboard shows for these filters (scoped, unordered)."""
    qs = scope_queryset(user, Incident.objects.all()).order_by()
    if filters.area is not None:
        qs = qs.filter(
            Q(grid__path=filters.area.path)
            | Q(grid__path__startswith=filters.area.path + PATH_SEPARATOR)
        )
    if filters.states:
        qs = qs.filter(state__in=filters.states)
    elif not filters.include_closed:
        qs = qs.filter(state__in=OPEN_STATES)
    if filters.category_codes:
        codes = list(filters.category_codes)
        qs = qs.filter(Q(category__code__in=codes) | Q(category__parent__code__in=codes))
    if filters.channels:
        qs = qs.filter(channel__in=filters.channels)
    if filters.colours:
        levels = [WarningLevel.NONE if c == NO_WARNING else c for c in filters.colours]
        qs = qs.filter(warning_level__in=levels)
    start = window_start(filters.window)
    if start is not None:
        qs = qs.filter(reported_at__gte=start)
    return qs


def _marker_key() -> Case:
    """What a marker's colour says: the warning level while a phase runs, else the state."""
    return Case(
        When(~Q(warning_level=""), then=F("warning_level")),
        When(state=State.REPORTED, then=Value("new")),
        When(state__in=[State.ACCEPTED, State.RETURNED], then=Value("todo")),
        When(state=State.HANDLED, then=Value("verify")),
        When(state=State.SUSPENDED, then=Value("suspended")),
        When(state__in=[State.DISPATCHED, State.IN_PROGRESS], then=Value("running")),
        default=Value("closed"),
        output_field=CharField(),
    )


# Rank of a marker key, hottest highest, for the colour of a server-side cluster.
_KEY_RANK = [
    "closed",
    "suspended",
    "running",
    "verify",
    "todo",
    "new",
    WarningLevel.BLUE,
    WarningLevel.YELLOW,
    WarningLevel.RED,
    WarningLevel.YELLOW_CARD,
    WarningLevel.RED_CARD,
]


def bbox_polygon(bbox: tuple[float, float, float, float]) -> Polygon:
    poly = Polygon.from_bbox(bbox)
    poly.srid = 4326
    return poly


def cluster_cell_degrees(zoom: int) -> float:
    return 360.0 / (256 * 2**zoom) * CLUSTER_CELL_PX


def map_incidents_geojson(
    *, user, filters: DashboardFilters, bbox: tuple[float, float, float, float], zoom: int
) -> str:
    """A GeoJSON FeatureCollection (text) of the incidents in the box, built by PostGIS.

    Points (properties: id, number, state, marker key, category, urgent) while there are
    at most POINT_LIMIT; otherwise clusters (properties: count, hottest key). One query
    when the box holds few incidents, two when it must cluster.
    """
    inside = dashboard_incidents(user=user, filters=filters).filter(
        location__bboverlaps=bbox_polygon(bbox)
    )
    points = inside.annotate(
        m_key=_marker_key(), m_category=F("category__name"), m_geom=F("location")
    ).values_list("id", "number", "state", "m_key", "m_category", "urgency", "m_geom")[
        : POINT_LIMIT + 1
    ]
    sql, params = points.query.sql_with_params()
    body = feature_collection(
        sql,
        params,
        members={"clustered": False},
        at_most=POINT_LIMIT,
        feature=feature(
            id="t.id",
            geometry="ST_AsGeoJSON(t.m_geom, 6)::json",
            properties={
                "number": "t.number",
                "state": "t.state",
                "key": "t.m_key",
                "category": "t.m_category",
                "urgent": "t.urgency = 'urgent'",
            },
        ),
    )
    if body is not None:
        return body
    ranked = (
        inside.annotate(m_key=_marker_key(), m_geom=F("location"))
        .annotate(
            m_rank=Case(
                *[When(m_key=key, then=Value(i)) for i, key in enumerate(_KEY_RANK)],
                default=Value(0),
            )
        )
        .values_list("m_geom", "m_rank")
    )
    sql, params = ranked.query.sql_with_params()
    keys = "ARRAY[" + ",".join(f"'{k}'" for k in _KEY_RANK) + "]"
    cell = cluster_cell_degrees(zoom)
    return feature_collection(
        f"""
        SELECT count(*) AS n, max(r.m_rank) AS worst, ST_Centroid(ST_Collect(r.m_geom)) AS centre
        FROM ({sql}) AS r
        GROUP BY ST_SnapToGrid(r.m_geom, %s, %s)
        """,
        (*params, cell, cell),
        members={"clustered": True},
        feature=feature(
            geometry="ST_AsGeoJSON(t.centre, 6)::json",
            properties={"count": "t.n", "key": f"({keys})[t.worst + 1]"},
        ),
    )


def map_patrols_geojson(*, user, bbox: tuple[float, float, float, float]) -> str:
    """Patrols in progress (PRODUCT.md §8) whose grid touches the box: the track so far and
    the latest position, as GeoJSON built by PostGIS. One query."""
    from grids.models import Patrol

    qs = (
        scope_queryset(user, Patrol.objects.filter(ended_at__isnull=True))
        .filter(grid__boundary__bboverlaps=bbox_polygon(bbox))
        .order_by()
        .annotate(
            p_worker=F("worker__full_name"),
            p_grid=F("grid__name"),
            p_track=F("track"),
        )
        .values_list("id", "p_worker", "p_grid", "started_at", "distance_m", "p_track")
    )
    sql, params = qs.query.sql_with_params()
    return feature_collection(
        sql,
        params,
        where="WHERE t.p_track IS NOT NULL",
        feature=feature(
            id="t.id",
            geometry="ST_AsGeoJSON(t.p_track, 6)::json",
            properties={
                "worker": "t.p_worker",
                "grid": "t.p_grid",
                "started_at": "t.started_at",
                "distance_m": "round(t.distance_m)",
                "at": "ST_AsGeoJSON(ST_EndPoint(t.p_track), 6)::json",
            },
        ),
    )


def map_heat(
    *, user, filters: DashboardFilters, bbox: tuple[float, float, float, float], level: int
) -> dict[str, int]:
    """Matching incidents per area of `level` for areas whose grids touch the box."""
    qs = (
        dashboard_incidents(user=user, filters=filters)
        .filter(grid__boundary__bboverlaps=bbox_polygon(bbox))
        .annotate(h_path=F("grid__path"))
        .values_list("h_path")
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT split_part(t.h_path, %s, %s) AS code, count(*) FROM ({sql}) AS t GROUP BY 1",
            (PATH_SEPARATOR, level, *params),
        )
        return {code: n for code, n in cursor.fetchall() if code}


def dashboard_counters(*, user, area: Area | None = None, now: datetime | None = None) -> dict:
    """The area's headline numbers in one aggregate query."""
    now = now or timezone.now()
    today = _midnight(now)
    month = today.replace(day=1)
    qs = dashboard_incidents(user=user, filters=DashboardFilters(area=area, include_closed=True))
    open_q = Q(state__in=OPEN_STATES)
    rated_q = Q(closed_at__gte=month) & ~Q(rating="")
    figures = qs.aggregate(
        new_today=Count("pk", filter=Q(reported_at__gte=today)),
        open=Count("pk", filter=open_q),
        overdue=Count("pk", filter=open_q & Q(deadline_at__lt=now)),
        yellow=Count(
            "pk",
            filter=open_q & Q(warning_level__in=[WarningLevel.YELLOW, WarningLevel.YELLOW_CARD]),
        ),
        red=Count(
            "pk", filter=open_q & Q(warning_level__in=[WarningLevel.RED, WarningLevel.RED_CARD])
        ),
        closed_month=Count("pk", filter=Q(state=State.CLOSED, closed_at__gte=month)),
        rated_month=Count("pk", filter=rated_q),
        satisfied_month=Count(
            "pk", filter=rated_q & Q(rating__in=[Rating.SATISFIED, Rating.BASIC])
        ),
    )
    rated = figures.pop("rated_month")
    satisfied = figures.pop("satisfied_month")
    figures["satisfaction"] = round(100 * satisfied / rated, 1) if rated else None
    figures["rated_month"] = rated
    return figures


def dashboard_charts(*, user, area: Area | None = None, now: datetime | None = None) -> dict:
    """Series for the charts: new and closed per day (30 days), open by category, overdue
    by lead unit. Four grouped queries."""
    now = now or timezone.now()
    first = _midnight(now - timedelta(days=CHART_DAYS - 1))
    days = [(first + timedelta(days=i)).date() for i in range(CHART_DAYS)]
    base = dashboard_incidents(user=user, filters=DashboardFilters(area=area, include_closed=True))
    tz = timezone.get_current_timezone()
    new_by_day = dict(
        base.filter(reported_at__gte=first)
        .annotate(day=TruncDate("reported_at", tzinfo=tz))
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    closed_by_day = dict(
        base.filter(state=State.CLOSED, closed_at__gte=first)
        .annotate(day=TruncDate("closed_at", tzinfo=tz))
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    open_qs = base.filter(state__in=OPEN_STATES)
    by_category = list(
        open_qs.annotate(
            top=Case(
                When(category__parent__isnull=True, then=F("category__name")),
                default=F("category__parent__name"),
                output_field=CharField(),
            )
        )
        .values_list("top")
        .annotate(n=Count("pk"))
        .order_by("-n", "top")
        .values_list("top", "n")
    )
    by_unit = list(
        open_qs.filter(deadline_at__lt=now, lead_unit__isnull=False)
        .values_list("lead_unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "lead_unit__name")
        .values_list("lead_unit__name", "n")[:15]
    )
    return {
        "days": [d.isoformat() for d in days],
        "new": [new_by_day.get(d, 0) for d in days],
        "closed": [closed_by_day.get(d, 0) for d in days],
        "open_by_category": [{"name": n, "value": v} for n, v in by_category],
        "overdue_by_unit": [{"name": n, "value": v} for n, v in by_unit],
    }


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
