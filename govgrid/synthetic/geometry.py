"""Plausible, non-overlapping boundaries: nested Voronoi partitions clipped to the parent.

Each level cuts its parent into cells around relaxed random seeds, so siblings tile their
parent exactly (no gaps, no overlaps) and every child lies inside its parent.
"""

import math
import random

import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry


def blob(
    *, lon: float, lat: float, rx: float, ry: float, rng: random.Random, n: int = 32
) -> Polygon:
    """A rounded, irregular polygon around a centre (a district or city outline)."""
    points = []
    wobble = [rng.uniform(0.86, 1.08) for _ in range(n)]
    for i in range(n):
        # Smooth the noise with the neighbours so the outline wanders instead of spiking.
        r = (wobble[i - 1] + 2 * wobble[i] + wobble[(i + 1) % n]) / 4
        a = 2 * math.pi * i / n
        points.append((lon + rx * r * math.cos(a), lat + ry * r * math.sin(a)))
    return Polygon(points)


def _points_inside(poly: BaseGeometry, n: int, rng: random.Random) -> list[Point]:
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    points: list[Point] = []
    while len(points) < n:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if poly.contains(p):
            points.append(p)
    return points


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(parts)


def _cells(poly: BaseGeometry, seeds: list[Point]) -> list[MultiPolygon]:
    diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=poly, ordered=True)
    return [_polygonal(cell.intersection(poly)) for cell in diagram.geoms]


def partition(
    poly: BaseGeometry,
    n: int,
    rng: random.Random,
    *,
    seeds: list[tuple[float, float]] | None = None,
    relax: int = 2,
) -> list[MultiPolygon]:
    """Cut `poly` into `n` cells. Given `seeds` are kept in place (no relaxation)."""
    if n == 1 and not seeds:
        return [_polygonal(poly)]
    if seeds:
        points = [Point(x, y) for x, y in seeds]
        relax = 0
    else:
        points = _points_inside(poly, n, rng)
    for _ in range(relax):
        cells = _cells(poly, points)
        points = [
            c.centroid if poly.contains(c.centroid) else c.representative_point() for c in cells
        ]
    # No snapping to a coarser precision: siblings then share their edges exactly and every
    # child stays exactly inside its parent.
    return _cells(poly, points)


def west_to_east_north_to_south(cells: list[MultiPolygon]) -> list[MultiPolygon]:
    """Order cells for numbering: in bands from north to south, west to east within a band
    (the numbering rule of the 15-digit grid code)."""
    if len(cells) < 2:
        return cells
    maxy = max(c.bounds[3] for c in cells)
    miny = min(c.bounds[1] for c in cells)
    rows = max(1, round(math.sqrt(len(cells))))
    band = (maxy - miny) / rows or 1.0
    return sorted(cells, key=lambda c: (int((maxy - c.centroid.y) / band), c.centroid.x))


def split_count(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` spread over `parts`, each within one of the mean, in a shuffled order."""
    base, extra = divmod(total, parts)
    counts = [base + 1] * extra + [base] * (parts - extra)
    rng.shuffle(counts)
    return counts
