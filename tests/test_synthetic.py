"""The synthetic demo district: plausible, valid, deterministic and usable by every role."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from govgrid.accounts.models import Role, User
from govgrid.synthetic.city import DEMO_LOGINS, DEMO_PASSWORD
from grids.models import Area, AreaLevel, GridStaff, StaffRole

pytestmark = pytest.mark.django_db


def generate(seed=7, *extra):
    out, err = StringIO(), StringIO()
    call_command(
        "generate_city",
        "--scale",
        "demo",
        "--seed",
        str(seed),
        "--no-incidents",
        *extra,
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def fingerprint() -> str:
    rows = Area.objects.order_by("code").values_list("code", "name", "path")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT md5(string_agg(ST_AsText(boundary), ',' ORDER BY code)) FROM grids_area"
        )
        geo = cur.fetchone()[0]
    users = User.objects.order_by("username").values_list("username", "full_name")
    return hashlib.md5(repr((list(rows), geo, list(users))).encode()).hexdigest()


def test_demo_district_has_the_expected_shape():
    out, err = generate()
    assert "60 grids" in out
    assert "%" in err  # a progress bar was drawn
    counts = {lv: Area.objects.filter(level=lv).count() for lv in AreaLevel.values}
    assert counts == {1: 1, 2: 1, 3: 4, 4: 12, 5: 60}
    district = Area.objects.get(level=AreaLevel.DISTRICT)
    assert (district.code, district.name) == ("420103", "江汉区")
    # Around Jianghan district's real coordinates
    centre = district.boundary.centroid
    assert 114.2 < centre.x < 114.33 and 30.55 < centre.y < 30.65
    for grid in Area.objects.grids():
        assert len(grid.code) == 15 and grid.code.startswith(grid.parent.code)
        assert grid.path.endswith(grid.code)


def test_boundaries_are_valid_nested_and_do_not_overlap():
    generate()
    # Planar areas in square metres at Wuhan's latitude (1 deg² ≈ 1.06e10 m² at 30.6°N).
    # Planar on purpose: a projection would bend long straight edges and invent gaps.
    m2 = "(ST_Area({}) * 1.0595e10)"
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM grids_area WHERE NOT ST_IsValid(boundary)")
        assert cur.fetchone()[0] == 0
        # every child inside its parent (to a square metre)
        cur.execute(
            f"""SELECT count(*) FROM grids_area c JOIN grids_area p ON c.parent_id = p.id
               WHERE {m2.format("ST_Difference(c.boundary, p.boundary)")} > 1"""
        )
        assert cur.fetchone()[0] == 0
        # siblings do not overlap (beyond a square metre)
        cur.execute(
            f"""SELECT count(*) FROM grids_area a JOIN grids_area b
               ON a.parent_id = b.parent_id AND a.id < b.id AND a.boundary && b.boundary
               WHERE {m2.format("ST_Intersection(a.boundary, b.boundary)")} > 1"""
        )
        assert cur.fetchone()[0] == 0
        # so, with no overlap, children whose areas add up to their parent's leave no gap
        cur.execute(
            f"""SELECT count(*) FROM grids_area p
               JOIN (SELECT parent_id, sum({m2.format("boundary")}) AS covered
                     FROM grids_area GROUP BY parent_id) c ON c.parent_id = p.id
               WHERE p.level >= 2 AND abs({m2.format("p.boundary")} - c.covered) > 1"""
        )
        assert cur.fetchone()[0] == 0


def test_same_seed_gives_the_same_city_and_another_seed_another():
    generate(seed=11)
    first = fingerprint()
    generate(11, "--reset")
    assert fingerprint() == first
    generate(12, "--reset")
    assert fingerprint() != first


def test_every_role_has_a_demo_login_that_works(client):
    generate()
    for username, role in DEMO_LOGINS.items():
        user = User.objects.get(username=username)
        assert role in user.roles
        response = client.post(
            "/accounts/login/", {"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, username
        client.logout()
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.filter(roles__contains=[Role.GRID_WORKER]).count() == 60


def test_each_grid_has_a_worker_and_a_leader():
    generate()
    for grid in Area.objects.grids():
        roles = set(GridStaff.objects.filter(grid=grid).values_list("role", flat=True))
        assert roles == {StaffRole.WORKER, StaffRole.LEADER}


def test_a_second_run_refuses_or_skips_without_touching_the_city():
    generate()
    before = fingerprint()
    with pytest.raises(CommandError, match="already loaded"):
        generate()
    out, _ = generate(7, "--if-empty")
    assert "already loaded" in out
    assert fingerprint() == before


def test_demo_incidents_cover_every_state_with_real_histories():
    from django.utils import timezone

    from dispatch.workflow import STATES
    from govgrid.synthetic.incidents import build_incidents
    from incidents.models import Incident, IncidentEvent

    generate()
    counts = build_incidents(count=400, seed=3, progress=lambda it, desc, total: it)
    assert counts["incidents"] > 380
    states = set(Incident.objects.values_list("state", flat=True))
    assert states == set(STATES), set(STATES) - states
    # Histories are real: every incident starts with its report, in time order, in the past.
    now = timezone.now()
    for incident in Incident.objects.all()[:50]:
        events = list(incident.events.all())
        assert events[0].action == "report"
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert events[-1].at <= now
        if incident.state != "reported" and incident.state not in ("handled",):
            assert len(events) >= 2
    assert IncidentEvent.objects.filter(action="dispatch").exists()
