"""Record figures of a grid worker from the register's history (residents.RecordChange), on a
hand-built September 2026. Every record is written through the residents services (which
append the history); only the time of each history row is set by hand."""

from __future__ import annotations

from datetime import date

import pytest

from dispatch.assessment import indicators
from dispatch.assessment.indicators import AREA, WORKER, Month
from govgrid.accounts.models import Role
from residents.models import RecordChange
from residents.services import PersonInput, house_register, person_create, person_update
from tests.assessment.conftest import at
from tests.factories import make_user, staff_grid

pytestmark = pytest.mark.django_db

SEPTEMBER = Month(date(2026, 9, 1))


def timed(when, write, **kwargs):
    """Call a service, check it appended exactly one history row, and date that row."""
    before = RecordChange.objects.count()
    result = write(**kwargs)
    assert RecordChange.objects.count() == before + 1
    RecordChange.objects.filter(pk=RecordChange.objects.latest("pk").pk).update(at=when)
    return result


def new_person(grid, name, actor, when):
    return timed(when, person_create, data=PersonInput(grid=grid, name=name), actor=actor)


def change(person, name, actor, when):
    return timed(
        when,
        person_update,
        person=person,
        data=PersonInput(grid=person.grid, name=name),
        actor=actor,
    )


@pytest.fixture
def register(city, people):
    worker, leader = people["worker"], people["gridleader"]
    grid, other_grid = city.grids[0], city.grids[1]  # both in community 1-1, street 1
    colleague = make_user(roles=[Role.GRID_WORKER], unit=worker.unit, username="t_worker2")
    staff_grid(grid=other_grid, user=colleague)
    # August: an older record of the worker's.
    old = new_person(grid, "赵老", worker, at(8, 20, 10))
    # September, the worker creates three records:
    # 张一 — completed by the worker an hour later (within the first day: no correction),
    #        corrected by the grid leader in October (after the month: September keeps it);
    p1 = new_person(grid, "张一", worker, at(9, 5, 10))
    p1 = change(p1, "张一一", worker, at(9, 5, 11))
    # 李二 — corrected by the grid leader two days later;
    p2 = new_person(grid, "李二", worker, at(9, 6, 10))
    change(p2, "李贰", leader, at(9, 8, 10))
    # a house, never changed.
    timed(
        at(9, 7, 10),
        house_register,
        grid=grid,
        building_name="1栋",
        room="101",
        actor=worker,
    )
    # The worker updates the August record twice in September (one record updated).
    old = change(old, "赵老先生", worker, at(9, 10, 9))
    change(old, "赵老太", worker, at(9, 12, 9))
    change(p1, "张壹", leader, at(10, 3, 9))
    # The colleague's own record in the neighbouring grid, corrected by themself three days on.
    q = new_person(other_grid, "王五", colleague, at(9, 9, 10))
    change(q, "王武", colleague, at(9, 12, 10))
    return worker, colleague, leader


def test_a_workers_records_of_the_month(register):
    worker, colleague, leader = register
    figures = indicators.count_month(SEPTEMBER, WORKER)
    mine = indicators.values_from(figures[worker.pk], WORKER)
    # Created: 张一, 李二, the house. Updated: 张一 (own completion) and 赵老 (twice, once).
    # Kept: 张一 (October's correction is after the month) and the house; 李二 was corrected.
    assert mine["records_created"] == 3
    assert mine["records_updated"] == 2
    assert mine["records_kept"] == 2
    assert mine["record_accuracy"] == pytest.approx(2 / 3)
    theirs = indicators.values_from(figures[colleague.pk], WORKER)
    assert (theirs["records_created"], theirs["records_updated"], theirs["records_kept"]) == (
        1,
        1,
        0,
    )
    assert theirs["record_accuracy"] == 0
    # The grid leader who corrected 李二 created nothing: updated 1, no accuracy.
    lead = indicators.values_from(figures[leader.pk], WORKER)
    assert (lead["records_created"], lead["records_updated"], lead["record_accuracy"]) == (
        0,
        1,
        None,
    )


def test_area_record_figures_follow_the_records_grid(register, city):
    figures = indicators.count_month(SEPTEMBER, AREA)
    grid = indicators.values_from(figures[city.grids[0].pk], AREA)
    assert (grid["records_created"], grid["records_updated"], grid["records_kept"]) == (3, 3, 2)
    street = indicators.values_from(figures[city.streets[0].pk], AREA)
    # + the colleague's 王五 in the neighbouring grid (created, corrected, not kept).
    assert (street["records_created"], street["records_updated"], street["records_kept"]) == (
        4,
        4,
        2,
    )
    assert street["record_accuracy"] == pytest.approx(2 / 4)
    assert city.streets[1].pk not in figures


def test_october_sees_the_correction(register):
    worker, _, leader = register
    october = indicators.count_month(Month(date(2026, 10, 1)), WORKER)
    assert worker.pk not in october  # nothing created or changed by the worker in October
    assert october[leader.pk]["records_updated"] == 1
