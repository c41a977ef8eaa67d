"""Computing, adjusting, publishing and correcting a month. Each service owns its transaction.

The life of a month: `assessment_month_request` creates (or reopens) the month's draft and
queues `assessment_run_compute` after commit, which counts in the database, scores, ranks
and stores one `AssessmentResult` per subject and scheme, reporting progress as it goes.
Admins adjust the draft (`assessment_adjust`, reason required) and publish it
(`assessment_run_publish`). A published run is frozen: nothing here writes to it again, so
later changes to cases never move its figures. A correction is a new version with a reason
(`assessment_month_request(..., reason=...)`); publishing it supersedes the old one, which
is kept.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from govgrid.accounts.models import Role, Unit, User
from govgrid.lib.errors import DomainError
from grids.models import Area, AreaLevel, GridStaff, StaffRole

from . import indicators
from .indicators import AREA, UNIT, VOLUME, WORKER, Month, month_of
from .models import (
    AssessmentAdjustment,
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    RunStatus,
    SchemeGroup,
    SubjectKind,
)
from .schemes import ItemSpec, Scorer

log = logging.getLogger(__name__)
OPEN = (RunStatus.COMPUTING, RunStatus.DRAFT, RunStatus.FAILED)
# A run still "computing" after this long lost its task (a worker killed, the broker flushed):
# asking again queues it anew. A Wuhan month computes in well under a minute.
STALE_COMPUTING = timedelta(minutes=30)


@transaction.atomic
def assessment_month_request(
    *, month: date, actor=None, reason: str = "", now: datetime | None = None
) -> AssessmentRun:
    """Ask for a month to be computed (as a draft); the work runs in a Celery task.

    - no run yet: version 1;
    - a draft (or a failed run): computed again in place, its adjustments kept;
    - published: only as a correction, which needs a reason: a new version, the published
      adjustments carried over; the published version stays as it is.
    Raises DomainError for a month that has not ended, a month being computed (unless its
    task has been silent for STALE_COMPUTING), or a correction without a reason. Queues the
    computation after commit.
    """
    month = month_of(month).first
    today = timezone.localdate(now) if now else timezone.localdate()
    if month >= today.replace(day=1):
        raise DomainError(_("Only a month that has ended can be assessed."), code="month")
    runs = list(AssessmentRun.objects.select_for_update().filter(month=month))
    open_run = next((r for r in runs if r.status in OPEN), None)
    published = next((r for r in runs if r.status == RunStatus.PUBLISHED), None)
    reason = (reason or "").strip()
    if open_run is not None:
        stale = timezone.now() - STALE_COMPUTING
        if open_run.status == RunStatus.COMPUTING and open_run.updated_at > stale:
            raise DomainError(_("This month is being computed already."), code="computing")
        run = open_run
        run.status, run.progress, run.progress_note, run.error = RunStatus.COMPUTING, 0, "", ""
        if reason:
            run.reason = reason
        run.requested_by = actor if getattr(actor, "is_authenticated", False) else run.requested_by
        run.save()
    else:
        if published is not None and not reason:
            raise DomainError(
                _("This month is published. A correction is a new version and needs a reason."),
                code="reason",
            )
        try:
            with transaction.atomic():
                run = AssessmentRun.objects.create(
                    month=month,
                    version=max((r.version for r in runs), default=0) + 1,
                    status=RunStatus.COMPUTING,
                    reason=reason,
                    requested_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
        except IntegrityError as exc:
            raise DomainError(_("This month is being computed already."), code="computing") from exc
        if published is not None:
            AssessmentAdjustment.objects.bulk_create(
                AssessmentAdjustment(
                    run=run,
                    scheme_id=a.scheme_id,
                    subject_key=a.subject_key,
                    points=a.points,
                    reason=a.reason,
                    actor_id=a.actor_id,
                    at=a.at,
                )
                for a in published.adjustments.all()
            )
    from . import tasks

    run_id = run.pk
    transaction.on_commit(lambda: tasks.assessment_run_compute_task.delay(run_id))
    return run


def assessment_month_close(*, today: date | None = None) -> AssessmentRun | None:
    """The 1st of the month: ask for last month's draft unless the month has a run already."""
    today = today or timezone.localdate()
    month = month_of(today).previous().first
    if AssessmentRun.objects.filter(month=month).exists():
        return None
    try:
        return assessment_month_request(month=month, actor=None)
    except DomainError:
        return None  # requested at the same moment by someone else


def _progress(run_id: int, percent: int, note: str) -> None:
    # Outside any transaction in the worker: the page polling it sees each step at once.
    AssessmentRun.objects.filter(pk=run_id).update(
        progress=percent, progress_note=note[:100], updated_at=timezone.now()
    )


def _subjects(kind: str, group: SchemeGroup) -> list[dict]:
    """The subjects of a group: id, key, name, area name (one query)."""
    if kind == UNIT:
        qs = Unit.objects.filter(is_active=True)
        if group.unit_kind:
            qs = qs.filter(kind=group.unit_kind)
        if group.level:
            qs = qs.filter(level=group.level)
        return [
            {"id": pk, "key": f"unit:{pk}", "name": name, "area": area, "unit_id": pk}
            for pk, name, area in qs.order_by("code").values_list(
                "pk", "name", "jurisdiction__name"
            )
        ]
    if kind == WORKER:
        posts = dict(
            GridStaff.objects.filter(role=StaffRole.WORKER, until__isnull=True)
            .order_by("-since")
            .values_list("user_id", "grid__name")
        )
        qs = User.objects.filter(is_active=True, roles__contains=[Role.GRID_WORKER])
        return [
            {
                "id": pk,
                "key": f"user:{pk}",
                "name": full or username,
                "area": posts.get(pk, ""),
                "user_id": pk,
            }
            for pk, full, username in qs.order_by("username").values_list(
                "pk", "full_name", "username"
            )
        ]
    levels = (
        [group.level]
        if group.level
        else [AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY]
    )
    return [
        {"id": pk, "key": f"area:{pk}", "name": name, "area": parent or "", "area_id": pk}
        for pk, name, parent in Area.objects.filter(level__in=levels)
        .order_by("path")
        .values_list("pk", "name", "parent__name")
    ]


def _scheme_snapshot(scheme: AssessmentScheme) -> dict:
    return {
        "id": scheme.pk,
        "name": scheme.name,
        "kind": scheme.subject_kind,
        "method": scheme.method,
        "base_score": str(scheme.base_score),
        "min_cases": scheme.min_cases,
        "items": [
            {
                "name": i.name,
                "kind": i.kind,
                "indicator": i.indicator,
                "weight": str(i.weight) if i.weight is not None else None,
                "formula": i.formula,
                "cap": str(i.cap) if i.cap is not None else None,
            }
            for i in scheme.items.all()
        ],
        "groups": [
            {"id": g.pk, "name": g.name, "full_marks": str(g.full_marks)}
            for g in scheme.groups.all()
        ],
    }


def rank_rows(rows: list[AssessmentResult]) -> None:
    """Rank one group in memory: ranked subjects by score (ties share a rank, 1-2-2-4);
    subjects under the minimum number of cases are listed without a rank."""
    ranked = sorted((r for r in rows if r.is_ranked), key=lambda r: -r.score)
    previous_score, previous_rank = None, 0
    for position, row in enumerate(ranked, start=1):
        if row.score != previous_score:
            previous_score, previous_rank = row.score, position
        row.rank = previous_rank
    last_rank = ranked[-1].rank if len(ranked) > 1 else None
    for row in rows:
        if not row.is_ranked:
            row.rank = None
        row.ranked_count = len(ranked)
        row.is_last = row.is_ranked and last_rank is not None and row.rank == last_rank


def _flag_last_twice(run: AssessmentRun) -> None:
    """Last in its group this month and in the previous month's published version.

    The previous month's last subjects are a handful (one per group, more on a tie): read
    them first, then flag this run's last rows among them, so no query correlates the
    two months' results row by row.
    """
    previous = Month(run.month).previous().first
    was_last = list(
        AssessmentResult.objects.filter(
            run__month=previous, run__status=RunStatus.PUBLISHED, is_last=True
        ).values_list("scheme_id", "subject_key")
    )
    run.results.filter(is_last_twice=True).update(is_last_twice=False)
    if not was_last:
        return
    match = Q(pk__in=[])
    for scheme_id, subject_key in was_last:
        match |= Q(scheme_id=scheme_id, subject_key=subject_key)
    run.results.filter(is_last=True).filter(match).update(is_last_twice=True)


def assessment_run_compute(*, run_id: int) -> AssessmentRun:
    """Count, score and rank a month that waits in “computing”; store it as a draft.

    Reads with a few grouped queries per kind of subject (see `indicators`), then replaces
    the run's results in one transaction under the run's row lock. A run no longer waiting
    (computed by a task that ran twice, or published) is left alone. Failure marks the run
    failed with the error; asking again retries.
    """
    run = AssessmentRun.objects.get(pk=run_id)
    if run.status != RunStatus.COMPUTING:
        return run
    started = time.monotonic()
    try:
        rows, snapshot = _compute_rows(run)
        with transaction.atomic():
            run = AssessmentRun.objects.select_for_update().get(pk=run_id)
            if run.status != RunStatus.COMPUTING:
                return run
            _progress(run.pk, 90, _("Saving"))
            run.results.all().delete()
            _results_copy(rows)
            _flag_last_twice(run)
            run.status = RunStatus.DRAFT
            run.schemes = snapshot
            run.computed_at = timezone.now()
            run.seconds = round(time.monotonic() - started, 2)
            run.progress, run.progress_note, run.error = 100, _("Computed"), ""
            run.save()
        return run
    except Exception as exc:
        log.exception("assessment of %s failed", run)
        AssessmentRun.objects.filter(pk=run_id, status=RunStatus.COMPUTING).update(
            status=RunStatus.FAILED, error=str(exc)[:2000]
        )
        raise


def _results_copy(rows: list[AssessmentResult]) -> None:
    """Insert the results with COPY: a Wuhan month is ~21,000 rows with their figures, and
    COPY takes a fraction of the time of batched INSERTs (docs/performance.md)."""
    fields = [f for f in AssessmentResult._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    table = connection.ops.quote_name(AssessmentResult._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(getattr(row, f.attname), ensure_ascii=False)
                    if f.attname in json_fields
                    else getattr(row, f.attname)
                    for f in fields
                ]
            )


def _compute_rows(run: AssessmentRun) -> tuple[list[AssessmentResult], list[dict]]:
    month = Month(run.month)
    schemes = list(
        AssessmentScheme.objects.filter(is_active=True).prefetch_related("items", "groups")
    )
    kinds = [k for k in (UNIT, WORKER, AREA) if any(s.subject_kind == k for s in schemes)]
    counts: dict[str, dict] = {}
    for n, kind in enumerate(kinds):
        _progress(
            run.pk,
            5 + 60 * n // max(1, len(kinds)),
            _("Counting: %(kind)s") % {"kind": SubjectKind(kind).label},
        )
        counts[kind] = indicators.count_month(month, kind)
    _progress(run.pk, 70, _("Scoring"))
    adjustments: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for row in (
        AssessmentAdjustment.objects.filter(run=run)
        .values("scheme_id", "subject_key")
        .annotate(total=Sum("points"))
    ):
        adjustments[(row["scheme_id"], row["subject_key"])] = row["total"]
    rows: list[AssessmentResult] = []
    for scheme in schemes:
        kind = scheme.subject_kind
        scorer = Scorer(
            method=scheme.method,
            kind=kind,
            base_score=scheme.base_score,
            items=[
                ItemSpec(i.name, i.kind, i.indicator, i.weight, i.formula, i.cap)
                for i in scheme.items.all()
            ],
        )
        seen: set[str] = set()
        for group in scheme.groups.all():
            group_rows = []
            for s in _subjects(kind, group):
                if s["key"] in seen:
                    continue  # groups overlap: the first one takes the subject
                seen.add(s["key"])
                group_rows.append(
                    _result_row(
                        run=run,
                        scheme=scheme,
                        group=group,
                        subject=s,
                        scorer=scorer,
                        counts=counts[kind].get(s["id"], {}),
                        adjustment=adjustments.get((scheme.pk, s["key"]), Decimal(0)),
                    )
                )
            rank_rows(group_rows)
            rows.extend(group_rows)
    return rows, [_scheme_snapshot(s) for s in schemes]


def _result_row(
    *,
    run: AssessmentRun,
    scheme: AssessmentScheme,
    group: SchemeGroup,
    subject: dict,
    scorer: Scorer,
    counts: dict[str, int],
    adjustment: Decimal,
) -> AssessmentResult:
    """One subject's unsaved result: its figures, score items and score (not yet ranked)."""
    kind = scheme.subject_kind
    values = indicators.values_from(counts, kind)
    computed, lines = scorer.score(values, group.full_marks)
    cases = int(values.get(VOLUME[kind]) or 0)
    return AssessmentResult(
        run=run,
        scheme=scheme,
        group=group,
        subject_kind=kind,
        subject_key=subject["key"],
        subject_name=subject["name"][:150],
        subject_area=(subject["area"] or "")[:100],
        unit_id=subject.get("unit_id"),
        user_id=subject.get("user_id"),
        area_id=subject.get("area_id"),
        case_count=cases,
        figures=values,
        items=lines,
        full_marks=group.full_marks,
        computed_score=computed,
        adjustment=adjustment,
        score=max(Decimal(0), computed + adjustment),
        is_ranked=cases >= scheme.min_cases,
    )


def _points(value) -> Decimal:
    try:
        points = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(_("Give the points as a number, e.g. 2 or -3.5."), code="points") from exc
    if not points.is_finite():
        raise DomainError(_("Give the points as a number, e.g. 2 or -3.5."), code="points")
    return points


@transaction.atomic
def assessment_adjust(
    *, result_id: int, points, reason: str, actor, now: datetime | None = None
) -> AssessmentResult:
    """Add a manual bonus (+) or deduction (−) with its reason to a subject of a draft.

    Locks the run; refuses a run that is not a draft (a published month is frozen), a
    missing reason, zero points or more than the group's full marks. Appends an
    `AssessmentAdjustment`, updates the score and re-ranks the subject's group.
    """
    result = AssessmentResult.objects.filter(pk=result_id).first()
    if result is None:
        raise DomainError(_("No such result."), code="missing")
    run = AssessmentRun.objects.select_for_update().get(pk=result.run_id)
    if run.status != RunStatus.DRAFT:
        raise DomainError(
            _("Only a draft can be adjusted; a published month is frozen."), code="frozen"
        )
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("An adjustment needs a reason."), code="reason")
    pts = _points(points)
    if pts == 0:
        raise DomainError(_("An adjustment of 0 points changes nothing."), code="points")
    if abs(pts) > result.full_marks:
        raise DomainError(
            _("An adjustment cannot exceed the group's full marks (%(marks)s).")
            % {"marks": result.full_marks},
            code="points",
        )
    AssessmentAdjustment.objects.create(
        run=run,
        scheme_id=result.scheme_id,
        subject_key=result.subject_key,
        points=pts,
        reason=reason,
        actor=actor,
        at=now or timezone.now(),
    )
    group = list(
        AssessmentResult.objects.filter(
            run=run, scheme_id=result.scheme_id, group_id=result.group_id
        )
    )
    for row in group:
        if row.pk == result.pk:
            row.adjustment += pts
            row.score = max(Decimal(0), row.computed_score + row.adjustment)
            result = row
    rank_rows(group)
    AssessmentResult.objects.bulk_update(
        group, ["adjustment", "score", "rank", "ranked_count", "is_last"], batch_size=2000
    )
    _flag_last_twice(run)
    result.refresh_from_db()
    return result


@transaction.atomic
def assessment_run_publish(*, run_id: int, actor, now: datetime | None = None) -> AssessmentRun:
    """Publish a computed draft; the month's previously published version (if this is a
    correction) becomes superseded and is kept. Raises DomainError when the run is already
    published or is not a computed draft. Locks the month's runs."""
    run = AssessmentRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        raise DomainError(_("No such month."), code="missing")
    month_runs = list(AssessmentRun.objects.select_for_update().filter(month=run.month))
    if run.status in (RunStatus.PUBLISHED, RunStatus.SUPERSEDED):
        raise DomainError(
            _("%(month)s version %(version)s is published already.")
            % {"month": f"{run.month:%Y-%m}", "version": run.version},
            code="published",
        )
    if run.status != RunStatus.DRAFT:
        raise DomainError(_("Only a computed draft can be published."), code="not_draft")
    # The last change to the results before they freeze (a database trigger refuses any
    # write to the results of a published run).
    _flag_last_twice(run)
    for other in month_runs:
        if other.pk != run.pk and other.status == RunStatus.PUBLISHED:
            other.status = RunStatus.SUPERSEDED
            other.save(update_fields=["status", "updated_at"])
    run.status = RunStatus.PUBLISHED
    run.published_at = now or timezone.now()
    run.published_by = actor if getattr(actor, "is_authenticated", False) else None
    run.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    # The next month's draft may have been computed before this one was published.
    nxt = AssessmentRun.objects.filter(month=(Month(run.month).end.date()), status__in=OPEN).first()
    if nxt is not None:
        _flag_last_twice(nxt)
    return run
