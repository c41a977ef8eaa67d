"""Every indicator: its written definition and the aggregate query that computes it.

Counters are counts of history rows (`IncidentEvent`), dispatch assignments or incidents in a
month (Asia/Shanghai). Each counter names its source, its condition for the month, and how a
row reaches each kind of subject (the unit named in the row, the reporting worker, the grid).
The engine runs one grouped query per (source, subject key) with one conditional COUNT per
counter, so a month costs a handful of queries whatever the number of cases. Rates are
numerator ÷ denominator of counters and are None (shown “—”) when the denominator is 0.

Areas (community, street, district) are counted per grid in SQL and the grid rows summed up
the tree (at most one row per grid, never one per case).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, FloatField, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Ceil, Coalesce
from django.utils.translation import gettext_lazy as _

from dispatch.models import Assignment
from dispatch.workflow import State
from grids.models import Patrol
from incidents.models import Channel, Incident, IncidentEvent, Rating
from residents.models import ChangeAction, KeyPerson, RecordChange, Visit

from .models import SubjectKind

UNIT, WORKER, AREA = SubjectKind.UNIT, SubjectKind.WORKER, SubjectKind.AREA
DISPATCH_ACTIONS = ("dispatch", "whistle", "redispatch", "overrule")


@dataclass(frozen=True)
class Month:
    """[start, end) of a calendar month in the deployment's time zone."""

    first: date

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))

    @property
    def end(self) -> datetime:
        nxt = (self.first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return datetime(nxt.year, nxt.month, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))

    def previous(self) -> Month:
        return Month((self.first - timedelta(days=1)).replace(day=1))


def month_of(day: date) -> Month:
    return Month(day.replace(day=1))


# --------------------------------------------------------------------------------------
# Sources: which model a counter counts and how its rows reach each kind of subject
# --------------------------------------------------------------------------------------

EVENT, ASSIGNMENT, INCIDENT = "event", "assignment", "incident"
# Field work (issue 6): patrols, visits, key persons' visit duty.
PATROL, VISIT, KEY_PERSON = "patrol", "visit", "key_person"
# The register's history (people, houses, organisations): who created or changed a record.
RECORD = "record"


@dataclass(frozen=True)
class Key:
    """How a row of a source reaches a subject: an expression to GROUP BY and a filter."""

    group: object
    match: Callable[[object], Q]


def _lead_in_data() -> Key:
    return Key(Cast(KT("data__lead_unit"), IntegerField()), lambda pk: Q(data__lead_unit=pk))


def _lookup(name: str) -> Key:
    return Key(F(name), lambda pk: Q(**{name: pk}))


# Grid of the row: areas are counted per grid, then summed up the tree.
GRID_KEY = {
    EVENT: _lookup("incident__grid_id"),
    ASSIGNMENT: _lookup("incident__grid_id"),
    INCIDENT: _lookup("grid_id"),
    PATROL: _lookup("grid_id"),
    VISIT: _lookup("grid_id"),
    KEY_PERSON: _lookup("grid_id"),
    RECORD: _lookup("grid_id"),
}
GRID_PATH = {EVENT: "incident__grid__path", ASSIGNMENT: "incident__grid__path"}
GRID_PATH[INCIDENT] = "grid__path"
MODEL = {
    EVENT: IncidentEvent,
    ASSIGNMENT: Assignment,
    INCIDENT: Incident,
    PATROL: Patrol,
    VISIT: Visit,
    KEY_PERSON: KeyPerson,
    RECORD: RecordChange,
}


@dataclass(frozen=True)
class Counter:
    code: str
    label: str
    definition: str
    source: str
    # The rows counted in the month [start, end).
    condition: Callable[[Month], Q]
    # How a row reaches a unit or a worker (areas: through the grid, see GRID_KEY).
    keys: dict[str, Callable[[], Key]] = field(default_factory=dict)
    # SUM of this expression instead of COUNT of rows, shown divided by `scale`.
    measure: Callable[[Month], object] | None = None
    scale: int = 1
    # A query of its own: (month, kind) → {subject or grid id: value}.
    custom: Callable[[Month, str], dict[int, int]] | None = None
    # Whether the rows are cases (drill-down lists them) or field work.
    is_case: bool = True

    @property
    def kinds(self) -> tuple[str, ...]:
        return (*self.keys, AREA)


@dataclass(frozen=True)
class Rate:
    code: str
    label: str
    definition: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Total:
    """A derived count: the sum of counters (e.g. overdue = late results + open overdue)."""

    code: str
    label: str
    definition: str
    parts: tuple[str, ...]
    kinds: tuple[str, ...]


def _events(cond: Q) -> Callable[[Month], Q]:
    return lambda m: Q(at__gte=m.start, at__lt=m.end) & cond


def _reports(cond: Q | None = None) -> Callable[[Month], Q]:
    cond = cond or Q()
    return lambda m: (
        Q(channel=Channel.GRID_WORKER, reported_at__gte=m.start, reported_at__lt=m.end) & cond
    )


_actor_unit = lambda: _lookup("unit_id")  # noqa: E731 — the unit of whoever acted
_incident_lead = lambda: _lookup("incident__lead_unit_id")  # noqa: E731
_reporter = lambda: _lookup("reporter_id")  # noqa: E731


def _signin_missed(m: Month) -> Q:
    # Due in the month and not signed by its end, unless returned or withdrawn before it.
    return (
        Q(role="lead", signin_deadline_at__gte=m.start, signin_deadline_at__lt=m.end)
        & (Q(signed_at__isnull=True) | Q(signed_at__gte=m.end))
        & ~Q(state__in=["returned", "withdrawn"], finished_at__lt=m.end)
    )


def _open_overdue(m: Month) -> Q:
    # The case's current state: still in handling, its deadline passed before the month's end.
    return Q(
        state=State.IN_PROGRESS,
        phase="handle",
        deadline_at__lt=m.end,
        phase_started_at__lt=m.end,
    )


def _patrol_days_met(month: Month, kind: str) -> dict[int, int]:
    """Days of the month on which a worker patrolled at least the daily target (all their
    patrols of the day added up), per worker or per grid patrolled."""
    key = "worker_id" if kind == WORKER else "grid_id"  # a literal column name, not input
    sql = f"""
        SELECT subject, count(*) FROM (
            SELECT {key} AS subject, worker_id, (started_at AT TIME ZONE %s)::date AS day
            FROM grids_patrol
            WHERE started_at >= %s AND started_at < %s
            GROUP BY subject, worker_id, day
            HAVING sum(duration_s) >= %s
        ) AS days GROUP BY subject
    """
    target = int(settings.ASSESSMENT_PATROL_DAILY_HOURS * 3600)
    with connection.cursor() as cursor:
        cursor.execute(sql, [settings.TIME_ZONE, month.start, month.end, target])
        return dict(cursor.fetchall())


def _visit_duty(m: Month) -> Q:
    # Key persons enrolled for at least part of the month.
    return Q(since__lt=m.end.date()) & (Q(until__isnull=True) | Q(until__gte=m.start.date()))


def _required_visits(m: Month):
    # Each record owes ceil(days of the month ÷ its interval) visits.
    days = (m.end - m.start).days
    return Ceil(Value(float(days)) / Cast(F("visit_interval_days"), FloatField()))


# Records: the register's history (`residents.RecordChange`), appended by the services that
# create and change people, houses and organisations. A record counts for whoever created or
# changed it, and for the areas of its grid at the time of the change.
CORRECTION_AFTER = timedelta(days=1)
_RECORD_KEY = {WORKER: "actor_id", AREA: "grid_id"}  # literal column names, not input


def _record_sql(month: Month, kind: str, sql: str, params: list) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(key=_RECORD_KEY[kind]), params)
        return {k: n for k, n in cursor.fetchall() if k is not None}


def _records_updated(month: Month, kind: str) -> dict[int, int]:
    """Distinct records changed (updated or moved) in the month, per actor or grid."""
    return _record_sql(
        month,
        kind,
        """
        SELECT {key}, count(DISTINCT (kind, record_id)) FROM residents_recordchange
        WHERE action IN (%s, %s) AND at >= %s AND at < %s
        GROUP BY {key}
        """,
        [ChangeAction.UPDATED, ChangeAction.MOVED, month.start, month.end],
    )


def _records_kept(month: Month, kind: str) -> dict[int, int]:
    """Records created in the month that nobody corrected by the month's end: no `updated`
    change to the record later than one day after its creation."""
    return _record_sql(
        month,
        kind,
        """
        SELECT c.{key}, count(*) FROM residents_recordchange c
        WHERE c.action = %s AND c.at >= %s AND c.at < %s
          AND NOT EXISTS (
            SELECT 1 FROM residents_recordchange u
            WHERE u.kind = c.kind AND u.record_id = c.record_id AND u.action = %s
              AND u.at > c.at + %s AND u.at < %s
          )
        GROUP BY c.{key}
        """,
        [
            ChangeAction.CREATED,
            month.start,
            month.end,
            ChangeAction.UPDATED,
            CORRECTION_AFTER,
            month.end,
        ],
    )


_recorder = lambda: _lookup("actor_id")  # noqa: E731
# The condition of a counter with a `custom` query: it is never read (the engine runs the
# custom query instead, and such counters are field work, so there is no drill-down).
_OWN_QUERY = lambda m: Q(pk__in=[])  # noqa: E731
_visitor = lambda: _lookup("visitor_id")  # noqa: E731
_patroller = lambda: _lookup("worker_id")  # noqa: E731

COUNTERS: dict[str, Counter] = {
    c.code: c
    for c in [
        Counter(
            "dispatched",
            _("Cases dispatched"),
            _(
                "Dispatches to the unit as lead unit in the month: first dispatches, whistle "
                "summonses, dispatches after another unit's return, and overruled returns sent "
                "back to it."
            ),
            EVENT,
            _events(Q(action__in=DISPATCH_ACTIONS)),
            {UNIT: _lead_in_data},
        ),
        Counter(
            "overruled",
            _("Returns overruled"),
            _(
                "Returns by the unit that the centre overruled in the month (the case was the "
                "unit's to handle and went back to it)."
            ),
            EVENT,
            _events(Q(action="overrule")),
            {UNIT: _lead_in_data},
        ),
        Counter(
            "returns",
            _("Returns"),
            _("Cases the unit returned to the centre in the month (退单), overruled or not."),
            EVENT,
            _events(Q(action="return")),
            {UNIT: _actor_unit},
        ),
        Counter(
            "signed",
            _("Sign-ins"),
            _("Cases the unit signed for in the month."),
            EVENT,
            _events(Q(action="sign")),
            {UNIT: _actor_unit},
        ),
        Counter(
            "signed_on_time",
            _("Sign-ins on time"),
            _("Sign-ins in the month made before the sign-in deadline."),
            EVENT,
            _events(Q(action="sign", data__on_time=True)),
            {UNIT: _actor_unit},
        ),
        Counter(
            "signin_missed",
            _("Sign-ins missed"),
            _(
                "Dispatches whose sign-in deadline fell in the month and that were neither "
                "signed nor returned by the month's end."
            ),
            ASSIGNMENT,
            _signin_missed,
            {UNIT: lambda: _lookup("unit_id")},
        ),
        Counter(
            "results",
            _("Results reported"),
            _("Results the unit reported in the month (处置完毕上报)."),
            EVENT,
            _events(Q(action="handle")),
            {UNIT: _actor_unit},
        ),
        Counter(
            "results_on_time",
            _("Results on time"),
            _("Results reported in the month before the handling deadline (with extensions)."),
            EVENT,
            _events(Q(action="handle", data__on_time=True)),
            {UNIT: _actor_unit},
        ),
        Counter(
            "results_late",
            _("Results late"),
            _("Results reported in the month after the handling deadline."),
            EVENT,
            _events(Q(action="handle", data__on_time=False)),
            {UNIT: _actor_unit},
        ),
        Counter(
            "open_overdue",
            _("Open and overdue"),
            _(
                "The unit's cases still in handling whose handling deadline passed before the "
                "month's end (counted as late)."
            ),
            INCIDENT,
            _open_overdue,
            {UNIT: lambda: _lookup("lead_unit_id")},
        ),
        Counter(
            "closed",
            _("Closed"),
            _("The unit's cases verified and closed by the centre in the month."),
            EVENT,
            _events(Q(action="verify")),
            {UNIT: _incident_lead},
        ),
        Counter(
            "reworks",
            _("Sent back for rework"),
            _("Results of the unit's cases that failed verification in the month (重办)."),
            EVENT,
            _events(Q(action="rework")),
            {UNIT: _incident_lead},
        ),
        Counter(
            "reopens",
            _("Reopened after an unsatisfied rating"),
            _("Reopen requests on the unit's closed cases approved in the month."),
            EVENT,
            _events(Q(action="decide_reopen", data__approved=True)),
            {UNIT: _incident_lead},
        ),
        Counter(
            "rated",
            _("Rated"),
            _(
                "Ratings given in the month on the unit's closed cases (unrated cases are left "
                "out)."
            ),
            EVENT,
            _events(Q(action="rate")),
            {UNIT: _incident_lead},
        ),
        Counter(
            "satisfied",
            _("Satisfied"),
            _("Ratings in the month that were “satisfied” or “basically satisfied”."),
            EVENT,
            _events(Q(action="rate", data__rating__in=[Rating.SATISFIED, Rating.BASIC])),
            {UNIT: _incident_lead},
        ),
        Counter(
            "yellow_cards",
            _("Yellow cards"),
            _(
                "Yellow supervision cards in the month on the unit's cases: automatic ones "
                "after the deadline and manual yellow supervisions (督办)."
            ),
            EVENT,
            _events(
                Q(action="supervision_card", data__level="yellow_card")
                | Q(action="supervise", data__level="yellow")
            ),
            {UNIT: _incident_lead},
        ),
        Counter(
            "red_cards",
            _("Red cards"),
            _("Red supervision cards in the month on the unit's cases, automatic or manual."),
            EVENT,
            _events(
                Q(action="supervision_card", data__level="red_card")
                | Q(action="supervise", data__level="red")
            ),
            {UNIT: _incident_lead},
        ),
        Counter(
            "extensions",
            _("Extensions granted"),
            _("Extension requests on the unit's cases approved in the month."),
            EVENT,
            _events(Q(action="decide_extension", data__approved=True)),
            {UNIT: _incident_lead},
        ),
        # Grid workers.
        Counter(
            "reports",
            _("Reports filed"),
            _("Incidents the grid worker reported in the month."),
            INCIDENT,
            _reports(),
            {WORKER: _reporter},
        ),
        Counter(
            "valid_reports",
            _("Valid reports"),
            _("Reports of the month not rejected or marked as duplicates."),
            INCIDENT,
            _reports(~Q(state=State.REJECTED)),
            {WORKER: _reporter},
        ),
        Counter(
            "self_handled",
            _("Handled on the spot"),
            _("Reports of the month the worker handled on the spot (自行处置)."),
            INCIDENT,
            _reports(Q(is_self_handled=True) & ~Q(state=State.REJECTED)),
            {WORKER: _reporter},
        ),
        Counter(
            "timely_reports",
            _("Reports in time"),
            _(
                "Reports of the month received within 24 hours of the moment the worker "
                "recorded (a report kept offline for longer is late)."
            ),
            INCIDENT,
            _reports(Q(created_at__lte=F("reported_at") + timedelta(hours=24))),
            {WORKER: _reporter},
        ),
        # Field work.
        Counter(
            "patrols",
            _("Patrols"),
            _("Patrols the worker started in the month."),
            PATROL,
            lambda m: Q(started_at__gte=m.start, started_at__lt=m.end),
            {WORKER: _patroller},
            is_case=False,
        ),
        Counter(
            "patrol_hours",
            _("Patrol hours"),
            _("Hours of the patrols started in the month (their tracked duration)."),
            PATROL,
            lambda m: Q(started_at__gte=m.start, started_at__lt=m.end),
            {WORKER: _patroller},
            measure=lambda m: F("duration_s"),
            scale=3600,
            is_case=False,
        ),
        Counter(
            "patrol_days_met",
            _("Days with the patrol target met"),
            _(
                "Days of the month on which the worker's patrols added up to at least the "
                "daily target (ASSESSMENT_PATROL_DAILY_HOURS, 2 hours by default)."
            ),
            PATROL,
            _OWN_QUERY,
            {WORKER: _patroller},
            custom=_patrol_days_met,
            is_case=False,
        ),
        Counter(
            "visits",
            _("Visits"),
            _("Household and person visits (走访、入户) the worker recorded in the month."),
            VISIT,
            lambda m: Q(visited_at__gte=m.start, visited_at__lt=m.end),
            {WORKER: _visitor},
            is_case=False,
        ),
        Counter(
            "key_visits",
            _("Key-person visits"),
            _("Visits in the month to people on a key-person or care list."),
            VISIT,
            lambda m: Q(visited_at__gte=m.start, visited_at__lt=m.end, key_person__isnull=False),
            {WORKER: _visitor},
            is_case=False,
        ),
        Counter(
            "visits_required",
            _("Key-person visits required"),
            _(
                "Visits the worker's key persons required in the month: for each record "
                "enrolled during the month, the days of the month ÷ its visit interval, "
                "rounded up."
            ),
            KEY_PERSON,
            _visit_duty,
            {WORKER: lambda: _lookup("responsible_id")},
            measure=_required_visits,
            is_case=False,
        ),
        Counter(
            "records_created",
            _("Records created"),
            _(
                "People, houses and organisations the worker entered into the register in the "
                "month (by form, phone or import), from the register's history."
            ),
            RECORD,
            lambda m: Q(action=ChangeAction.CREATED, at__gte=m.start, at__lt=m.end),
            {WORKER: _recorder},
            is_case=False,
        ),
        Counter(
            "records_updated",
            _("Records updated"),
            _(
                "Distinct records (whenever created) the worker changed or moved to another "
                "grid in the month; a record changed several times counts once."
            ),
            RECORD,
            _OWN_QUERY,
            {WORKER: _recorder},
            custom=_records_updated,
            is_case=False,
        ),
        Counter(
            "records_kept",
            _("Records right the first time"),
            _(
                "Records the worker created in the month that nobody corrected by the month's "
                "end (a correction is a change to the record's fields by anyone more than one "
                "day after it was created; changes within the first day complete the entry)."
            ),
            RECORD,
            _OWN_QUERY,
            {WORKER: _recorder},
            custom=_records_kept,
            is_case=False,
        ),
        # Areas: the cases of the area, whoever reported them.
        Counter(
            "area_cases",
            _("Cases in the area"),
            _("Incidents reported in the month in the area, from every channel."),
            INCIDENT,
            lambda m: Q(reported_at__gte=m.start, reported_at__lt=m.end),
            {},
        ),
    ]
}

_UA = (UNIT, AREA)
_WA = (WORKER, AREA)
RATES: dict[str, Rate] = {
    r.code: r
    for r in [
        Rate(
            "timely_signin_rate",
            _("Timely sign-in rate"),
            _("及时签收率: sign-ins on time ÷ (sign-ins + sign-ins missed)."),
            ("signed_on_time",),
            ("signed", "signin_missed"),
            _UA,
        ),
        Rate(
            "on_time_rate",
            _("On-time completion rate"),
            _(
                "按期办结率: results on time ÷ (results reported + cases open and overdue at "
                "the month's end); an open overdue case counts as late."
            ),
            ("results_on_time",),
            ("results", "open_overdue"),
            _UA,
        ),
        Rate(
            "resolution_rate",
            _("Resolution rate"),
            _(
                "解决率: cases closed ÷ (cases closed + results sent back for rework + cases "
                "open and overdue at the month's end)."
            ),
            ("closed",),
            ("closed", "reworks", "open_overdue"),
            _UA,
        ),
        Rate(
            "satisfaction_rate",
            _("Satisfaction rate"),
            _(
                "满意率: satisfied or basically satisfied ratings ÷ ratings given in the month; "
                "unrated cases are not counted."
            ),
            ("satisfied",),
            ("rated",),
            _UA,
        ),
        Rate(
            "return_rate",
            _("Return rate"),
            _(
                "退单率: returns the centre overruled ÷ cases dispatched; a justified return "
                "(sent on to another unit) does not count against the unit."
            ),
            ("overruled",),
            ("dispatched",),
            _UA,
        ),
        Rate(
            "rework_rate",
            _("Rework rate"),
            _(
                "重办率: (results sent back for rework + reopened cases) ÷ (cases closed + "
                "results sent back for rework)."
            ),
            ("reworks", "reopens"),
            ("closed", "reworks"),
            _UA,
        ),
        Rate(
            "valid_rate",
            _("Valid report rate"),
            _("有效上报率: valid reports ÷ reports filed."),
            ("valid_reports",),
            ("reports",),
            _WA,
        ),
        Rate(
            "visit_rate",
            _("Key-person visit rate"),
            _("走访完成率: key-person visits ÷ key-person visits required (at most 100 %)."),
            ("key_visits",),
            ("visits_required",),
            _WA,
        ),
        Rate(
            "record_accuracy",
            _("Record accuracy"),
            _(
                "信息准确率: records right the first time ÷ records created (a record changed "
                "by anyone more than a day after its creation, up to the month's end, counts "
                "as corrected)."
            ),
            ("records_kept",),
            ("records_created",),
            _WA,
        ),
        Rate(
            "timely_report_rate",
            _("Reporting timeliness"),
            _("上报及时率: reports in time ÷ reports filed."),
            ("timely_reports",),
            ("reports",),
            _WA,
        ),
    ]
}

TOTALS: dict[str, Total] = {
    t.code: t
    for t in [
        Total(
            "overdue",
            _("Overdue cases"),
            _("超期件数: results reported late in the month + cases open and overdue."),
            ("results_late", "open_overdue"),
            _UA,
        ),
    ]
}

# What counts as "cases" for the minimum number to be ranked.
VOLUME = {UNIT: "dispatched", WORKER: "reports", AREA: "area_cases"}


def codes_for(kind: str) -> list[str]:
    """Indicator codes a formula of a scheme for `kind` may use, in display order."""
    return (
        [c for c, x in COUNTERS.items() if kind in x.kinds]
        + [c for c, x in RATES.items() if kind in x.kinds]
        + [c for c, x in TOTALS.items() if kind in x.kinds]
    )


def spec_of(code: str) -> Counter | Rate | Total | None:
    """The counter, rate or total an indicator code names."""
    return COUNTERS.get(code) or RATES.get(code) or TOTALS.get(code)


def describe(code: str):
    """(label, definition) of any indicator code."""
    spec = spec_of(code)
    return (spec.label, spec.definition) if spec else (code, "")


# --------------------------------------------------------------------------------------
# The engine: counts per subject, in the database
# --------------------------------------------------------------------------------------


def _grouped(source: str, key: Key, counters: list[Counter], month: Month) -> dict[int, dict]:
    """One query: GROUP BY the key, one filtered COUNT per counter, over the month's rows."""
    qs = MODEL[source].objects.all()
    where = Q(pk__in=[])
    for c in counters:
        where |= c.condition(month)
    aggregates = {
        c.code: (
            Coalesce(
                Sum(c.measure(month), filter=c.condition(month)), 0, output_field=IntegerField()
            )
            if c.measure
            else Count("pk", filter=c.condition(month))
        )
        for c in counters
    }
    rows = qs.filter(where).annotate(_key=key.group).values("_key").annotate(**aggregates)
    out: dict[int, dict] = {}
    for row in rows:
        k = row.pop("_key")
        if k is not None:
            out[k] = row
    return out


def count_month(month: Month, kind: str) -> dict[int, dict[str, int]]:
    """Every counter of `kind` for every subject with at least one row in the month.

    Units by unit id, workers by user id, areas by area id (grids summed up to their
    community, street, district and city).
    """
    plan: dict[tuple[str, object], list[Counter]] = {}
    figures: dict[int, dict[str, int]] = {}
    for c in COUNTERS.values():
        if kind not in c.kinds:
            continue
        if c.custom is not None:
            for k, n in c.custom(month, kind).items():
                figures.setdefault(k, {})[c.code] = n
            continue
        if kind == AREA:
            plan.setdefault((c.source, "grid"), []).append(c)
        else:
            plan.setdefault((c.source, c.keys[kind]), []).append(c)
    for (source, key_factory), counters in plan.items():
        key = GRID_KEY[source] if key_factory == "grid" else key_factory()
        for k, row in _grouped(source, key, counters, month).items():
            figures.setdefault(k, {}).update(row)
    if kind == AREA:
        figures = _roll_up(figures)
    return figures


def _roll_up(per_grid: dict[int, dict[str, int]]) -> dict[int, dict[str, int]]:
    """Sum grid figures into every ancestor area (one query for the tree's parent links)."""
    from grids.models import Area

    parent = dict(Area.objects.values_list("pk", "parent_id"))
    out: dict[int, dict[str, int]] = {}
    for grid_id, row in per_grid.items():
        node = grid_id
        while node is not None:
            target = out.setdefault(node, {})
            for code, n in row.items():
                target[code] = target.get(code, 0) + n
            node = parent.get(node)
    return out


def values_from(counts: dict[str, int], kind: str) -> dict[str, float | int | None]:
    """Counters (0 when absent), rates (None when the denominator is 0) and totals."""
    values: dict[str, float | int | None] = {
        c: (round(counts.get(c, 0) / x.scale, 1) if x.scale != 1 else int(counts.get(c, 0)))
        for c, x in COUNTERS.items()
        if kind in x.kinds
    }
    for code, r in RATES.items():
        if kind not in r.kinds:
            continue
        den = sum(values[c] or 0 for c in r.denominator)
        num = sum(values[c] or 0 for c in r.numerator)
        values[code] = round(min(1.0, num / den), 6) if den else None
    for code, t in TOTALS.items():
        if kind in t.kinds:
            values[code] = sum(values[c] or 0 for c in t.parts)
    return values


# --------------------------------------------------------------------------------------
# Drill-down: the cases behind a counter for one subject
# --------------------------------------------------------------------------------------


def cases_behind(
    *, code: str, month: Month, kind: str, subject_id: int, area_path: str = ""
) -> QuerySet:
    """The incidents a counter counted for a subject (the database as it is now)."""
    counter = COUNTERS[code]
    if not counter.is_case:
        return Incident.objects.none()
    model = MODEL[counter.source]
    rows = model.objects.filter(counter.condition(month))
    if kind == AREA:
        lookup = GRID_PATH[counter.source]
        rows = rows.filter(
            Q(**{lookup: area_path}) | Q(**{f"{lookup}__startswith": area_path + "."})
        )
    else:
        rows = rows.filter(counter.keys[kind]().match(subject_id))
    if model is Incident:
        return Incident.objects.filter(pk__in=rows.values("pk"))
    return Incident.objects.filter(pk__in=rows.values("incident_id"))


def parts_of(code: str) -> tuple[str, ...]:
    """The counters an indicator is made of (for drill-down links of rates and totals)."""
    if code in COUNTERS:
        return (code,)
    if code in RATES:
        r = RATES[code]
        return tuple(dict.fromkeys((*r.numerator, *r.denominator)))
    if code in TOTALS:
        return TOTALS[code].parts
    return ()
