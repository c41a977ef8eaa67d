"""The monthly assessment in a real browser, on the demo district with last month's cases:
an admin computes last month, adjusts a unit with a reason, publishes, opens a ranking,
drills into a figure and downloads the Excel file (opened here to check a value)."""

import io
import random
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import WIDE, login, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def last_month_cases(request, django_db_serialized_rollback, transactional_db):
    """Demo incidents through the real services over last month and this one (so last month
    has cases in every state), and the starting schemes (a flush may have removed them)."""
    from dispatch.assessment.models import AssessmentScheme
    from dispatch.assessment.seed import seed_default
    from govgrid.synthetic.incidents import build_incidents

    request.getfixturevalue("demo_city")  # seeds what a flush removed (ensure_seeded)

    random.seed(1)
    now = timezone.now()
    first = timezone.localdate().replace(day=1)
    # Back to the first of last month.
    days = (timezone.localdate() - (first - timedelta(days=1)).replace(day=1)).days + 1
    build_incidents(count=160, seed=7, progress=lambda it, d, t: it, now=now, days=days)
    seed_default()
    # Small demo: rank every unit with a case.
    AssessmentScheme.objects.update(min_cases=1)


def test_compute_adjust_publish_drill_down_and_export(open_page, last_month_cases, tmp_path):
    from openpyxl import load_workbook

    from dispatch.assessment.models import AssessmentResult, AssessmentRun

    page = open_page(WIDE)
    login(page, "admin")
    page.click("nav.mainnav a[href='/dispatch/assessment/']")
    # Last month is the first choice; compute it (the task runs at once in the tests; the
    # page shows the progress bar while a worker computes).
    page.click("#assess-compute")
    expect(page.locator("#assess-publish")).to_be_visible()
    run = AssessmentRun.objects.get()
    assert run.status == "draft" and run.results.exists()
    screenshot(page, "assessment-draft")

    # A unit's card from the red list of the first group of units.
    board = page.locator(".assess-board").first
    board.locator(".podium-red a").first.click()
    expect(page.locator("#assess-score")).to_be_visible()
    expect(page.locator("#assess-trend")).to_have_attribute("data-ready", "1")
    before = page.locator("#assess-score").inner_text()
    # Without a reason: refused, nothing changes.
    page.fill("#id_points", "-2")
    page.click("#assess-adjust")
    expect(page.locator(".message-error")).to_be_visible()
    assert page.locator("#assess-score").inner_text() == before
    page.fill("#id_points", "-2")
    page.fill("#id_reason", "台账资料不规范")
    page.click("#assess-adjust")
    expect(page.locator(".message-success")).to_be_visible()
    after = page.locator("#assess-score").inner_text()
    assert float(after) == pytest.approx(max(0, float(before) - 2))
    expect(page.locator(".assess-adjustment")).to_contain_text("台账资料不规范")
    screenshot(page, "assessment-card")
    adjusted = AssessmentResult.objects.get(run=run, adjustment=-2)

    # Publish.
    page.click(f"a[href='/dispatch/assessment/{run.pk}/']")
    page.click("#assess-publish")
    expect(page.locator("h1 .run-published")).to_be_visible()
    expect(page.locator("#assess-publish")).to_have_count(0)

    # The whole ranking of the adjusted unit's group.
    page.goto(
        page.base
        + f"/dispatch/assessment/{run.pk}/schemes/{adjusted.scheme_id}/groups/{adjusted.group_id}/"
    )
    row = page.locator(".assess-ranking tr", has_text=adjusted.subject_name)
    expect(row).to_contain_text(str(adjusted.score))
    screenshot(page, "assessment-ranking")

    # Drill down from the card's "cases dispatched" figure to the cases behind it.
    row.locator("a").first.click()
    figure = page.locator("#figure-dispatched a.drill")
    count = int(figure.inner_text())
    assert count > 0
    figure.click()
    # One row per case: a case dispatched twice (e.g. an overruled return) counts twice in
    # the figure but is listed once.
    from dispatch.assessment.indicators import Month, cases_behind

    cases = cases_behind(
        code="dispatched", month=Month(run.month), kind="unit", subject_id=adjusted.unit_id
    ).count()
    assert 0 < cases <= count
    expect(page.locator(".assess-cases tbody tr")).to_have_count(min(cases, 50))
    expect(page.locator(".assess-cases tbody tr").first).to_contain_text("-")

    # The printable report.
    page.goto(page.base + f"/dispatch/assessment/{run.pk}/print/")
    expect(page.locator(".print-scheme").first).to_contain_text(adjusted.scheme.name)
    page.emulate_media(media="print")
    expect(page.locator("#print-button")).to_be_hidden()
    screenshot(page, "assessment-print")
    page.emulate_media(media="screen")

    # The Excel file: the adjusted unit's published score.
    page.goto(page.base + f"/dispatch/assessment/{run.pk}/")
    with page.expect_download() as download:
        page.click("#assess-export")
    path = tmp_path / "assessment.xlsx"
    download.value.save_as(path)
    wb = load_workbook(io.BytesIO(path.read_bytes()))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    line = next(
        r for r in rows[1:] if r[6] == adjusted.subject_name and r[3] == adjusted.scheme.name
    )
    assert line[11] == float(adjusted.score) and line[10] == -2
