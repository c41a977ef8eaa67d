"""Each indicator's value on the hand-built September (tests/assessment/conftest.py).

The expected numbers are counted by hand from the case list, with the reason next to them.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dispatch.assessment import indicators
from dispatch.assessment.indicators import AREA, UNIT, WORKER, Month

pytestmark = pytest.mark.django_db

SEPTEMBER = Month(date(2026, 9, 1))

# The department (lead unit of A–F) in September, by hand:
UNIT_EXPECTED = {
    # A, B, C (dispatch + the overrule sending it back), D, F; E was dispatched in August.
    "dispatched": 6,
    "overruled": 1,  # C
    "returns": 1,  # C
    "signed": 4,  # A, B, C (late), D; E signed in August, F in October
    "signed_on_time": 3,  # A, B, D
    "signin_missed": 1,  # F: due 29 Sep, unsigned at the month's end; C's return is excused
    "results": 5,  # A, C, D twice (before and after the rework), E (signed in August)
    "results_on_time": 5,
    "results_late": 0,
    "open_overdue": 1,  # B, even after its extension; D's reopened deadline is in October
    "closed": 4,  # A, C, D, E
    "reworks": 1,  # D
    "reopens": 1,  # D, after the unsatisfied rating
    "rated": 3,  # A satisfied, D unsatisfied, E basic; C is unrated and not counted
    "satisfied": 2,  # A, E
    "yellow_cards": 1,  # B
    "red_cards": 1,  # B
    "extensions": 1,  # B
}
UNIT_RATES = {
    "timely_signin_rate": 3 / 5,  # on time ÷ (signed 4 + missed 1)
    "on_time_rate": 5 / 6,  # on time ÷ (results 5 + open overdue 1)
    "resolution_rate": 4 / 6,  # closed ÷ (closed 4 + rework 1 + open overdue 1)
    "satisfaction_rate": 2 / 3,
    "return_rate": 1 / 6,  # overruled ÷ dispatched
    "rework_rate": 2 / 5,  # (rework 1 + reopen 1) ÷ (closed 4 + rework 1)
    "overdue": 1,  # late results 0 + open overdue 1
}


def test_unit_figures_of_the_hand_built_month(september, django_assert_num_queries):
    # One grouped query per (source, key): data's lead unit, the acting unit, the
    # incident's lead unit, assignments, incidents.
    with django_assert_num_queries(5):
        counts = indicators.count_month(SEPTEMBER, UNIT)
    department = september.department.pk
    assert {k: counts[department].get(k, 0) for k in UNIT_EXPECTED} == UNIT_EXPECTED
    values = indicators.values_from(counts[department], UNIT)
    for code, expected in UNIT_RATES.items():
        assert values[code] == pytest.approx(expected, abs=1e-6), code
    # The centre acted (accept, dispatch, verify) but led nothing: no unit figures of its own
    # except what it did as the acting unit (nothing counted for units).
    assert september.people["units"]["street"].pk not in counts


def test_worker_figures(september, django_assert_num_queries):
    # Reports; patrols; visits; visit duty; days with the patrol target met; the register's
    # history: records created, records updated, records kept.
    with django_assert_num_queries(8):
        counts = indicators.count_month(SEPTEMBER, WORKER)
    row = counts[september.worker.pk]
    # A, B, C, D, F, G, H reported in September (E in August, I in October).
    assert row["reports"] == 7
    assert row["valid_reports"] == 6  # G was rejected
    assert row["self_handled"] == 1  # H
    # Every report was received (created) now, long after the recorded September moment.
    assert row["timely_reports"] == 0
    values = indicators.values_from(row, WORKER)
    assert values["valid_rate"] == pytest.approx(6 / 7, abs=1e-6)
    assert values["timely_report_rate"] == 0


def test_reporting_timeliness_counts_reports_received_within_a_day(september):
    from incidents.models import Incident

    a = september.cases["A"]
    Incident.objects.filter(pk=a.pk).update(created_at=a.reported_at + timedelta(hours=3))
    row = indicators.count_month(SEPTEMBER, WORKER)[september.worker.pk]
    assert row["timely_reports"] == 1


def test_area_figures_add_up_the_tree(september, city, django_assert_num_queries):
    # Per grid: events, assignments, incidents, patrols, visits, visit duty, patrol days,
    # the register's history (created, updated, kept); then the parent links of the tree.
    with django_assert_num_queries(11):
        counts = indicators.count_month(SEPTEMBER, AREA)
    grid, community, street = city.grids[0], city.communities[0], city.streets[0]
    for area in (grid, community, street, city.district, city.city):
        row = counts[area.pk]
        assert row["area_cases"] == 7, area  # every case reported in September, all channels
        assert row["reports"] == 7
        assert row["dispatched"] == 6
        assert row["closed"] == 4  # H, handled on the spot, waits for verification
        assert row["open_overdue"] == 1
        assert row["signin_missed"] == 1
    # The other street had nothing.
    assert city.streets[1].pk not in counts
    values = indicators.values_from(counts[street.pk], AREA)
    assert values["on_time_rate"] == pytest.approx(5 / 6, abs=1e-6)
    assert values["satisfaction_rate"] == pytest.approx(2 / 3, abs=1e-6)


def test_a_month_without_cases_has_no_rates():
    values = indicators.values_from({}, UNIT)
    assert values["dispatched"] == 0
    assert values["satisfaction_rate"] is None
    assert values["timely_signin_rate"] is None


@pytest.mark.parametrize(
    ("code", "cases"),
    [
        ("open_overdue", {"B"}),
        ("signin_missed", {"F"}),
        ("overruled", {"C"}),
        ("satisfied", {"A", "E"}),
        ("rated", {"A", "D", "E"}),
        ("reworks", {"D"}),
        ("dispatched", {"A", "B", "C", "D", "F"}),
        ("extensions", {"B"}),
    ],
)
def test_drill_down_lists_the_cases_behind_a_unit_figure(september, code, cases):
    qs = indicators.cases_behind(
        code=code, month=SEPTEMBER, kind=UNIT, subject_id=september.department.pk
    )
    numbers = {september.cases[n].number: n for n in september.cases}
    assert {numbers[i.number] for i in qs} == cases


def test_drill_down_for_a_worker_and_an_area(september, city):
    numbers = {september.cases[n].number: n for n in september.cases}
    reports = indicators.cases_behind(
        code="valid_reports", month=SEPTEMBER, kind=WORKER, subject_id=september.worker.pk
    )
    assert {numbers[i.number] for i in reports} == {"A", "B", "C", "D", "F", "H"}
    in_street = indicators.cases_behind(
        code="area_cases",
        month=SEPTEMBER,
        kind=AREA,
        subject_id=city.streets[0].pk,
        area_path=city.streets[0].path,
    )
    assert {numbers[i.number] for i in in_street} == {"A", "B", "C", "D", "F", "G", "H"}
    elsewhere = indicators.cases_behind(
        code="area_cases",
        month=SEPTEMBER,
        kind=AREA,
        subject_id=city.streets[1].pk,
        area_path=city.streets[1].path,
    )
    assert not elsewhere.exists()


def test_month_bounds_are_shanghai_midnights():
    m = Month(date(2026, 12, 1))
    assert m.start.isoformat() == "2026-12-01T00:00:00+08:00"
    assert m.end.isoformat() == "2027-01-01T00:00:00+08:00"
    assert m.previous().first == date(2026, 11, 1)
