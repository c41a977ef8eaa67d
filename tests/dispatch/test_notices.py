"""The loop and the warning engine tell the right people, once, through the outbox."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dispatch.services import incident_act
from dispatch.warnings import warnings_scan
from govgrid.notifications.models import OutboxMessage
from incidents.models import Category
from incidents.services import ReportInput, incident_report

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def incident(people, city):
    category = Category.objects.filter(
        parent__isnull=False, handling_level=3, deadline_unit="workday"
    ).first()
    p = city.grids[0].boundary.point_on_surface
    return incident_report(
        data=ReportInput(category=category, description="井盖缺失", lon=p.x, lat=p.y),
        actor=people["worker"],
    )


def inapp(user) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(recipient=user, channel="inapp").order_by("pk"))


def test_dispatch_tells_the_lead_unit_and_return_tells_the_centre(incident, people):
    handler, street = people["handler"], people["street"]
    street.phone = "13800000001"
    street.save()
    incident_act(
        incident_id=incident.pk,
        action="dispatch",
        actor=street,
        lead_unit=people["units"]["department"],
    )
    assert [m.event for m in inapp(handler)] == ["dispatched"]
    assert incident.number in inapp(handler)[0].body
    assert not inapp(street)
    incident_act(incident_id=incident.pk, action="return", actor=handler, reason="不归我们管")
    assert [m.event for m in inapp(street)] == ["returned"]
    # the centre's member has a phone: an SMS too
    assert OutboxMessage.objects.filter(recipient=street, channel="sms", event="returned").exists()
    # the grid worker heard nothing yet
    assert not inapp(people["worker"])


def test_closing_tells_the_reporter(incident, people):
    from tests.factories import jpeg_file

    street, handler = people["street"], people["handler"]
    incident_act(
        incident_id=incident.pk,
        action="dispatch",
        actor=street,
        lead_unit=people["units"]["department"],
    )
    incident_act(incident_id=incident.pk, action="sign", actor=handler)
    incident_act(
        incident_id=incident.pk,
        action="handle",
        actor=handler,
        result="已修复",
        evidence=[jpeg_file()],
    )
    incident_act(incident_id=incident.pk, action="verify", actor=street)
    assert [m.event for m in inapp(people["worker"])] == ["closed"]


def test_each_colour_change_is_told_once_to_unit_and_centre(incident, people):
    street, handler = people["street"], people["handler"]
    start = datetime(2025, 9, 1, 9, 0, tzinfo=SH)  # a Monday, far from any holiday
    with time_machine.travel(start, tick=False):
        incident_act(
            incident_id=incident.pk,
            action="dispatch",
            actor=street,
            now=start,
            lead_unit=people["units"]["department"],
        )
        incident_act(incident_id=incident.pk, action="sign", actor=handler, now=start)
    late = start + timedelta(days=60)  # long past the handling deadline: every level crossed
    with time_machine.travel(late, tick=False):
        warnings_scan(now=late)
        warnings_scan(now=late)  # a second scan adds nothing
    events = [m.event for m in inapp(handler) if m.event != "dispatched"]
    assert events == ["warning_blue", "warning_yellow", "warning_red", "supervision", "supervision"]
    assert [m.event for m in inapp(street)] == events


def test_changing_a_categorys_thresholds_reschedules_its_running_cases(
    client, incident, people, django_capture_on_commit_callbacks
):
    street, handler = people["street"], people["handler"]
    incident_act(
        incident_id=incident.pk,
        action="dispatch",
        actor=street,
        lead_unit=people["units"]["department"],
    )
    incident_act(incident_id=incident.pk, action="sign", actor=handler)
    incident.refresh_from_db()
    before = incident.next_warning_at
    category = incident.category
    client.force_login(people["admin"])
    url = f"/admin/incidents/category/{category.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"parent": category.parent_id, "blue_percent": 10, "yellow_percent": 20})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident.refresh_from_db()
    assert incident.next_warning_at < before  # blue now comes at 10 % of the phase


def test_staff_with_an_address_also_get_an_email(incident, people, mailoutbox):
    from govgrid.notifications.services import outbox_deliver_due

    handler = people["handler"]
    handler.email = "handler@example.gov.cn"
    handler.save()
    incident_act(
        incident_id=incident.pk,
        action="dispatch",
        actor=people["street"],
        lead_unit=people["units"]["department"],
    )
    assert OutboxMessage.objects.filter(recipient=handler, channel="email").count() == 1
    outbox_deliver_due()
    assert [m.to for m in mailoutbox] == [["handler@example.gov.cn"]]
    assert incident.number in mailoutbox[0].subject
