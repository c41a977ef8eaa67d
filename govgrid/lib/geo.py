"""Domain-free geometry helpers (shapely for in-memory checks, metres for tolerances)."""

import math

import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from shapely.geometry.base import BaseGeometry

EARTH_M_PER_DEG_LAT = 110_574.0
EARTH_M_PER_DEG_LON_EQUATOR = 111_320.0


def to_metres(geom: BaseGeometry, *, lat0: float) -> BaseGeometry:
    """Project lon/lat to a local equirectangular plane in metres.

    Accurate to well under 1 % across a city, which is all a tolerance in m² needs, and
    needs neither GDAL nor PROJ at import time.
    """
    kx = EARTH_M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
    return shapely.transform(geom, lambda xy: xy * [kx, EARTH_M_PER_DEG_LAT])


def area_m2(geom: BaseGeometry, *, lat0: float) -> float:
    return to_metres(geom, lat0=lat0).area


def to_multipolygon(geom: BaseGeometry) -> GEOSGeometry:
    """A shapely (Multi)Polygon as a GEOS MultiPolygon in SRID 4326."""
    g = GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=4326)
    if g.geom_type == "Polygon":
        g = MultiPolygon(g, srid=4326)
    return g
