"""Build a synthetic city: the area tree with boundaries, units, users and grid staffing.

Everything is derived from one `random.Random(seed)`, so the same seed gives the same city.
Rows are written with bulk inserts, level by level, so the Wuhan scale (16 districts,
178 streets, 3,133 communities, 16,274 grids) takes about a minute.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.hashers import make_password
from django.db import transaction

from govgrid.accounts.models import Role, Unit, UnitKind, User
from govgrid.lib.geo import to_multipolygon
from govgrid.synthetic import geometry, names
from grids.models import PATH_SEPARATOR, Area, AreaLevel, GridStaff, GridType, StaffRole

DEMO_PASSWORD = "Govgrid#2026"

# The memorable demo logins, one per role, given to the first user of that role.
DEMO_LOGINS = {
    "admin": Role.ADMIN,
    "leader": Role.LEADER,
    "district": Role.DISTRICT_CENTRE,
    "street": Role.STREET_CENTRE,
    "station": Role.COMMUNITY_STATION,
    "gridleader": Role.GRID_LEADER,
    "gridworker": Role.GRID_WORKER,
    "handler": Role.UNIT_HANDLER,
}

CITY = ("420100", "武汉市", 114.33, 30.60)
DEDICATED_FACILITIES = ["小学", "中学", "医院", "农贸市场", "产业园", "高校"]


@dataclass(frozen=True)
class Scale:
    districts: int
    streets: int
    communities: int
    grids: int
    # Incidents filed and walked through the real services (slow path, for demos).
    demo_incidents: int = 0
    # Incidents written by bulk COPY (govgrid/synthetic/bulk.py): open now, closed last month.
    bulk_open: int = 0
    bulk_closed: int = 0


SCALES = {
    # One district (江汉区): 4 streets, 12 communities, 60 grids.
    "demo": Scale(districts=1, streets=4, communities=12, grids=60, demo_incidents=2000),
    # Wuhan (PRODUCT.md section 2).
    "wuhan": Scale(
        districts=16,
        streets=178,
        communities=3133,
        grids=16274,
        bulk_open=50_000,
        bulk_closed=500_000,
    ),
}


@dataclass
class PlannedArea:
    level: int
    code: str
    name: str
    parent_code: str | None
    geom: object
    grid_type: str = ""
    path: str = ""
    pk: int | None = None


@dataclass
class Plan:
    areas: dict[int, list[PlannedArea]] = field(default_factory=dict)

    def add(self, area: PlannedArea) -> PlannedArea:
        self.areas.setdefault(area.level, []).append(area)
        return area

    def count(self) -> int:
        return sum(len(v) for v in self.areas.values())


ProgressFn = Callable[[Iterable, str, int], Iterable]


def city_exists() -> bool:
    return Area.objects.filter(level=AreaLevel.CITY).exists()


def plan_areas(scale: Scale, rng: random.Random, progress: ProgressFn) -> Plan:
    plan = Plan()
    code, name, lon, lat = CITY
    city_geom = geometry.blob(lon=lon, lat=lat, rx=0.62, ry=0.56, rng=rng)
    plan.add(PlannedArea(AreaLevel.CITY, code, name, None, city_geom))

    if scale.districts == 1:
        d_code, d_name, d_lon, d_lat = names.WUHAN_DISTRICTS[1]  # 江汉区
        district_cells = [geometry.blob(lon=d_lon, lat=d_lat, rx=0.045, ry=0.035, rng=rng)]
        districts = [(d_code, d_name)]
    else:
        chosen = names.WUHAN_DISTRICTS[: scale.districts]
        district_cells = geometry.partition(
            city_geom, len(chosen), rng, seeds=[(x, y) for _c, _n, x, y in chosen]
        )
        districts = [(c, n) for c, n, _x, _y in chosen]

    street_counts = geometry.split_count(scale.streets, len(districts), rng)
    community_counts = geometry.split_count(scale.communities, scale.streets, rng)
    grid_counts = geometry.split_count(scale.grids, scale.communities, rng)
    street_i = community_i = 0

    for (d_code, d_name), d_geom, n_streets in progress(
        list(zip(districts, district_cells, street_counts, strict=True)),
        "districts",
        len(districts),
    ):
        plan.add(PlannedArea(AreaLevel.DISTRICT, d_code, d_name, code, d_geom))
        street_names: set[str] = set()
        real = list(names.JIANGHAN_STREETS) if d_code == "420103" else []
        cells = geometry.west_to_east_north_to_south(geometry.partition(d_geom, n_streets, rng))
        for s_seq, s_geom in enumerate(cells, start=1):
            s_code = f"{d_code}{s_seq:03d}"
            s_name = real.pop(0) if real else names.place_name(rng, street_names, "街道")
            plan.add(PlannedArea(AreaLevel.STREET, s_code, s_name, d_code, s_geom))
            n_comm = community_counts[street_i]
            street_i += 1
            comm_names: set[str] = set()
            c_cells = geometry.west_to_east_north_to_south(geometry.partition(s_geom, n_comm, rng))
            for c_seq, c_geom in enumerate(c_cells, start=1):
                c_code = f"{s_code}{c_seq:03d}"
                c_name = names.place_name(rng, comm_names, "社区")
                plan.add(PlannedArea(AreaLevel.COMMUNITY, c_code, c_name, s_code, c_geom))
                n_grids = grid_counts[community_i]
                community_i += 1
                g_cells = geometry.west_to_east_north_to_south(
                    geometry.partition(c_geom, n_grids, rng, relax=1)
                )
                for g_seq, g_geom in enumerate(g_cells, start=1):
                    dedicated = n_grids > 3 and rng.random() < 0.05
                    g_name = (
                        f"{c_name}{rng.choice(DEDICATED_FACILITIES)}专属网格"
                        if dedicated
                        else f"{c_name}第{g_seq}网格"
                    )
                    plan.add(
                        PlannedArea(
                            AreaLevel.GRID,
                            f"{c_code}{g_seq:03d}",
                            g_name,
                            c_code,
                            g_geom,
                            GridType.DEDICATED if dedicated else GridType.BASIC,
                        )
                    )
    return plan


def write_areas(plan: Plan, progress: ProgressFn, batch: int = 2000) -> dict[str, PlannedArea]:
    by_code: dict[str, PlannedArea] = {}
    for level in AreaLevel.values:
        planned = plan.areas.get(level, [])
        rows = []
        for p in planned:
            parent = by_code.get(p.parent_code) if p.parent_code else None
            p.path = f"{parent.path}{PATH_SEPARATOR}{p.code}" if parent else p.code
            rows.append(
                Area(
                    level=p.level,
                    code=p.code,
                    name=p.name,
                    parent_id=parent.pk if parent else None,
                    path=p.path,
                    boundary=to_multipolygon(p.geom),
                    grid_type=p.grid_type,
                    valid_from=date(2020, 1, 1),
                )
            )
        label = str(AreaLevel(level).label)
        for start in progress(range(0, len(rows), batch), label, (len(rows) + batch - 1) // batch):
            Area.objects.bulk_create(rows[start : start + batch])
        for p, row in zip(planned, rows, strict=True):
            p.pk = row.pk
            by_code[p.code] = p
    return by_code


class PeopleBuilder:
    """Units for every level and users for every role, bulk inserted."""

    def __init__(self, plan: Plan, rng: random.Random) -> None:
        self.plan = plan
        self.rng = rng
        self.password = make_password(DEMO_PASSWORD)
        self.units: list[Unit] = []
        self.users: list[User] = []
        self.staff: list[tuple[str, str, str]] = []  # (grid code, username, role)
        self.unit_heads: dict[str, str] = {}  # unit code -> username
        self.demo_taken: set[str] = set()

    def unit(self, code, name, kind, level, area: PlannedArea, parent_code=None) -> Unit:
        u = Unit(
            code=code, name=name, kind=kind, level=level, jurisdiction_id=area.pk, is_active=True
        )
        u._parent_code = parent_code
        self.units.append(u)
        return u

    def user(self, username: str, role: str, unit_code: str | None, *, head: bool = False) -> str:
        # The first user of each role gets the memorable demo login.
        for login, login_role in DEMO_LOGINS.items():
            if login_role == role and login not in self.demo_taken:
                self.demo_taken.add(login)
                username = login
                break
        is_admin = role == Role.ADMIN
        u = User(
            username=username,
            full_name=names.person_name(self.rng),
            phone=names.phone_number(self.rng),
            password=self.password,
            roles=[role],
            is_staff=is_admin,
            is_superuser=is_admin,
        )
        u._unit_code = unit_code
        self.users.append(u)
        if head and unit_code:
            self.unit_heads[unit_code] = username
        return username

    def build(self) -> None:
        city = self.plan.areas[AreaLevel.CITY][0]
        city_centre = f"C{city.code}"
        self.unit(
            city_centre, f"{city.name}网格化服务管理中心", UnitKind.CENTRE, AreaLevel.CITY, city
        )
        self.user("admin", Role.ADMIN, city_centre)
        self.user(f"ld{city.code}", Role.LEADER, city_centre)
        for d in self.plan.areas.get(AreaLevel.DISTRICT, []):
            centre = f"C{d.code}"
            self.unit(
                centre, f"{d.name}综治中心", UnitKind.CENTRE, AreaLevel.DISTRICT, d, city_centre
            )
            self.user(f"dc{d.code}", Role.DISTRICT_CENTRE, centre, head=True)
            self.user(f"ld{d.code}", Role.LEADER, centre)
            for key, label in names.DISTRICT_DEPARTMENTS:
                code = f"D{d.code}{key}"
                self.unit(
                    code, f"{d.name}{label}", UnitKind.DEPARTMENT, AreaLevel.DISTRICT, d, centre
                )
                self.user(f"uh{d.code}{key}", Role.UNIT_HANDLER, code, head=True)
        for s in self.plan.areas.get(AreaLevel.STREET, []):
            centre = f"C{s.code}"
            self.unit(
                centre,
                f"{s.name}综治中心",
                UnitKind.CENTRE,
                AreaLevel.STREET,
                s,
                f"C{s.parent_code}",
            )
            self.user(f"sc{s.code}", Role.STREET_CENTRE, centre, head=True)
            for key, label in names.STREET_DEPARTMENTS:
                code = f"D{s.code}{key}"
                short = s.name.removesuffix("街道")
                self.unit(code, f"{short}{label}", UnitKind.DEPARTMENT, AreaLevel.STREET, s, centre)
                self.user(f"uh{s.code}{key}", Role.UNIT_HANDLER, code, head=True)
        grids_by_community: dict[str, list[PlannedArea]] = {}
        for g in self.plan.areas.get(AreaLevel.GRID, []):
            grids_by_community.setdefault(g.parent_code, []).append(g)
        for c in self.plan.areas.get(AreaLevel.COMMUNITY, []):
            station = f"C{c.code}"
            self.unit(
                station,
                f"{c.name}工作站",
                UnitKind.CENTRE,
                AreaLevel.COMMUNITY,
                c,
                f"C{c.parent_code}",
            )
            self.user(f"cs{c.code}", Role.COMMUNITY_STATION, station, head=True)
            leader = self.user(f"gl{c.code}", Role.GRID_LEADER, station)
            for g in grids_by_community.get(c.code, []):
                worker = self.user(f"wg{g.code}", Role.GRID_WORKER, station)
                self.staff.append((g.code, worker, StaffRole.WORKER))
                self.staff.append((g.code, leader, StaffRole.LEADER))

    def write(
        self, by_code: dict[str, PlannedArea], progress: ProgressFn, batch: int = 2000
    ) -> None:
        for start in progress(
            range(0, len(self.units), batch), "units", -(-len(self.units) // batch)
        ):
            Unit.objects.bulk_create(self.units[start : start + batch])
        unit_pk = {u.code: u.pk for u in self.units}
        parents = [u for u in self.units if u._parent_code]
        for u in parents:
            u.parent_id = unit_pk[u._parent_code]
        Unit.objects.bulk_update(parents, ["parent"], batch_size=batch)
        for u in self.users:
            u.unit_id = unit_pk.get(u._unit_code)
        for start in progress(
            range(0, len(self.users), batch), "users", -(-len(self.users) // batch)
        ):
            User.objects.bulk_create(self.users[start : start + batch])
        user_pk = {u.username: u.pk for u in self.users}
        heads = []
        for u in self.units:
            if u.code in self.unit_heads:
                u.head_id = user_pk[self.unit_heads[u.code]]
                heads.append(u)
        Unit.objects.bulk_update(heads, ["head"], batch_size=batch)
        rows = [
            GridStaff(
                grid_id=by_code[g].pk, user_id=user_pk[name], role=role, since=date(2020, 1, 1)
            )
            for g, name, role in self.staff
        ]
        for start in progress(range(0, len(rows), batch), "grid staff", -(-len(rows) // batch)):
            GridStaff.objects.bulk_create(rows[start : start + batch])


def build_city(
    *,
    scale_name: str,
    seed: int,
    progress: ProgressFn,
    incidents: bool = True,
    residents: bool = True,
) -> dict[str, int]:
    """Plan and write the whole city in one transaction; returns row counts."""
    scale = SCALES[scale_name]
    rng = random.Random(seed)
    plan = plan_areas(scale, rng, progress)
    people = PeopleBuilder(plan, rng)
    with transaction.atomic():
        by_code = write_areas(plan, progress)
        people.build()  # units need the areas' primary keys
        people.write(by_code, progress)
    counts: dict[str, int] = {}
    resident_counts: dict[str, int] = {}
    if residents:
        from govgrid.synthetic.residents import build_residents

        resident_counts = build_residents(scale_name=scale_name, seed=seed, progress=progress)
    if scale.demo_incidents and incidents:
        from govgrid.synthetic.incidents import build_incidents

        counts = build_incidents(count=scale.demo_incidents, seed=seed, progress=progress)
    if (scale.bulk_open or scale.bulk_closed) and incidents:
        from govgrid.synthetic.bulk import build_bulk_incidents

        counts = build_bulk_incidents(
            open_count=scale.bulk_open,
            closed_count=scale.bulk_closed,
            seed=seed,
            progress=progress,
        )
    counts |= resident_counts
    return counts | {
        "areas": plan.count(),
        "grids": len(plan.areas.get(AreaLevel.GRID, [])),
        "units": len(people.units),
        "users": len(people.users),
    }


class CityInUse(Exception):
    pass


@transaction.atomic
def delete_city() -> None:
    """Remove every area, unit, user and staffing row (used by --reset).

    The audit log is append-only and keeps its users, so a city whose users have audit
    history cannot be deleted: recreate the database instead (`make reset-db`).
    """
    from dispatch.models import RoutingRule
    from govgrid.audit.models import AuditEntry
    from incidents.models import Incident

    if AuditEntry.objects.filter(actor__isnull=False).exists() or Incident.objects.exists():
        raise CityInUse(
            "The audit log or incident histories reference this city's users and are "
            "append-only; run `make reset-db` to start from an empty database."
        )
    RoutingRule.objects.all().delete()
    GridStaff.objects.all().delete()
    Unit.objects.update(head=None, parent=None)
    User.objects.all().delete()
    Unit.objects.all().delete()
    for level in reversed(AreaLevel.values):
        Area.objects.filter(level=level).delete()
