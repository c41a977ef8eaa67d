"""What the assessment pages read. Leaders see published months; admins also drafts.

Pages read the stored results (snapshots), never recount; only the drill-down reads live
cases, scoped by `scope_queryset`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404

from govgrid.accounts.models import Role
from govgrid.accounts.scoping import scope_queryset

from . import indicators
from .indicators import AREA, COUNTERS, RATES, TOTALS, UNIT, WORKER, Month
from .models import AssessmentAdjustment, AssessmentResult, AssessmentRun, RunStatus

VISIBLE_TO_LEADERS = (RunStatus.PUBLISHED, RunStatus.SUPERSEDED)
PODIUM = 5  # 红榜 / 黑榜: the top and the bottom five


def can_manage(user) -> bool:
    return user.is_authenticated and (user.is_superuser or Role.ADMIN in user.roles)


def can_view(user) -> bool:
    return can_manage(user) or (user.is_authenticated and Role.LEADER in user.roles)


def run_list_for_user(*, user) -> QuerySet[AssessmentRun]:
    runs = AssessmentRun.objects.select_related("published_by").order_by("-month", "-version")
    return runs if can_manage(user) else runs.filter(status__in=VISIBLE_TO_LEADERS)


def run_get_for_user(*, user, pk: int) -> AssessmentRun:
    """The run, or 404 alike for missing and not visible (a leader asking for a draft)."""
    run = run_list_for_user(user=user).filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


@dataclass
class GroupBoard:
    scheme_id: int
    scheme_name: str
    group_id: int
    group_name: str
    full_marks: str
    top: list
    bottom: list
    flagged: list
    ranked: int = 0
    listed: int = 0


def run_boards(*, run: AssessmentRun) -> list[GroupBoard]:
    """Per scheme and group: 红榜 (top five), 黑榜 (bottom five) and the units flagged last
    two months running. Two queries whatever the number of subjects."""
    order = [F("rank").asc(nulls_last=True), F("pk").asc()]
    partition = [F("scheme_id"), F("group_id")]
    rows = (
        AssessmentResult.objects.filter(run=run, is_ranked=True)
        .annotate(
            from_top=Window(RowNumber(), partition_by=partition, order_by=order),
            from_bottom=Window(
                RowNumber(),
                partition_by=partition,
                order_by=[F("rank").desc(), F("pk").desc()],
            ),
        )
        .filter(Q(from_top__lte=PODIUM) | Q(from_bottom__lte=PODIUM) | Q(is_last_twice=True))
        .only(
            "pk",
            "scheme_id",
            "group_id",
            "subject_name",
            "subject_area",
            "score",
            "rank",
            "is_last",
            "is_last_twice",
            "case_count",
            "ranked_count",
        )
    )
    boards: dict[tuple[int, int], GroupBoard] = {}
    for scheme in run.schemes:
        for g in scheme["groups"]:
            boards[(scheme["id"], g["id"])] = GroupBoard(
                scheme["id"], scheme["name"], g["id"], g["name"], g["full_marks"], [], [], []
            )
    for row in (
        AssessmentResult.objects.filter(run=run)
        .values("scheme_id", "group_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        if (row["scheme_id"], row["group_id"]) in boards:
            boards[(row["scheme_id"], row["group_id"])].listed = row["n"]
    for row in rows:
        board = boards.get((row.scheme_id, row.group_id))
        if board is None:
            continue
        board.ranked = row.ranked_count
        if row.from_top <= PODIUM:
            board.top.append(row)
        # 黑榜: the bottom five, never repeating a subject already on the 红榜.
        if row.from_bottom <= PODIUM and row.from_top > PODIUM:
            board.bottom.append(row)
        if row.is_last_twice:
            board.flagged.append(row)
    for board in boards.values():
        board.top.sort(key=lambda r: (r.rank, r.pk))
        board.bottom.sort(key=lambda r: (r.rank, r.pk))
    return list(boards.values())


def group_ranking(*, run: AssessmentRun, scheme_id: int, group_id: int, query: str = ""):
    """The whole ranking of one group: ranked subjects by rank, then the unranked ones."""
    qs = AssessmentResult.objects.filter(run=run, scheme_id=scheme_id, group_id=group_id)
    if query:
        qs = qs.filter(Q(subject_name__icontains=query) | Q(subject_area__icontains=query))
    return qs.order_by(F("rank").asc(nulls_last=True), "-score", "subject_name").only(
        "pk",
        "subject_name",
        "subject_area",
        "score",
        "computed_score",
        "adjustment",
        "rank",
        "is_ranked",
        "is_last",
        "is_last_twice",
        "case_count",
        "figures",
        "subject_kind",
    )


@dataclass
class Figure:
    code: str
    label: str
    definition: str
    value: object
    is_rate: bool
    parts: tuple[str, ...]
    is_counter: bool
    is_case: bool


def figures_of(result: AssessmentResult) -> list[Figure]:
    """Every stored figure of a result with its definition: rates, totals, then counts."""
    out = []
    # Rates first (the headline figures), then totals and counts, in the registry's order
    # (the stored JSON does not keep it).
    for code in [*RATES, *TOTALS, *COUNTERS]:
        if code not in result.figures:
            continue
        spec = indicators.spec_of(code)
        value = result.figures[code]
        out.append(
            Figure(
                code=code,
                label=str(spec.label),
                definition=str(spec.definition),
                value=value,
                is_rate=code in RATES,
                parts=tuple(p for p in indicators.parts_of(code) if COUNTERS[p].is_case),
                is_counter=code in COUNTERS,
                is_case=code in COUNTERS and COUNTERS[code].is_case,
            )
        )
    return out


def result_get(*, run: AssessmentRun, pk: int) -> AssessmentResult:
    result = (
        AssessmentResult.objects.filter(run=run, pk=pk)
        .select_related("scheme", "group", "area")
        .first()
    )
    if result is None:
        raise Http404
    return result


def result_adjustments(*, run: AssessmentRun, result: AssessmentResult) -> list:
    return list(
        AssessmentAdjustment.objects.filter(
            run=run, scheme_id=result.scheme_id, subject_key=result.subject_key
        ).select_related("actor")
    )


def result_trend(*, run: AssessmentRun, result: AssessmentResult) -> list[dict]:
    """Score and rank of the subject in this scheme over the 12 months up to this run's:
    published versions, plus this run itself when it is a draft an admin is looking at."""
    first = Month(run.month)
    for _i in range(11):
        first = first.previous()
    rows = (
        AssessmentResult.objects.filter(
            scheme_id=result.scheme_id,
            subject_key=result.subject_key,
            run__month__gte=first.first,
            run__month__lte=run.month,
        )
        .filter(Q(run__status=RunStatus.PUBLISHED) | Q(run=run))
        .values("run__month", "run_id", "score", "rank", "ranked_count")
        .order_by("run__month")
    )
    by_month: dict[date, dict] = {}
    for row in rows:
        # This run wins over the month's published version (a correction being drafted).
        if row["run__month"] in by_month and row["run_id"] != run.pk:
            continue
        by_month[row["run__month"]] = {
            "month": row["run__month"].strftime("%Y-%m"),
            "score": float(row["score"]),
            "rank": row["rank"],
            "ranked": row["ranked_count"],
        }
    return [by_month[m] for m in sorted(by_month)]


def result_cases(*, user, run: AssessmentRun, result: AssessmentResult, code: str) -> QuerySet:
    """The cases behind one counter of a result, as the database holds them now, narrowed
    to what the user may see."""
    if code not in COUNTERS or code not in result.figures:
        raise Http404
    kind = result.subject_kind
    subject_id = {UNIT: result.unit_id, WORKER: result.user_id, AREA: result.area_id}[kind]
    qs = indicators.cases_behind(
        code=code,
        month=Month(run.month),
        kind=kind,
        subject_id=subject_id,
        area_path=result.area.path if result.area_id else "",
    )
    return (
        scope_queryset(user, qs)
        .select_related("category", "grid", "lead_unit")
        .order_by("-reported_at", "-pk")
    )


def scheme_of(run: AssessmentRun, scheme_id: int) -> dict:
    """The scheme as it was when the run was computed."""
    for scheme in run.schemes:
        if scheme["id"] == scheme_id:
            return scheme
    return {}


def all_results(*, run: AssessmentRun) -> QuerySet:
    return AssessmentResult.objects.filter(run=run).order_by(
        "scheme_id", "group_id", F("rank").asc(nulls_last=True), "-score", "subject_name"
    )
