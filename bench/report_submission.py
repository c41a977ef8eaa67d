"""Report submission through the API, sustained, against a real gunicorn on the demo data.

    make run                      # once: the demo district (or any loaded city)
    .venv/bin/python -m bench report --seconds 30 --clients 8 --workers 3

Starts its own gunicorn (production-like: DEBUG off) on a free port, logs in one HTTP client
per grid worker (session + CSRF, as the phone does), and has `--clients` threads each post
reports with JSON bodies to /api/incidents/report/ in their own grid for `--seconds`.
Prints throughput and latency percentiles; the reports it files are removed afterwards
only with --cleanup (they are ordinary incidents in the database).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Govgrid#2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        for header in r.headers.get_all("Set-Cookie") or []:
            c = SimpleCookie(header)
            for k, m in c.items():
                self.cookies[k] = m.value
        return r.status, data

    def login(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        token = self.cookies["csrftoken"]
        password = PASSWORD.replace("#", "%23")
        body = f"csrfmiddlewaretoken={token}&username={username}&password={password}"
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": "http://127.0.0.1/"},
        )
        if status != 302:
            raise SystemExit(f"login failed for {username}: {status}")


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govgrid.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def workers_and_points(limit: int):
    """(username, lon, lat, category id) for up to `limit` grid workers with their grid."""
    from grids.models import GridStaff, StaffRole
    from incidents.models import Category

    category = (
        Category.objects.filter(parent__isnull=False, is_active=True, handling_level=3)
        .order_by("code")
        .first()
    )
    out = []
    for s in GridStaff.objects.filter(role=StaffRole.WORKER, until__isnull=True).select_related(
        "grid", "user"
    )[:limit]:
        p = s.grid.boundary.point_on_surface
        out.append((s.user.username, p.x, p.y, category.pk))
    return out


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench report")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    ap.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    ap.add_argument("--cleanup", action="store_true")
    a = ap.parse_args(argv)

    setup_django()
    cast = workers_and_points(a.clients)
    if not cast:
        raise SystemExit("no grid workers: run `make run` (or generate_city) first")
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "False",
        "DJANGO_SETTINGS_MODULE": "govgrid.settings.local",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "govgrid.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(a.workers),
            "--threads",
            str(a.threads),
            "--log-level",
            "warning",
            "--env",
            "DJANGO_SETTINGS_MODULE=govgrid.settings.local",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        from incidents.models import Incident

        before = Incident.objects.count()
        clients = []
        for username, lon, lat, cat in (cast * ((a.clients // len(cast)) + 1))[: a.clients]:
            c = Client(port)
            c.login(username)
            clients.append((c, lon, lat, cat))
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + a.seconds

        def run(c: Client, lon: float, lat: float, cat: int) -> None:
            headers = {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-CSRFToken": c.cookies["csrftoken"],
                "Referer": f"http://127.0.0.1:{port}/",
            }
            n = 0
            while time.monotonic() < deadline:
                n += 1
                body = json.dumps(
                    {
                        "category": cat,
                        "description": f"压测上报 {n}",
                        "lon": lon,
                        "lat": lat,
                        "location_source": "gps",
                    }
                )
                t0 = time.perf_counter()
                status, data = c.request("POST", "/api/incidents/report/", body, headers)
                dt = time.perf_counter() - t0
                with lock:
                    if status == 201:
                        latencies.append(dt)
                    else:
                        errors.append(f"{status} {data[:120]!r}")

        started = time.monotonic()
        threads = [threading.Thread(target=run, args=x) for x in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        filed = Incident.objects.count() - before
        lat_ms = sorted(x * 1000 for x in latencies)

        def pct(p: float) -> float:
            return (
                lat_ms[min(len(lat_ms) - 1, int(p / 100 * len(lat_ms)))] if lat_ms else float("nan")
            )

        result = {
            "reports": len(latencies),
            "filed_in_db": filed,
            "errors": len(errors),
            "seconds": round(elapsed, 1),
            "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(pct(50), 1),
            "p95_ms": round(pct(95), 1),
            "p99_ms": round(pct(99), 1),
            "mean_ms": round(statistics.fmean(lat_ms), 1) if lat_ms else None,
            "clients": a.clients,
            "gunicorn_workers": a.workers,
            "gunicorn_threads": a.threads,
            "cpus": os.cpu_count(),
        }
        print(json.dumps(result, ensure_ascii=False, indent=2))
        if errors:
            print("first errors:", *errors[:5], sep="\n  ")
        if a.cleanup and filed:
            # A development convenience only: incident histories are otherwise never deleted.
            Incident.objects.filter(description__startswith="压测上报 ").delete()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


if __name__ == "__main__":
    main(sys.argv[1:])
