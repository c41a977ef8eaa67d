"""Intake and loop pages: forms with bad input, scoping, pinned query counts."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from dispatch.services import incident_act
from govgrid.accounts.models import Role
from incidents.models import Category, Incident
from incidents.services import ReportInput, incident_report
from tests import factories

pytestmark = pytest.mark.django_db


def jpeg(name="p.jpg") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


@pytest.fixture
def category(db):
    return Category.objects.filter(
        parent__isnull=False, handling_level=3, deadline_unit="workday"
    ).first()


def inside(grid):
    p = grid.boundary.point_on_surface
    return p.x, p.y


def form_data(category, grid, **extra):
    lon, lat = inside(grid)
    return {
        "category": category.pk,
        "description": "井盖缺失",
        "lon": lon,
        "lat": lat,
        "location_source": "gps",
        "urgency": "normal",
        **extra,
    }


def test_grid_worker_files_a_report_with_a_photo(client, people, city, category):
    client.force_login(people["worker"])
    assert client.get(reverse("incidents:report_new")).status_code == 200
    response = client.post(
        reverse("incidents:report_new"), form_data(category, city.grids[0], photos=[jpeg()])
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/dispatch/incidents/{incident.pk}/?filed=1"
    assert incident.number.startswith("WG-")
    assert incident.grid == city.grids[0]
    assert incident.owner_unit == people["units"]["street"]
    assert incident.attachments.get().content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lon": 114.31, "lat": 30.01}, "outside every grid"),  # a grid of street B
        ({"description": ""}, "This field is required"),
        ({"category": 999999}, "Select a valid choice"),
        ({"photos": "text"}, "is not a photo"),
        ({"is_self_handled": "on", "result": ""}, "Describe what was done"),
    ],
)
def test_bad_reports_are_refused_with_a_message_and_write_nothing(
    client, people, city, category, change, message
):
    from django.utils import translation

    client.force_login(people["worker"])
    data = form_data(category, city.grids[0])
    if change.get("photos") == "text":
        change = {"photos": [SimpleUploadedFile("x.jpg", b"not an image", "image/jpeg")]}
    data.update(change)
    with translation.override("en"):
        response = client.post(reverse("incidents:report_new"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Incident.objects.exists()


def test_a_big_category_cannot_be_picked(client, people, city, category):
    client.force_login(people["worker"])
    response = client.post(
        reverse("incidents:report_new"), form_data(category.parent, city.grids[0])
    )
    assert response.status_code == 400
    assert not Incident.objects.exists()


def test_centre_enters_a_hotline_report(client, people, city, category):
    client.force_login(people["street"])
    data = form_data(
        category,
        city.grids[1],
        channel="hotline",
        reporter_name="王先生",
        reporter_phone="13800000000",
        location_source="map",
    )
    response = client.post(reverse("incidents:desk_report_new"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    incident = Incident.objects.get()
    assert incident.number.startswith("RX-")
    assert incident.channel == "hotline"
    assert incident.reporter_name == "王先生"


def test_grid_workers_cannot_use_the_desk_form(client, people):
    client.force_login(people["worker"])
    assert client.get(reverse("incidents:desk_report_new")).status_code == 403


def report(people, city, category, n=1):
    out = []
    for _ in range(n):
        lon, lat = inside(city.grids[0])
        out.append(
            incident_report(
                data=ReportInput(
                    category=category, description="问题", lon=lon, lat=lat, photos=[]
                ),
                actor=people["worker"],
            )
        )
    return out


def test_triage_page_lists_the_centres_cases_in_a_fixed_number_of_queries(
    client, people, city, category, django_assert_num_queries
):
    client.force_login(people["street"])
    report(people, city, category)
    client.get(reverse("dispatch:triage"))
    # user, scope (2), the header's unread count, then one query per column of the desk
    with django_assert_num_queries(12) as one:
        client.get(reverse("dispatch:triage"))
    report(people, city, category, n=4)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("dispatch:triage"))
    assert len(response.context["columns"]["to_accept"]) == 5


def test_unit_inbox_in_a_fixed_number_of_queries(
    client, people, city, category, django_assert_num_queries
):
    incidents = report(people, city, category, n=3)
    for i in incidents:
        incident_act(
            incident_id=i.pk,
            action="dispatch",
            actor=people["street"],
            lead_unit=people["units"]["department"],
        )
    client.force_login(people["handler"])
    client.get(reverse("dispatch:unit_inbox"))
    # 8 for the desk, 1 for the header's unread count
    with django_assert_num_queries(9):
        response = client.get(reverse("dispatch:unit_inbox"))
    assert len(response.context["columns"]["to_sign"]) == 3


def test_incident_page_and_photos_are_scoped(client, people, city, category):
    lon, lat = inside(city.grids[0])
    incident = incident_report(
        data=ReportInput(
            category=category, description="问题", lon=lon, lat=lat, photos=[(jpeg(), "image/jpeg")]
        ),
        actor=people["worker"],
    )
    photo = incident.attachments.get()
    other_worker = factories.make_user(roles=[Role.GRID_WORKER])
    factories.staff_grid(grid=city.grids[5], user=other_worker)
    client.force_login(other_worker)
    assert client.get(reverse("dispatch:incident_detail", args=[incident.pk])).status_code == 404
    assert client.get(reverse("dispatch:attachment_file", args=[photo.pk])).status_code == 404
    client.force_login(people["worker"])
    assert client.get(reverse("dispatch:incident_detail", args=[incident.pk])).status_code == 200
    response = client.get(reverse("dispatch:attachment_file", args=[photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


def test_incident_page_offers_exactly_the_allowed_actions(client, people, city, category):
    incident = report(people, city, category)[0]
    client.force_login(people["street"])
    response = client.get(reverse("dispatch:incident_detail", args=[incident.pk]))
    names = [a.name for a in response.context["actions"]]
    assert names == [
        "accept",
        "reject",
        "duplicate",
        "escalate",
        "dispatch",
        "whistle",
        "cancel",
        "mark_urgent",
        "supervise",
    ]
    # Not yet dispatched: the unit does not even see it.
    client.force_login(people["handler"])
    assert client.get(reverse("dispatch:incident_detail", args=[incident.pk])).status_code == 404
    incident_act(
        incident_id=incident.pk,
        action="dispatch",
        actor=people["street"],
        lead_unit=people["units"]["department"],
    )
    response = client.get(reverse("dispatch:incident_detail", args=[incident.pk]))
    assert [a.name for a in response.context["actions"]] == ["sign", "return"]
    # The grid worker who reported it can only look.
    client.force_login(people["worker"])
    response = client.get(reverse("dispatch:incident_detail", args=[incident.pk]))
    assert response.context["actions"] == []


def test_a_stale_action_gets_the_already_handled_message(client, people, city, category):
    incident = report(people, city, category)[0]
    incident_act(incident_id=incident.pk, action="accept", actor=people["street"])
    client.force_login(people["street"])
    response = client.post(
        reverse("dispatch:incident_action", args=[incident.pk]),
        {"action": "reject", "expected_state": "reported", "reason": "重复"},
        follow=True,
    )
    body = response.content.decode()
    assert "t_street" in body or "已由" in body or "Already handled" in body
    incident.refresh_from_db()
    assert incident.state == "accepted"
