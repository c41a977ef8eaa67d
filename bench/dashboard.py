"""The map dashboard's endpoints on a Wuhan-sized city (PRODUCT.md §11 targets).

    DATABASE_URL=postgis://postgres@127.0.0.1:5432/govgrid_wuhan \\
      .venv/bin/python manage.py generate_city --scale wuhan      # once, ~6 min
    DATABASE_URL=... .venv/bin/python -m bench dashboard [--requests 200]

Each request goes through the whole Django stack in-process (middleware, session in Redis,
authentication, scoping, the view, PostgreSQL) with the test client, so the times are the
server's share of a request, without the network. Measured:

- map data: a street centre's open incidents in its street's bounding box (target p95 <
  150 ms), and the same request answered 304 by its ETag (what a polling screen costs);
- the per-area heat for the same box;
- outline tiles at city (zoom 10, districts), district (zoom 12, streets) and street (zoom
  14, grids) zoom, each over the tiles that cover the viewer's area (target < 50 ms), with
  their size before and after gzip;
- counters and charts for a street, a district and the whole city: cold (computed) and
  shared (from Redis, as every further screen of the same scope gets them that minute).

Prints JSON (and writes bench/results/dashboard.json).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govgrid.settings.local")
    import django

    django.setup()


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tiles_over(extent, z: int, limit: int = 60) -> list[tuple[int, int, int]]:
    x0, y1 = tile_of(extent[0], extent[1], z)
    x1, y0 = tile_of(extent[2], extent[3], z)
    tiles = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    step = max(1, len(tiles) // limit)
    return tiles[::step][:limit]


def timed(client, url: str, n: int, **headers) -> dict:
    times, sizes, zipped = [], [], []
    status = None
    for i in range(n):
        u = url[i % len(url)] if isinstance(url, list) else url
        t = time.perf_counter()
        response = client.get(u, **headers)
        times.append((time.perf_counter() - t) * 1000)
        status = response.status_code
        body = response.content
        sizes.append(len(body))
        if i < 20:
            zipped.append(len(gzip.compress(body)))
    times.sort()
    return {
        "status": status,
        "n": n,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (n - 1))], 1),
        "max_ms": round(times[-1], 1),
        "bytes_avg": int(statistics.mean(sizes)),
        "gzip_bytes_avg": int(statistics.mean(zipped)) if zipped else 0,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench dashboard")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    setup_django()

    from django.contrib.gis.db.models import Extent
    from django.db.models import Count, Q
    from django.test import Client

    from dispatch.workflow import OPEN_STATES
    from govgrid.accounts.models import Role, User
    from grids.models import Area, AreaLevel
    from incidents.models import Incident

    grids = Area.objects.filter(level=AreaLevel.GRID).count()
    open_count = Incident.objects.filter(state__in=OPEN_STATES).count()
    if grids < 16000 or open_count < 50000:
        sys.exit(
            f"Needs a Wuhan-sized city (has {grids} grids, {open_count} open incidents): "
            "manage.py generate_city --scale wuhan"
        )
    n = args.requests

    def user_for(role: str, area: Area | None = None) -> User:
        qs = User.objects.filter(roles__contains=[role], is_active=True)
        if area is not None:
            qs = qs.filter(unit__jurisdiction=area)
        return qs.order_by("pk").first()

    # The street with the median number of open cases: a typical street centre.
    streets = list(
        Area.objects.filter(level=AreaLevel.STREET)
        .annotate(
            open=Count(
                "children__children__incidents",
                filter=Q(children__children__incidents__state__in=OPEN_STATES),
            )
        )
        .order_by("open")
    )
    street = streets[len(streets) // 2]
    district = street.parent
    street_user = user_for(Role.STREET_CENTRE, street)
    district_user = user_for(Role.DISTRICT_CENTRE, district)
    admin = user_for(Role.ADMIN)

    def client_for(user) -> Client:
        c = Client(HTTP_HOST="localhost")
        c.force_login(user)
        return c

    street_c, district_c, admin_c = (client_for(u) for u in (street_user, district_user, admin))
    extent = Area.objects.filter(pk=street.pk).aggregate(e=Extent("boundary"))["e"]
    bbox = ",".join(f"{v:.5f}" for v in extent)
    results: dict = {
        "city": {
            "grids": grids,
            "open_incidents": open_count,
            "incidents": Incident.objects.count(),
        },
        "street": {"name": street.name, "open_incidents": street.open},
    }
    url = f"/api/dashboard/incidents/?bbox={bbox}&zoom=14"
    first = street_c.get(url)
    body = json.loads(first.content)
    results["street"]["features"] = len(body["features"])
    results["street"]["clustered"] = body["clustered"]
    results["map_data_street"] = timed(street_c, url, n)
    results["map_data_street_304"] = timed(street_c, url, n, HTTP_IF_NONE_MATCH=first["ETag"])
    results["heat_street"] = timed(street_c, f"/api/dashboard/heat/?bbox={bbox}&level=5", n)

    city_extent = Area.objects.filter(level=AreaLevel.CITY).aggregate(e=Extent("boundary"))["e"]
    district_extent = Area.objects.filter(pk=district.pk).aggregate(e=Extent("boundary"))["e"]
    for name, client, ext, z in (
        ("tile_city_z10", admin_c, city_extent, 10),
        ("tile_district_z12", district_c, district_extent, 12),
        ("tile_street_z14", street_c, extent, 14),
    ):
        urls = [f"/api/tiles/areas/{t[0]}/{t[1]}/{t[2]}.geojson" for t in tiles_over(ext, z)]
        results[name] = timed(client, urls, n) | {"tiles": len(urls)}

    # Counters and charts: computed once per scope and minute (cold), then shared by every
    # screen of that scope through Redis (warm).
    from dispatch.dashboard_api import shared_cache_forget

    class Cold:
        def __init__(self, client):
            self.client = client

        def get(self, url, **headers):
            shared_cache_forget()
            return self.client.get(url, **headers)

    for name, client, reps in (
        ("street", street_c, max(20, n // 4)),
        ("district", district_c, max(20, n // 4)),
        ("city", admin_c, max(10, n // 10)),
    ):
        results[f"stats_{name}_cold"] = timed(Cold(client), "/api/dashboard/stats/", reps)
        results[f"stats_{name}_shared"] = timed(client, "/api/dashboard/stats/", reps)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "dashboard.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(json.dumps(results, ensure_ascii=False, indent=2))
