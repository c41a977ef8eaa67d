from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from grids import patrols
from grids.models import Patrol, PatrolReport
from incidents.models import Category
from incidents.services import ReportInput, incident_report
from tests.factories import ensure_seeded

P = patrols.Position


def _walk(start, grid, n=5, step=0.001):
    c = grid.boundary.centroid
    return [
        P(at=start + timedelta(minutes=i), lon=c.x + i * step, lat=c.y, accuracy_m=5)
        for i in range(n)
    ]


def test_track_distance_and_duration_from_late_and_repeated_batches(people, city):
    worker = people["worker"]
    patrol = patrols.patrol_start(worker=worker, at=timezone.now() - timedelta(minutes=30))
    # Starting twice gives the same patrol (the phone may retry).
    assert patrols.patrol_start(worker=worker) == patrol
    points = _walk(patrol.started_at + timedelta(minutes=1), city.grids[0])
    # The second half arrives first (queued offline), then everything again.
    patrols.patrol_points_add(patrol=patrol, worker=worker, positions=points[2:])
    patrols.patrol_points_add(patrol=patrol, worker=worker, positions=points)
    patrol = patrols.patrol_stop(patrol=patrol, worker=worker)
    assert patrol.point_count == 5
    # 4 steps of 0.001° of longitude at 30° N ≈ 4 × 96 m.
    assert 370 < patrol.distance_m < 400
    assert patrol.track.coords[0][0] == pytest.approx(points[0].lon)
    assert 29 * 60 <= patrol.duration_s <= 31 * 60
    # 384 m × 100 m of a 0.05° grid (about 4.8 km × 5.6 km): under 1 %, but not nothing.
    assert 0.0005 < patrol.coverage < 0.01
    # A position that reaches the server after the stop still counts if it is within the patrol.
    late = P(
        at=patrol.started_at + timedelta(minutes=20), lon=points[-1].lon + 0.001, lat=points[-1].lat
    )
    patrol = patrols.patrol_points_add(patrol=patrol, worker=worker, positions=[late])
    assert patrol.point_count == 6
    # One from the future is not.
    future = P(at=timezone.now() + timedelta(hours=2), lon=late.lon, lat=late.lat)
    assert (
        patrols.patrol_points_add(patrol=patrol, worker=worker, positions=[future]).point_count == 6
    )


def test_reports_filed_during_a_patrol_are_linked(people, city):
    ensure_seeded()
    worker = people["worker"]
    patrol = patrols.patrol_start(worker=worker)
    category = Category.objects.filter(parent__isnull=False, is_active=True).first()
    c = city.grids[0].boundary.centroid
    incident = incident_report(
        data=ReportInput(category=category, description="路灯坏了", lon=c.x, lat=c.y),
        actor=worker,
    )
    assert PatrolReport.objects.get(incident=incident).patrol == patrol
    patrols.patrol_stop(patrol=patrol, worker=worker)
    after = incident_report(
        data=ReportInput(category=category, description="井盖缺失", lon=c.x, lat=c.y),
        actor=worker,
    )
    assert not PatrolReport.objects.filter(incident=after).exists()


def test_phone_api_and_leaders_map(client, people, city):
    worker = people["worker"]
    client.force_login(worker)
    started = client.post(reverse("api:patrol_start"), content_type="application/json")
    assert started.status_code == 201
    pk = started.json()["id"]
    now = timezone.now()
    c = city.grids[0].boundary.centroid
    points = [
        {
            "at": (now - timedelta(seconds=30 - 10 * i)).isoformat(),
            "lon": c.x + 0.0005 * i,
            "lat": c.y,
            "accuracy": 8,
        }
        for i in range(3)
    ]
    # A patrol started in the same second as the first point: back-date the start.
    Patrol.objects.filter(pk=pk).update(started_at=now - timedelta(minutes=1))
    r = client.post(
        reverse("api:patrol_points", args=[pk]),
        {"points": points[:2]},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["point_count"] == 2
    r = client.post(
        reverse("api:patrol_stop", args=[pk]), {"points": points}, content_type="application/json"
    )
    assert r.status_code == 200
    assert r.json()["point_count"] == 3 and r.json()["is_running"] is False
    client.logout()
    # Someone else's patrol cannot be fed.
    client.force_login(people["station"])
    assert (
        client.post(
            reverse("api:patrol_points", args=[pk]), {"points": []}, content_type="application/json"
        ).status_code
        == 404
    )
    # The grid leader sees today's track; a worker of another street would not.
    client.force_login(people["gridleader"])
    fc = client.get(reverse("api:patrols_today")).json()
    assert [f["properties"]["id"] for f in fc["features"]] == [pk]
    assert fc["features"][0]["geometry"]["type"] == "LineString"
    page = client.get(reverse("grids:patrols_today"))
    assert page.status_code == 200 and str(worker) in page.content.decode()


def test_todays_patrols_are_scoped(people, city):
    from tests.factories import make_user, staff_grid

    far_worker = make_user(roles=["grid_worker"])
    staff_grid(grid=city.grids[7], user=far_worker)
    patrols.patrol_start(worker=far_worker)
    mine = patrols.patrol_start(worker=people["worker"])
    assert list(patrols.patrols_today_for_user(user=people["gridleader"])) == [mine]
    assert len(patrols.patrols_today_for_user(user=people["admin"])) == 2


def test_todays_tracks_have_a_fixed_query_count(client, people, city, django_assert_num_queries):
    from tests.factories import make_user, staff_grid

    client.force_login(people["station"])
    total = 0
    for n in (1, 3):
        for _ in range(n):
            w = make_user(roles=["grid_worker"])
            staff_grid(grid=city.grids[0], user=w)
            p = patrols.patrol_start(worker=w, at=timezone.now() - timedelta(minutes=20))
            start = p.started_at + timedelta(minutes=1)
            patrols.patrol_stop(patrol=p, worker=w, positions=_walk(start, city.grids[0], 3))
            total += 1
        # session+user, the station's scope (unit jurisdiction, extra areas), patrols.
        with django_assert_num_queries(4):
            assert len(client.get(reverse("api:patrols_today")).json()["features"]) == total
        with django_assert_num_queries(5):
            page = client.get(reverse("grids:patrols_today")).content.decode()
        assert page.count("<tr><td>") == total
