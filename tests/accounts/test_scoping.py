"""Who sees what: the one scoping function, role by role, against the real database."""

import pytest

from govgrid.accounts.models import Role, Unit, User
from govgrid.accounts.scoping import scope_for, scope_queryset
from grids.models import Area, AreaLevel, GridStaff
from tests import factories

pytestmark = pytest.mark.django_db


def visible_grid_codes(user) -> set[str]:
    return set(scope_queryset(user, Area.objects.grids()).values_list("code", flat=True))


def test_admin_sees_everything(city, people):
    assert visible_grid_codes(people["admin"]) == {g.code for g in city.grids}
    assert scope_queryset(people["admin"], Unit.objects.all()).count() == Unit.objects.count()


def test_district_centre_and_leader_see_their_district(city, people):
    all_grids = {g.code for g in city.grids}
    assert visible_grid_codes(people["district"]) == all_grids
    assert visible_grid_codes(people["leader"]) == all_grids
    # but not the city node above their district
    assert not scope_queryset(people["district"], Area.objects.filter(pk=city.city.pk)).exists()


def test_street_centre_sees_only_its_street(city, people):
    street_a, street_b = city.streets
    assert visible_grid_codes(people["street"]) == {g.code for g in city.grids_of(street_a)}
    assert not scope_queryset(people["street"], Area.objects.filter(pk=street_b.pk)).exists()
    assert scope_queryset(people["street"], Area.objects.filter(pk=street_a.pk)).exists()


def test_community_station_sees_only_its_community(city, people):
    community = city.communities[0]
    assert visible_grid_codes(people["station"]) == {g.code for g in city.grids_of(community)}


def test_grid_worker_sees_only_their_grid(city, people):
    assert visible_grid_codes(people["worker"]) == {city.grids[0].code}
    # the community the grid belongs to is not theirs to see as a whole
    assert not scope_queryset(
        people["worker"], Area.objects.filter(pk=city.communities[0].pk)
    ).exists()


def test_grid_leader_sees_the_grids_they_lead(city, people):
    assert visible_grid_codes(people["gridleader"]) == {
        g.code for g in city.grids_of(city.communities[0])
    }


def test_unit_handler_sees_its_unit_jurisdiction_for_area_data(city, people):
    # The department works in street A: its area data is street A's.
    assert visible_grid_codes(people["handler"]) == {g.code for g in city.grids_of(city.streets[0])}
    assert scope_for(people["handler"]).unit_ids == (people["units"]["department"].pk,)


def test_unit_handler_sees_only_its_unit_and_colleagues(city, people):
    handler = people["handler"]
    colleague = factories.make_user(roles=[Role.UNIT_HANDLER], unit=handler.unit)
    assert list(scope_queryset(handler, Unit.objects.all())) == [handler.unit]
    assert set(scope_queryset(handler, User.objects.all())) == {handler, colleague}
    # A street centre in the same street sees the department and everyone in the street.
    assert handler.unit in scope_queryset(people["street"], Unit.objects.all())


def test_user_without_role_or_inactive_sees_nothing(city, people):
    nobody = factories.make_user(roles=[])
    assert visible_grid_codes(nobody) == set()
    worker = people["worker"]
    worker.is_active = False
    worker.save()
    assert visible_grid_codes(User.objects.get(pk=worker.pk)) == set()


def test_ended_grid_post_no_longer_gives_access(city, people):
    import datetime

    GridStaff.objects.filter(user=people["worker"]).update(until=datetime.date(2021, 1, 1))
    assert visible_grid_codes(User.objects.get(pk=people["worker"].pk)) == set()


def test_extra_scope_areas_extend_a_centre(city, people):
    street_user = people["street"]
    street_user.scope_areas.add(city.communities[2])  # a community of street B
    fresh = User.objects.get(pk=street_user.pk)
    expected = {g.code for g in city.grids_of(city.streets[0])} | {
        g.code for g in city.grids_of(city.communities[2])
    }
    assert visible_grid_codes(fresh) == expected


def test_users_and_units_are_scoped_by_jurisdiction(city, people):
    units = set(scope_queryset(people["street"], Unit.objects.all()).values_list("name", flat=True))
    assert units == {"街道综治中心", "社区工作站", "城管执法中队"}
    users = set(
        scope_queryset(people["station"], User.objects.all()).values_list("username", flat=True)
    )
    assert users == {"t_station", "t_gridleader", "t_worker"}


def test_scope_is_computed_once_per_user_object(city, people, django_assert_num_queries):
    worker = User.objects.get(pk=people["worker"].pk)
    with django_assert_num_queries(1):
        scope_for(worker)
        scope_for(worker)


def test_every_level_covers_paths_without_queries(city, people):
    scope = scope_for(people["street"])
    assert scope.covers_path(city.grids[0].path)
    assert not scope.covers_path(city.grids[-1].path)
    assert not scope.covers_path(city.district.path)
    assert city.grids[0].level == AreaLevel.GRID
