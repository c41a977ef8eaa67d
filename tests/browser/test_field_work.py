"""A grid worker's field work on a phone: patrol (with a network drop), an overdue visit, a
report naming the household, the stop; then the grid leader sees the track on the map."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, WIDE, login, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_patrol_visit_report_and_the_leaders_map(open_page, demo_city):
    from govgrid.accounts.models import User
    from grids.models import Patrol, PatrolReport
    from incidents.models import Incident
    from residents.models import IncidentParty, KeyPerson, Residence

    worker = User.objects.get(username="gridworker")
    grid = worker.grid_posts.get().grid
    # An overdue key person of the worker's grid, living in a house of it.
    kp = KeyPerson.objects.filter(grid=grid, group__kind="key").select_related("person").first()
    assert kp is not None
    KeyPerson.objects.filter(pk=kp.pk).update(
        responsible=worker, next_visit_due=timezone.localdate() - timedelta(days=3)
    )
    house = Residence.objects.filter(person=kp.person).get().house
    spot = grid.boundary.point_on_surface
    Patrol.objects.filter(worker=worker).delete()

    phone = open_page(
        PHONE, geolocation={"latitude": spot.y, "longitude": spot.x}, permissions=["geolocation"]
    )
    ctx = phone.context
    login(phone, "gridworker")

    # 1. Start a patrol; positions are sent while it runs.
    phone.goto(phone.base + "/grids/patrol/")
    phone.click("#patrol-start")
    panel = phone.locator("#patrol")
    expect(panel).to_have_attribute("data-state", "running")
    phone.wait_for_timeout(3200)
    ctx.set_geolocation({"latitude": spot.y + 0.0005, "longitude": spot.x})
    # 2. The network drops: positions are queued on the phone, then sent when it returns.
    phone.wait_for_timeout(3200)
    ctx.set_offline(True)
    ctx.set_geolocation({"latitude": spot.y + 0.001, "longitude": spot.x + 0.0005})
    expect(phone.locator("#patrol-queue")).not_to_have_text("0")
    screenshot(phone, "field-1-patrol-offline")
    ctx.set_offline(False)
    expect(phone.locator("#patrol-queue")).to_have_text("0", timeout=20_000)
    patrol = Patrol.objects.get(worker=worker)
    assert patrol.ended_at is None and patrol.point_count >= 2

    # 3. Record a visit to the overdue key person from the list of visits due.
    phone.goto(phone.base + "/residents/key-persons/?overdue=1")
    row = phone.locator(".key-list li", has_text=kp.person.name).first
    expect(row.locator(".badge-overdue")).to_be_visible()
    screenshot(phone, "field-2-visits-due")
    row.locator("a.small-button").click()
    expect(phone.locator("[name=lon]")).not_to_have_value("")
    phone.fill("#id_notes", "入户走访，本人在家，情绪稳定")
    screenshot(phone, "field-2-visit-form")
    phone.click("#visit-form button[type=submit]")
    phone.wait_for_load_state("networkidle")
    kp.refresh_from_db()
    assert kp.last_visit_at is not None and kp.next_visit_due > timezone.localdate()
    assert kp.person.visits.latest("created_at").patrol_id == patrol.pk

    # 4. File a report about the household from its page; it names the house.
    phone.goto(phone.base + f"/residents/houses/{house.pk}/")
    phone.click(f"a[href*='/incidents/'][href$='?house={house.pk}']")
    phone.wait_for_selector("#report-form[data-ready='1']")
    expect(phone.locator(f"[name=party_house][value='{house.pk}']")).to_be_checked()
    phone.fill("#category-filter", "邻里纠纷")
    phone.fill("#id_description", "楼上楼下因漏水起纠纷，需要调解")
    phone.click("#use-gps")
    expect(phone.locator("[name=lon]")).not_to_have_value("")
    phone.click("#report-form button[type=submit]")
    phone.wait_for_load_state("networkidle")
    incident = Incident.objects.get()
    assert IncidentParty.objects.get(incident=incident).house_id == house.pk
    assert PatrolReport.objects.get(incident=incident).patrol_id == patrol.pk
    expect(phone.locator(".incident-parties")).to_contain_text(house.building.name)

    phone.goto(phone.base + f"/residents/people/{kp.person_id}/")
    expect(phone.locator("h1")).to_contain_text(kp.person.name)
    screenshot(phone, "field-3-person")

    # 5. Back on the patrol page the running patrol resumes; stop it.
    phone.goto(phone.base + "/grids/patrol/")
    expect(panel).to_have_attribute("data-state", "running")
    phone.click("#patrol-stop")
    expect(panel).to_have_attribute("data-state", "idle", timeout=20_000)
    patrol.refresh_from_db()
    assert patrol.ended_at is not None
    assert patrol.track is not None and patrol.distance_m > 50
    screenshot(phone, "field-4-patrol-stopped")

    # 6. The grid leader sees today's track on the map.
    desk = open_page(WIDE)
    login(desk, "gridleader")
    desk.goto(desk.base + "/grids/patrols/today/")
    expect(desk.locator("#patrols-map")).to_have_attribute("data-tracks", re.compile("^[1-9]"))
    expect(desk.locator(".patrol-table")).to_contain_text(str(worker))
    screenshot(desk, "field-5-leader-tracks")
