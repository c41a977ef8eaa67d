"""Manual supervision 督办: a centre or a leader presses a case, whoever holds it replies."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from dispatch.services import allowed_actions, incident_act
from dispatch.workflow import State
from govgrid.accounts.models import Role
from govgrid.lib.errors import DomainError
from govgrid.notifications.models import Channel, OutboxMessage
from tests import factories
from tests.dispatch.test_workflow import Loop

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _messages_untranslated():
    with translation.override(None):
        yield


@pytest.fixture
def loop(city, people) -> Loop:
    return Loop(city, people)


def _supervise(loop, incident, *, actor=None, now=None, level="red", reply_days=2):
    return incident_act(
        incident_id=incident.pk,
        action="supervise",
        actor=actor or loop.people["leader"],
        now=now,
        note="请尽快处置并回复",
        level=level,
        reply_days=reply_days,
    )


def _reply(loop, incident, *, actor=None, now=None):
    return incident_act(
        incident_id=incident.pk,
        action="supervision_reply",
        actor=actor or loop.people["handler"],
        now=now,
        note="已安排人员处置",
    )


def test_a_leader_supervises_and_the_lead_unit_is_told(loop):
    incident = loop.bring(State.IN_PROGRESS)
    now = timezone.now()
    incident = _supervise(loop, incident, now=now)
    assert incident.state == State.IN_PROGRESS  # a loop action: the state stays
    event = incident.events.order_by("-pk").first()
    assert (event.action, event.actor, event.note) == (
        "supervise",
        loop.people["leader"],
        "请尽快处置并回复",
    )
    assert event.data["level"] == "red"
    assert event.data["supervision"] is True
    assert datetime.fromisoformat(event.data["reply_by"]) > now
    messages = OutboxMessage.objects.filter(incident=incident, event="supervision")
    assert {m.recipient for m in messages.filter(channel=Channel.INAPP)} == {loop.people["handler"]}


def test_without_a_lead_unit_the_owning_centre_is_told_and_replies(loop):
    incident = loop.bring(State.ACCEPTED)
    _supervise(loop, incident, level="yellow")
    recipients = {
        m.recipient
        for m in OutboxMessage.objects.filter(
            incident=incident, event="supervision", channel=Channel.INAPP
        )
    }
    assert loop.people["street"] in recipients
    assert loop.people["handler"] not in recipients
    with pytest.raises(DomainError, match="not your unit's"):
        _reply(loop, incident, actor=loop.people["handler"])
    _reply(loop, incident, actor=loop.people["street"])


def test_the_unit_replies_on_time_once(loop):
    incident = loop.bring(State.IN_PROGRESS)
    handler = loop.people["handler"]
    assert "supervision_reply" not in {
        a.name for a in allowed_actions(user=handler, incident=incident)
    }
    with pytest.raises(DomainError, match="No supervision is waiting for a reply"):
        _reply(loop, incident)

    _supervise(loop, incident)
    supervision = incident.events.get(action="supervise")
    assert "supervision_reply" in {a.name for a in allowed_actions(user=handler, incident=incident)}
    _reply(loop, incident)
    reply = incident.events.order_by("-pk").first()
    assert (reply.action, reply.actor) == ("supervision_reply", handler)
    assert reply.data == {"reply_to": supervision.pk, "on_time": True}

    count = incident.events.count()
    with pytest.raises(DomainError) as exc:
        _reply(loop, incident)
    assert (exc.value.code, exc.value.message) == (
        "not_allowed",
        "No supervision is waiting for a reply.",
    )
    assert incident.events.count() == count
    assert "supervision_reply" not in {
        a.name for a in allowed_actions(user=handler, incident=incident)
    }


def test_a_late_reply_is_recorded_as_late(loop):
    incident = loop.bring(State.IN_PROGRESS)
    _supervise(loop, incident, reply_days=1)
    reply_by = datetime.fromisoformat(incident.events.get(action="supervise").data["reply_by"])
    with time_machine.travel(reply_by + timedelta(hours=1), tick=False):
        _reply(loop, incident)
    reply = incident.events.order_by("-pk").first()
    assert reply.action == "supervision_reply"
    assert reply.data["on_time"] is False


def test_a_unit_of_another_street_cannot_reply(loop):
    incident = loop.bring(State.IN_PROGRESS)
    _supervise(loop, incident)
    outsider = factories.make_user(roles=[Role.UNIT_HANDLER], unit=loop.other_department)
    count = incident.events.count()
    with pytest.raises(DomainError) as exc:
        _reply(loop, incident, actor=outsider)
    assert (exc.value.code, exc.value.message) == (
        "not_allowed",
        "This incident is not your unit's to act on.",
    )
    assert incident.events.count() == count


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"level": "green"}, "level"),
        ({"reply_days": 0}, "reply_days"),
        ({"reply_days": 31}, "reply_days"),
    ],
)
def test_level_and_reply_days_are_checked(loop, fields, code):
    incident = loop.bring(State.IN_PROGRESS)
    with pytest.raises(DomainError) as exc:
        _supervise(loop, incident, **fields)
    assert exc.value.code == code
    assert not incident.events.filter(action="supervise").exists()


def test_the_grid_worker_may_not_supervise(loop):
    incident = loop.bring(State.IN_PROGRESS)
    with pytest.raises(DomainError, match="Your role may not do this"):
        _supervise(loop, incident, actor=loop.people["worker"])


def test_the_incident_page_shows_supervision_and_reply(loop, client):
    incident = loop.bring(State.IN_PROGRESS)
    _supervise(loop, incident)
    _reply(loop, incident)
    client.force_login(loop.people["street"])
    response = client.get(reverse("dispatch:incident_detail", args=[incident.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "timeline-item action-supervise" in html
    assert "timeline-item action-supervision_reply" in html


def test_the_supervise_form_posts_level_and_days(loop, client):
    incident = loop.bring(State.IN_PROGRESS)
    client.force_login(loop.people["street"])
    page = client.get(reverse("dispatch:incident_detail", args=[incident.pk])).content.decode()
    assert 'name="level"' in page and 'name="reply_days"' in page
    client.post(
        reverse("dispatch:incident_action", args=[incident.pk]),
        {
            "action": "supervise",
            "expected_state": incident.state,
            "note": "请加快进度",
            "level": "yellow",
            "reply_days": "3",
        },
    )
    event = incident.events.get(action="supervise")
    assert (event.actor, event.data["level"]) == (loop.people["street"], "yellow")


def test_the_api_supervises(loop, client):
    incident = loop.bring(State.IN_PROGRESS)
    client.force_login(loop.people["leader"])
    response = client.post(
        f"/api/incidents/{incident.pk}/actions/supervise/",
        {"note": "请加快进度", "level": "red", "reply_days": 5},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert incident.events.get(action="supervise").data["level"] == "red"
