"""Warning colours and automatic supervision cards, with the clock frozen (Asia/Shanghai, 2025).

2025 around National Day: Sunday 28 September and Saturday 11 October are make-up working
days; 1-8 October are holidays. The category of the Loop has 1 / 10 / 2 working days and the
default thresholds: blue at 50 %, yellow at 80 % or one working day left, red at the deadline,
a yellow card one and a red card three working days after it. The expected instants are
written out by hand.
"""

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from dispatch import warnings
from dispatch.tasks import warnings_scan_task
from dispatch.warnings import warning_schedule, warnings_scan
from dispatch.workflow import State
from incidents.admin import CategoryAdmin, CategoryAdminForm
from incidents.models import Category, Incident, Urgency
from tests import factories

# The seeded rows come back after this module's transactional test, as in test_concurrency.
from tests.dispatch.test_concurrency import _seeded_data_back_after_the_last_flush  # noqa: F401
from tests.dispatch.test_workflow import Loop

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
S = State


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def frozen(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def loop(city, people) -> Loop:
    loop = Loop(city, people)
    c = loop.category
    assert (c.signin_limit, c.handle_limit, c.verify_limit, c.urgency) == (1, 10, 2, "normal")
    assert (c.blue_percent, c.yellow_percent, c.yellow_card_days, c.red_card_days) == (50, 80, 1, 3)
    return loop


@pytest.fixture
def hook_calls(monkeypatch) -> list[tuple[int, str, datetime]]:
    """What the notification hook was given, in order."""
    calls: list[tuple[int, str, datetime]] = []
    lock = threading.Lock()

    def record(incident, level, when, **kwargs):
        with lock:
            calls.append((incident.pk, level, when))

    monkeypatch.setattr(warnings, "on_level_change", record)
    return calls


def act_at(loop: Loop, incident: Incident, action: str, moment: datetime, **fields) -> Incident:
    with frozen(moment):
        return loop.act(incident, action, **fields)


def signed_at(loop: Loop, moment: datetime, **report) -> Incident:
    """Reported, accepted and dispatched an hour before `moment`, signed at `moment`."""
    with frozen(moment.replace(hour=moment.hour - 1)):
        incident = loop.bring(S.DISPATCHED, **report)
    return act_at(loop, incident, "sign", moment)


def scan_at(moment: datetime) -> int:
    with frozen(moment):
        return warnings_scan()


def fresh(incident: Incident) -> Incident:
    return Incident.objects.select_related("category").get(pk=incident.pk)


def recorded(incident: Incident) -> list[tuple[str, str, str, datetime]]:
    """(action, level, phase, instant) of the warning history, oldest first."""
    return [
        (e.action, e.data["level"], e.data["phase"], e.at)
        for e in incident.events.filter(action__in=["warning", "supervision_card"]).order_by(
            "at", "pk"
        )
    ]


# Signed Wednesday 24 September at 10:00: 24 (from 10:00), 25, 26, 28 (make-up Sunday),
# 29, 30 September, 9, 10, 11 (make-up Saturday), 13 October and 14 October until 10:00.
SIGNED = at(2025, 9, 24, 10)
DEADLINE = at(2025, 10, 14, 10)
WALK = [
    # Five working days gone: the 24th's 14 hours, 25, 26, 28, 29, and 10 hours of the 30th.
    ("warning", "blue", at(2025, 9, 30, 10)),
    # 80 %: two working days left (13 October, and the make-up Saturday from 10:00).
    ("warning", "yellow", at(2025, 10, 11, 10)),
    ("warning", "red", DEADLINE),
    # One working day past the deadline.
    ("supervision_card", "yellow_card", at(2025, 10, 15, 10)),
    # Three: 14 (from 10:00), 15, 16, and 17 until 10:00.
    ("supervision_card", "red_card", at(2025, 10, 17, 10)),
]


@pytest.fixture
def walked(loop) -> Incident:
    incident = signed_at(loop, SIGNED)
    assert (incident.phase, incident.deadline_at) == ("handle", DEADLINE)
    return incident


# The walk ----------------------------------------------------------------------------


def test_a_case_turns_every_colour_across_national_day(walked, hook_calls):
    incident = fresh(walked)
    assert (incident.warning_level, incident.next_warning_at) == ("", WALK[0][2])

    steps = [
        # (scan at, changes recorded, level afterwards, next change)
        (at(2025, 9, 30, 9, 59), 0, "", at(2025, 9, 30, 10)),
        (at(2025, 9, 30, 10), 1, "blue", at(2025, 10, 11, 10)),
        # A holiday changes nothing: the case stays blue until the make-up Saturday.
        (at(2025, 10, 5, 12), 0, "blue", at(2025, 10, 11, 10)),
        (at(2025, 10, 11, 10, 0, 30), 1, "yellow", DEADLINE),
        (at(2025, 10, 14, 10), 1, "red", at(2025, 10, 15, 10)),
        (at(2025, 10, 15, 10, 1), 1, "yellow_card", at(2025, 10, 17, 10)),
        (at(2025, 10, 17, 10), 1, "red_card", None),
        (at(2025, 12, 1, 10), 0, "red_card", None),
    ]
    changes = 0
    for moment, count, level, next_at in steps:
        assert scan_at(moment) == count, moment
        # Running the scan again at once finds nothing left to do.
        assert scan_at(moment) == 0
        incident = fresh(incident)
        assert (incident.warning_level, incident.next_warning_at) == (level, next_at), moment
        changes += count

    assert changes == 5
    assert recorded(incident) == [(action, level, "handle", when) for action, level, when in WALK]
    assert [(level, when) for _, level, when in hook_calls] == [(lv, w) for _, lv, w in WALK]
    assert all(pk == incident.pk for pk, _, _ in hook_calls)
    event = incident.events.get(action="warning", data__level="blue")
    assert (event.actor, event.from_state, event.to_state) == (None, "", "")


def test_warning_schedule_is_the_walk_at_every_instant(walked):
    incident = fresh(walked)
    assert warning_schedule(incident=incident, now=SIGNED) == ("", WALK[0][2])
    previous = ""
    for (_, level, when), following in zip(WALK, [*WALK[1:], None], strict=True):
        nxt = following[2] if following else None
        assert warning_schedule(incident=incident, now=when) == (level, nxt)
        # A second before, the previous colour still holds.
        assert warning_schedule(incident=incident, now=when - timedelta(seconds=1)) == (
            previous,
            when,
        )
        previous = level


def test_a_scan_after_a_long_outage_records_every_crossed_level_in_order(walked, hook_calls):
    assert scan_at(at(2025, 10, 20, 9)) == 5
    assert scan_at(at(2025, 10, 20, 9)) == 0
    incident = fresh(walked)
    assert (incident.warning_level, incident.next_warning_at) == ("red_card", None)
    assert recorded(incident) == [(action, level, "handle", when) for action, level, when in WALK]
    assert [level for _, level, _ in hook_calls] == [level for _, level, _ in WALK]


def test_a_scan_that_dies_half_way_loses_nothing(walked, hook_calls, monkeypatch):
    def die(incident, level, when, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(warnings, "on_level_change", die)
    with pytest.raises(RuntimeError):
        scan_at(at(2025, 10, 14, 12))
    incident = fresh(walked)
    # The batch rolled back: nothing recorded, the case still due.
    assert recorded(incident) == []
    assert (incident.warning_level, incident.next_warning_at) == ("", WALK[0][2])

    monkeypatch.setattr(
        warnings, "on_level_change", lambda *args, **kwargs: hook_calls.append(args)
    )
    assert scan_at(at(2025, 10, 14, 12)) == 3
    assert [level for _, level, _, _ in recorded(incident)] == ["blue", "yellow", "red"]
    assert [level for _, level, _ in hook_calls] == ["blue", "yellow", "red"]


def test_the_scan_runs_as_a_task(walked):
    with frozen(at(2025, 9, 30, 11)):
        assert warnings_scan_task.delay().get() == 1
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["warnings-scan"]
    assert (entry["task"], entry["schedule"]) == ("dispatch.tasks.warnings_scan_task", 60.0)


# Phases, extensions, suspension ----------------------------------------------------------


def test_each_phase_starts_calm_and_a_closed_case_has_no_colour(loop):
    # Dispatched Monday 10 November at 10:00, to sign within one working day.
    with frozen(at(2025, 11, 10, 10)):
        incident = loop.bring(S.DISPATCHED)
    # A one-day phase turns blue and yellow together, at half time (the yellow "one working
    # day left" would otherwise fall on its very start).
    assert fresh(incident).next_warning_at == at(2025, 11, 10, 22)
    assert scan_at(at(2025, 11, 11, 9)) == 2
    incident = fresh(incident)
    assert incident.warning_level == "yellow"
    assert [(lv, ph, w) for _, lv, ph, w in recorded(incident)] == [
        ("blue", "signin", at(2025, 11, 10, 22)),
        ("yellow", "signin", at(2025, 11, 10, 22)),
    ]

    incident = act_at(loop, incident, "sign", at(2025, 11, 11, 9, 30))
    incident = fresh(incident)
    # The handling phase starts calm; 10 working days → blue after five.
    assert (incident.warning_level, incident.next_warning_at) == ("", at(2025, 11, 18, 9, 30))

    incident = act_at(loop, incident, "handle", at(2025, 11, 12, 9))
    incident = act_at(loop, incident, "verify", at(2025, 11, 12, 10))
    incident = fresh(incident)
    assert (incident.state, incident.warning_level, incident.next_warning_at) == (
        S.CLOSED,
        "",
        None,
    )
    assert scan_at(at(2026, 1, 5, 10)) == 0


def test_an_urgent_case_runs_on_clock_hours(loop):
    # Eight clock hours to sign: blue at four, yellow with a fifth (1 h 36 min) left.
    with frozen(at(2025, 9, 30, 10)):
        incident = loop.bring(S.DISPATCHED, urgency=Urgency.URGENT)
    incident = fresh(incident)
    assert incident.deadline_at == at(2025, 9, 30, 18)
    schedule = [
        (at(2025, 9, 30, 10), ("", at(2025, 9, 30, 14))),
        (at(2025, 9, 30, 14), ("blue", at(2025, 9, 30, 16, 24))),
        (at(2025, 9, 30, 16, 24), ("yellow", at(2025, 9, 30, 18))),
        # The cards count working days past the deadline: six hours of the 30th, then 9 October.
        (at(2025, 9, 30, 18), ("red", at(2025, 10, 9, 18))),
    ]
    for moment, expected in schedule:
        assert warning_schedule(incident=incident, now=moment) == expected


@pytest.fixture
def in_progress(loop) -> Incident:
    """Signed Friday 26 September at 10:00: due Thursday 16 October at 10:00."""
    incident = signed_at(loop, at(2025, 9, 26, 10))
    assert incident.deadline_at == at(2025, 10, 16, 10)
    return incident


def test_an_approved_extension_makes_the_case_calmer(loop, in_progress):
    # Blue on 10 October at 10:00, yellow (two working days left) on the 14th at 10:00.
    assert scan_at(at(2025, 10, 14, 10)) == 2
    assert fresh(in_progress).warning_level == "yellow"
    act_at(loop, in_progress, "request_extension", at(2025, 10, 14, 11), days=3)
    act_at(loop, in_progress, "decide_extension", at(2025, 10, 14, 12), approve=True)

    incident = fresh(in_progress)
    # Due 21 October at 10:00: two working days before it is 17 October at 10:00.
    assert incident.deadline_at == at(2025, 10, 21, 10)
    assert (incident.warning_level, incident.next_warning_at) == ("blue", at(2025, 10, 17, 10))
    # Nothing recorded for the calmer colour, and nothing due before the new instant.
    assert scan_at(at(2025, 10, 16, 12)) == 0
    assert [lv for _, lv, _, _ in recorded(incident)] == ["blue", "yellow"]

    assert scan_at(at(2025, 10, 17, 10)) == 1
    assert [lv for _, lv, _, _ in recorded(incident)] == ["blue", "yellow", "yellow"]


def test_a_refused_extension_keeps_the_colour(loop, in_progress):
    assert scan_at(at(2025, 10, 14, 10)) == 2
    act_at(loop, in_progress, "request_extension", at(2025, 10, 14, 11), days=3)
    act_at(loop, in_progress, "decide_extension", at(2025, 10, 14, 12), approve=False)
    incident = fresh(in_progress)
    assert (incident.warning_level, incident.next_warning_at) == ("yellow", at(2025, 10, 16, 10))


def test_a_suspended_case_does_not_advance(loop):
    # Signed Monday 10 November at 10:00, due Monday 24 November at 10:00: blue on the 17th
    # at 10:00, yellow on the 20th at 10:00.
    incident = signed_at(loop, at(2025, 11, 10, 10))
    assert incident.deadline_at == at(2025, 11, 24, 10)
    assert scan_at(at(2025, 11, 17, 10)) == 1

    incident = act_at(loop, incident, "suspend", at(2025, 11, 18, 10))
    incident = fresh(incident)
    assert (incident.warning_level, incident.next_warning_at) == ("blue", None)
    # Past the yellow instant, and past the deadline: still blue, nothing recorded.
    assert scan_at(at(2025, 11, 20, 10)) == 0
    assert scan_at(at(2025, 11, 25, 12)) == 0
    assert warning_schedule(incident=incident, now=at(2025, 11, 25, 12)) == ("", None)
    assert fresh(incident).warning_level == "blue"

    # Resumed Thursday 27 November at 10:00 with the four working days it had left: due
    # 3 December at 10:00, yellow two working days after resuming, as it was when suspended.
    incident = act_at(loop, incident, "resume", at(2025, 11, 27, 10))
    incident = fresh(incident)
    assert incident.deadline_at == at(2025, 12, 3, 10)
    assert (incident.warning_level, incident.next_warning_at) == ("blue", at(2025, 12, 1, 10))
    assert scan_at(at(2025, 12, 1, 10)) == 1
    assert [lv for _, lv, _, _ in recorded(incident)] == ["blue", "yellow"]


# Thresholds per category -----------------------------------------------------------------


def test_category_thresholds_move_the_colours(loop):
    Category.objects.filter(pk=loop.category.pk).update(
        blue_percent=20, yellow_percent=90, yellow_card_days=2, red_card_days=2
    )
    incident = fresh(signed_at(loop, SIGNED))
    # Blue after two working days (24 from 10:00, 25, 26 until 10:00); yellow with one
    # working day left (90 % would leave only one), both cards two working days past the
    # deadline.
    assert warning_schedule(incident=incident, now=SIGNED) == ("", at(2025, 9, 26, 10))
    assert warning_schedule(incident=incident, now=at(2025, 9, 26, 10)) == (
        "blue",
        at(2025, 10, 13, 10),
    )
    assert warning_schedule(incident=incident, now=DEADLINE) == ("red", at(2025, 10, 16, 10))
    assert warning_schedule(incident=incident, now=at(2025, 10, 16, 10)) == ("red_card", None)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"yellow_percent": 120}, "yellow_percent", "cannot be above 100 percent"),
        ({"blue_percent": 101, "yellow_percent": 100}, "blue_percent", "above 100 percent"),
        ({"blue_percent": 80, "yellow_percent": 80}, "yellow_percent", "later than the blue"),
        ({"blue_percent": 90, "yellow_percent": 60}, "yellow_percent", "more than 90 percent"),
        ({"blue_percent": 0}, "blue_percent", "must be above 0 percent"),
        ({"yellow_card_days": 4, "red_card_days": 3}, "red_card_days", "before the yellow card"),
    ],
)
def test_bad_thresholds_are_refused(loop, values, field, message):
    category = Category.objects.get(pk=loop.category.pk)
    for name, value in values.items():
        setattr(category, name, value)
    with translation.override(None):
        with pytest.raises(ValidationError) as exc:
            category.full_clean()
        assert list(exc.value.message_dict) == [field]
        assert message in exc.value.message_dict[field][0]

        # The admin's form shows the same message on the field.
        data = {**model_to_dict(Category.objects.get(pk=category.pk)), **values}
        form = CategoryAdminForm(data=data, instance=Category.objects.get(pk=category.pk))
        assert not form.is_valid()
        assert message in form.errors[field][0]

    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(pk=category.pk).update(**values)


def test_good_thresholds_pass_and_the_admin_edits_them(loop):
    category = Category.objects.get(pk=loop.category.pk)
    category.blue_percent, category.yellow_percent = 60, 100
    category.full_clean()
    fields = [f for _, opts in CategoryAdmin.fieldsets for row in opts["fields"] for f in row]
    assert {"blue_percent", "yellow_percent", "yellow_card_days", "red_card_days"} <= set(fields)


# Cost -------------------------------------------------------------------------------------


def test_the_scan_reads_the_next_warning_index(db):
    qs = (
        Incident.objects.filter(next_warning_at__lte=at(2025, 10, 1, 10))
        .order_by("next_warning_at")
        .select_for_update(of=("self",), skip_locked=True)[:500]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    # The partial index (or the plain one on the column): both names say "warning".
    assert re.search(r"Index (Only )?Scan (using|on) \S*warning", plan), plan


def test_the_scan_costs_the_same_however_many_cases_are_not_due(
    loop, django_assert_max_num_queries
):
    from dispatch.calendar import calendar_cache_clear

    def scan(moment: datetime):
        calendar_cache_clear()
        # Per colour change: its history row and its outbox messages (recipients, templates,
        # dedupe check, insert); nothing for the cases that are not due.
        with django_assert_max_num_queries(16) as queries:
            assert warnings_scan(now=moment) == 2
        return len(queries.captured_queries)

    # One open case, due: blue and yellow at once (a one-day sign-in phase, at half time).
    with frozen(at(2025, 11, 10, 10)):
        first = loop.bring(S.DISPATCHED)
    alone = scan(at(2025, 11, 10, 23))
    warnings_scan(now=at(2025, 11, 30))  # the rest of its colours; nothing due after

    # Thirty open cases, one of them due.
    with frozen(at(2025, 11, 17, 9)):
        due = loop.bring(S.DISPATCHED)
    with frozen(at(2025, 11, 17, 12)):
        for _ in range(28):
            loop.bring(S.DISPATCHED)
    assert Incident.objects.filter(state__in=[S.DISPATCHED]).count() == 30
    among_thirty = scan(at(2025, 11, 17, 21, 30))
    assert alone == among_thirty
    assert [lv for _, lv, _, _ in recorded(due)] == ["blue", "yellow"]
    assert fresh(first).warning_level == "red_card"


# Pages ------------------------------------------------------------------------------------


def test_lists_and_the_incident_page_show_the_colour(client, loop, walked):
    scan_at(at(2025, 10, 11, 11))
    incident = Incident.objects.select_related("category", "grid", "lead_unit").get(pk=walked.pk)
    with translation.override("zh-hans"):
        rows = render_to_string("dispatch/_incident_rows.html", {"incidents": [incident]})
    assert '<span class="badge warn-yellow">黄色预警</span>' in rows

    client.force_login(loop.owner_user(walked))
    with frozen(at(2025, 10, 11, 11)), translation.override("zh-hans"):
        page = client.get(reverse("dispatch:incident_detail", args=[walked.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert 'class="badge warn-yellow">黄色预警' in content
    # The history shows both colour changes.
    assert 'class="badge warn-blue">蓝色预警' in content


# Two scans at once ------------------------------------------------------------------------


@pytest.fixture
def _seeded(transactional_db):
    factories.ensure_seeded()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_scans_at_once_record_each_level_once(_seeded, city, people, hook_calls):
    loop = Loop(city, people)
    incidents = [signed_at(loop, SIGNED) for _ in range(6)]
    threads_count = 2
    barrier = threading.Barrier(threads_count)
    results: list = [None] * threads_count

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=20)
            # Small batches, so the two scans interleave and contend for rows.
            results[i] = warnings_scan(now=at(2025, 10, 20, 9), limit=2)
        except Exception as exc:  # reported below with its cause
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 5 * len(incidents)

    for incident in incidents:
        assert recorded(incident) == [(a, lv, "handle", w) for a, lv, w in WALK]
        assert sorted(lv for pk, lv, _ in hook_calls if pk == incident.pk) == sorted(
            lv for _, lv, _ in WALK
        )
    assert len(hook_calls) == 5 * len(incidents)
    assert warnings_scan(now=at(2025, 10, 20, 9)) == 0


def test_who_is_told_of_each_colour_across_national_day_once_each(walked, loop):
    """No hook patched: the scan writes the real notifications through the outbox."""
    from govgrid.notifications.models import OutboxMessage

    incident = fresh(walked)
    for moment in [
        at(2025, 9, 30, 10),
        at(2025, 10, 5, 12),
        at(2025, 10, 11, 10, 0, 30),
        at(2025, 10, 14, 10),
        at(2025, 10, 15, 10, 1),
        at(2025, 10, 17, 10),
    ]:
        scan_at(moment)
        scan_at(moment)  # twice: nobody hears twice
    expected = ["warning_blue", "warning_yellow", "warning_red", "supervision", "supervision"]
    handler = loop.people["handler"]
    assert incident.owner_unit_id == loop.units["street"].pk
    centre = loop.people["street"]
    told = [
        m.event
        for m in OutboxMessage.objects.filter(
            incident=incident, recipient=handler, channel="inapp"
        ).order_by("pk")
        if m.event != "dispatched"
    ]
    assert told == expected
    assert [
        m.event
        for m in OutboxMessage.objects.filter(
            incident=incident, recipient=centre, channel="inapp"
        ).order_by("pk")
    ] == expected
    # The grid worker who reported it is not among them.
    assert not OutboxMessage.objects.filter(
        incident=incident, recipient=loop.people["worker"], event__startswith="warning"
    ).exists()
