"""City-scale incidents by bulk COPY, for benchmarks and the wall-screen dashboard.

The demo walks each incident through the real services (`incidents.py`); that runs at a few
dozen a second, far too slow for a Wuhan-sized month (~17,000 a day). Here the same rows the
services would write are produced directly and streamed with PostgreSQL COPY: incidents,
their history events (report, accept, dispatch, sign, handle, verify, rate; returns and
overrules, rework, self-handled cases, warnings reached), and the units' assignments.

- closed incidents are reported since the previous calendar month began (Asia/Shanghai),
  most of them in that month, so a month's assessment has a full month of cases; those
  reported lately thin out, since only the quick ones can be closed by now;
- open incidents are reported over the last ten days and sit in every open state, with
  deadlines from the working-day calendar and the colour the warning scan would give them
  (`next_warning_at` set, so the live scan carries on from there).

Everything is written in one transaction: all or nothing. Deterministic from the seed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from dispatch.calendar import deadline_for
from dispatch.warnings import EVENT_ACTION, levels_reached, warning_schedule
from dispatch.workflow import State
from govgrid.accounts.models import Unit, UnitKind, User
from grids.models import GridStaff, StaffRole
from incidents.models import CHANNEL_PREFIX, Category, Channel, Incident, Rating

ProgressFn = Callable[[Iterable, str, int], Iterable]
CHUNK = 10_000

INCIDENT_COLUMNS = (
    "id, created_at, updated_at, number, channel, description, location, location_source, "
    "source_datum, address, reporter_name, reporter_phone, parties, urgency, risk_colour, "
    "is_self_handled, result, state, phase, phase_started_at, deadline_at, "
    "original_deadline_at, suspended_state, reported_at, closed_at, rating, reopen_requested, "
    "category_id, grid_id, lead_unit_id, owner_unit_id, reporter_id, next_warning_at, "
    "warning_level"
)
EVENT_COLUMNS = "incident_id, at, actor_id, action, from_state, to_state, note, unit_id, data"
ASSIGNMENT_COLUMNS = (
    "created_at, updated_at, incident_id, unit_id, role, handler_id, state, is_whistle, "
    "signin_deadline_at, signed_at, finished_at"
)
TEXTS = [
    "楼道堆放杂物堵塞消防通道",
    "小区门口暴露垃圾无人清运",
    "人行道被流动摊贩占用",
    "夜间施工噪音扰民",
    "道路出现坑洞影响通行",
    "楼上漏水导致邻里争执",
    "电动车在楼道内充电",
    "路灯损坏夜间无照明",
    "共享单车乱停乱放",
    "租户与房东就押金退还发生纠纷",
]
# Open states, their share of the open cases and the mean age (hours) of a case in them:
# new reports are hours old, cases with units days old.
OPEN_MIX = [
    (State.REPORTED, 0.10, 6),
    (State.ACCEPTED, 0.08, 10),
    (State.DISPATCHED, 0.20, 20),
    (State.IN_PROGRESS, 0.45, 100),
    (State.HANDLED, 0.12, 40),
    (State.RETURNED, 0.02, 24),
    (State.SUSPENDED, 0.03, 120),
]


@dataclass
class Grid:
    pk: int
    code: str
    lon: float
    lat: float
    street_id: int
    district_id: int
    worker_id: int | None


class Cast:
    """Grids with a point inside each, centres and departments with one member each."""

    def __init__(self) -> None:
        workers = dict(
            GridStaff.objects.filter(role=StaffRole.WORKER, until__isnull=True).values_list(
                "grid_id", "user_id"
            )
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT g.id, g.code, ST_X(p.pt), ST_Y(p.pt), c.parent_id, s.parent_id
                FROM grids_area g
                JOIN grids_area c ON c.id = g.parent_id
                JOIN grids_area s ON s.id = c.parent_id
                CROSS JOIN LATERAL (SELECT ST_PointOnSurface(g.boundary) AS pt) p
                WHERE g.level = 5 AND g.boundary IS NOT NULL
                ORDER BY g.id
                """
            )
            self.grids = [
                Grid(pk, code, lon, lat, street, district, workers.get(pk))
                for pk, code, lon, lat, street, district in cursor.fetchall()
            ]
        member: dict[int, int] = {}
        for user_id, unit_id in (
            User.objects.filter(unit__isnull=False).order_by("pk").values_list("pk", "unit_id")
        ):
            member.setdefault(unit_id, user_id)
        self.member = member
        self.centre: dict[int, int] = {}
        self.departments: dict[int, list[int]] = {}
        for pk, kind, area_id in Unit.objects.filter(is_active=True).values_list(
            "pk", "kind", "jurisdiction_id"
        ):
            if kind == UnitKind.CENTRE:
                self.centre.setdefault(area_id, pk)
            elif pk in member:
                self.departments.setdefault(area_id, []).append(pk)

    def departments_for(self, grid: Grid) -> list[int]:
        return self.departments.get(grid.street_id, []) + self.departments.get(grid.district_id, [])


class Writer:
    """Rows of one chunk, streamed with COPY."""

    def __init__(self) -> None:
        self.incidents: list[tuple] = []
        self.events: list[tuple] = []
        self.assignments: list[tuple] = []

    def event(self, incident_id, at, actor, action, from_state, to_state, unit, data=None, note=""):
        self.events.append(
            (
                incident_id,
                at,
                actor,
                action,
                from_state,
                to_state,
                note,
                unit,
                json.dumps(data or {}, ensure_ascii=False),
            )
        )

    def extend(self, other: Writer) -> None:
        self.incidents += other.incidents
        self.events += other.events
        self.assignments += other.assignments

    def flush(self) -> None:
        with connection.cursor() as cursor:
            for table, columns, rows in (
                ("incidents_incident", INCIDENT_COLUMNS, self.incidents),
                ("incidents_incidentevent", EVENT_COLUMNS, self.events),
                ("dispatch_assignment", ASSIGNMENT_COLUMNS, self.assignments),
            ):
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        self.__init__()


class Builder:
    def __init__(self, *, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.cast = Cast()
        self.categories = list(
            Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent")
        )
        self.day_counter: dict[str, int] = {}
        self.latest = now - timedelta(minutes=1)
        self.clamped = False

    # -- helpers ----------------------------------------------------------------------------
    def number(self, channel: str, at: datetime) -> str:
        day = timezone.localtime(at).strftime("%Y%m%d")
        n = self.day_counter.get(day, 0) + 1
        self.day_counter[day] = n
        return f"{CHANNEL_PREFIX[channel]}-{day}-{n:06d}"

    def later(self, t: datetime, low_h: float, high_h: float) -> datetime:
        """A moment some hours after t, never in the future: a step that would end after
        now ends just before it, and `clamped` says so (a case meant to be closed by now is
        then drawn again)."""
        moment = t + timedelta(hours=self.rng.uniform(low_h, high_h))
        if moment > self.latest:
            self.clamped = True
            return self.latest
        return moment

    def start(self, grid: Grid):
        rng = self.rng
        category = rng.choice(self.categories)
        hotline = rng.random() < 0.15
        channel = Channel.HOTLINE if hotline else Channel.GRID_WORKER
        owner = self.cast.centre.get(grid.street_id) or self.cast.centre.get(grid.district_id)
        centre_user = self.cast.member.get(owner)
        reporter = centre_user if hotline else grid.worker_id
        lon = grid.lon + rng.uniform(-0.0006, 0.0006)
        lat = grid.lat + rng.uniform(-0.0006, 0.0006)
        return category, channel, owner, centre_user, reporter, lon, lat

    # -- one incident ---------------------------------------------------------------------
    def incident(self, w: Writer, pk: int, grid: Grid, reported_at: datetime, final: str) -> None:
        """Write incident `pk` reported at `reported_at` and walked to `final` (a state)."""
        rng = self.rng
        category, channel, owner, centre_user, reporter, lon, lat = self.start(grid)
        unit_kind = category.deadline_unit
        t = reported_at
        ev = w.event
        ev(
            pk,
            t,
            reporter,
            "report",
            "",
            State.REPORTED,
            owner,
            {"grid": grid.code, "channel": str(channel)},
        )
        row = {
            "state": State.REPORTED,
            "phase": "",
            "phase_started_at": None,
            "deadline_at": None,
            "original_deadline_at": None,
            "closed_at": None,
            "rating": "",
            "lead_unit": None,
            "result": "",
            "self_handled": False,
            "updated_at": t,
        }

        def phase(name: str, started: datetime, amount: int) -> datetime:
            deadline = deadline_for(started, amount, unit_kind)
            row.update(
                phase=name, phase_started_at=started, deadline_at=deadline,
                original_deadline_at=deadline,
            )  # fmt: skip
            return deadline

        def clear_phase() -> None:
            row.update(phase="", phase_started_at=None, deadline_at=None, original_deadline_at=None)

        def set_state(state: str, at: datetime) -> None:
            row["state"] = state
            row["updated_at"] = at

        def walk() -> None:
            """Move the case along the loop to `final`, stopping early where it ends."""
            nonlocal t

            departments = self.cast.departments_for(grid)
            if final == State.REPORTED or owner is None or centre_user is None:
                return
            # Handled on the spot by the grid worker (about one case in ten).
            if (
                final in (State.CLOSED, State.HANDLED)
                and channel == Channel.GRID_WORKER
                and (rng.random() < 0.1)
            ):
                ev(pk, t, reporter, "self_handle", State.REPORTED, State.HANDLED, None)
                row.update(self_handled=True, result="已现场劝导处理")
                set_state(State.HANDLED, t)
                phase("verify", t, category.verify_limit)
                if final == State.CLOSED:
                    t = self.later(t, 1, 20)
                    self._close(w, pk, t, centre_user, owner, reporter, row)
                return

            t = self.later(t, 0.1, 3)
            ev(pk, t, centre_user, "accept", State.REPORTED, State.ACCEPTED, owner)
            set_state(State.ACCEPTED, t)
            if final == State.ACCEPTED or not departments:
                return
            if final == State.SUSPENDED:
                t = self.later(t, 1, 24)
                ev(pk, t, centre_user, "suspend", State.ACCEPTED, State.SUSPENDED, owner,
                   note="等待当事人返回")  # fmt: skip
                set_state(State.SUSPENDED, t)
                return

            lead = rng.choice(departments)
            handler = self.cast.member[lead]
            t = self.later(t, 0.1, 2)
            signin_deadline = phase("signin", t, category.signin_limit)
            sent = {"co_units": [], "deadline": signin_deadline.isoformat(), "lead_unit": lead}
            ev(pk, t, centre_user, "dispatch", State.ACCEPTED, State.DISPATCHED, owner, sent)
            set_state(State.DISPATCHED, t)
            row["lead_unit"] = lead
            dispatched_at = t
            if final == State.DISPATCHED:
                w.assignments.append(
                    (t, t, pk, lead, "lead", None, "pending", False, signin_deadline, None, None)
                )
                return
            if final == State.RETURNED or rng.random() < 0.05:
                t = self.later(t, 1, 10)
                ev(pk, t, handler, "return", State.DISPATCHED, State.RETURNED, lead, {"unit": lead},
                   note="不属于本单位职责")  # fmt: skip
                w.assignments.append(
                    (dispatched_at, t, pk, lead, "lead", None, "returned", False, signin_deadline,
                     None, t)
                )  # fmt: skip
                set_state(State.RETURNED, t)
                clear_phase()
                if final == State.RETURNED:
                    return
                t = self.later(t, 1, 8)
                signin_deadline = phase("signin", t, category.signin_limit)
                ev(pk, t, centre_user, "overrule", State.RETURNED, State.DISPATCHED, owner,
                   {"deadline": signin_deadline.isoformat(), "lead_unit": lead, "overruled": True},
                   note="属于本单位职责范围，请签收处理")  # fmt: skip
                set_state(State.DISPATCHED, t)
                dispatched_at = t
            t = self.later(t, 0.3, 30)
            on_time = t <= signin_deadline
            handle_deadline = phase("handle", t, category.handle_limit)
            ev(pk, t, handler, "sign", State.DISPATCHED, State.IN_PROGRESS, lead,
               {"on_time": on_time, "deadline": handle_deadline.isoformat()})  # fmt: skip
            set_state(State.IN_PROGRESS, t)
            signed_at = t
            if final == State.IN_PROGRESS:
                w.assignments.append(
                    (dispatched_at, t, pk, lead, "lead", handler, "signed", False, signin_deadline,
                     signed_at, None)
                )  # fmt: skip
                return
            # Most cases are handled in time; some late (their red warning is in the history).
            t = self.later(t, 2, 24 * (3 if rng.random() < 0.85 else 12))
            if t > handle_deadline:
                ev(pk, handle_deadline, None, EVENT_ACTION["red"], "", "", None,
                   {"level": "red", "phase": "handle"})  # fmt: skip
            ev(pk, t, handler, "handle", State.IN_PROGRESS, State.HANDLED, lead,
               {"on_time": t <= handle_deadline}, note="已到现场处置完毕")  # fmt: skip
            set_state(State.HANDLED, t)
            row["result"] = "已到现场处置完毕"
            phase("verify", t, category.verify_limit)
            if final == State.CLOSED and rng.random() < 0.03:
                t = self.later(t, 1, 24)
                handle_deadline = phase("handle", t, category.handle_limit)
                again = {"deadline": handle_deadline.isoformat()}
                ev(pk, t, centre_user, "rework", State.HANDLED, State.IN_PROGRESS, owner,
                   again, note="现场核查未处理到位")  # fmt: skip
                t = self.later(t, 2, 48)
                ev(pk, t, handler, "handle", State.IN_PROGRESS, State.HANDLED, lead,
                   {"on_time": t <= handle_deadline}, note="已重新处置")  # fmt: skip
                phase("verify", t, category.verify_limit)
            w.assignments.append(
                (dispatched_at, t, pk, lead, "lead", handler, "done", False, signin_deadline,
                 signed_at, t)
            )  # fmt: skip
            if final == State.CLOSED:
                t = self.later(t, 1, 30)
                self._close(w, pk, t, centre_user, owner, reporter, row)

        walk()
        self._write(w, pk, grid, category, channel, owner, reporter, lon, lat, reported_at, row)

    def _close(self, w, pk, t, centre_user, owner, reporter, row) -> None:
        w.event(pk, t, centre_user, "verify", State.HANDLED, State.CLOSED, owner)
        row.update(state=State.CLOSED, closed_at=t, updated_at=t, phase="", phase_started_at=None,
                   deadline_at=None, original_deadline_at=None)  # fmt: skip
        if self.rng.random() < 0.75:
            rated_at = t + timedelta(hours=self.rng.uniform(20, 30))
            if rated_at < self.latest:
                rating = self.rng.choice(
                    [Rating.SATISFIED] * 8 + [Rating.BASIC] * 2 + [Rating.UNSATISFIED]
                )
                w.event(pk, rated_at, reporter, "rate", State.CLOSED, "", owner,
                        {"rating": str(rating)})  # fmt: skip
                row["rating"] = str(rating)
                row["updated_at"] = rated_at

    def _write(self, w, pk, grid, category, channel, owner, reporter, lon, lat, reported_at, row):
        level, next_at = "", None
        if row["phase"] and row["state"] not in (State.CLOSED, State.SUSPENDED):
            probe = Incident(
                category=category,
                state=row["state"],
                phase=row["phase"],
                phase_started_at=row["phase_started_at"],
                deadline_at=row["deadline_at"],
                original_deadline_at=row["original_deadline_at"],
            )
            level, next_at = warning_schedule(incident=probe, now=self.now)
            for name, at in levels_reached(incident=probe, now=self.now):
                w.event(pk, at, None, EVENT_ACTION[name], "", "", None,
                        {"level": str(name), "phase": row["phase"]})  # fmt: skip
        w.incidents.append(
            (
                pk,
                reported_at,
                row["updated_at"],
                self.number(channel, reported_at),
                channel,
                self.rng.choice(TEXTS),
                f"SRID=4326;POINT({lon:.7f} {lat:.7f})",
                "gps" if channel == Channel.GRID_WORKER else "address",
                "wgs84",
                "",
                "" if channel == Channel.GRID_WORKER else "市民",
                "",
                "",
                "normal",
                "",
                row["self_handled"],
                row["result"],
                row["state"],
                row["phase"],
                row["phase_started_at"],
                row["deadline_at"],
                row["original_deadline_at"],
                "",
                reported_at,
                row["closed_at"],
                row["rating"],
                False,
                category.pk,
                grid.pk,
                row["lead_unit"],
                owner,
                reporter,
                next_at,
                str(level),
            )
        )


def _reserve_ids(n: int) -> int:
    """Reserve n incident ids; returns the first."""
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE incidents_incident IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT pg_get_serial_sequence('incidents_incident', 'id')")
        seq = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM incidents_incident")
        first = cursor.fetchone()[0] + 1
        cursor.execute("SELECT setval(%s, %s)", [seq, first + n - 1])
    return first


def _number_sequences(days: dict[str, int]) -> None:
    """Later reports of those days continue after the numbers used here."""
    with connection.cursor() as cursor:
        for day, n in days.items():
            seq = f"incident_no_{day}"
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {seq}")
            cursor.execute(
                f"SELECT setval('{seq}', greatest(%s, (SELECT last_value FROM {seq})))", [n]
            )


def previous_month(now: datetime) -> tuple[datetime, datetime]:
    local = timezone.localtime(now)
    this_month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    return last_month, this_month


def build_bulk_incidents(
    *,
    open_count: int,
    closed_count: int,
    seed: int,
    progress: ProgressFn,
    now: datetime | None = None,
) -> dict[str, int]:
    """Write `closed_count` incidents of last month and `open_count` open ones; one
    transaction. Returns row counts."""
    now = now or timezone.now()
    builder = Builder(seed=seed, now=now)
    rng = builder.rng
    grids = builder.cast.grids
    if not grids:
        return {}
    month_start, _month_end = previous_month(now)
    since_month_start = (now - month_start).total_seconds()
    states = [(s, mean) for s, _share, mean in OPEN_MIX]
    weights = [share for _s, share, _mean in OPEN_MIX]
    total = open_count + closed_count
    counts = {"incidents": 0, "events": 0, "assignments": 0}
    with transaction.atomic():
        pk = _reserve_ids(total)
        chunks = range(0, total, CHUNK)
        for start in progress(chunks, "incidents (bulk)", len(chunks)):
            w = Writer()
            for i in range(start, min(total, start + CHUNK)):
                grid = grids[rng.randrange(len(grids))]
                if i < closed_count:
                    # Reported any time since last month began; a case that could not have
                    # run through the loop by now is drawn again, so closed cases thin out
                    # over the last days as they do in life.
                    for _attempt in range(50):
                        reported = month_start + timedelta(
                            seconds=rng.uniform(0, since_month_start)
                        )
                        scratch = Writer()
                        builder.clamped = False
                        builder.incident(scratch, pk, grid, reported, State.CLOSED)
                        if not builder.clamped:
                            break
                    w.extend(scratch)
                else:
                    final, mean_hours = rng.choices(states, weights)[0]
                    age = min(10 * 24, 0.1 + rng.expovariate(1 / mean_hours))
                    reported = now - timedelta(hours=age)
                    builder.incident(w, pk, grid, reported, final)
                pk += 1
            counts["incidents"] += len(w.incidents)
            counts["events"] += len(w.events)
            counts["assignments"] += len(w.assignments)
            w.flush()
        _number_sequences(builder.day_counter)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
        cursor.execute("ANALYZE incidents_incidentevent")
        cursor.execute("ANALYZE dispatch_assignment")
    return counts
