"""The intake, read and transition endpoints, end to end through HTTP."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from dispatch.models import ExtensionRequest, ExtensionState
from dispatch.workflow import State
from govgrid.accounts.models import Role
from incidents.models import Attachment, AttachmentKind, Category, Incident, IncidentEvent
from incidents.services import ReportInput, incident_report
from tests import factories

pytestmark = pytest.mark.django_db

IN_GRID = {"lon": 114.02, "lat": 30.02}  # city.grids[0], staffed by people["worker"]
NEXT_GRID = {"lon": 114.07, "lat": 30.02}  # city.grids[1], same community, not the worker's
EXIF_ORIENTATION = 0x0112


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def api(client):
    # Messages are compared in English; the catalogue decides the Chinese wording.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def category(db):
    """A small street-level category: its reports belong to the street centre."""
    return Category.objects.filter(
        parent__isnull=False, handling_level=3, is_active=True, parent__is_active=True
    ).first()


def jpeg(name="photo.jpg", *, size=(40, 20), orientation=None) -> SimpleUploadedFile:
    """A small JPEG, left half red and right half blue, optionally tagged as sideways."""
    image = Image.new("RGB", size, "red")
    image.paste("blue", (size[0] // 2, 0, size[0], size[1]))
    out = BytesIO()
    if orientation:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        image.save(out, "JPEG", exif=exif)
    else:
        image.save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def report_body(category, **extra) -> dict:
    return {"category": category.pk, "description": "井盖缺失，有人踩空", **IN_GRID, **extra}


def post_json(api, url, body):
    return api.post(url, body, content_type="application/json")


def act(api, user, incident_id, action, **body):
    api.force_login(user)
    url = reverse("api:incident_action", args=[incident_id, action])
    if any(isinstance(v, SimpleUploadedFile | list) for v in body.values()):
        return api.post(url, body)  # multipart
    return post_json(api, url, body)


def file_report(*, worker, category, **extra) -> Incident:
    """A report through the service, for tests about what comes after intake."""
    data = {"description": "路灯不亮", **IN_GRID, **extra}
    return incident_report(data=ReportInput(category=category, **data), actor=worker)


# --------------------------------------------------------------------------------------
# Intake
# --------------------------------------------------------------------------------------


def test_grid_worker_reports_by_json(api, city, people, category):
    api.force_login(people["worker"])

    response = post_json(
        api,
        reverse("api:incident_report"),
        report_body(category, address="解放路 12 号", people_count=3, amount="120.50"),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    incident = Incident.objects.get()
    assert body["id"] == incident.pk
    assert body["number"].startswith("WG-")
    assert body["channel"] == "grid"
    assert body["state"] == State.REPORTED
    assert body["category"]["id"] == category.pk
    assert body["grid"]["code"] == city.grids[0].code
    assert body["owner_unit"]["id"] == people["units"]["street"].pk
    assert (body["lon"], body["lat"]) == pytest.approx((114.02, 30.02))
    assert (body["people_count"], body["amount"]) == (3, "120.50")
    assert body["detail_url"].endswith(f"/api/incidents/{incident.pk}/")
    detail = api.get(body["detail_url"]).json()
    assert [e["action"] for e in detail["events"]] == ["report"]
    assert detail["allowed_actions"] == []  # the worker waits for the centre
    assert incident.reporter == people["worker"]


@pytest.mark.parametrize("field", ["photos", "photos[]"])
def test_grid_worker_reports_with_photos_stored_upright(api, people, category, field):
    api.force_login(people["worker"])
    sideways = jpeg("sideways.jpg", orientation=6)  # "rotate 90° clockwise to view"

    response = api.post(
        reverse("api:incident_report"),
        {**report_body(category), field: [jpeg("plain.jpg"), sideways]},
    )

    assert response.status_code == 201, response.content
    files = response.json()["attachments"]
    assert [f["kind"] for f in files] == ["photo", "photo"]
    # served through the scoped view, not a public /media/ URL
    assert all(f["url"].startswith("http://testserver/dispatch/attachments/") for f in files)
    plain, upright = Attachment.objects.order_by("pk")
    with Image.open(plain.file) as image:
        assert image.size == (40, 20)
    with Image.open(upright.file) as image:
        # Turned upright: the red left half is now on top, and the tag is gone.
        assert image.size == (20, 40)
        red, blue = image.convert("RGB").getpixel((10, 5)), image.convert("RGB").getpixel((10, 35))
        assert red[0] > 200 > red[2] and blue[2] > 200 > blue[0]
        assert EXIF_ORIENTATION not in image.getexif()
    assert upright.content_type == "image/jpeg"


def test_grid_worker_reports_handled_on_the_spot(api, people, category):
    api.force_login(people["worker"])

    response = api.post(
        reverse("api:incident_report"),
        {
            **report_body(category),
            "is_self_handled": "true",
            "result": "已清理",
            "evidence": jpeg(),
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == State.HANDLED
    assert [f["kind"] for f in body["attachments"]] == [AttachmentKind.EVIDENCE]


def test_centre_desk_reports_a_hotline_call(api, people, category):
    api.force_login(people["street"])

    response = post_json(
        api,
        reverse("api:incident_report"),
        report_body(
            category, channel="hotline", reporter_name="张三", reporter_phone="13800000000"
        ),
    )

    assert response.status_code == 201, response.content
    assert response.json()["number"].startswith("RX-")
    assert response.json()["reporter_phone"] == "13800000000"


def test_a_unit_handler_files_no_reports(api, people, category):
    api.force_login(people["handler"])

    response = post_json(api, reverse("api:incident_report"), report_body(category))

    assert response.status_code == 403
    assert not Incident.objects.exists()


def _refused(response, key: str, text: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    message = body[key] if key == "detail" else " ".join(body[key])
    assert text in message, body
    assert not Incident.objects.exists()
    assert not IncidentEvent.objects.exists()
    assert not Attachment.objects.exists()


def test_report_missing_fields(api, people):
    api.force_login(people["worker"])

    response = post_json(api, reverse("api:incident_report"), {})

    assert response.status_code == 400
    assert set(response.json()) == {"category", "description", "lon", "lat"}
    _refused(response, "lon", "This field is required.")


def test_report_unknown_category(api, people, category):
    api.force_login(people["worker"])
    response = post_json(
        api, reverse("api:incident_report"), {**report_body(category), "category": 0}
    )
    _refused(response, "category", "Invalid pk")


def test_report_big_category(api, people, category):
    api.force_login(people["worker"])
    body = {**report_body(category), "category": category.parent_id}
    response = post_json(api, reverse("api:incident_report"), body)
    _refused(response, "detail", "Pick an active small category.")
    assert response.json()["code"] == "category"


def test_report_text_file_named_jpg(api, people, category):
    api.force_login(people["worker"])
    fake = SimpleUploadedFile("scan.jpg", b"not an image at all", content_type="image/jpeg")
    response = api.post(reverse("api:incident_report"), {**report_body(category), "photos": fake})
    _refused(response, "photos", "“scan.jpg” is not a photo (JPEG, PNG or WebP).")


def test_report_oversized_photo(api, people, category, settings):
    settings.PHOTO_MAX_BYTES = 200
    api.force_login(people["worker"])
    response = api.post(
        reverse("api:incident_report"), {**report_body(category), "photos": jpeg("big.jpg")}
    )
    _refused(response, "photos", "The photo “big.jpg” is")


def test_report_outside_the_workers_grids(api, people, category):
    api.force_login(people["worker"])
    response = post_json(api, reverse("api:incident_report"), report_body(category, **NEXT_GRID))
    _refused(response, "detail", "This position is outside every grid you may report in.")
    assert response.json()["code"] == "outside_grids"


def test_report_self_handled_without_evidence(api, people, category):
    api.force_login(people["worker"])
    body = report_body(category, is_self_handled=True, result="已劝离")
    response = post_json(api, reverse("api:incident_report"), body)
    _refused(response, "detail", "needs the result and an evidence photo")
    assert response.json()["code"] == "self_handled"


def test_grid_worker_may_not_use_a_desk_channel(api, people, category):
    api.force_login(people["worker"])
    body = report_body(category, channel="hotline")
    response = post_json(api, reverse("api:incident_report"), body)
    _refused(response, "channel", "You may not file reports on the “hotline” channel.")


# --------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------


def test_list_and_detail_are_scoped(api, city, people, category):
    incident = file_report(worker=people["worker"], category=category)
    neighbour = factories.make_user(roles=[Role.GRID_WORKER], unit=people["units"]["station"])
    factories.staff_grid(grid=city.grids[1], user=neighbour)
    detail = reverse("api:incident_detail", args=[incident.pk])

    for user in (people["worker"], people["street"]):
        api.force_login(user)
        assert [i["id"] for i in api.get(reverse("api:incident_list")).json()["results"]] == [
            incident.pk
        ]
        assert api.get(detail).status_code == 200

    api.force_login(neighbour)
    assert api.get(reverse("api:incident_list")).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    assert api.get(detail).status_code == 404
    action = reverse("api:incident_action", args=[incident.pk, "rate"])
    assert post_json(api, action, {"rating": "satisfied"}).status_code == 404


def test_list_filters(api, people, category):
    incident = file_report(worker=people["worker"], category=category)
    api.force_login(people["street"])
    url = reverse("api:incident_list")

    def ids(**params):
        response = api.get(url, params)
        assert response.status_code == 200, response.content
        return [i["id"] for i in response.json()["results"]]

    assert ids(state="reported") == [incident.pk]
    assert ids(state="closed") == []
    assert ids(category=category.pk) == [incident.pk]
    assert ids(category=category.parent_id) == [incident.pk]  # a big one covers its small ones
    assert ids(channel="grid") == [incident.pk]
    assert ids(channel="hotline") == []
    assert api.get(url, {"state": "lost"}).status_code == 400
    assert api.get(url, {"category": 0}).status_code == 400


def test_list_pages_by_limit_and_offset(api, people, category):
    for _ in range(3):
        file_report(worker=people["worker"], category=category)
    api.force_login(people["worker"])

    body = api.get(reverse("api:incident_list"), {"limit": 2, "offset": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 1
    assert body["previous"] is not None and body["next"] is None


@pytest.mark.parametrize("n", [1, 5])
def test_list_query_count_does_not_grow(api, people, category, django_assert_num_queries, n):
    for _ in range(n):
        file_report(worker=people["worker"], category=category)
    api.force_login(people["worker"])

    # The user, the worker's grids (scope), the count and the page.
    with django_assert_num_queries(4):
        response = api.get(reverse("api:incident_list"))

    assert len(response.json()["results"]) == n


def test_category_list_groups_small_under_big(api, people, category):
    category.__class__.objects.filter(pk=category.pk).update(is_active=False)
    api.force_login(people["worker"])

    groups = api.get(reverse("api:category_list")).json()

    assert groups
    small_ids = {c["id"] for g in groups for c in g["children"]}
    big_ids = {g["id"] for g in groups}
    assert category.parent_id in big_ids
    assert category.pk not in small_ids  # inactive
    assert not small_ids & big_ids
    assert all(g["children"] for g in groups)


def test_schema_documents_every_endpoint(api, people):
    api.force_login(people["worker"])

    response = api.get("/api/schema/")

    assert response.status_code == 200
    schema = response.content.decode()
    for path in (
        "/api/incidents/report/",
        "/api/incidents/:",
        "/api/incidents/{id}/:",
        "/api/incidents/{id}/actions/{action}/",
        "/api/categories/",
    ):
        assert path in schema
    for component in ("IncidentReportInput", "IncidentTransitionInput", "IncidentDetail"):
        assert f"{component}:" in schema


# --------------------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------------------


def test_full_journey_through_the_api(api, people, category):
    street, handler, worker = people["street"], people["handler"], people["worker"]
    department = people["units"]["department"]
    api.force_login(worker)
    reported = post_json(api, reverse("api:incident_report"), report_body(category)).json()
    pk = reported["id"]

    def step(user, action, expected, **body):
        response = act(api, user, pk, action, **body)
        assert response.status_code == 200, (action, response.content)
        data = response.json()
        assert data["state"] == expected, action
        return data

    step(street, "accept", State.ACCEPTED, expected_state=State.REPORTED)
    data = step(
        street,
        "dispatch",
        State.DISPATCHED,
        lead_unit=department.pk,
        handler=handler.pk,
        expected_state=State.ACCEPTED,
    )
    assert data["lead_unit"]["id"] == department.pk
    assert [(a["unit"]["id"], a["role"], a["state"]) for a in data["assignments"]] == [
        (department.pk, "lead", "pending")
    ]

    api.force_login(handler)
    mine = api.get(reverse("api:incident_detail", args=[pk])).json()
    assert {a["name"] for a in mine["allowed_actions"]} == {"sign", "return"}
    assert {"name": "return", "label": "Return it", "requires": ["reason"]} in mine[
        "allowed_actions"
    ]

    data = step(handler, "sign", State.IN_PROGRESS, expected_state=State.DISPATCHED)
    deadline = data["deadline_at"]
    data = step(handler, "request_extension", State.IN_PROGRESS, reason="需协调物业", days=2)
    assert [r["state"] for r in data["extension_requests"]] == [ExtensionState.PENDING]
    data = step(street, "decide_extension", State.IN_PROGRESS, approve=True)
    assert [r["state"] for r in data["extension_requests"]] == [ExtensionState.APPROVED]
    assert data["deadline_at"] > deadline

    data = step(
        handler,
        "handle",
        State.HANDLED,
        result="已补装井盖",
        evidence=[jpeg("after.jpg")],
        expected_state=State.IN_PROGRESS,
    )
    assert [f["kind"] for f in data["attachments"]] == [AttachmentKind.EVIDENCE]
    handle_event = data["events"][-1]
    assert handle_event["action"] == "handle"
    assert handle_event["attachments"] == [data["attachments"][0]["id"]]

    step(street, "verify", State.CLOSED, expected_state=State.HANDLED)
    data = step(worker, "rate", State.CLOSED, rating="unsatisfied")
    assert data["reopen_requested"] is True
    data = step(street, "decide_reopen", State.IN_PROGRESS, approve=True)
    assert data["reopen_requested"] is False

    assert [e["action"] for e in data["events"]] == [
        "report",
        "accept",
        "dispatch",
        "sign",
        "request_extension",
        "decide_extension",
        "handle",
        "verify",
        "rate",
        "decide_reopen",
    ]
    assert {"progress", "handle"} <= {
        a["name"]
        for a in act(api, handler, pk, "progress", note="返工中").json()["allowed_actions"]
    }


@pytest.mark.parametrize(
    ("who", "action", "body", "message"),
    [
        ("street", "verify", {}, "not possible while the incident is “Awaiting acceptance”"),
        ("worker", "accept", {}, "Your role may not do this."),
        ("station", "accept", {}, "This incident is not your unit's to act on."),
        ("street", "reject", {}, "“reason” is required for this action."),
        ("street", "decide_reopen", {"approve": True}, "not possible while"),
    ],
)
def test_refused_transition_changes_nothing(api, people, category, who, action, body, message):
    incident = file_report(worker=people["worker"], category=category)
    events = IncidentEvent.objects.count()

    response = act(api, people[who], incident.pk, action, **body)

    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert IncidentEvent.objects.count() == events
    incident.refresh_from_db()
    assert incident.state == State.REPORTED


def test_unknown_action_is_404(api, people, category):
    incident = file_report(worker=people["worker"], category=category)
    response = act(api, people["street"], incident.pk, "teleport")
    assert response.status_code == 404


def test_bad_field_shape_is_400(api, people, category):
    incident = file_report(worker=people["worker"], category=category)
    response = act(api, people["street"], incident.pk, "dispatch", lead_unit=0)
    assert response.status_code == 400
    assert "lead_unit" in response.json()
    assert incident.events.count() == 1


def test_stale_expected_state_is_409_naming_who_acted(api, people, category):
    incident = file_report(worker=people["worker"], category=category)
    colleague = factories.make_user(
        roles=[Role.STREET_CENTRE], unit=people["units"]["street"], full_name="李芳"
    )
    assert act(api, colleague, incident.pk, "accept").status_code == 200
    events = IncidentEvent.objects.count()

    response = act(
        api,
        people["street"],
        incident.pk,
        "reject",
        reason="不属实",
        expected_state=State.REPORTED,
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert "Already handled by 李芳" in body["detail"]
    assert "“Accepted”" in body["detail"]
    assert IncidentEvent.objects.count() == events
    incident.refresh_from_db()
    assert incident.state == State.ACCEPTED


def test_extension_asked_after_the_deadline_is_refused(api, people, category, time_machine):
    incident = file_report(worker=people["worker"], category=category)
    act(api, people["street"], incident.pk, "dispatch", lead_unit=people["units"]["department"].pk)
    act(api, people["handler"], incident.pk, "sign")
    incident.refresh_from_db()
    assert incident.state == State.IN_PROGRESS

    time_machine.move_to(incident.deadline_at + timedelta(hours=1), tick=False)
    response = act(api, people["handler"], incident.pk, "request_extension", reason="忙", days=3)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "An extension must be asked before the deadline.",
        "code": "late",
    }
    assert not ExtensionRequest.objects.exists()
