"""Rating 回访 by SMS link: asked once the day after closure, rated once through the link."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation

from dispatch import tasks
from dispatch.services import (
    RATING_LINK_MAX_AGE,
    incident_rate_public,
    rating_requests_due,
    rating_token,
)
from dispatch.workflow import State
from govgrid.lib.errors import DomainError
from govgrid.notifications.models import Channel, OutboxMessage
from incidents.models import Incident, Rating
from tests.dispatch.test_workflow import Loop

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
NAME = "王秀英"


@pytest.fixture
def loop(city, people) -> Loop:
    return Loop(city, people)


def closed(loop, *, hours_ago: float, phone: str = PHONE) -> Incident:
    incident = loop.bring(State.HANDLED, reporter_name=NAME, reporter_phone=phone)
    incident = loop.act(incident, "verify", now=timezone.now() - timedelta(hours=hours_ago))
    assert incident.state == State.CLOSED
    return incident


def requests(incident) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(incident=incident, event="rating_request"))


def link_path(incident) -> str:
    return reverse("rate_public", args=[rating_token(incident.pk)])


def test_the_reporter_of_a_case_closed_yesterday_is_asked_once(loop, settings):
    settings.PUBLIC_BASE_URL = "https://grid.example.gov.cn/"
    yesterday = closed(loop, hours_ago=30)
    recent = closed(loop, hours_ago=1)
    rated = closed(loop, hours_ago=30)
    incident_rate_public(incident_id=rated.pk, rating=Rating.SATISFIED)
    no_phone = closed(loop, hours_ago=30, phone="")

    assert rating_requests_due() == 1
    (message,) = requests(yesterday)
    assert (message.channel, message.recipient, message.recipient_phone) == (
        Channel.SMS,
        None,
        PHONE,
    )
    assert "https://grid.example.gov.cn/r/" in message.body
    assert yesterday.number in message.body
    assert requests(recent) == requests(rated) == requests(no_phone) == []

    # Again (a second beat run, or the task): nothing new.
    assert rating_requests_due() == 0
    assert tasks.rating_requests_send() == 0
    assert len(requests(yesterday)) == 1


def test_the_link_page_shows_the_case_but_no_personal_data(loop, client):
    incident = closed(loop, hours_ago=30)
    response = client.get(link_path(incident))
    assert response.status_code == 200
    html = response.content.decode()
    assert incident.number in html
    assert incident.category.name in html
    assert PHONE not in html and NAME not in html
    assert html.count('name="rating"') == 3


def test_a_post_records_the_rating_once(loop, client):
    incident = closed(loop, hours_ago=30)
    path = link_path(incident)
    response = client.post(path, {"rating": Rating.BASIC})
    assert response.status_code == 200
    incident.refresh_from_db()
    assert (incident.rating, incident.reopen_requested) == (Rating.BASIC, False)
    event = incident.events.order_by("-pk").first()
    assert (event.action, event.actor, event.data) == (
        "rate",
        None,
        {"rating": Rating.BASIC, "channel": "sms_link"},
    )
    events = incident.events.count()

    with translation.override("en"):
        response = client.post(path, {"rating": Rating.UNSATISFIED}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "rated already" in response.content.decode()
    incident.refresh_from_db()
    assert (incident.rating, incident.events.count()) == (Rating.BASIC, events)
    # The used link says so on GET too.
    assert "rated already" in client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_tampered_or_expired_link_is_refused(loop, client):
    incident = closed(loop, hours_ago=30)
    token = rating_token(incident.pk)
    tampered = reverse("rate_public", args=[token[:-2] + ("AA" if token[-2:] != "AA" else "BB")])
    response = client.post(tampered, {"rating": Rating.SATISFIED}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()

    with time_machine.travel(timezone.now() + RATING_LINK_MAX_AGE + timedelta(hours=1)):
        response = client.post(
            reverse("rate_public", args=[token]),
            {"rating": Rating.SATISFIED},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    incident.refresh_from_db()
    assert incident.rating == ""
    assert not incident.events.filter(action="rate").exists()


def test_a_token_for_something_else_is_refused(loop):
    with pytest.raises(DomainError) as exc:
        incident_rate_public(incident_id=0, rating=Rating.SATISFIED)
    assert exc.value.code == "invalid"
    from dispatch.services import rating_token_incident_id

    with pytest.raises(DomainError):
        rating_token_incident_id(signing.dumps({"i": 1}, salt="something-else"))


def test_unsatisfied_opens_a_reopen_request(loop, client):
    incident = closed(loop, hours_ago=30)
    client.post(link_path(incident), {"rating": Rating.UNSATISFIED})
    incident.refresh_from_db()
    assert (incident.state, incident.rating, incident.reopen_requested) == (
        State.CLOSED,
        Rating.UNSATISFIED,
        True,
    )
    # The centre decides it as for any reopen request.
    incident = loop.act(incident, "decide_reopen", approve=True)
    assert incident.state == State.IN_PROGRESS


def test_an_open_case_cannot_be_rated_by_link(loop, client):
    incident = loop.bring(State.IN_PROGRESS)
    response = client.post(link_path(incident), {"rating": Rating.SATISFIED})
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.rating == ""
