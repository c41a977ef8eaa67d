"""Synthetic residents and places: buildings, houses, people and who lives where, key persons
and care groups, organisations, and (demo) visits and patrols.

Rows are produced in Python and streamed with PostgreSQL COPY under reserved ids, grid by
grid in chunks, so the Wuhan scale (about 62 people a grid, over 1,000,000 people) takes a
few minutes. Identity numbers are valid GB 11643 numbers, unique by construction (region,
birth date and a per-city sequence); they and the phones are sealed exactly as the services
seal them (Fernet, keyed hash, mask), so nothing is stored in plain text here either.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone

from govgrid.lib import crypto
from govgrid.synthetic import names
from residents import pii

ProgressFn = Callable[[Iterable, str, int], Iterable]


@dataclass(frozen=True)
class ResidentScale:
    buildings_per_grid: tuple[int, int]
    houses_per_building: tuple[int, int]
    people_per_house: tuple[int, int]
    key_share: float
    care_share: float
    orgs_per_grid: tuple[int, int]
    visits: bool
    patrol_days: int
    # Records were entered over the last `entered_days` days (their history's `created` rows,
    # by the grid's worker); a share of the people were corrected a few days later.
    entered_days: int = 60
    corrected_share: float = 0.0


RESIDENT_SCALES = {
    # ~60 grids × 4 buildings × 6 houses × 2.3 people ≈ 3,300 people.
    "demo": ResidentScale((3, 5), (4, 8), (1, 4), 0.02, 0.03, (2, 5), True, 7, 60, 0.08),
    # 16,274 grids × 62 ≈ 1,010,000 people.
    "wuhan": ResidentScale((3, 5), (6, 10), (2, 3), 0.01, 0.01, (1, 3), False, 0),
}

SURNAME_NAMES = names.SURNAMES
USES = ["self"] * 6 + ["rented"] * 3 + ["vacant", "collective", "commercial"]
KINDS = ["registered"] * 7 + ["floating"] * 3 + ["unregistered"]
RISKS = ["green"] * 6 + ["yellow"] * 3 + ["orange", "red"]
ORG_KINDS = ["企业", "个体工商户", "社会团体", "民办非企业单位"]
PLACE_KINDS = ["网吧", "旅馆", "典当行", "危险化学品单位", "公共复杂场所", "医院"]
SENSITIVE_SAMPLE = {
    "correction": {"offence": "盗窃罪"},
    "released": {"offence": "诈骗罪"},
    "mental": {"diagnosis": "精神分裂症", "treatment": "规律服药"},
    "drug": {"drug_history": "曾吸食冰毒"},
    "petition": {"matter": "征地拆迁补偿"},
    "elderly_alone": {"health": "高血压"},
    "disabled": {"disability": "肢体残疾二级"},
}


def _reserve(table: str, n: int, floor: int = 1) -> int:
    """Reserve n ids of `table` from at least `floor`; returns the first.

    The sequence is moved past the block, so rows saved meanwhile by the services never
    take one of these ids; the table lock lasts till the chunk's commit.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        seq = cursor.fetchone()[0]
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        first = max(cursor.fetchone()[0] + 1, floor)
        cursor.execute("SELECT setval(%s, %s)", [seq, first + n - 1])
    return first


def _copy(table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _ewkt(geom) -> str:
    return f"SRID=4326;{geom.wkt}"


class _Ids:
    """Hands out ids from blocks reserved per table."""

    def __init__(self, table: str, block: int = 100_000) -> None:
        self.table, self.block, self.next, self.end = table, block, 0, 0

    def take(self) -> int:
        if self.next >= self.end:
            self.next = _reserve(self.table, self.block, floor=self.end)
            self.end = self.next + self.block
        self.next += 1
        return self.next - 1


class _Builder:
    def __init__(
        self, scale: ResidentScale, rng: random.Random, now: datetime, seed: int = 0
    ) -> None:
        self.scale, self.rng, self.now = scale, rng, now
        # Entry dates and corrections draw from their own generator, so the records
        # themselves stay those of the main one.
        self.dates = random.Random(seed * 7919 + 7)
        self.worker_id: int | None = None
        self.today = timezone.localdate(now)
        self.ids = {
            t: _Ids(t)
            for t in (
                "residents_building",
                "residents_house",
                "residents_person",
                "residents_residence",
                "residents_organisation",
                "residents_keyperson",
            )
        }
        self.used: set[str] = set()
        self.key_rows: list[tuple] = []
        self.rows: dict[str, list[tuple]] = {}
        self.counts: dict[str, int] = {}

    def entered(self) -> datetime:
        """When a building's records were entered: some moment of the last days."""
        return self.now - timedelta(seconds=self.dates.randint(0, self.scale.entered_days * 86400))

    def history(self, kind: str, pk: int, grid_id: int, at: datetime, action: str = "created"):
        """A row of the register's history by the grid's worker (residents.RecordChange)."""
        fields = json.dumps(["phone"] if action == "updated" else [])
        self.add("residents_recordchange", (kind, pk, grid_id, self.worker_id, action, fields, at))

    def add(self, table: str, row: tuple) -> None:
        self.rows.setdefault(table, []).append(row)
        self.counts[table] = self.counts.get(table, 0) + 1

    def id_number(self, region: str) -> str:
        """A valid number not handed out before (region + birth date + order is unique)."""
        while True:
            birth = self.today - timedelta(days=self.rng.randint(365, 92 * 365))
            first17 = f"{region}{birth:%Y%m%d}{self.rng.randint(0, 999):03d}"
            if first17 not in self.used:
                self.used.add(first17)
                return first17 + pii.id_check_char(first17)

    def person(self, grid, region: str, at: datetime) -> tuple[int, str]:
        pk = self.ids["residents_person"].take()
        number = self.id_number(region)
        phone = names.phone_number(self.rng)
        name = names.person_name(self.rng)
        gender = "m" if int(number[16]) % 2 else "f"
        self.history("person", pk, grid.pk, at)
        changed = at
        if self.dates.random() < self.scale.corrected_share:
            # The phone corrected by the worker some days after entry.
            changed = min(at + timedelta(days=self.dates.randint(2, 20)), self.now)
            self.history("person", pk, grid.pk, changed, "updated")
        self.add(
            "residents_person",
            (
                pk,
                at,
                changed,
                grid.pk,
                name,
                gender,
                pii.id_birth_date(number),
                self.rng.choice(KINDS),
                "汉族",
                "",
                crypto.encrypt(number),
                crypto.blind_index(number),
                pii.id_mask(number),
                crypto.encrypt(phone),
                crypto.blind_index(phone),
                pii.phone_mask(phone),
                f"湖北省武汉市{grid.name}",
                "",
                "",
            ),
        )
        return pk, name

    def grid(self, grid, workers: dict[int, int], groups: list) -> None:
        rng, s = self.rng, self.scale
        centre = grid.boundary.centroid if grid.boundary else Point(114.3, 30.6)
        region = grid.code[:6]
        extent = grid.boundary.extent if grid.boundary else (0, 0, 0, 0)
        self.worker_id = workers.get(grid.pk)
        for b in range(rng.randint(*s.buildings_per_grid)):
            bpk = self.ids["residents_building"].take()
            entered = self.entered()
            x = rng.uniform(extent[0], extent[2]) if grid.boundary else centre.x
            y = rng.uniform(extent[1], extent[3]) if grid.boundary else centre.y
            point = Point(x, y, srid=4326)
            if grid.boundary and not grid.boundary.covers(point):
                point = grid.boundary.point_on_surface
            self.add(
                "residents_building",
                (
                    bpk,
                    self.now,
                    self.now,
                    grid.pk,
                    f"{b + 1}栋",
                    f"{grid.name}{b + 1}栋",
                    _ewkt(point),
                    rng.randint(2, 30),
                ),
            )
            for h in range(rng.randint(*s.houses_per_building)):
                hpk = self.ids["residents_house"].take()
                use = rng.choice(USES)
                self.history("house", hpk, grid.pk, entered)
                self.add(
                    "residents_house",
                    (
                        hpk,
                        entered,
                        entered,
                        bpk,
                        grid.pk,
                        str(1 + h % 3),
                        f"{100 * (1 + h // 3) + h % 3 + 1}",
                        use,
                        None,
                        "",
                        "",
                        "",
                        4 if use == "rented" else None,
                        "safe" if use == "rented" else "",
                    ),
                )
                if use in ("vacant", "commercial"):
                    continue
                for n in range(rng.randint(*s.people_per_house)):
                    ppk, _name = self.person(grid, region, entered)
                    self.add(
                        "residents_residence",
                        (
                            self.ids["residents_residence"].take(),
                            self.now,
                            self.now,
                            ppk,
                            hpk,
                            "owner"
                            if n == 0 and use == "self"
                            else "tenant"
                            if use == "rented"
                            else "family",
                            self.today - timedelta(days=rng.randint(30, 4000)),
                            None,
                        ),
                    )
                    self.key_person(ppk, grid, workers.get(grid.pk), groups)
        for _ in range(rng.randint(*s.orgs_per_grid)):
            key = rng.random() < 0.4
            phone = names.phone_number(rng)
            opk = self.ids["residents_organisation"].take()
            entered = self.entered()
            self.history("organisation", opk, grid.pk, entered)
            self.add(
                "residents_organisation",
                (
                    opk,
                    entered,
                    entered,
                    grid.pk,
                    names.place_name(rng, set(), "网吧" if key else "商行"),
                    rng.choice(ORG_KINDS),
                    rng.choice(PLACE_KINDS) if key else "",
                    key,
                    "",
                    "",
                    crypto.encrypt(phone),
                    pii.phone_mask(phone),
                    grid.name,
                    _ewkt(centre),
                    rng.randint(1, 80),
                ),
            )

    def key_person(self, ppk: int, grid, worker_id, groups) -> None:
        roll = self.rng.random()
        kind = (
            "key"
            if roll < self.scale.key_share
            else ("care" if roll < self.scale.key_share + self.scale.care_share else None)
        )
        if kind is None:
            return
        group = self.rng.choice([g for g in groups if g.kind == kind])
        since = self.today - timedelta(days=self.rng.randint(40, 700))
        # About a third are overdue: their next visit fell due in the last days.
        due = self.today + timedelta(days=self.rng.randint(-10, group.visit_interval_days))
        secret = SENSITIVE_SAMPLE.get(group.code)
        kpk = self.ids["residents_keyperson"].take()
        self.add(
            "residents_keyperson",
            (
                kpk,
                self.now,
                self.now,
                ppk,
                group.pk,
                grid.pk,
                self.rng.choice(RISKS),
                worker_id,
                group.visit_interval_days,
                json.dumps({}),
                crypto.encrypt(json.dumps(secret, ensure_ascii=False)) if secret else "",
                since,
                None,
                None,
                due,
            ),
        )
        self.key_rows.append((kpk, ppk, grid.pk, worker_id, due, group.visit_interval_days))

    def flush(self) -> None:
        for table, columns in COLUMNS.items():
            _copy(table, columns, self.rows.get(table, []))
        self.rows = {}


COLUMNS = {
    "residents_building": [
        "id",
        "created_at",
        "updated_at",
        "grid_id",
        "name",
        "address",
        "location",
        "floors",
    ],
    "residents_house": [
        "id",
        "created_at",
        "updated_at",
        "building_id",
        "grid_id",
        "unit_no",
        "room",
        "use",
        "area_m2",
        "owner_name",
        "landlord_name",
        "lease_number",
        "tenant_limit",
        "hazard_level",
    ],
    "residents_person": [
        "id",
        "created_at",
        "updated_at",
        "grid_id",
        "name",
        "gender",
        "birth_date",
        "kind",
        "ethnicity",
        "nationality",
        "id_number_enc",
        "id_number_hash",
        "id_number_masked",
        "phone_enc",
        "phone_hash",
        "phone_masked",
        "registered_address",
        "inflow_reason",
        "notes",
    ],
    "residents_residence": [
        "id",
        "created_at",
        "updated_at",
        "person_id",
        "house_id",
        "relation",
        "since",
        "until",
    ],
    "residents_organisation": [
        "id",
        "created_at",
        "updated_at",
        "grid_id",
        "name",
        "kind",
        "place_kind",
        "is_key_place",
        "credit_code",
        "legal_person",
        "phone_enc",
        "phone_masked",
        "address",
        "location",
        "employees",
    ],
    "residents_keyperson": [
        "id",
        "created_at",
        "updated_at",
        "person_id",
        "group_id",
        "grid_id",
        "risk_level",
        "responsible_id",
        "visit_interval_days",
        "details",
        "sensitive_enc",
        "since",
        "until",
        "last_visit_at",
        "next_visit_due",
    ],
    # No id: the table's sequence numbers the rows.
    "residents_recordchange": [
        "kind",
        "record_id",
        "grid_id",
        "actor_id",
        "action",
        "changed_fields",
        "at",
    ],
}


def build_residents(
    *, scale_name: str, seed: int, progress: ProgressFn, chunk: int = 400
) -> dict[str, int]:
    """Residents for every grid of the loaded city; returns row counts.

    Each chunk of grids is one transaction, so a Wuhan-scale run that is interrupted keeps
    what it wrote (run it on an empty residents register).
    """
    from grids.models import Area, GridStaff
    from residents.models import KeyGroup

    scale = RESIDENT_SCALES["wuhan" if scale_name == "wuhan" else "demo"]
    rng = random.Random(seed * 7919 + 6)
    now = timezone.now()
    if not KeyGroup.objects.exists():
        # A database flushed by a test has lost the migration's seed: put it back.
        from residents.models import Dictionary, KeyGroupGrant
        from residents.seed import seed_residents

        seed_residents(Dictionary, KeyGroup, KeyGroupGrant)
    groups = list(KeyGroup.objects.filter(is_active=True))
    workers = dict(
        GridStaff.objects.filter(role="worker", until__isnull=True).values_list(
            "grid_id", "user_id"
        )
    )
    grids = list(Area.objects.grids().only("pk", "code", "name", "boundary").order_by("code"))
    builder = _Builder(scale, rng, now, seed)
    for start in progress(range(0, len(grids), chunk), "residents", -(-len(grids) // chunk)):
        with transaction.atomic():
            for grid in grids[start : start + chunk]:
                builder.grid(grid, workers, groups)
            builder.flush()
    counts = {
        "buildings": builder.counts.get("residents_building", 0),
        "houses": builder.counts.get("residents_house", 0),
        "people": builder.counts.get("residents_person", 0),
        "key persons": builder.counts.get("residents_keyperson", 0),
        "organisations": builder.counts.get("residents_organisation", 0),
        "record changes": builder.counts.get("residents_recordchange", 0),
    }
    if scale.visits:
        counts["visits"] = _visits(builder, rng, now)
    if scale.patrol_days:
        counts["patrols"] = _patrols(scale.patrol_days, rng, now, progress)
    return counts


@transaction.atomic
def _visits(builder: _Builder, rng: random.Random, now: datetime) -> int:
    """Past visits of each key person by their worker: the last one matches the due date."""
    from residents.models import Visit

    visits = []
    for kpk, ppk, grid_id, worker_id, due, interval in builder.key_rows:
        if worker_id is None:
            continue
        last = due - timedelta(days=interval)
        for k in range(rng.randint(1, 3)):
            day = last - timedelta(days=k * interval)
            at = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(
                hours=rng.randint(9, 17), minutes=rng.randint(0, 59)
            )
            if at >= now:
                continue
            visits.append(
                Visit(
                    visitor_id=worker_id,
                    grid_id=grid_id,
                    person_id=ppk,
                    key_person_id=kpk,
                    visited_at=at,
                    is_in_grid=True,
                    notes="入户走访，情况稳定",
                )
            )
    Visit.objects.bulk_create(visits, batch_size=2000)
    from residents.models import KeyPerson

    last_at = {}
    for v in visits:
        last_at[v.key_person_id] = max(last_at.get(v.key_person_id, v.visited_at), v.visited_at)
    rows = list(KeyPerson.objects.filter(pk__in=last_at))
    for kp in rows:
        kp.last_visit_at = last_at[kp.pk]
    KeyPerson.objects.bulk_update(rows, ["last_visit_at"], batch_size=2000)
    return len(visits)


@transaction.atomic
def _patrols(days: int, rng: random.Random, now: datetime, progress: ProgressFn) -> int:
    """A morning patrol a day for every grid worker over the last `days` days (today's ended
    an hour ago), walking a loop inside the grid with a position every minute."""
    from grids.models import Area, GridStaff, Patrol, PatrolPoint
    from grids.patrols import patrol_track_rebuild

    posts = list(
        GridStaff.objects.filter(role="worker", until__isnull=True).values_list(
            "user_id", "grid_id"
        )
    )
    boundaries = dict(Area.objects.grids().values_list("pk", "boundary"))
    patrols, points = [], []
    today = timezone.localdate(now)
    for user_id, grid_id in progress(posts, "patrols", len(posts)):
        boundary = boundaries.get(grid_id)
        if boundary is None:
            continue
        c = boundary.point_on_surface
        x0, y0, x1, y1 = boundary.extent
        radius = min(x1 - x0, y1 - y0) / 4
        for d in range(days):
            day = today - timedelta(days=d)
            midnight = timezone.make_aware(datetime.combine(day, datetime.min.time()))
            start = midnight + timedelta(hours=8, minutes=rng.randint(0, 90))
            minutes = rng.randint(60, 150)
            if start + timedelta(minutes=minutes) > now - timedelta(minutes=10):
                # Today's has not happened yet at this hour: it ended ten minutes ago instead,
                # having started today (the leaders' map shows today's tracks).
                start = max(now - timedelta(minutes=minutes + 10), midnight)
                minutes = int((now - timedelta(minutes=10) - start).total_seconds() // 60)
                if minutes < 6:
                    continue
            end = start + timedelta(minutes=minutes)
            coords = []
            for m in range(0, minutes, 2):
                a = 2 * math.pi * m / minutes
                coords.append(
                    (
                        c.x + radius * math.cos(a) + rng.uniform(-1e-4, 1e-4),
                        c.y + radius * math.sin(a) + rng.uniform(-1e-4, 1e-4),
                    )
                )
            p = Patrol(worker_id=user_id, grid_id=grid_id, started_at=start, ended_at=end)
            p._coords = coords
            patrols.append(p)
    Patrol.objects.bulk_create(patrols, batch_size=1000)
    for p in patrols:
        for i, (x, y) in enumerate(p._coords):
            points.append(
                PatrolPoint(
                    patrol_id=p.pk,
                    at=p.started_at + timedelta(minutes=2 * i),
                    location=Point(x, y, srid=4326),
                )
            )
    PatrolPoint.objects.bulk_create(points, batch_size=5000)
    # Track, distance, duration and coverage as the service derives them from the positions.
    for p in patrols:
        patrol_track_rebuild(p.pk)
    return len(patrols)
