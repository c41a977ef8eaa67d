"""The assessment pages: who sees what, compute with progress, adjust, publish, drill-down
within scope, Excel, print, and the scheme admin refusing bad schemes."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from dispatch.assessment.indicators import RATES
from dispatch.assessment.models import (
    AssessmentAdjustment,
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    RunStatus,
    SchemeItem,
)
from dispatch.assessment.seed import seed_default
from govgrid.accounts.models import Role
from tests import factories

pytestmark = pytest.mark.django_db

SEPTEMBER = date(2026, 9, 1)
UNIT_3 = "承办单位“三率”考核"


@pytest.fixture(autouse=True)
def schemes():
    seed_default()


@pytest.fixture
def computed(september, people, client, django_capture_on_commit_callbacks):
    client.force_login(people["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dispatch:assessment_compute"), {"month": "2026-09-01"})
    run = AssessmentRun.objects.get(month=SEPTEMBER)
    assert response.status_code == 302
    assert response.url == reverse("dispatch:assessment_run", args=[run.pk])
    assert run.status == RunStatus.DRAFT
    return run


def department_result(run, september) -> AssessmentResult:
    return AssessmentResult.objects.get(
        run=run, scheme__name=UNIT_3, subject_key=f"unit:{september.department.pk}"
    )


def test_who_may_open_the_assessment(computed, people, client):
    url = reverse("dispatch:assessment_run", args=[computed.pk])
    for name in ("handler", "street", "worker"):
        client.force_login(people[name])
        assert client.get(reverse("dispatch:assessment_home")).status_code == 403
    # Leaders see published months only: a draft is "not found" to them.
    client.force_login(people["leader"])
    assert client.get(url).status_code == 404
    assert "2026-09" not in client.get(reverse("dispatch:assessment_home")).content.decode()
    computed.status = RunStatus.PUBLISHED
    computed.save()
    assert client.get(url).status_code == 200
    # Leaders cannot adjust or publish.
    row = AssessmentResult.objects.filter(run=computed).first()
    adjust = reverse("dispatch:assessment_adjust", args=[computed.pk, row.pk])
    assert client.post(adjust, {"points": "1", "reason": "x"}).status_code == 403


def test_run_page_shows_the_red_and_black_lists(computed, client, django_assert_num_queries):
    url = reverse("dispatch:assessment_run", args=[computed.pk])
    # session, user, run, boards, group counts (+ notifications badge)
    with django_assert_num_queries(5):
        response = client.get(url)
    html = response.content.decode()
    assert "podium-red" in html and "podium-black" in html
    assert "城管执法中队" in html and "62.67" in html
    assert 'id="assess-publish"' in html


def test_group_and_card_pages_pin_their_queries(
    computed, september, client, django_assert_num_queries
):
    row = department_result(computed, september)
    with django_assert_num_queries(5):
        response = client.get(
            reverse("dispatch:assessment_group", args=[computed.pk, row.scheme_id, row.group_id])
        )
    assert "城管执法中队" in response.content.decode()
    with django_assert_num_queries(6):
        response = client.get(reverse("dispatch:assessment_result", args=[computed.pk, row.pk]))
    html = response.content.decode()
    # Every figure with its definition, linked to the cases behind it.
    assert 'id="figure-timely_signin_rate"' in html and "60.00%" in html
    assert reverse("dispatch:assessment_cases", args=[computed.pk, row.pk, "open_overdue"]) in html
    assert 'id="assess-trend-data"' in html


def test_progress_answers_while_computing(computed, client):
    computed.status, computed.progress, computed.progress_note = RunStatus.COMPUTING, 40, "计数"
    computed.save()
    data = client.get(reverse("dispatch:assessment_progress", args=[computed.pk])).json()
    assert data == {"status": "computing", "progress": 40, "step": "计数", "error": ""}
    html = client.get(reverse("dispatch:assessment_run", args=[computed.pk])).content.decode()
    assert "data-progress-url" in html


def test_adjust_and_publish_through_the_pages(computed, september, client):
    row = department_result(computed, september)
    url = reverse("dispatch:assessment_adjust", args=[computed.pk, row.pk])
    response = client.post(url, {"points": "3", "reason": ""}, follow=True)
    assert "message-error" in response.content.decode()
    row.refresh_from_db()
    assert row.adjustment == 0 and not AssessmentAdjustment.objects.exists()
    client.post(url, {"points": "-1.5", "reason": "台账更新不及时"})
    row.refresh_from_db()
    assert str(row.score) == "61.17"
    publish = reverse("dispatch:assessment_publish", args=[computed.pk])
    client.post(publish)
    computed.refresh_from_db()
    assert computed.status == RunStatus.PUBLISHED
    # Twice: an error message, nothing changed.
    response = client.post(publish, follow=True)
    assert computed.published_at == AssessmentRun.objects.get(pk=computed.pk).published_at
    assert "message-error" in response.content.decode()


def test_drill_down_is_scoped(computed, september, people, client, city):
    row = department_result(computed, september)
    url = reverse("dispatch:assessment_cases", args=[computed.pk, row.pk, "dispatched"])
    html = client.get(url).content.decode()
    for name in "ABCDF":
        assert september.cases[name].number in html
    assert september.cases["E"].number not in html
    computed.status = RunStatus.PUBLISHED
    computed.save()
    # A leader of the other street sees the frozen figure but none of these cases.
    other_centre = factories.make_unit(area=city.streets[1], name="街道2综治中心")
    other_leader = factories.make_user(roles=[Role.LEADER], unit=other_centre)
    client.force_login(other_leader)
    html = client.get(url).content.decode()
    assert september.cases["A"].number not in html
    assert "6" in html  # the stored figure
    assert client.get(url.replace("dispatched", "no_such_figure")).status_code == 404


def test_excel_export_holds_the_ranking_and_the_figures(computed, september, client):
    from openpyxl import load_workbook

    response = client.get(reverse("dispatch:assessment_export", args=[computed.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    ranking = wb.worksheets[0]
    rows = list(ranking.iter_rows(values_only=True))
    department = next(r for r in rows if r[6] == "城管执法中队" and r[3] == UNIT_3)
    assert department[11] == 62.67 and department[5] == 1
    sheet = wb[UNIT_3[:28]]
    header = [c.value for c in sheet[1]]
    line = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "城管执法中队")
    with translation.override("zh-hans"):
        column = f"{RATES['timely_signin_rate'].label} (%)"
    assert line[header.index(column)] == 60.0
    from govgrid.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="export", target__contains="2026-09").exists()


def test_print_page(computed, client):
    html = client.get(reverse("dispatch:assessment_print", args=[computed.pk])).content.decode()
    assert "print-button" in html and "城管执法中队" in html
    assert "print-draft" in html


def _scheme_form(scheme, items):
    data = {
        "name": scheme.name,
        "subject_kind": scheme.subject_kind,
        "method": scheme.method,
        "base_score": "100",
        "min_cases": "3",
        "is_active": "on",
        "sort": "0",
        "description": "",
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len([i for i in items if i.get("id")])),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        "groups-TOTAL_FORMS": str(scheme.groups.count()),
        "groups-INITIAL_FORMS": str(scheme.groups.count()),
        "groups-MIN_NUM_FORMS": "0",
        "groups-MAX_NUM_FORMS": "1000",
    }
    for n, item in enumerate(items):
        for key, value in item.items():
            data[f"items-{n}-{key}"] = value
        data[f"items-{n}-scheme"] = scheme.pk
    for n, g in enumerate(scheme.groups.all()):
        data.update(
            {
                f"groups-{n}-id": g.pk,
                f"groups-{n}-scheme": scheme.pk,
                f"groups-{n}-name": g.name,
                f"groups-{n}-full_marks": str(g.full_marks),
                f"groups-{n}-unit_kind": g.unit_kind,
                f"groups-{n}-level": g.level or "",
                f"groups-{n}-sort": g.sort,
            }
        )
    return data


def _items(scheme, **changes):
    out = []
    for i in scheme.items.all():
        row = {
            "id": i.pk,
            "sort": i.sort,
            "name": i.name,
            "kind": i.kind,
            "indicator": i.indicator,
            "weight": "" if i.weight is None else str(i.weight),
            "formula": i.formula,
            "cap": "" if i.cap is None else str(i.cap),
        }
        row.update(changes.get(i.name, {}))
        out.append(row)
    return out


def test_scheme_admin_refuses_bad_weights_and_unknown_indicators(people, client):
    client.force_login(people["admin"])
    people["admin"].is_superuser = True
    people["admin"].save()
    scheme = AssessmentScheme.objects.get(name=UNIT_3)
    url = reverse("admin:dispatch_assessmentscheme_change", args=[scheme.pk])
    before = list(SchemeItem.objects.filter(scheme=scheme).values_list("name", "weight", "formula"))

    response = client.post(url, _scheme_form(scheme, _items(scheme, 满意率={"weight": "30"})))
    assert response.status_code == 200  # the form again, with the error
    html = response.content.decode()
    assert "95" in html and "100" in html
    response = client.post(
        url, _scheme_form(scheme, _items(scheme, 退单被驳回扣分={"formula": "-2 * overuled"}))
    )
    assert "overuled" in response.content.decode()
    after = list(SchemeItem.objects.filter(scheme=scheme).values_list("name", "weight", "formula"))
    assert after == before
    # A good change is saved.
    response = client.post(
        url,
        _scheme_form(
            scheme,
            _items(scheme, 满意率={"weight": "30"}, 解决率={"weight": "40"}),
        ),
    )
    assert response.status_code == 302
    assert SchemeItem.objects.get(scheme=scheme, name="解决率").weight == 40


def test_the_card_shows_every_figure_with_its_written_definition(computed, september, client):
    """Issue 7: "every indicator has a written definition shown next to its value"."""
    from django.utils.html import escape

    from dispatch.assessment.indicators import describe

    row = department_result(computed, september)
    html = client.get(reverse("dispatch:assessment_result", args=[computed.pk, row.pk])).content
    html = html.decode()
    assert row.figures
    for code in row.figures:
        _label, definition = describe(code)
        assert definition, code
        assert escape(str(definition)) in html, code


def test_the_trend_is_published_months_and_the_draft_in_view(
    computed, september, people, django_capture_on_commit_callbacks
):
    """The 12-month trend: earlier published months, not other months' drafts, and the
    draft being looked at in place of its month's published version."""
    from dispatch.assessment.selectors import result_trend
    from dispatch.assessment.services import assessment_month_request, assessment_run_publish

    def compute(month: date, reason: str = "") -> AssessmentRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = assessment_month_request(month=month, actor=people["admin"], reason=reason)
        run.refresh_from_db()
        return run

    august = compute(date(2026, 8, 1))
    assessment_run_publish(run_id=august.pk, actor=people["admin"])
    july_draft = compute(date(2026, 7, 1))
    assert july_draft.status == RunStatus.DRAFT
    row = department_result(computed, september)
    months = [p["month"] for p in result_trend(run=computed, result=row)]
    assert months == ["2026-08", "2026-09"]  # July is only a draft: not in the trend
    # Publish September, then draft a correction: the correction takes September's place.
    assessment_run_publish(run_id=computed.pk, actor=people["admin"])
    correction = compute(SEPTEMBER, reason="更正：补录退单")
    assert correction.pk != computed.pk and correction.status == RunStatus.DRAFT
    corrected = AssessmentResult.objects.get(run=correction, subject_key=row.subject_key,
                                             scheme_id=row.scheme_id)  # fmt: skip
    from dispatch.assessment.services import assessment_adjust

    assessment_adjust(result_id=corrected.pk, points="-7", reason="补录退单", actor=people["admin"])
    corrected.refresh_from_db()
    published = AssessmentResult.objects.get(pk=row.pk)
    assert corrected.score != published.score
    trend = result_trend(run=correction, result=corrected)
    assert [p["month"] for p in trend] == ["2026-08", "2026-09"]
    assert trend[-1]["score"] == float(corrected.score)
