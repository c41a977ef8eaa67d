"""Area tree queries against PostGIS: point in grid, subtrees, ancestors, and the indexes
they are meant to use.

The tiny city of tests.factories.build_city: street A (420103001) at x 114.0-114.2, street
B (420103002) at 114.2-114.4; each community is a 0.1° square and holds two 0.05° grids
along its lower half (y 30.0-30.05), so the upper half of every community has no grid.
"""

import re
from contextlib import contextmanager
from datetime import date

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from govgrid.accounts.models import Role
from govgrid.accounts.scoping import scope_for
from grids.models import Area, AreaLevel
from grids.selectors import grid_at_point_for_user
from tests import factories

pytestmark = pytest.mark.django_db


def centre(area: Area) -> tuple[float, float]:
    c = area.boundary.centroid
    return c.x, c.y


def codes(qs) -> list[str]:
    return list(qs.values_list("code", flat=True))


# --------------------------------------------------------------------------------------
# point in grid
# --------------------------------------------------------------------------------------


def test_containing_finds_the_one_grid_around_each_grid_centre(city):
    for grid in city.grids:
        x, y = centre(grid)
        assert codes(Area.objects.containing(Point(x, y, srid=4326))) == [grid.code]


def test_containing_returns_grids_only(city):
    """City, district, street and community contain the point too; only the grid comes back."""
    point = Point(114.025, 30.025, srid=4326)
    containing_any_level = Area.objects.filter(boundary__contains=point)
    assert set(containing_any_level.values_list("level", flat=True)) == set(AreaLevel.values)

    assert codes(Area.objects.containing(point)) == ["420103001001001"]


def test_containing_a_point_without_srid_assumes_wgs84(city):
    assert codes(Area.objects.containing(Point(114.325, 30.025))) == ["420103002002001"]


@pytest.mark.parametrize(
    "lon, lat",
    [
        (114.05, 30.075),  # upper half of community 1-1: no grid there
        (114.5, 30.025),  # east of the district, still in the city
        (120.0, 35.0),  # far away
    ],
)
def test_containing_finds_nothing_outside_every_grid(city, lon, lat):
    assert not Area.objects.containing(Point(lon, lat, srid=4326)).exists()


def test_containing_includes_retired_grids_but_the_selector_does_not(city):
    grid = city.grids[0]
    Area.objects.filter(pk=grid.pk).update(valid_to=date(2021, 1, 1))
    admin = factories.make_user(roles=[Role.ADMIN])
    x, y = centre(grid)

    assert codes(Area.objects.containing(Point(x, y))) == [grid.code]
    assert grid_at_point_for_user(user=admin, lon=x, lat=y) is None


def test_grid_at_point_for_admin_is_one_query_with_its_community(city, django_assert_num_queries):
    admin = factories.make_user(roles=[Role.ADMIN])
    scope_for(admin)
    grid = city.grids[5]  # street B, community 2-1, grid 2
    x, y = centre(grid)

    with django_assert_num_queries(1):
        found = grid_at_point_for_user(user=admin, lon=x, lat=y)
        assert found == grid
        assert found.parent == city.communities[2]  # select_related: no further query


def test_grid_at_point_for_a_grid_worker_only_finds_their_grid(city, people):
    worker = people["worker"]  # staffs city.grids[0]
    mine, neighbour = city.grids[0], city.grids[1]

    assert grid_at_point_for_user(user=worker, lon=114.025, lat=30.025) == mine
    assert grid_at_point_for_user(user=worker, lon=114.075, lat=30.025) is None
    assert grid_at_point_for_user(user=worker, lon=114.325, lat=30.025) is None
    assert neighbour.code == "420103001001002"


def test_grid_at_point_for_a_street_centre_stays_in_its_street(city, people):
    street_user = people["street"]  # street A, x 114.0-114.2
    for grid in city.grids:
        x, y = centre(grid)
        found = grid_at_point_for_user(user=street_user, lon=x, lat=y)
        if grid.path.startswith(city.streets[0].path + "."):
            assert found == grid
        else:
            assert found is None


def test_grid_at_point_for_a_user_without_scope_is_none(city):
    nobody = factories.make_user(roles=[])
    assert grid_at_point_for_user(user=nobody, lon=114.025, lat=30.025) is None


def test_grid_at_point_outside_every_grid_is_none(city):
    admin = factories.make_user(roles=[Role.ADMIN])
    assert grid_at_point_for_user(user=admin, lon=114.05, lat=30.075) is None


# --------------------------------------------------------------------------------------
# subtree and ancestors
# --------------------------------------------------------------------------------------


def test_subtree_of_a_street(city):
    street_a = city.streets[0]
    below = [*city.communities[:2], *city.grids_of(street_a)]
    expected = [street_a.code, *sorted(a.code for a in below)]
    assert codes(Area.objects.subtree_of(street_a)) == expected
    assert len(expected) == 1 + 2 + 4


def test_subtree_without_self(city):
    street_a = city.streets[0]
    below = codes(Area.objects.subtree_of(street_a, include_self=False))
    assert street_a.code not in below
    assert len(below) == 6
    assert all(code.startswith(street_a.code) for code in below)


def test_subtree_does_not_reach_siblings(city):
    street_a, street_b = city.streets
    subtree = set(codes(Area.objects.subtree_of(street_a)))
    assert not subtree & set(codes(Area.objects.subtree_of(street_b)))
    assert street_b.code not in subtree
    assert city.district.code not in subtree


def test_subtree_of_the_city_is_everything_and_of_a_grid_is_the_grid(city):
    assert Area.objects.subtree_of(city.city).count() == Area.objects.count() == 16
    grid = city.grids[3]
    assert codes(Area.objects.subtree_of(grid)) == [grid.code]
    assert not Area.objects.subtree_of(grid, include_self=False).exists()


def test_subtree_of_a_community_in_path_order(city):
    community = city.communities[1]
    assert codes(Area.objects.subtree_of(community)) == [
        "420103001002",
        "420103001002001",
        "420103001002002",
    ]
    assert codes(Area.objects.subtree_of(community).grids()) == [
        g.code for g in city.grids_of(community)
    ]


def test_ancestors_of_a_grid_root_first(city, django_assert_num_queries):
    grid = city.grids[6]  # street B, community 2-2, grid 1
    with django_assert_num_queries(1):
        ancestors = list(Area.objects.ancestors_of(grid))
    assert ancestors == [city.city, city.district, city.streets[1], city.communities[3]]
    assert [a.level for a in ancestors] == [1, 2, 3, 4]
    assert [a.code for a in ancestors] == grid.ancestor_codes


def test_ancestors_including_self(city):
    grid = city.grids[6]
    assert list(Area.objects.ancestors_of(grid, include_self=True))[-1] == grid
    assert Area.objects.ancestors_of(grid, include_self=True).count() == 5


def test_ancestors_of_the_city_are_none(city):
    assert not Area.objects.ancestors_of(city.city).exists()
    assert list(Area.objects.ancestors_of(city.city, include_self=True)) == [city.city]


def test_ancestors_of_a_street(city):
    assert list(Area.objects.ancestors_of(city.streets[1])) == [city.city, city.district]


# --------------------------------------------------------------------------------------
# the plans: prefix index for subtrees, GiST index for points
# --------------------------------------------------------------------------------------


@contextmanager
def no_seqscan():
    """Make the planner take an index on these tiny tables (only inside the test's
    transaction: SET LOCAL ends with it)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = on")


def indexes_of_area() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [Area._meta.db_table],
        )
        return dict(cursor.fetchall())


def indexes_used(plan: str) -> set[str]:
    return set(re.findall(r"(?:Index Scan using|Index Only Scan using|Index Scan on) (\w+)", plan))


def test_there_is_exactly_one_pattern_ops_index_on_path(db):
    prefix = [d for d in indexes_of_area().values() if "(path varchar_pattern_ops)" in d]
    assert len(prefix) == 1, prefix


def test_subtree_query_uses_a_path_prefix_index(city):
    street = city.streets[0]
    prefix_indexes = {
        name
        for name, indexdef in indexes_of_area().items()
        if "(path varchar_pattern_ops)" in indexdef
    }
    assert len(prefix_indexes) == 1

    with no_seqscan():
        below = Area.objects.subtree_of(street, include_self=False).explain()
        with_self = Area.objects.subtree_of(street).explain()

    assert "Seq Scan" not in below
    used = indexes_used(below)
    assert used and used <= prefix_indexes, below
    # a range scan on the prefix, not a filter over the whole index
    assert f"~>=~ '{street.path}.'" in below
    assert f"~<~ '{street.path}/'" in below
    # with the area itself: the prefix index OR the primary key
    assert "Seq Scan" not in with_self
    assert indexes_used(with_self) & prefix_indexes, with_self


def test_point_query_uses_the_gist_index_on_boundary(city):
    gist = [
        name for name, indexdef in indexes_of_area().items() if "USING gist (boundary)" in indexdef
    ]
    assert len(gist) == 1

    with no_seqscan():
        plan = Area.objects.containing(Point(114.025, 30.025, srid=4326)).explain()
        scoped = Area.objects.active().containing(Point(114.025, 30.025, srid=4326)).explain()

    for p in (plan, scoped):
        assert "Seq Scan" not in p
        assert gist[0] in indexes_used(p), p
        # the bounding-box operator is the index condition, ST_Covers the exact recheck
        assert re.search(r"Index Cond: \(boundary ~ '[0-9A-F]+'::geometry\)", p), p
        assert "st_covers(boundary" in p
