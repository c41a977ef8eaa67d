"""City-scale incidents written by COPY (govgrid/synthetic/bulk.py): the rows the services
would have written, consistent enough for the dashboard, the warning scan and the monthly
assessment to work on them."""

from collections import Counter

import pytest
from django.db.models import Max, Min
from django.utils import timezone

from dispatch.models import Assignment
from dispatch.warnings import warning_schedule, warnings_scan
from dispatch.workflow import OPEN_STATES, State
from govgrid.synthetic.bulk import build_bulk_incidents, previous_month
from govgrid.synthetic.city import build_city
from incidents.models import Channel, Incident, IncidentEvent
from incidents.services import incident_number_next

pytestmark = pytest.mark.django_db


@pytest.fixture
def bulk():
    build_city(scale_name="demo", seed=3, progress=lambda it, d, n: it, incidents=False)
    now = timezone.now()
    counts = build_bulk_incidents(
        open_count=300, closed_count=700, seed=5, progress=lambda it, d, n: it, now=now
    )
    return counts, now


def test_counts_and_states(bulk):
    counts, _now = bulk
    assert counts["incidents"] == 1000 == Incident.objects.count()
    states = Counter(Incident.objects.values_list("state", flat=True))
    assert states[State.CLOSED] == 700
    assert sum(n for s, n in states.items() if s in OPEN_STATES) == 300
    # Every open state of the mix is there.
    assert {State.REPORTED, State.DISPATCHED, State.IN_PROGRESS, State.HANDLED} <= set(states)
    assert counts["events"] == IncidentEvent.objects.count()
    assert counts["assignments"] == Assignment.objects.count()


def test_histories_are_whole_and_never_in_the_future(bulk):
    _counts, now = bulk
    assert IncidentEvent.objects.aggregate(m=Max("at"))["m"] < now
    first = dict(IncidentEvent.objects.values_list("incident_id").annotate(first=Min("at")))
    for pk, reported_at, state, closed_at in Incident.objects.values_list(
        "pk", "reported_at", "state", "closed_at"
    ):
        assert first[pk] == reported_at
        if state == State.CLOSED:
            assert closed_at is not None and closed_at <= now
    reports = IncidentEvent.objects.filter(action="report").count()
    closes = IncidentEvent.objects.filter(action="verify", to_state=State.CLOSED).count()
    assert reports == 1000 and closes == 700


def test_most_closed_cases_belong_to_last_month(bulk):
    _counts, now = bulk
    start, end = previous_month(now)
    closed = Incident.objects.filter(state=State.CLOSED)
    in_month = closed.filter(reported_at__gte=start, reported_at__lt=end).count()
    assert in_month >= 0.8 * closed.count() or now - start < timezone.timedelta(days=40)
    assert closed.filter(reported_at__lt=start).count() == 0


def test_open_cases_carry_the_colour_the_scan_would_give(bulk):
    _counts, now = bulk
    running = Incident.objects.filter(state__in=OPEN_STATES).exclude(phase="")
    assert running.exists()
    for incident in running.select_related("category"):
        level, next_at = warning_schedule(incident=incident, now=now)
        assert (incident.warning_level, incident.next_warning_at) == (level, next_at)
    # Nothing is due, so a scan right now changes nothing.
    assert warnings_scan(now=now) == 0


def test_dispatched_cases_have_their_units_assignment(bulk):
    dispatched = Incident.objects.filter(state=State.DISPATCHED)
    for incident in dispatched:
        lead = Assignment.objects.get(incident=incident, state="pending")
        assert lead.unit_id == incident.lead_unit_id
    in_progress = Incident.objects.filter(state=State.IN_PROGRESS).first()
    assert Assignment.objects.get(incident=in_progress, state="signed").handler_id


def test_numbers_are_unique_and_later_reports_continue_after_them(bulk):
    numbers = list(Incident.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    latest = Incident.objects.filter(channel=Channel.GRID_WORKER).latest("reported_at")
    taken = set(numbers)
    assert incident_number_next(channel=Channel.GRID_WORKER, on=latest.reported_at) not in taken
