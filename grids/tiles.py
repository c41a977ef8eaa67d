"""Area outlines as GeoJSON map tiles (z/x/y, web-mercator), simplified per zoom by PostGIS.

A Wuhan-sized city has 16,274 grids; the dashboard never asks for them at once. Each tile
carries the outlines of one level of the tree chosen by the zoom (districts when the city
fits the screen, grids from street zoom on), never a level above the viewer's own area,
simplified to about one screen pixel and rounded to the precision that zoom can show.
Outlines that cross a tile edge come whole in each tile they touch; the browser keeps one
copy per area code. Built in one query; scoped by the one scoping function.
"""

from __future__ import annotations

import math

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.db.models import Func, Value

from govgrid.accounts.scoping import scope_for
from govgrid.lib.geojson import feature, feature_collection
from grids.models import PATH_SEPARATOR, AreaLevel
from grids.selectors import area_list_for_user, simplify_tolerance

MAX_ZOOM = 20
# Which level of the tree a zoom shows (first match of zoom >= key, highest key first).
LEVEL_FOR_ZOOM = ((14, AreaLevel.GRID), (13, AreaLevel.COMMUNITY), (11, AreaLevel.STREET))
# Web-mercator stops at this latitude.
MAX_LAT = 85.0511287798


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of tile z/x/y."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y))


def tile_exists(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def level_for_zoom(z: int) -> int:
    return next((level for zoom, level in LEVEL_FOR_ZOOM if z >= zoom), AreaLevel.DISTRICT)


def tile_level_for_user(*, user, z: int) -> int:
    """The zoom's level, but never above the top of the user's own area."""
    scope = scope_for(user)
    level = level_for_zoom(z)
    roots = scope.area_paths or scope.unit_area_paths
    if roots and not scope.sees_everything:
        level = max(level, min(len(p.split(PATH_SEPARATOR)) for p in roots))
    return level


def area_tile_for_user(*, user, z: int, x: int, y: int) -> str:
    """A GeoJSON FeatureCollection (text) of the outlines in tile z/x/y the user may see."""
    level = tile_level_for_user(user=user, z=z)
    envelope = Polygon.from_bbox(tile_bounds(z, x, y))
    envelope.srid = 4326
    digits = 3 if z <= 8 else 4 if z <= 11 else 5 if z <= 14 else 6
    qs = (
        area_list_for_user(user=user)
        .filter(level=level, boundary__bboverlaps=envelope)
        .order_by()
        .annotate(
            geojson=AsGeoJSON(
                Func(
                    "boundary",
                    Value(simplify_tolerance(z)),
                    function="ST_SimplifyPreserveTopology",
                    output_field=GeometryField(srid=4326),
                ),
                precision=digits,
            )
        )
        .values_list("code", "name", "level", "geojson")
    )
    sql, params = qs.query.sql_with_params()
    return feature_collection(
        sql,
        params,
        members={"level": level},
        feature=feature(
            id="t.code",
            geometry="t.geojson::json",
            properties={"code": "t.code", "name": "t.name", "level": "t.level"},
        ),
    )
