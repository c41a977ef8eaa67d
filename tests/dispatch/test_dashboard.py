"""The centre's map dashboard: what each centre sees, filters, clusters, tiles, counters,
live conditional requests, bad input and the incident panel (PRODUCT.md §8)."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from dispatch import dashboard
from dispatch.models import RoutingRule
from dispatch.services import incident_act
from dispatch.workflow import State
from govgrid.accounts.models import Role
from incidents.models import Category, Channel, Incident, Rating, WarningLevel
from incidents.services import ReportInput, incident_report
from tests import factories

WHOLE = "113.8,29.8,114.6,30.6"  # a box around the whole test city


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture
def world(city, people):
    """The worker staffs every grid; one incident in each grid of the city."""
    for grid in city.grids[1:]:
        factories.staff_grid(grid=grid, user=people["worker"])
    category = Category.objects.filter(parent__isnull=False, deadline_unit="workday").first()
    incidents = []
    for grid in city.grids:
        p = grid.boundary.point_on_surface
        incidents.append(
            incident_report(
                data=ReportInput(category=category, description="路灯损坏", lon=p.x, lat=p.y),
                actor=people["worker"],
            )
        )
    return {"city": city, "people": people, "incidents": incidents, "category": category}


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {f["id"] for f in json.loads(response.content)["features"]}


def as_user(client, user):
    client.force_login(user)
    return client


def in_area(world, area) -> set[int]:
    return {i.pk for i in world["incidents"] if i.grid.path.startswith(area.path + ".")}


# Who sees what ------------------------------------------------------------------------------


def test_street_centre_sees_only_its_street(client, world):
    city = world["city"]
    c = as_user(client, world["people"]["street"])
    got = ids(c.get(f"/api/dashboard/incidents/?bbox={WHOLE}&zoom=12"))
    assert got == in_area(world, city.streets[0])
    assert len(got) == 4


def test_community_station_sees_only_its_community(client, world):
    city = world["city"]
    c = as_user(client, world["people"]["station"])
    got = ids(c.get(f"/api/dashboard/incidents/?bbox={WHOLE}&zoom=12"))
    assert got == in_area(world, city.communities[0])
    heat = json.loads(c.get(f"/api/dashboard/heat/?bbox={WHOLE}&level=5").content)["counts"]
    assert set(heat) == {g.code for g in city.grids_of(city.communities[0])}


def test_district_centre_sees_the_whole_district(client, world):
    c = as_user(client, world["people"]["district"])
    assert ids(c.get(f"/api/dashboard/incidents/?bbox={WHOLE}")) == {
        i.pk for i in world["incidents"]
    }


def test_only_the_box_is_sent(client, world):
    city = world["city"]
    c = as_user(client, world["people"]["district"])
    # Street B lies east of 114.2.
    got = ids(c.get("/api/dashboard/incidents/?bbox=114.2,29.9,114.5,30.3"))
    assert got == in_area(world, city.streets[1])


def test_features_carry_the_stored_wgs84_position(client, world):
    c = as_user(client, world["people"]["district"])
    body = json.loads(c.get(f"/api/dashboard/incidents/?bbox={WHOLE}").content)
    incident = world["incidents"][0]
    feature = next(f for f in body["features"] if f["id"] == incident.pk)
    lon, lat = feature["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx((incident.location.x, incident.location.y), abs=1e-6)
    assert feature["properties"]["number"] == incident.number
    assert feature["properties"]["key"] == "new"


def test_grid_workers_and_unit_handlers_have_no_dashboard(client, world):
    for who in ("worker", "handler"):
        c = as_user(client, world["people"][who])
        assert c.get(f"/api/dashboard/incidents/?bbox={WHOLE}").status_code == 403
        assert c.get("/dispatch/dashboard/").status_code == 403


def test_anonymous_gets_nothing(client, world):
    assert client.get(f"/api/dashboard/incidents/?bbox={WHOLE}").status_code in (401, 403)
    assert client.get("/api/tiles/areas/10/836/422.geojson").status_code in (401, 403)


# Filters ------------------------------------------------------------------------------------


def test_filters_narrow_what_is_drawn(client, world):
    people, incidents = world["people"], world["incidents"]
    first, second, third = incidents[0], incidents[1], incidents[2]
    incident_act(incident_id=first.pk, action="accept", actor=people["street"])
    Incident.objects.filter(pk=second.pk).update(warning_level=WarningLevel.RED)
    Incident.objects.filter(pk=third.pk).update(
        state=State.CLOSED, closed_at=timezone.now(), channel=Channel.HOTLINE
    )
    c = as_user(client, people["district"])
    base = f"/api/dashboard/incidents/?bbox={WHOLE}"
    assert ids(c.get(base + "&state=accepted")) == {first.pk}
    assert ids(c.get(base + "&colour=red")) == {second.pk}
    assert third.pk not in ids(c.get(base))  # closed are off by default
    assert third.pk in ids(c.get(base + "&closed=1"))
    assert ids(c.get(base + "&closed=1&channel=hotline")) == {third.pk}
    top = world["category"].parent.code
    assert len(ids(c.get(base + f"&category={top}"))) == len(incidents) - 1
    other = Category.objects.filter(parent__isnull=True).exclude(code=top).first()
    assert ids(c.get(base + f"&category={other.code}")) == set()
    assert ids(c.get(base + f"&area={world['city'].communities[1].code}")) == in_area(
        world, world["city"].communities[1]
    ) - {third.pk}
    old = incidents[3]
    Incident.objects.filter(pk=old.pk).update(reported_at=timezone.now() - timedelta(days=20))
    assert old.pk not in ids(c.get(base + "&window=7d"))
    assert old.pk in ids(c.get(base + "&window=30d"))


def test_many_incidents_in_the_box_come_as_clusters(client, world, monkeypatch):
    monkeypatch.setattr(dashboard, "POINT_LIMIT", 3)
    Incident.objects.filter(pk=world["incidents"][0].pk).update(warning_level=WarningLevel.RED)
    c = as_user(client, world["people"]["district"])
    body = json.loads(c.get(f"/api/dashboard/incidents/?bbox={WHOLE}&zoom=9").content)
    assert body["clustered"] is True
    assert sum(f["properties"]["count"] for f in body["features"]) == len(world["incidents"])
    assert len(body["features"]) < len(world["incidents"])
    # A cluster takes the hottest colour among its cases.
    assert "red" in {f["properties"]["key"] for f in body["features"]}


# Bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, field",
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=114.5,30,114.0,30.5", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=nan,30,114,31", "bbox"),
        ("bbox=0,0,100,80", "bbox"),
        ("", "bbox"),
        (f"bbox={WHOLE}&colour=purple", "colour"),
        (f"bbox={WHOLE}&state=done", "state"),
        (f"bbox={WHOLE}&channel=fax", "channel"),
        (f"bbox={WHOLE}&window=yesterday", "window"),
        (f"bbox={WHOLE}&zoom=99", "zoom"),
        (f"bbox={WHOLE}&category=NOPE", "category"),
    ],
)
def test_bad_map_requests_get_a_clear_400(client, world, query, field):
    c = as_user(client, world["people"]["street"])
    response = c.get(f"/api/dashboard/incidents/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_another_centres_area_is_404(client, world):
    c = as_user(client, world["people"]["street"])
    other = world["city"].streets[1].code
    assert c.get(f"/api/dashboard/incidents/?bbox={WHOLE}&area={other}").status_code == 404
    assert c.get(f"/api/dashboard/stats/?area={other}").status_code == 404
    assert c.get(f"/api/dashboard/heat/?bbox={WHOLE}&area=999999").status_code == 404


@pytest.mark.parametrize("z, x, y", [(3, 9, 1), (3, 8, 8), (25, 0, 0)])
def test_tiles_outside_the_world_are_404(client, world, z, x, y):
    c = as_user(client, world["people"]["street"])
    response = c.get(f"/api/tiles/areas/{z}/{x}/{y}.geojson")
    assert response.status_code == 404
    assert "tile" in response.json()["detail"].lower() or response.json()["detail"]


# Tiles -----------------------------------------------------------------------------------------


def tile_codes(client, lon, lat, z) -> tuple[int, set[str]]:
    x, y = tile_of(lon, lat, z)
    response = client.get(f"/api/tiles/areas/{z}/{x}/{y}.geojson")
    assert response.status_code == 200
    body = json.loads(response.content)
    return body["level"], {f["properties"]["code"] for f in body["features"]}


def test_tile_level_follows_zoom_but_never_above_the_users_area(client, world):
    city = world["city"]
    centre = city.district.boundary.point_on_surface
    c = as_user(client, world["people"]["admin"])
    assert tile_codes(c, centre.x, centre.y, 9) == (2, {city.district.code})
    c = as_user(client, world["people"]["street"])
    level, codes = tile_codes(c, centre.x, centre.y, 9)
    assert (level, codes) == (3, {city.streets[0].code})


def test_a_station_gets_only_its_communitys_grids_through_tiles(client, world):
    city = world["city"]
    c = as_user(client, world["people"]["station"])
    mine = {g.code for g in city.grids_of(city.communities[0])}
    seen: set[str] = set()
    for grid in city.grids:
        p = grid.boundary.point_on_surface
        level, codes = tile_codes(c, p.x, p.y, 14)
        assert level == 5
        seen |= codes
    assert seen == mine


def test_tile_geometry_is_simplified_for_the_zoom(client, world):
    from django.contrib.gis.geos import MultiPolygon, Point

    from grids.services import area_create

    community = world["city"].communities[0]
    centre = Point(114.02, 30.07, srid=4326)
    round_grid = area_create(
        level=5,
        code=community.code + "009",
        name="圆网格",
        parent=community,
        boundary=MultiPolygon(centre.buffer(0.01, quadsegs=64), srid=4326),
    )
    c = as_user(client, world["people"]["admin"])

    def vertices(z: int) -> int:
        x, y = tile_of(centre.x, centre.y, z)
        body = json.loads(c.get(f"/api/tiles/areas/{z}/{x}/{y}.geojson").content)
        feature = next(f for f in body["features"] if f["id"] == round_grid.code)
        return sum(len(ring) for poly in feature["geometry"]["coordinates"] for ring in poly)

    assert vertices(18) > 200  # every vertex at street zoom
    assert vertices(14) < vertices(18) / 2  # about a pixel's detail at zoom 14


# Counters and charts ----------------------------------------------------------------------------


def test_counters_count_the_area(client, world):
    incidents = world["incidents"]
    now = timezone.now()
    street_a = [i for i in incidents if i.grid.path.startswith(world["city"].streets[0].path)]
    a0, a1, a2, a3 = street_a
    Incident.objects.filter(pk=a0.pk).update(
        state=State.CLOSED, closed_at=now, rating=Rating.SATISFIED
    )
    Incident.objects.filter(pk=a1.pk).update(
        state=State.CLOSED, closed_at=now, rating=Rating.UNSATISFIED
    )
    Incident.objects.filter(pk=a2.pk).update(
        state=State.IN_PROGRESS,
        deadline_at=now - timedelta(hours=1),
        warning_level=WarningLevel.RED,
        lead_unit=world["people"]["units"]["department"],
    )
    Incident.objects.filter(pk=a3.pk).update(
        warning_level=WarningLevel.YELLOW, reported_at=now - timedelta(days=3)
    )
    c = as_user(client, world["people"]["street"])
    body = c.get("/api/dashboard/stats/").json()
    counters = body["counters"]
    today_new = 3  # a3 was moved to three days ago
    assert counters == {
        "new_today": today_new,
        "open": 2,
        "overdue": 1,
        "yellow": 1,
        "red": 1,
        "closed_month": 2,
        "satisfaction": 50.0,
        "rated_month": 2,
    }
    charts = body["charts"]
    assert len(charts["days"]) == 30 and charts["days"][-1] == timezone.localdate().isoformat()
    assert charts["new"][-1] == today_new and charts["new"][-4] == 1
    assert charts["closed"][-1] == 2
    assert sum(x["value"] for x in charts["open_by_category"]) == 2
    assert charts["overdue_by_unit"] == [
        {"name": world["people"]["units"]["department"].name, "value": 1}
    ]


# Live: conditional requests --------------------------------------------------------------------


@pytest.fixture
def immediate_change_counter():
    """The change counter moves at commit; tests run inside one transaction, so fire the
    deferred trigger at once."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS incidents_change_bump IMMEDIATE")


def test_unchanged_data_answers_304_and_a_new_report_changes_it(
    client, world, immediate_change_counter
):
    c = as_user(client, world["people"]["street"])
    url = f"/api/dashboard/incidents/?bbox={WHOLE}"
    first = c.get(url)
    etag = first["ETag"]
    assert c.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    grid = world["city"].grids[0]
    p = grid.boundary.point_on_surface
    new = incident_report(
        data=ReportInput(category=world["category"], description="井盖缺失", lon=p.x, lat=p.y),
        actor=world["people"]["worker"],
    )
    again = c.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert new.pk in ids(again)


def test_a_colour_change_by_a_bulk_update_is_seen(client, world, immediate_change_counter):
    c = as_user(client, world["people"]["street"])
    url = f"/api/dashboard/incidents/?bbox={WHOLE}&colour=red"
    etag = c.get(url)["ETag"]
    Incident.objects.filter(pk=world["incidents"][0].pk).update(warning_level=WarningLevel.RED)
    again = c.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and ids(again) == {world["incidents"][0].pk}


# Query counts -------------------------------------------------------------------------------------


def test_query_counts_are_fixed(client, world, django_assert_num_queries):
    c = as_user(client, world["people"]["street"])
    c.get("/api/me/area-bounds/")  # warm the session
    # user, change counter, scope (unit area + extra areas), the map query
    with django_assert_num_queries(5):
        etag = c.get(f"/api/dashboard/incidents/?bbox={WHOLE}&zoom=14")["ETag"]
    with django_assert_num_queries(2):
        response = c.get(f"/api/dashboard/incidents/?bbox={WHOLE}&zoom=14", HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304
    with django_assert_num_queries(5):
        c.get(f"/api/dashboard/heat/?bbox={WHOLE}&level=5")
    # user, counter, scope ×2, counters, four charts
    with django_assert_num_queries(9):
        c.get("/api/dashboard/stats/")
    # user, scope ×2, the tile
    p = world["city"].grids[0].boundary.point_on_surface
    x, y = tile_of(p.x, p.y, 14)
    with django_assert_num_queries(4):
        c.get(f"/api/tiles/areas/14/{x}/{y}.geojson")


def test_query_counts_do_not_grow_with_the_data(client, world, django_assert_num_queries):
    people = world["people"]
    for grid in world["city"].grids:
        p = grid.boundary.point_on_surface
        for _ in range(3):
            incident_report(
                data=ReportInput(category=world["category"], description="x", lon=p.x, lat=p.y),
                actor=people["worker"],
            )
    c = as_user(client, people["street"])
    c.get("/api/me/area-bounds/")
    with django_assert_num_queries(5):
        assert len(ids(c.get(f"/api/dashboard/incidents/?bbox={WHOLE}"))) == 16


# The page and the incident panel ----------------------------------------------------------


def test_dashboard_page(client, world, django_assert_num_queries):
    c = as_user(client, world["people"]["street"])
    c.get("/api/me/area-bounds/")
    # session user, scope ×2, roots, extent, child areas, categories, unread count
    with django_assert_num_queries(8):
        response = c.get("/dispatch/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "vendor/echarts/echarts.min.js" in html
    assert world["city"].streets[0].name in html
    config = json.loads(
        html.split('id="dashboard-config" type="application/json">')[1].split("<")[0]
    )
    assert config["rootCodes"] == [world["city"].streets[0].code]
    # The area filter offers the street's communities, not the other street's.
    assert world["city"].communities[0].name in html
    assert world["city"].communities[2].name not in html


def test_leader_opens_the_dashboard_read_only(client, world):
    c = as_user(client, world["people"]["leader"])
    assert c.get("/dispatch/dashboard/").status_code == 200
    incident = world["incidents"][0]
    html = c.get(f"/dispatch/incidents/{incident.pk}/panel/").content.decode()
    assert 'name="action" value="accept"' not in html


def test_panel_shows_the_case_and_acting_there_stays_in_the_panel(client, world):
    people = world["people"]
    department = people["units"]["department"]
    rule = RoutingRule.objects.create(name="路灯→城管", priority=1, lead_unit=department)
    rule.categories.add(world["category"])
    incident = world["incidents"][0]
    c = as_user(client, people["street"])
    html = c.get(f"/dispatch/incidents/{incident.pk}/panel/").content.decode()
    assert incident.number in html
    assert 'name="action" value="accept"' in html
    assert 'name="panel" value="1"' in html
    response = c.post(
        f"/dispatch/incidents/{incident.pk}/act/",
        {"action": "accept", "expected_state": "reported", "panel": "1"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/dispatch/incidents/{incident.pk}/panel/")
    html = c.get(response["Location"]).content.decode()
    # Dispatch is now offered, with the routing rule's unit pre-selected.
    assert 'name="action" value="dispatch"' in html
    assert f'<option value="{department.pk}" selected>' in html
    response = c.post(
        f"/dispatch/incidents/{incident.pk}/act/",
        {
            "action": "dispatch",
            "expected_state": "accepted",
            "lead_unit": department.pk,
            "panel": "1",
        },
    )
    incident.refresh_from_db()
    assert incident.state == State.DISPATCHED and incident.lead_unit == department


def test_inbox_fragment_lists_what_waits(client, world):
    c = as_user(client, world["people"]["street"])
    html = c.get("/dispatch/dashboard/inbox/").content.decode()
    street_a = in_area(world, world["city"].streets[0])
    for pk in street_a:
        assert f'data-incident="{pk}"' in html


def test_navigation_links_the_dashboard_for_centres_only(client, world):
    c = as_user(client, world["people"]["street"])
    assert 'href="/dispatch/dashboard/"' in c.get("/dispatch/triage/").content.decode()
    c = as_user(client, world["people"]["worker"])
    assert 'href="/dispatch/dashboard/"' not in c.get("/incidents/mine/").content.decode()


def test_grid_leader_role_is_not_a_dashboard_role():
    from govgrid.accounts.models import DASHBOARD_ROLES

    assert Role.GRID_LEADER not in DASHBOARD_ROLES and Role.STREET_CENTRE in DASHBOARD_ROLES


def test_screens_of_one_centre_share_the_counters(client, world, django_assert_num_queries):
    """A hundred wall screens of one street centre cost one computation per change."""
    people = world["people"]
    colleague = factories.make_user(roles=[Role.STREET_CENTRE], unit=people["units"]["street"])
    c = as_user(client, people["street"])
    first = c.get("/api/dashboard/stats/").json()
    c = as_user(client, colleague)
    c.get("/api/me/area-bounds/")
    # user, counter, scope ×2; the counters come from the shared cache
    with django_assert_num_queries(4):
        assert c.get("/api/dashboard/stats/").json() == first
    # Another street's centre has its own numbers.
    street_b = in_area(world, world["city"].streets[1])
    Incident.objects.filter(pk=min(street_b)).update(state=State.CLOSED, closed_at=timezone.now())
    other_unit = factories.make_unit(area=world["city"].streets[1], name="街道2综治中心")
    other = factories.make_user(roles=[Role.STREET_CENTRE], unit=other_unit)
    c = as_user(client, other)
    assert c.get("/api/dashboard/stats/").json()["counters"]["open"] == 3
    assert first["counters"]["open"] == 4


# Patrols in progress ------------------------------------------------------------------------


def walk(worker, grid, minutes_ago=20):
    from grids.patrols import Position, patrol_points_add, patrol_start, patrol_stop

    start = timezone.now() - timedelta(minutes=minutes_ago)
    patrol = patrol_start(worker=worker, grid=grid, at=start)
    p = grid.boundary.point_on_surface
    steps = [
        Position(at=start + timedelta(minutes=i), lon=p.x + i * 0.0005, lat=p.y) for i in range(5)
    ]
    return patrol, patrol_points_add(patrol=patrol, worker=worker, positions=steps), patrol_stop


def test_patrols_in_progress_are_drawn_for_the_area_only(client, world, django_assert_num_queries):
    city, people = world["city"], world["people"]
    running, _with_track, stop = walk(people["worker"], city.grids[0])
    other_worker = factories.make_user(roles=[Role.GRID_WORKER], unit=people["units"]["station"])
    factories.staff_grid(grid=city.grids[-1], user=other_worker)  # street B
    walk(other_worker, city.grids[-1])
    c = as_user(client, people["street"])
    c.get("/api/me/area-bounds/")
    with django_assert_num_queries(4):  # user, scope ×2, the patrols
        body = json.loads(c.get(f"/api/dashboard/patrols/?bbox={WHOLE}").content)
    assert [f["id"] for f in body["features"]] == [running.pk]
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "LineString"
    assert len(feature["geometry"]["coordinates"]) == 5
    assert feature["properties"]["at"]["coordinates"] == feature["geometry"]["coordinates"][-1]
    # A stopped patrol is no longer "in progress".
    stop(patrol=running, worker=people["worker"])
    assert json.loads(c.get(f"/api/dashboard/patrols/?bbox={WHOLE}").content)["features"] == []
    assert c.get("/api/dashboard/patrols/?bbox=1,2").status_code == 400
    assert (
        as_user(client, people["worker"]).get(f"/api/dashboard/patrols/?bbox={WHOLE}").status_code
        == 403
    )
