"""The centre's map dashboard in a real browser, on the demo district and a wall-sized screen:
the street centre sees only its street, filters redraw the map and the URL, a marker opens
the case beside the map where it is accepted and dispatched, and a report filed meanwhile
by a grid worker appears without a reload."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import WIDE, login, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def report_in(grid, category, text):
    from incidents.services import ReportInput, incident_report

    worker = grid.staff.filter(role="worker").select_related("user").first().user
    spot = grid.boundary.point_on_surface
    return incident_report(
        data=ReportInput(category=category, description=text, lon=spot.x, lat=spot.y),
        actor=worker,
    )


def marker(page, incident):
    return page.locator(f".inc-marker[data-incident='{incident.pk}']")


def test_street_centre_works_the_map(open_page, demo_city):
    from dispatch.workflow import State
    from govgrid.accounts.models import User
    from grids.models import Area
    from incidents.models import Category, Incident

    street = User.objects.get(username="street").unit.jurisdiction
    communities = list(Area.objects.filter(parent=street).order_by("code"))
    mine = [Area.objects.grids().filter(path__startswith=c.path + ".").first() for c in communities]
    other_street = Area.objects.filter(level=3).exclude(pk=street.pk).first()
    theirs = Area.objects.grids().filter(path__startswith=other_street.path + ".").first()
    # 城市管理 cases of a street have a routing rule to the street's 城管 squad (pre-filled).
    city_mgmt = Category.objects.filter(parent__name="城市管理", is_active=True).first()
    ours = [report_in(g, city_mgmt, f"案件{i}") for i, g in enumerate(mine[:3])]
    elsewhere = report_in(theirs, city_mgmt, "别的街道")

    page = open_page(WIDE)
    login(page, "street")
    tiles = []
    page.on(
        "response",
        lambda r: tiles.append(r) if "/api/tiles/areas/" in r.url and r.ok else None,
    )
    with page.expect_response(re.compile(r"/api/dashboard/incidents/")) as first:
        page.goto(page.base + "/dispatch/dashboard/")
    expect(page.locator("#dash-map[data-loaded='1']")).to_be_attached()
    page.wait_for_load_state("networkidle")
    # The outlines drawn are the street's own (it, its communities, its grids), and only those.
    outlined = {f["properties"]["code"] for r in tiles for f in r.json()["features"]}
    own = set(Area.objects.subtree_of(street).values_list("code", flat=True))
    assert outlined and outlined <= own
    drawn = {f["id"] for f in json.loads(first.value.text())["features"]}
    assert drawn == {i.pk for i in ours}
    for incident in ours:
        expect(marker(page, incident)).to_be_visible()
    expect(marker(page, elsewhere)).to_have_count(0)
    # Outline tiles drew the street's grids; the counters and charts are filled in.
    expect(page.locator("#dash-map path.leaflet-interactive").first).to_be_attached()
    expect(page.locator("[data-counter='open']")).to_have_text("3")
    expect(page.locator("#chart-trend canvas")).to_be_attached()

    # Half zoom steps (the map snaps to 0.5) still ask the server for whole zooms.
    with page.expect_response(re.compile(r"/api/dashboard/incidents/")) as half:
        page.evaluate("() => { const m = govgridDashboardMap; m.setZoom(m.getZoom() + 0.5); }")
    assert half.value.ok, half.value.text()

    # Filters redraw the map without a reload and are kept in the URL.
    page.select_option("select[name=colour]", "red")
    expect(page.locator("#dash-map[data-incidents='0']")).to_be_attached()
    assert "colour=red" in page.url
    page.reload()
    expect(page.locator("select[name=colour]")).to_have_value("red")
    expect(page.locator("#dash-map[data-incidents='0']")).to_be_attached()
    page.click("#dash-reset")
    expect(page.locator("#dash-map[data-incidents='3']")).to_be_attached()
    assert "colour" not in page.url

    # A marker opens the case beside the map; accept, then dispatch with the suggestion.
    target = ours[0]
    marker(page, target).click()
    panel = page.locator("#dash-panel")
    expect(panel.locator(".incident-head")).to_contain_text(target.number)
    panel.locator("details.action-accept button[type=submit]").click()
    expect(panel.locator(".incident-panel[data-state='accepted']")).to_be_attached()
    box = panel.locator("details.action-dispatch")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    squad = box.locator("select[name=lead_unit] option:checked")
    expect(squad).to_contain_text("城管")
    box.locator("button[type=submit]").click()
    expect(panel.locator(".incident-panel[data-state='dispatched']")).to_be_attached()
    expect(panel.locator(".message-success")).to_be_visible()
    target.refresh_from_db()
    assert target.state == State.DISPATCHED
    # The map follows: the marker now says "with units".
    expect(page.locator(f".inc-marker.key-running[data-incident='{target.pk}']")).to_be_attached()

    # A grid worker reports meanwhile: it appears within 10 seconds, without a reload.
    # It lands beside a case in view (on the same spot, so the two may show as one cluster).
    report_in(mine[1], city_mgmt, "新上报")
    expect(page.locator("#dash-map[data-incidents='4']")).to_be_attached(timeout=10_000)
    expect(page.locator("[data-counter='open']")).to_have_text("4", timeout=10_000)
    screenshot(page, "dashboard-street-wall")
    assert Incident.objects.filter(grid__path__startswith=street.path).count() == 4


def _wgs_to_gcj(lat: float, lng: float) -> tuple[float, float]:
    """The published WGS-84 → GCJ-02 transform, as an independent oracle for the page's."""
    import math

    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lng - 105.0, lat - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    d_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d_lng += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    d_lng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    d_lng += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    d_lat = d_lat * 180.0 / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    d_lng = d_lng * 180.0 / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lat + d_lat, lng + d_lng


def test_amap_base_map_shifts_markers_to_gcj02(open_page, demo_city, settings):
    """With 高德 tiles the map is in GCJ-02: markers are drawn where the shifted position
    falls, while the data (and the database) keep WGS-84."""
    from govgrid.accounts.models import User
    from grids.models import Area
    from incidents.models import Category

    settings.MAP_TILE_PROVIDER = "amap"
    street = User.objects.get(username="street").unit.jurisdiction
    grid = Area.objects.grids().filter(path__startswith=street.path + ".").first()
    incident = report_in(grid, Category.objects.filter(parent__isnull=False).first(), "偏移")

    page = open_page(WIDE)
    # No internet here: answer the tile requests with nothing.
    page.route(
        re.compile(r"https://webrd0\d\.is\.autonavi\.com/.*"), lambda r: r.fulfill(status=204)
    )
    login(page, "street")
    page.goto(page.base + "/dispatch/dashboard/")
    expect(page.locator("#dash-map[data-datum='gcj02'][data-loaded='1']")).to_be_attached()
    expect(marker(page, incident)).to_be_visible()
    lon, lat = incident.location.x, incident.location.y
    shown = page.evaluate(
        "([lat, lon]) => { const m = window.govgridDashboardMap;"
        " const ll = window.govgridDatum.toDisplay(L.latLng(lat, lon));"
        " const back = window.govgridDatum.fromDisplay(ll);"
        " const box = document.querySelector(\".inc-marker[data-incident='%d']\")"
        ".getBoundingClientRect(); const origin = m.getContainer().getBoundingClientRect();"
        " const px = m.latLngToContainerPoint(ll);"
        " return {lat: ll.lat, lng: ll.lng, backLat: back.lat, backLng: back.lng,"
        " dx: box.left + box.width / 2 - origin.left - px.x,"
        " dy: box.top + box.height / 2 - origin.top - px.y}; }" % incident.pk,
        [lat, lon],
    )
    want_lat, want_lng = _wgs_to_gcj(lat, lon)
    assert shown["lat"] == pytest.approx(want_lat, abs=1e-9)
    assert shown["lng"] == pytest.approx(want_lng, abs=1e-9)
    # Hundreds of metres in Wuhan: the shift is real, and the way back is exact to 1 cm.
    assert abs(shown["lng"] - lon) > 0.003
    assert shown["backLat"] == pytest.approx(lat, abs=1e-7)
    assert shown["backLng"] == pytest.approx(lon, abs=1e-7)
    # The marker sits on the shifted position (within a pixel).
    assert abs(shown["dx"]) <= 1.5 and abs(shown["dy"]) <= 1.5
