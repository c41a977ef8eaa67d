"""Grid-worker field work in the month: patrol hours, days with the daily target met, visits
against the key persons' visit duty. Built through the patrol and residents services."""

from __future__ import annotations

from datetime import date

import pytest

from dispatch.assessment import indicators
from dispatch.assessment.indicators import AREA, WORKER, Month
from grids.patrols import patrol_start, patrol_stop
from residents.models import KeyGroup
from residents.services import (
    PersonInput,
    VisitInput,
    key_person_enrol,
    person_create,
    visit_record,
)
from tests.assessment.conftest import at

pytestmark = pytest.mark.django_db

SEPTEMBER = Month(date(2026, 9, 1))


def patrol(worker, start, end):
    p = patrol_start(worker=worker, at=start)
    patrol_stop(patrol=p, worker=worker, at=end)


@pytest.fixture
def field_work(city, people, settings):
    settings.ASSESSMENT_PATROL_DAILY_HOURS = 2
    worker, grid = people["worker"], city.grids[0]
    patrol(worker, at(9, 1, 8), at(9, 1, 10, 30))  # 2.5 h: target met
    patrol(worker, at(9, 2, 8), at(9, 2, 9))  # 1 h …
    patrol(worker, at(9, 2, 14), at(9, 2, 15, 30))  # … + 1.5 h the same day: met
    patrol(worker, at(9, 3, 8), at(9, 3, 9, 30))  # 1.5 h: not met
    patrol(worker, at(8, 31, 8), at(8, 31, 12))  # August: not September's
    group = KeyGroup.objects.create(code="T-CARE", name="独居老人", kind="care")
    p1 = person_create(data=PersonInput(grid=grid, name="张一"), actor=None)
    p2 = person_create(data=PersonInput(grid=grid, name="李二"), actor=None)
    p3 = person_create(data=PersonInput(grid=grid, name="王三"), actor=None)
    # Every 10 days all month: 3 visits owed; every 7 days from the 20th: ceil(30/7) = 5.
    key_person_enrol(
        person=p1,
        group=group,
        actor=None,
        responsible=worker,
        visit_interval_days=10,
        since=date(2026, 8, 1),
    )
    key_person_enrol(
        person=p2,
        group=group,
        actor=None,
        responsible=worker,
        visit_interval_days=7,
        since=date(2026, 9, 20),
    )
    for person, when in [
        (p1, at(9, 5, 10)),
        (p1, at(9, 15, 10)),
        (p2, at(9, 25, 10)),
        (p3, at(9, 10, 10)),
    ]:
        visit_record(visitor=worker, data=VisitInput(person=person, visited_at=when))
    return worker


def test_patrols_and_visits_of_the_month(field_work, city):
    row = indicators.count_month(SEPTEMBER, WORKER)[field_work.pk]
    values = indicators.values_from(row, WORKER)
    assert values["patrols"] == 4
    assert values["patrol_hours"] == 6.5  # 2.5 + 1 + 1.5 + 1.5
    assert values["patrol_days_met"] == 2  # 1 and 2 September
    assert values["visits"] == 4
    assert values["key_visits"] == 3  # 王三 is on no list
    assert values["visits_required"] == 8  # 3 + 5
    assert values["visit_rate"] == pytest.approx(3 / 8)
    # The records were entered with no author (actor None): see test_records.py.
    assert values["records_created"] == 0
    area = indicators.count_month(SEPTEMBER, AREA)
    street = indicators.values_from(area[city.streets[0].pk], AREA)
    assert (street["patrol_hours"], street["patrol_days_met"], street["visit_rate"]) == (
        6.5,
        2,
        pytest.approx(3 / 8),
    )


def test_field_work_figures_have_no_case_list(field_work):
    assert not indicators.cases_behind(
        code="patrol_hours", month=SEPTEMBER, kind=WORKER, subject_id=field_work.pk
    ).exists()
