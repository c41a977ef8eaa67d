"""Two people acting on one incident at once, against the real database with threads.

Each thread has its own connection and transaction; `incident_act` takes the incident's row
lock, so the first one in wins and the others find the state moved.
"""

import threading

import pytest
from django.db import connection

from dispatch.models import AssignmentRole, AssignmentState
from dispatch.services import incident_act
from dispatch.workflow import State
from govgrid.accounts.models import Role, User
from govgrid.lib.errors import DomainError
from incidents.models import Incident
from tests import factories
from tests.dispatch.test_workflow import Loop

# serialized_rollback: the flush after a transactional test must give back the seeded
# categories and calendar for the tests that run after it.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 8


@pytest.fixture(scope="module", autouse=True)
def _seeded_data_back_after_the_last_flush(seeded_rows_back_after_flush):
    """The flush after this module's last transactional test must not leave it empty."""


@pytest.fixture
def _seeded(transactional_db):
    factories.ensure_seeded()


def race(users: list[User], fire) -> list:
    """Each thread loads its user, waits for all the others, then fires at the same moment.

    Returns what each thread got: the incident, or the DomainError it raised.
    """
    barrier = threading.Barrier(len(users))
    outcomes: list = [None] * len(users)

    def run(i: int, user_pk: int) -> None:
        try:
            actor = User.objects.select_related("unit").get(pk=user_pk)
            barrier.wait(timeout=20)
            try:
                outcomes[i] = fire(i, actor)
            except DomainError as exc:
                outcomes[i] = exc
        except Exception as exc:  # anything else fails the test below, with its cause
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, u.pk)) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    unexpected = [o for o in outcomes if not isinstance(o, Incident | DomainError)]
    assert not unexpected, unexpected
    return outcomes


@pytest.fixture
def loop(_seeded, city, people) -> Loop:
    return Loop(city, people)


def transitions(incident: Incident) -> list[tuple[str, str]]:
    return list(
        incident.events.exclude(to_state="").order_by("pk").values_list("action", "to_state")
    )


def test_accept_and_reject_at_the_same_moment(loop):
    incident = loop.report()
    street = loop.people["street"]

    def fire(i, actor):
        if i % 2 == 0:
            return incident_act(
                incident_id=incident.pk, action="accept", actor=actor, expected_state="reported"
            )
        return incident_act(incident_id=incident.pk, action="reject", actor=actor, reason="无效")

    outcomes = race([street] * THREADS, fire)

    wins = [o for o in outcomes if isinstance(o, Incident)]
    assert len(wins) == 1
    incident.refresh_from_db()
    assert incident.state == wins[0].state in (State.ACCEPTED, State.REJECTED)
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, DomainError):
            # Who passed the state they saw is told who acted first.
            assert outcome.code == ("conflict" if i % 2 == 0 else "not_allowed"), outcome
    assert transitions(incident) == [
        ("report", State.REPORTED),
        ("accept" if incident.state == State.ACCEPTED else "reject", incident.state),
    ]


def test_only_one_handler_signs(loop):
    incident = loop.bring(State.DISPATCHED)
    department = loop.units["department"]
    handlers = [loop.people["handler"]] + [
        factories.make_user(roles=[Role.UNIT_HANDLER], unit=department) for _ in range(THREADS - 1)
    ]

    def fire(i, actor):
        return incident_act(
            incident_id=incident.pk, action="sign", actor=actor, expected_state="dispatched"
        )

    outcomes = race(handlers, fire)

    wins = [i for i, o in enumerate(outcomes) if isinstance(o, Incident)]
    assert len(wins) == 1
    assert all(o.code == "conflict" for o in outcomes if isinstance(o, DomainError))
    incident.refresh_from_db()
    assert incident.state == State.IN_PROGRESS
    assert [a for a, _ in transitions(incident)].count("sign") == 1
    lead = incident.assignments.get(role=AssignmentRole.LEAD)
    assert (lead.state, lead.handler_id) == (AssignmentState.SIGNED, handlers[wins[0]].pk)
