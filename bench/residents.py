"""Person search over a Wuhan-sized register (≥ 1,000,000 people).

    .venv/bin/python manage.py generate_city --scale wuhan --no-incidents   # once
    .venv/bin/python -m bench residents [--queries 300] [--people 1000000]

Fills the residents register of the loaded city with `govgrid.synthetic.residents` at the
Wuhan scale when it holds fewer than `--people` people (a few minutes, by COPY), then times
the search the pages and the API use (`residents.selectors.person_search_for_user`):

- by exact identity number (through the keyed hash) as a street centre, a community station
  and an admin (the whole city);
- by name prefix (a surname and a given-name character) as a street centre and a station.

Each query is a fresh user object (so the scope is computed each time, as per request) and
the results are fetched. Prints JSON with p50/p95/max in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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


def _fill(people: int) -> dict:
    from govgrid.lib.progress import progress
    from govgrid.synthetic.residents import build_residents
    from residents.models import Person

    have = Person.objects.count()
    if have >= people:
        return {"people": have, "generated_s": 0}
    if have:
        sys.exit(f"{have} people already: run on an empty register or a larger one.")
    started = time.perf_counter()
    counts = build_residents(
        scale_name="wuhan",
        seed=2026,
        progress=lambda it, desc, total: progress(it, desc=desc, total=total, stream=sys.stderr),
    )
    return counts | {"generated_s": round(time.perf_counter() - started, 1)}


def _timed(fn, n: int) -> dict:
    times = []
    found = 0
    for i in range(n):
        t = time.perf_counter()
        found += fn(i)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {
        "queries": n,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * (n - 1))], 2),
        "max_ms": round(times[-1], 2),
        "rows_found": found,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench residents")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--people", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    setup_django()

    from django.db import connection

    from govgrid.accounts.models import Role, User
    from govgrid.lib import crypto
    from residents.models import Person
    from residents.selectors import person_search_for_user

    fill = _fill(args.people)
    rng = random.Random(7)
    total = Person.objects.count()
    # Sample people (ids spread over the table) and decrypt their numbers once, up front.
    max_id = Person.objects.order_by("-pk").values_list("pk", flat=True).first()
    sample = []
    while len(sample) < args.queries:
        p = (
            Person.objects.filter(pk__gte=rng.randint(1, max_id))
            .select_related("grid")
            .order_by("pk")
            .first()
        )
        if p:
            sample.append((crypto.decrypt(p.id_number_enc), p.name, p.grid.path))

    def user_for(role: str, path: str) -> User:
        if role == Role.ADMIN:
            return User.objects.get(username="admin")
        depth = {Role.STREET_CENTRE: 3, Role.COMMUNITY_STATION: 4}[role]
        code = path.split(".")[depth - 1]
        return User.objects.filter(roles__contains=[role], unit__jurisdiction__code=code).first()

    roles = (Role.STREET_CENTRE, Role.COMMUNITY_STATION, Role.ADMIN)
    users = {role: [user_for(role, path).pk for _n, _m, path in sample] for role in roles}
    results: dict = {"people": total, "fill": fill}
    for role in roles:

        def by_number(i, role=role):
            # Loading the user is part of each request (the session middleware does it).
            user = User.objects.get(pk=users[role][i])
            return len(list(person_search_for_user(user=user, query=sample[i][0])))

        results[f"id_number_as_{role}"] = _timed(by_number, args.queries)
    for role in roles[:2]:

        def by_name(i, role=role):
            user = User.objects.get(pk=users[role][i])
            found = person_search_for_user(user=user, query=sample[i][1][:2], limit=50)
            return len(list(found))

        results[f"name_prefix_as_{role}"] = _timed(by_name, args.queries)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('residents_person'))")
        results["person_table_size"] = cursor.fetchone()[0]
    print(json.dumps(results, ensure_ascii=False, indent=2))
