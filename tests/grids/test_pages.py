"""Area pages and the outline API: scoped, with pinned query counts."""

import json

import pytest
from django.urls import reverse

from grids.models import AreaLevel

pytestmark = pytest.mark.django_db


def test_street_centre_sees_its_street_page_with_children(client, people, city):
    client.force_login(people["street"])
    street = city.streets[0]
    response = client.get(reverse("grids:area_detail", args=[street.code]))
    assert response.status_code == 200
    children = response.context["children"]
    assert [c.area.code for c in children] == [c.code for c in city.communities[:2]]
    assert [c.grid_count for c in children] == [2, 2]
    # t_worker staffs the first community's first grid
    assert [c.worker_count for c in children] == [1, 0]
    assert response.context["totals"] == {"streets": 0, "communities": 2, "grids": 4, "workers": 1}


def test_another_street_is_not_found_for_a_street_centre(client, people, city):
    client.force_login(people["street"])
    response = client.get(reverse("grids:area_detail", args=[city.streets[1].code]))
    assert response.status_code == 404
    assert "不存在".encode() in response.content or b"outside the area" in response.content


def test_grid_worker_cannot_open_a_colleagues_grid(client, people, city):
    client.force_login(people["worker"])
    assert client.get(reverse("grids:area_detail", args=[city.grids[0].code])).status_code == 200
    assert client.get(reverse("grids:area_detail", args=[city.grids[1].code])).status_code == 404


def test_area_page_query_count_does_not_grow_with_children(
    client, people, city, django_assert_num_queries
):
    client.force_login(people["district"])
    url = reverse("grids:area_detail", args=[city.district.code])
    client.get(url)  # warm the session
    # user, scope (2), area, ancestors, children, grids and workers per child, totals (2),
    # the header's unread count
    with django_assert_num_queries(11):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["children"]) == 2


def test_outlines_api_returns_scoped_simplified_geojson(client, people, city):
    client.force_login(people["street"])
    street = city.streets[0]
    url = reverse("api:area_outlines", args=[street.code])
    response = client.get(url, {"level": AreaLevel.GRID, "zoom": 12})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    fc = json.loads(response.content)
    assert fc["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in fc["features"]} == {
        g.code for g in city.grids_of(street)
    }
    assert fc["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_outlines_api_query_count_is_fixed(client, people, city, django_assert_num_queries):
    client.force_login(people["district"])
    url = reverse("api:area_outlines", args=[city.district.code])
    client.get(url)
    # user, scope (unit jurisdiction, extra areas), area, outlines (sessions are in Redis)
    with django_assert_num_queries(5):
        response = client.get(url, {"level": AreaLevel.GRID})
    assert len(json.loads(response.content)["features"]) == 8


def test_outlines_api_refuses_other_areas_and_bad_parameters(client, people, city):
    client.force_login(people["station"])
    other = city.communities[1]
    assert client.get(reverse("api:area_outlines", args=[other.code])).status_code == 404
    own = city.communities[0]
    url = reverse("api:area_outlines", args=[own.code])
    bad_level = client.get(url, {"level": 9})
    assert bad_level.status_code == 400
    assert "level" in json.loads(bad_level.content)
    bad_zoom = client.get(url, {"zoom": "far"})
    assert bad_zoom.status_code == 400
    above = client.get(url, {"level": AreaLevel.STREET})
    assert above.status_code == 400


def test_grid_at_point_api(client, people, city):
    client.force_login(people["worker"])
    url = reverse("api:grid_at_point")
    inside = client.get(url, {"lon": 114.01, "lat": 30.01})
    assert inside.status_code == 200
    assert json.loads(inside.content)["code"] == city.grids[0].code
    # a point in a grid the worker does not work in
    elsewhere = client.get(url, {"lon": 114.31, "lat": 30.01})
    assert elsewhere.status_code == 404
    assert "detail" in json.loads(elsewhere.content)
    assert client.get(url, {"lon": 200, "lat": 30}).status_code == 400


def test_api_requires_login(client, city):
    response = client.get(reverse("api:area_outlines", args=[city.district.code]))
    assert response.status_code in (401, 403)


def test_admin_can_open_the_grid_map_editor(client, people, city):
    client.force_login(people["admin"])
    response = client.get(reverse("admin:grids_area_change", args=[city.grids[0].pk]))
    assert response.status_code == 200
    assert b"leaflet" in response.content.lower()


def test_admin_refuses_a_grid_code_that_does_not_fit_its_community(client, people, city):
    client.force_login(people["admin"])
    community = city.communities[0]
    before = community.children.count()
    response = client.post(
        reverse("admin:grids_area_add"),
        {
            "level": AreaLevel.GRID,
            "code": "420103002001009",  # belongs under another community
            "name": "错的网格",
            "parent": community.pk,
            "grid_type": "basic",
            "valid_from": "2024-01-01",
            "boundary": "",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["code"]
    assert community.children.count() == before
