"""Reads of the area tree, always through the one scoping function."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Point
from django.db.models import Count, Func, Q, QuerySet, Value
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone

from govgrid.accounts.scoping import scope_for, scope_queryset
from govgrid.lib.geojson import feature, feature_collection
from grids.models import CODE_LENGTH, PATH_SEPARATOR, Area, AreaLevel, GridStaff, StaffRole


def area_list_for_user(*, user) -> QuerySet[Area]:
    return scope_queryset(user, Area.objects.active())


def area_get_for_user(*, user, code: str) -> Area:
    """The area with this code if the user may see it; the same 404 for missing and not yours."""
    area = area_list_for_user(user=user).select_related("parent").filter(code=code).first()
    if area is None:
        raise Http404("area not found")
    return area


def area_roots_for_user(*, user) -> QuerySet[Area]:
    """The top areas of the user's scope (their landing page shows these)."""
    scope = scope_for(user)
    if scope.sees_everything:
        return Area.objects.active().filter(parent__isnull=True)
    paths = scope.area_paths or scope.unit_area_paths
    return Area.objects.filter(path__in=paths).order_by("path")


def path_prefix_length(level: int) -> int:
    """Characters of a path down to and including an area of `level`."""
    lengths = [CODE_LENGTH[lv] for lv in AreaLevel.values if lv <= level]
    return sum(lengths) + len(lengths) - 1


@dataclass
class ChildSummary:
    area: Area
    grid_count: int
    worker_count: int


def area_children_summary(*, area: Area) -> list[ChildSummary]:
    """Each child of `area` with the number of grids and current grid workers below it.

    Three queries whatever the size: grids and workers are grouped by the child's path
    prefix (paths have a fixed length per level), so the prefix index does the work.
    """
    children = list(Area.objects.active().filter(parent=area).order_by("code"))
    if not children:
        return []
    if area.level + 1 == AreaLevel.GRID:
        # The children are the grids themselves: count their workers directly.
        grids = {c.path: 1 for c in children}
        workers = dict(
            GridStaff.objects.filter(grid__parent=area, role=StaffRole.WORKER, until__isnull=True)
            .values_list("grid__path")
            .annotate(n=Count("user", distinct=True))
            .values_list("grid__path", "n")
        )
        return [ChildSummary(c, grids[c.path], workers.get(c.path, 0)) for c in children]
    width = path_prefix_length(area.level + 1)
    below = area.path + PATH_SEPARATOR
    grids = dict(
        Area.objects.active()
        .grids()
        .filter(path__startswith=below)
        .annotate(child=Substr("path", 1, width))
        .values_list("child")
        .annotate(n=Count("pk"))
        .values_list("child", "n")
    )
    workers = dict(
        GridStaff.objects.filter(
            grid__path__startswith=below, role=StaffRole.WORKER, until__isnull=True
        )
        .annotate(child=Substr("grid__path", 1, width))
        .values_list("child")
        .annotate(n=Count("user", distinct=True))
        .values_list("child", "n")
    )
    return [ChildSummary(c, grids.get(c.path, 0), workers.get(c.path, 0)) for c in children]


def area_totals(*, area: Area) -> dict[str, int]:
    """Counts of every level below `area` and of its current grid workers (two queries)."""
    below = Q(path__startswith=area.path + PATH_SEPARATOR)
    per_level = dict(
        Area.objects.active().filter(below).values_list("level").annotate(n=Count("pk"))
    )
    workers = (
        GridStaff.objects.filter(
            grid__path__startswith=area.path + PATH_SEPARATOR,
            role=StaffRole.WORKER,
            until__isnull=True,
        )
        .values("user")
        .distinct()
        .count()
    )
    return {
        "streets": per_level.get(AreaLevel.STREET, 0),
        "communities": per_level.get(AreaLevel.COMMUNITY, 0),
        "grids": per_level.get(AreaLevel.GRID, 0),
        "workers": workers,
    }


def grid_posts_for_user(*, user) -> QuerySet[GridStaff]:
    """The user's current posts in grids, with the grid's community and street."""
    today = timezone.localdate()
    return (
        GridStaff.objects.filter(user=user)
        .filter(Q(until__isnull=True) | Q(until__gt=today))
        .select_related("grid", "grid__parent", "grid__parent__parent")
        .order_by("grid__code")
    )


def grid_colleagues(*, grid_ids: list[int]) -> dict[int, list[GridStaff]]:
    staff = (
        GridStaff.objects.filter(grid_id__in=grid_ids, until__isnull=True)
        .select_related("user")
        .order_by("role", "user__username")
    )
    out: dict[int, list[GridStaff]] = {}
    for s in staff:
        out.setdefault(s.grid_id, []).append(s)
    return out


def grid_at_point_for_user(*, user, lon: float, lat: float) -> Area | None:
    """The grid containing the point, if the user may see it: one indexed PostGIS query."""
    return (
        area_list_for_user(user=user)
        .containing(Point(lon, lat, srid=4326))
        .select_related("parent")
        .first()
    )


# Simplification tolerance in degrees per zoom: about a pixel at that zoom.
def simplify_tolerance(zoom: int) -> float:
    return 360.0 / (256 * 2**zoom)


def area_outlines_for_user(*, user, parent: Area, level: int, zoom: int = 14) -> str:
    """A GeoJSON FeatureCollection (text) of `level` areas under `parent` (or `parent`
    itself when `level` is its own), simplified for `zoom`, built by PostGIS. Scoped; one
    query."""
    qs = area_list_for_user(user=user)
    if level == parent.level:
        qs = qs.filter(pk=parent.pk)
    else:
        qs = qs.filter(path__startswith=parent.path + PATH_SEPARATOR, level=level)
    qs = (
        qs.exclude(boundary__isnull=True)
        .annotate(
            geojson=AsGeoJSON(
                Func(
                    "boundary",
                    Value(simplify_tolerance(zoom)),
                    function="ST_SimplifyPreserveTopology",
                    output_field=GeometryField(srid=4326),
                ),
                precision=6,
            )
        )
        .values_list("code", "name", "level", "grid_type", "geojson")
    )
    sql, params = qs.query.sql_with_params()
    return feature_collection(
        sql,
        params,
        feature=feature(
            geometry="t.geojson::json",
            properties={
                "code": "t.code",
                "name": "t.name",
                "level": "t.level",
                "grid_type": "t.grid_type",
            },
        ),
    )
