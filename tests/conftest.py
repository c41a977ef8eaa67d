import pytest

from govgrid.accounts.models import Role, UnitKind
from grids.models import StaffRole
from tests import factories


@pytest.fixture
def city(db):
    return factories.build_city()


@pytest.fixture
def people(city):
    """One user per role, placed in the tiny city (street A, its first community/grid)."""
    street, community, grid = city.streets[0], city.communities[0], city.grids[0]
    district_centre = factories.make_unit(area=city.district, name="区综治中心")
    street_centre = factories.make_unit(area=street, name="街道综治中心", parent=district_centre)
    station = factories.make_unit(area=community, name="社区工作站", parent=street_centre)
    department = factories.make_unit(
        area=street, kind=UnitKind.DEPARTMENT, name="城管执法中队", parent=street_centre
    )
    p = {
        "admin": factories.make_user(roles=[Role.ADMIN], username="t_admin", is_staff=True),
        "leader": factories.make_user(
            roles=[Role.LEADER], unit=district_centre, username="t_leader"
        ),
        "district": factories.make_user(
            roles=[Role.DISTRICT_CENTRE], unit=district_centre, username="t_district"
        ),
        "street": factories.make_user(
            roles=[Role.STREET_CENTRE], unit=street_centre, username="t_street"
        ),
        "station": factories.make_user(
            roles=[Role.COMMUNITY_STATION], unit=station, username="t_station"
        ),
        "gridleader": factories.make_user(
            roles=[Role.GRID_LEADER], unit=station, username="t_gridleader"
        ),
        "worker": factories.make_user(roles=[Role.GRID_WORKER], unit=station, username="t_worker"),
        "handler": factories.make_user(
            roles=[Role.UNIT_HANDLER], unit=department, username="t_handler"
        ),
    }
    factories.staff_grid(grid=grid, user=p["worker"])
    for g in city.grids_of(community):
        factories.staff_grid(grid=g, user=p["gridleader"], role=StaffRole.LEADER)
    p["units"] = {
        "district": district_centre,
        "street": street_centre,
        "station": station,
        "department": department,
    }
    return p


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """The working-day calendar caches years per process; tests roll their rows back."""
    from dispatch.calendar import calendar_cache_clear

    calendar_cache_clear()
    yield
    calendar_cache_clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Give back what the data migrations seed (calendar, categories) when a reused test
    database was left flushed by the transactional tests of an earlier run."""
    with django_db_blocker.unblock():
        from dispatch.models import CalendarDay
        from govgrid.notifications.models import NotificationTemplate
        from incidents.models import Category
        from tests.factories import ensure_seeded

        reseeded = not (
            CalendarDay.objects.exists()
            and Category.objects.exists()
            and NotificationTemplate.objects.exists()
        )
        ensure_seeded()
        if reseeded:
            # Transactional tests with serialized_rollback restore this snapshot, taken when
            # the database was set up: take it again now that the seeds are back.
            from django.db import connection

            connection._test_serialized_contents = connection.creation.serialize_db_to_string()
    yield


@pytest.fixture(scope="module")
def seeded_rows_back_after_flush(django_db_setup, django_db_blocker):
    """Put the migrations' seeded rows back when a module of transactional tests is done.

    serialized_rollback reloads them before each transactional test, but the flush after the
    last one leaves the database empty, and a later run with --reuse-db would find no
    categories, calendar or templates.
    """
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for alias in connections:
            contents = getattr(connections[alias], "_test_serialized_contents", None)
            if contents:
                connections[alias].creation.deserialize_db_from_string(contents)


@pytest.fixture(autouse=True)
def _fresh_dashboard_cache():
    """Dashboard answers shared through Redis are keyed by the incident change counter,
    which does not move in tests that roll back: forget them between tests."""
    from dispatch.dashboard_api import shared_cache_forget

    shared_cache_forget()
    yield
