"""Scoring, ranking, the life of a month (draft → adjust → publish → frozen → correction)
and bad input, on the hand-built September."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase

from dispatch.assessment.models import (
    AssessmentAdjustment,
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    RunStatus,
)
from dispatch.assessment.schemes import ItemSpec, Scorer, scheme_check
from dispatch.assessment.seed import seed_default
from dispatch.assessment.services import (
    assessment_adjust,
    assessment_month_close,
    assessment_month_request,
    assessment_run_publish,
)
from govgrid.lib.errors import DomainError
from tests import factories
from tests.assessment.conftest import at, evidence

pytestmark = pytest.mark.django_db

SEPTEMBER = date(2026, 9, 1)
NOW = datetime(2026, 11, 30, 12, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def schemes():
    seed_default()


def compute(month=SEPTEMBER, **kw) -> AssessmentRun:
    # Celery runs eagerly in the tests; the task runs when the request commits.
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = assessment_month_request(month=month, now=NOW, **kw)
    return AssessmentRun.objects.get(pk=run.pk)


def result(run, scheme_name, subject) -> AssessmentResult:
    return AssessmentResult.objects.get(run=run, scheme__name=scheme_name, subject_key=subject)


UNIT_3 = "承办单位“三率”考核"
UNIT_BASE = "承办单位基准分考核"
WORKERS = "网格员月度考核"
AREAS = "区域综合考核"


# ----------------------------------------------------------------------------------------
# Scoring by hand
# ----------------------------------------------------------------------------------------


def test_weighted_rates_share_the_weight_of_a_missing_rate():
    scorer = Scorer(
        method="weighted",
        kind="unit",
        base_score=Decimal(100),
        items=[
            ItemSpec("响应率", "weight", "timely_signin_rate", Decimal(30)),
            ItemSpec("解决率", "weight", "resolution_rate", Decimal(35)),
            ItemSpec("满意率", "weight", "satisfaction_rate", Decimal(35)),
        ],
    )
    values = {"timely_signin_rate": 0.6, "resolution_rate": 0.5, "satisfaction_rate": None}
    score, lines = scorer.score(values, Decimal(100))
    # No rating at all: 30 and 35 share the 100: 30/65·100·0.6 + 35/65·100·0.5 = 54.615…
    assert score == Decimal("54.62")
    assert lines[2]["points"] is None
    # A group out of 150 gets one and a half times the points.
    assert scorer.score(values, Decimal(150))[0] == Decimal("81.92")


def test_base_score_with_capped_deductions_and_bonus():
    scorer = Scorer(
        method="base",
        kind="unit",
        base_score=Decimal(100),
        items=[
            ItemSpec("黄牌", "points", formula="-5 * yellow_cards", cap=Decimal(20)),
            ItemSpec("红牌", "points", formula="-10 * red_cards", cap=Decimal(50)),
            ItemSpec("按期", "points", formula="results_on_time", cap=Decimal(10)),
        ],
    )
    # 100 − min(5·6, 20) − 10·1 + min(14, 10) = 80
    score, lines = scorer.score(
        {"yellow_cards": 6, "red_cards": 1, "results_on_time": 14}, Decimal(100)
    )
    assert score == Decimal("80.00")
    assert [line["points"] for line in lines] == ["100.00", "-20.00", "-10.00", "10.00"]
    # Never below zero.
    assert scorer.score({"yellow_cards": 0, "red_cards": 20, "results_on_time": 0}, Decimal(100))[
        0
    ] == Decimal("50.00")


# ----------------------------------------------------------------------------------------
# A month computed, ranked, adjusted, published, frozen, corrected
# ----------------------------------------------------------------------------------------


def test_compute_scores_and_ranks_the_hand_built_month(september, city):
    run = compute()
    assert run.status == RunStatus.DRAFT and run.version == 1 and run.progress == 100
    department = f"unit:{september.department.pk}"
    three = result(run, UNIT_3, department)
    # 30·0.6 + 35·(4/6) + 35·(2/3) − 2·1 overruled return = 62.67
    assert three.score == Decimal("62.67")
    assert three.group.name == "街道职能部门"
    assert three.case_count == 6 and three.is_ranked and three.rank == 1
    assert three.figures["satisfaction_rate"] == pytest.approx(2 / 3, abs=1e-6)
    # 100 − 5·1 yellow − 10·1 red + 5 results on time = 90
    assert result(run, UNIT_BASE, department).score == Decimal("90.00")
    # 80 + min(2·6, 10) + 1 handled on the spot − 5·1 invalid = 86
    assert result(run, WORKERS, f"user:{september.worker.pk}").score == Decimal("86.00")
    # Areas: 40·5/6 + 30·4/6 + 30·2/3 = 73.33; the district is out of 150.
    street = result(run, AREAS, f"area:{city.streets[0].pk}")
    assert street.score == Decimal("73.33") and street.rank == 1
    assert result(run, AREAS, f"area:{city.district.pk}").score == Decimal("110.00")
    # A subject under the minimum number of cases is listed, not ranked.
    other = result(run, AREAS, f"area:{city.streets[1].pk}")
    assert other.case_count == 0 and not other.is_ranked and other.rank is None
    assert street.ranked_count == 1


def test_a_subject_under_the_minimum_is_listed_but_not_ranked(september):
    AssessmentScheme.objects.filter(name=UNIT_3).update(min_cases=7)
    run = compute()
    row = result(run, UNIT_3, f"unit:{september.department.pk}")
    assert row.case_count == 6 and not row.is_ranked and row.rank is None
    assert row.score == Decimal("62.67")  # still scored and shown


def test_ties_share_a_rank_and_the_last_is_flagged_two_months_running(september, city, people):
    # A second street department with nothing to do but enough... nothing: give both 0 cases.
    AssessmentScheme.objects.filter(name=UNIT_BASE).update(min_cases=0)
    other = factories.make_unit(
        area=city.streets[1],
        kind="department",
        name="街道2城管中队",
        parent=people["units"]["street"],
    )
    august = compute(date(2026, 8, 1))
    rows = {
        r.subject_key: r
        for r in august.results.filter(scheme__name=UNIT_BASE, group__name="街道职能部门")
    }
    dep, oth = rows[f"unit:{september.department.pk}"], rows[f"unit:{other.pk}"]
    # August: the department had E (dispatched, signed, no result yet): 100 + 0 = 100; the
    # other one had nothing: 100. Equal scores share rank 1; no one is last in a tie of all.
    assert (dep.score, oth.score) == (Decimal("100.00"), Decimal("100.00"))
    assert dep.rank == oth.rank == 1
    # Push the other unit to the bottom in August and publish it.
    assessment_adjust(result_id=oth.pk, points="-3", reason="台账不全", actor=people["admin"])
    assessment_run_publish(run_id=august.pk, actor=people["admin"])
    oth.refresh_from_db()
    assert oth.rank == 2 and oth.is_last and not oth.is_last_twice
    # September: the department loses points to its cards (90), the other keeps 100 → the
    # department is last, but was not last in August: no flag. Then make the other last.
    september_run = compute()
    rows = {
        r.subject_key: r
        for r in september_run.results.filter(scheme__name=UNIT_BASE, group__name="街道职能部门")
    }
    assert rows[f"unit:{september.department.pk}"].is_last
    assert not rows[f"unit:{september.department.pk}"].is_last_twice
    assessment_adjust(
        result_id=rows[f"unit:{other.pk}"].pk,
        points="-20",
        reason="重大失误",
        actor=people["admin"],
    )
    flagged = AssessmentResult.objects.get(pk=rows[f"unit:{other.pk}"].pk)
    assert flagged.is_last and flagged.is_last_twice


def test_publish_freezes_the_month_and_a_correction_is_a_new_version(september, people):
    admin = people["admin"]
    run = compute()
    department = f"unit:{september.department.pk}"
    row = result(run, UNIT_3, department)
    assessment_adjust(result_id=row.pk, points="2.5", reason="配合专项整治表现突出", actor=admin)
    row.refresh_from_db()
    assert row.score == Decimal("65.17") and row.adjustment == Decimal("2.50")
    assessment_run_publish(run_id=run.pk, actor=admin)
    frozen = {r.pk: (r.score, r.figures, r.rank) for r in AssessmentResult.objects.filter(run=run)}
    # Later the case B is finally handled and closed, and A is re-rated: the data moves…
    september.act("B", "handle", at(10, 20, 10), result="终于处置", evidence=evidence())
    september.act("B", "verify", at(10, 20, 15))
    september.act("B", "rate", at(10, 21, 10), rating="satisfied")
    # …and asking again for the published month without a reason is refused.
    with pytest.raises(DomainError) as exc:
        assessment_month_request(month=SEPTEMBER, now=NOW)
    assert exc.value.code == "reason"
    # The published figures do not move, and it cannot be adjusted or published again.
    assert {
        r.pk: (r.score, r.figures, r.rank) for r in AssessmentResult.objects.filter(run=run)
    } == frozen
    with pytest.raises(DomainError) as exc:
        assessment_adjust(result_id=row.pk, points="1", reason="再加一分", actor=admin)
    assert exc.value.code == "frozen"
    with pytest.raises(DomainError) as exc:
        assessment_run_publish(run_id=run.pk, actor=admin)
    assert exc.value.code == "published"
    # A correction: a new version with its reason, recomputed from today's data, the
    # adjustment carried over; the first version is kept as it was.
    correction = compute(reason="B 的办理结果补录")
    assert (correction.version, correction.status) == (2, RunStatus.DRAFT)
    assert correction.reason == "B 的办理结果补录"
    fixed = result(correction, UNIT_3, department)
    assert fixed.adjustment == Decimal("2.50")
    assert fixed.figures["open_overdue"] == 0  # B is no longer open
    assessment_run_publish(run_id=correction.pk, actor=admin)
    run.refresh_from_db()
    assert run.status == RunStatus.SUPERSEDED
    assert {
        r.pk: (r.score, r.figures, r.rank) for r in AssessmentResult.objects.filter(run=run)
    } == frozen
    assert AssessmentRun.objects.filter(month=SEPTEMBER).count() == 2


def test_a_draft_can_be_computed_again_and_keeps_its_adjustments(september, people):
    run = compute()
    row = result(run, UNIT_BASE, f"unit:{september.department.pk}")
    assessment_adjust(result_id=row.pk, points="-4", reason="迟报", actor=people["admin"])
    again = compute()
    assert again.pk == run.pk and again.version == 1
    assert result(again, UNIT_BASE, f"unit:{september.department.pk}").score == Decimal("86.00")


def test_month_close_asks_for_last_month_once(september):
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = assessment_month_close(today=date(2026, 10, 1))
    assert first is not None
    run = AssessmentRun.objects.get(month=SEPTEMBER)
    assert run.status == RunStatus.DRAFT and run.requested_by is None
    # A second run of the beat job (or a retry) changes nothing.
    assert assessment_month_close(today=date(2026, 10, 1)) is None
    assert AssessmentRun.objects.filter(month=SEPTEMBER).count() == 1


# ----------------------------------------------------------------------------------------
# Bad input: a clear error, nothing changed
# ----------------------------------------------------------------------------------------


def test_adjustment_without_reason_or_points_changes_nothing(september, people):
    run = compute()
    row = result(run, UNIT_3, f"unit:{september.department.pk}")
    for points, reason, code in [
        ("3", "", "reason"),
        ("3", "   ", "reason"),
        ("0", "理由", "points"),
        ("abc", "理由", "points"),
        ("500", "理由", "points"),
    ]:
        with pytest.raises(DomainError) as exc:
            assessment_adjust(result_id=row.pk, points=points, reason=reason, actor=people["admin"])
        assert exc.value.code == code
    row.refresh_from_db()
    assert row.score == Decimal("62.67") and row.adjustment == 0
    assert not AssessmentAdjustment.objects.exists()


def test_only_an_ended_month_and_one_computation_at_a_time(september):
    with pytest.raises(DomainError):
        assessment_month_request(month=date(2026, 11, 1), now=NOW)
    assert not AssessmentRun.objects.exists()


def test_scheme_rules():
    bad_weights = [
        ItemSpec("响应率", "weight", "timely_signin_rate", Decimal(30)),
        ItemSpec("解决率", "weight", "resolution_rate", Decimal(35)),
        ItemSpec("满意率", "weight", "satisfaction_rate", Decimal(30)),
    ]
    with pytest.raises(ValidationError) as exc:
        scheme_check(method="weighted", kind="unit", items=bad_weights)
    assert "95" in " ".join(exc.value.messages) and "100" in " ".join(exc.value.messages)
    with pytest.raises(ValidationError) as exc:
        scheme_check(
            method="base",
            kind="unit",
            items=[ItemSpec("黄牌", "points", formula="-5 * yelow_cards", cap=Decimal(20))],
        )
    assert "yelow_cards" in " ".join(exc.value.messages)
    # Worker indicators are not known to a unit scheme, and code is not a formula.
    for formula in ["reports * 2", "__import__('os')", "yellow_cards.real", "'a' * 3"]:
        with pytest.raises(ValidationError):
            scheme_check(
                method="base", kind="unit", items=[ItemSpec("x", "points", formula=formula)]
            )
    scheme_check(
        method="weighted",
        kind="unit",
        items=[*bad_weights[:2], ItemSpec("满意率", "weight", "satisfaction_rate", Decimal(35))],
    )


def test_red_and_black_lists_do_not_repeat_a_subject(city):
    from dispatch.assessment.selectors import run_boards
    from dispatch.assessment.services import rank_rows

    scheme = AssessmentScheme.objects.get(name=AREAS)
    group = scheme.groups.get(level=4)
    run = AssessmentRun.objects.create(
        month=SEPTEMBER,
        status=RunStatus.DRAFT,
        schemes=[
            {
                "id": scheme.pk,
                "name": scheme.name,
                "groups": [{"id": group.pk, "name": "社区", "full_marks": "100"}],
            }
        ],
    )

    def rows(n):
        out = [
            AssessmentResult(
                run=run,
                scheme=scheme,
                group=group,
                subject_kind="area",
                subject_key=f"area:{i}",
                subject_name=f"社区{i}",
                full_marks=100,
                computed_score=100 - i,
                score=100 - i,
                is_ranked=True,
            )
            for i in range(n)
        ]
        rank_rows(out)
        return out

    AssessmentResult.objects.bulk_create(rows(8))
    board = run_boards(run=run)[0]
    assert [r.rank for r in board.top] == [1, 2, 3, 4, 5]
    assert [r.rank for r in board.bottom] == [6, 7, 8]  # not 4 and 5 again
    assert (board.ranked, board.listed) == (8, 8)
    AssessmentResult.objects.filter(run=run).delete()
    AssessmentResult.objects.bulk_create(rows(12))
    board = run_boards(run=run)[0]
    assert [r.rank for r in board.bottom] == [8, 9, 10, 11, 12]
    assert board.bottom[-1].is_last


def test_the_beat_asks_for_last_month_on_the_first_at_two(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["assessment-month-close"]
    assert entry["task"] == "dispatch.assessment.tasks.assessment_month_close_task"
    schedule = entry["schedule"]
    assert (schedule.minute, schedule.hour, schedule.day_of_month) == ({0}, {2}, {1})
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


def test_a_task_that_runs_twice_computes_once(september):
    from dispatch.assessment.services import assessment_run_compute

    run = compute()
    computed_at = run.computed_at
    again = assessment_run_compute(run_id=run.pk)  # a second delivery of the same task
    assert again.computed_at == computed_at and again.status == RunStatus.DRAFT


def test_a_month_stuck_computing_can_be_asked_again_after_a_while(september):
    from datetime import timedelta

    run = AssessmentRun.objects.create(month=SEPTEMBER, status=RunStatus.COMPUTING)
    with pytest.raises(DomainError) as exc:
        compute()
    assert exc.value.code == "computing"
    # Its task was lost (a worker killed, the broker flushed): half an hour later, ask again.
    AssessmentRun.objects.filter(pk=run.pk).update(updated_at=NOW - timedelta(hours=1))
    again = compute()
    assert again.pk == run.pk and again.status == RunStatus.DRAFT and again.results.exists()


def test_the_database_refuses_to_change_a_published_month(september, people):
    from django.db import DatabaseError, transaction

    run = compute()
    row = result(run, UNIT_3, f"unit:{september.department.pk}")
    assessment_run_publish(run_id=run.pk, actor=people["admin"])
    for write in (
        lambda: AssessmentResult.objects.filter(pk=row.pk).update(score=100),
        lambda: AssessmentResult.objects.filter(pk=row.pk).delete(),
        lambda: AssessmentAdjustment.objects.create(
            run=run,
            scheme_id=row.scheme_id,
            subject_key=row.subject_key,
            points=5,
            reason="绕过服务",
            at=NOW,
        ),
    ):
        with pytest.raises(DatabaseError, match="frozen"), transaction.atomic():
            write()
    row.refresh_from_db()
    assert row.score == Decimal("62.67")
