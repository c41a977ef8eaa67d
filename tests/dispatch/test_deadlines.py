"""Phase deadlines in working days, with the clock frozen (Asia/Shanghai, 2025 calendar).

2025 around National Day: Sunday 28 September and Saturday 11 October are make-up working
days; 1-8 October are holidays. The expected instants are written out by hand.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dispatch.calendar import working_seconds_between
from dispatch.models import ExtensionState
from dispatch.workflow import State
from govgrid.lib.errors import DomainError
from incidents.models import Urgency
from tests.dispatch.test_workflow import Loop

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
S = State
HOUR = 3600


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def loop(city, people) -> Loop:
    loop = Loop(city, people)
    c = loop.category
    # The expectations below are for 1 / 10 / 2 working days at normal urgency.
    assert (c.signin_limit, c.handle_limit, c.verify_limit, c.urgency) == (1, 10, 2, "normal")
    return loop


def frozen(moment: datetime):
    return time_machine.travel(moment, tick=False)


def dispatched_at(loop: Loop, moment: datetime, **report):
    with frozen(moment):
        return loop.bring(S.DISPATCHED, **report)


def signed_at(loop: Loop, incident, moment: datetime):
    with frozen(moment):
        return loop.act(incident, "sign")


# Sign-in and handling ------------------------------------------------------------------


def test_signin_deadline_skips_the_national_day_week(loop):
    incident = dispatched_at(loop, at(2025, 9, 30, 10))
    assert incident.phase == "signin"
    assert incident.deadline_at == at(2025, 10, 9, 10)
    assert incident.original_deadline_at == incident.deadline_at
    assert incident.assignments.get(role="lead").signin_deadline_at == at(2025, 10, 9, 10)


def test_signin_deadline_from_inside_the_holiday_starts_at_the_next_working_day(loop):
    incident = dispatched_at(loop, at(2025, 10, 3, 10))
    assert incident.deadline_at == at(2025, 10, 10, 0)


def test_handling_deadline_across_the_national_day_week(loop):
    incident = dispatched_at(loop, at(2025, 9, 30, 9))
    incident = signed_at(loop, incident, at(2025, 9, 30, 10))
    # 30 Sep, then 9, 10, 11 (make-up Saturday), 13-17, 20 October: ten working days.
    assert (incident.phase, incident.deadline_at) == ("handle", at(2025, 10, 21, 10))


def test_signin_deadline_lands_on_a_make_up_saturday(loop):
    incident = dispatched_at(loop, at(2025, 10, 10, 15))
    assert incident.deadline_at == at(2025, 10, 11, 15)
    # An ordinary Friday waits for Monday.
    assert dispatched_at(loop, at(2025, 11, 14, 15)).deadline_at == at(2025, 11, 17, 15)


def test_handling_deadline_counts_the_make_up_saturday(loop):
    incident = dispatched_at(loop, at(2025, 10, 10, 15))
    incident = signed_at(loop, incident, at(2025, 10, 10, 16))
    # 11 (Saturday), 13-17, 20-23 October.
    assert incident.deadline_at == at(2025, 10, 23, 16)


def test_verification_deadline_after_the_result(loop):
    incident = dispatched_at(loop, at(2025, 9, 29, 9))
    incident = signed_at(loop, incident, at(2025, 9, 29, 10))
    with frozen(at(2025, 9, 30, 16)):
        incident = loop.act(incident, "handle")
    assert (incident.phase, incident.deadline_at) == ("verify", at(2025, 10, 10, 16))


def test_an_urgent_case_runs_on_clock_hours(loop):
    incident = dispatched_at(loop, at(2025, 9, 30, 10), urgency=Urgency.URGENT)
    # One working day becomes 8 hours.
    assert incident.deadline_at == at(2025, 9, 30, 18)
    incident = signed_at(loop, incident, at(2025, 9, 30, 12))
    # Ten working days become 80 hours, through the holiday.
    assert incident.deadline_at == at(2025, 10, 3, 20)


# Extensions ----------------------------------------------------------------------------


@pytest.fixture
def in_progress(loop):
    """Signed on Friday 26 September at 10:00: due Thursday 16 October at 10:00."""
    incident = dispatched_at(loop, at(2025, 9, 26, 9))
    incident = signed_at(loop, incident, at(2025, 9, 26, 10))
    # 28 (make-up Sunday), 29, 30 September, 9, 10, 11, 13-16 October.
    assert incident.deadline_at == at(2025, 10, 16, 10)
    return incident


def test_an_approved_extension_adds_working_days(loop, in_progress):
    with frozen(at(2025, 10, 10, 9)):
        loop.act(in_progress, "request_extension", days=3)
    with frozen(at(2025, 10, 13, 9)):
        incident = loop.act(in_progress, "decide_extension", approve=True)
    # 17, 20, 21 October.
    assert incident.deadline_at == at(2025, 10, 21, 10)
    assert incident.original_deadline_at == at(2025, 10, 16, 10)
    request = incident.extension_requests.get()
    assert (request.state, request.decided_by) == (ExtensionState.APPROVED, loop.people["street"])
    assert (request.deadline_before, request.deadline_after) == (
        at(2025, 10, 16, 10),
        at(2025, 10, 21, 10),
    )


def test_a_refused_extension_changes_nothing(loop, in_progress):
    with frozen(at(2025, 10, 10, 9)):
        loop.act(in_progress, "request_extension", days=3)
    with frozen(at(2025, 10, 13, 9)):
        incident = loop.act(in_progress, "decide_extension", approve=False)
    assert incident.deadline_at == incident.original_deadline_at == at(2025, 10, 16, 10)
    request = incident.extension_requests.get()
    assert (request.state, request.deadline_after) == (ExtensionState.REFUSED, None)


def test_an_extension_asked_after_the_deadline_is_refused(loop, in_progress):
    events = in_progress.events.count()
    with frozen(at(2025, 10, 16, 10)), pytest.raises(DomainError) as exc:
        loop.act(in_progress, "request_extension", days=3)
    assert exc.value.code == "late"
    assert not in_progress.extension_requests.exists()
    assert in_progress.events.count() == events


# Suspension ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed", "suspend", "resume", "deadline"),
    [
        # Due Monday 24 November 10:00. Wednesday 16:00 to Saturday 16:00 suspends
        # 2 days 8 hours of working time: they are given back.
        (at(2025, 11, 10, 10), at(2025, 11, 12, 16), at(2025, 11, 15, 16), at(2025, 11, 26, 18)),
        # Monday to Thursday: exactly three working days.
        (at(2025, 11, 10, 10), at(2025, 11, 10, 14), at(2025, 11, 13, 14), at(2025, 11, 27, 10)),
        # Due 20 October 10:00. 30 September 10:00 to 3 October (a holiday) suspends only
        # the 14 working hours left on 30 September.
        (at(2025, 9, 29, 10), at(2025, 9, 30, 10), at(2025, 10, 3, 10), at(2025, 10, 21, 0)),
    ],
    ids=["over-a-weekend", "three-working-days", "over-the-holiday"],
)
def test_suspended_time_does_not_count(loop, signed, suspend, resume, deadline):
    incident = dispatched_at(loop, signed - timedelta(hours=1))
    incident = signed_at(loop, incident, signed)
    left = working_seconds_between(suspend, incident.deadline_at)

    with frozen(suspend):
        incident = loop.act(incident, "suspend")
    assert (incident.state, incident.suspended_state) == (S.SUSPENDED, S.IN_PROGRESS)
    assert incident.suspended_remaining == left
    with frozen(resume):
        incident = loop.act(incident, "resume")

    assert (incident.state, incident.phase) == (S.IN_PROGRESS, "handle")
    assert incident.deadline_at == deadline
    assert working_seconds_between(resume, incident.deadline_at) == left
    assert (incident.suspended_state, incident.suspended_remaining) == ("", None)


def test_a_suspended_signin_phase_gets_its_time_back(loop):
    incident = dispatched_at(loop, at(2025, 11, 10, 10))  # due Tuesday 11 November at 10:00
    with frozen(at(2025, 11, 10, 16)):
        incident = loop.act(incident, "suspend")
    assert incident.suspended_remaining == 18 * HOUR
    with frozen(at(2025, 11, 13, 16)):
        incident = loop.act(incident, "resume")
    assert (incident.state, incident.deadline_at) == (S.DISPATCHED, at(2025, 11, 14, 10))
