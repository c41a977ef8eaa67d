"""The whole loop in a real browser: report on a phone → triage → unit → verify → rating."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from incidents.models import Incident
from tests.browser.conftest import PHONE, WIDE, login, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def jpeg(path) -> str:
    Image.new("RGB", (64, 48), (200, 40, 40)).save(path, "JPEG")
    return str(path)


def act(page, label, **fields):
    """Open the action box named `label` on the incident page, fill it and submit."""
    summary = page.locator("summary", has_text=re.compile(f"^{re.escape(label)}$"))
    box = page.locator("details.action-box", has=summary)
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    for name, value in fields.items():
        field = box.locator(f"[name={name}]")
        if name in ("lead_unit", "rating"):
            if value is not None:
                field.select_option(value)
        elif name == "evidence":
            field.set_input_files(value)
        elif name == "approve":
            box.locator(f"[name=approve][value='{value}']").check()
        else:
            field.fill(value)
    box.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".message-success").count() == 1, page.locator(".messages").inner_text()


def test_report_to_rating_through_the_browser(open_page, demo_city, tmp_path):
    from govgrid.accounts.models import User

    worker = User.objects.get(username="gridworker")
    grid = worker.grid_posts.get().grid
    spot = grid.boundary.point_on_surface

    # 1. The grid worker files a report from the phone, with GPS and a photo.
    phone = open_page(
        PHONE, geolocation={"latitude": spot.y, "longitude": spot.x}, permissions=["geolocation"]
    )
    login(phone, "gridworker")
    phone.click("text=新建上报")
    phone.wait_for_selector("#report-form[data-ready='1']")  # the form's script is running
    phone.fill("#category-filter", "占道经营")
    assert "占道经营" in phone.locator("#id_category option:checked").inner_text()
    phone.fill("#id_description", "商铺在人行道上摆摊，行人只能走机动车道")
    phone.click("#use-gps")
    # expect() polls from Playwright's side: a string predicate would be eval'd in the page,
    # which the Content-Security-Policy (no 'unsafe-eval') rightly refuses.
    expect(phone.locator("[name=lon]")).not_to_have_value("")
    phone.set_input_files("#id_photos", jpeg(tmp_path / "stall.jpg"))
    screenshot(phone, "journey-1-report-phone")
    phone.click("button:has-text('提交上报')")
    phone.wait_for_load_state("networkidle")
    incident = Incident.objects.get()
    assert incident.number in phone.locator("h1").inner_text()
    assert incident.grid == grid
    assert incident.attachments.count() == 1

    # 2. The street centre accepts it and dispatches to the suggested unit.
    desk = open_page(WIDE)
    login(desk, "street")
    assert incident.number in desk.locator(".column").first.inner_text()
    desk.click(f"text={incident.number}")
    act(desk, "受理")
    suggestion = desk.locator(".suggestion").inner_text()
    assert "城管执法中队" in suggestion
    act(desk, "派遣", lead_unit=None)  # the suggested unit is pre-selected
    incident.refresh_from_db()
    assert incident.state == "dispatched"
    assert incident.lead_unit.name.endswith("城管执法中队")

    # 3. The unit's handler signs, then reports the result with a photo.
    handler_name = (
        User.objects.filter(unit=incident.lead_unit).values_list("username", flat=True).first()
    )
    unit = open_page(WIDE)
    login(unit, handler_name)
    assert incident.number in unit.locator(".column").first.inner_text()  # "to sign"
    unit.click(f"text={incident.number}")
    act(unit, "签收")
    act(unit, "办结反馈", result="已劝离摊贩，恢复人行道通行", evidence=jpeg(tmp_path / "done.jpg"))

    # 4. The centre verifies and closes.
    desk.reload()
    act(desk, "核查结案")
    incident.refresh_from_db()
    assert incident.state == "closed"

    # 5. The reporter rates the result.
    phone.goto(phone.base + f"/dispatch/incidents/{incident.pk}/")
    act(phone, "评价", rating="satisfied")
    incident.refresh_from_db()
    assert incident.rating == "satisfied"

    # The timeline shows every step, in order.
    phone.reload()
    steps = phone.locator(".timeline-item strong").all_inner_texts()
    assert steps == ["上报", "受理", "派遣", "签收", "办结反馈", "核查结案", "评价"], steps
    screenshot(phone, "journey-2-timeline-phone")
    screenshot(desk, "journey-3-incident-desk")


def test_a_half_typed_report_survives_a_reload(open_page, demo_city):
    page = open_page(PHONE)
    login(page, "gridworker")
    page.goto(page.base + "/incidents/report/")
    page.wait_for_selector("#report-form[data-ready='1']")
    page.fill("#category-filter", "暴露垃圾")
    page.fill("#id_description", "垃圾桶满溢三天无人清运")
    page.fill("#id_address", "民族路12号门口")
    page.wait_for_selector("#report-map.leaflet-container")
    page.click("#report-map", position={"x": 180, "y": 120})  # a pick on the map
    expect(page.locator("[name=lon]")).not_to_have_value("")
    lon = page.input_value("[name=lon]")
    # The connection drops and the page is reloaded: nothing typed is lost.
    page.reload()
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("#report-form[data-ready='1']")
    assert page.input_value("#id_description") == "垃圾桶满溢三天无人清运"
    assert page.input_value("#id_address") == "民族路12号门口"
    assert page.input_value("[name=lon]") == lon
    assert page.input_value("[name=location_source]") == "map"
    assert "暴露垃圾" in page.locator("#id_category option:checked").inner_text()
    assert "恢复" in page.locator("#draft-status").inner_text()
