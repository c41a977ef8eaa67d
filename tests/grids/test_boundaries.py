"""The GeoJSON boundary importer (grids.services.boundaries_import) and
`manage.py import_boundaries`, against the real PostGIS database.

The files under data/ are small: good.geojson is a city > district > street > community >
three grids tree (黄石, codes 4202..), and each bad_*.geojson is that file with exactly one
problem (bad_several_problems has several). The tiny city of `tests.factories.build_city`
(codes 4201..) is in the database for most tests, so "nothing was written" is checked
against a non-empty table.
"""

import copy
import json
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import CommandError, call_command
from django.utils import translation
from shapely.geometry import box

from govgrid.accounts.models import Role
from govgrid.audit.models import AuditAction, AuditEntry
from govgrid.lib.geo import area_m2
from grids.models import Area, AreaLevel, GridType
from grids.services import (
    BoundaryFileError,
    ImportReport,
    Problem,
    area_create,
    boundaries_import,
)
from tests import factories

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"

CITY, DISTRICT, STREET, COMMUNITY = "420200", "420202", "420202001", "420202001001"
GRID1, GRID2, GRID3 = "420202001001001", "420202001001002", "420202001001003"
GOOD_CODES = [CITY, DISTRICT, STREET, COMMUNITY, GRID1, GRID2, GRID3]
# The good file's city is 115.0-115.2 x 30.1-30.3: the importer measures m² at its centroid.
GOOD_LAT0 = 30.2

# build_city: community 420103001001 spans 114.0-114.1 x 30.0-30.1; its two stored grids
# (…001 at 114.0-114.05, …002 at 114.05-114.1) cover only its lower half, 30.0-30.05.
STORED_COMMUNITY = "420103001001"
STORED_GRID1, STORED_GRID2 = "420103001001001", "420103001001002"
NEW_GRID = "420103001001003"


@pytest.fixture(autouse=True)
def english(settings):
    """English messages (the msgids of grids/services.py) and the documented tolerance."""
    settings.BOUNDARY_TOLERANCE_M2 = 5.0
    with translation.override("en"):
        yield


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def data_file(name: str) -> Path:
    path = DATA / name
    assert path.is_file(), path
    return path


def import_file(name: str, **kwargs) -> ImportReport:
    return boundaries_import(raw=data_file(name).read_bytes(), **kwargs)


def good_features() -> list[dict]:
    return copy.deepcopy(json.loads(data_file("good.geojson").read_text())["features"])


def collection(features: list, **extra) -> str:
    return json.dumps({"type": "FeatureCollection", **extra, "features": features})


def feature(props: dict, geometry: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def rect(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
    }


def write(tmp_path: Path, raw: str, name: str = "areas.geojson") -> Path:
    path = tmp_path / name
    path.write_text(raw, encoding="utf-8")
    return path


def run_command(*args, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_boundaries", *args, stdout=out, stderr=err, no_color=True, **options)
    return out.getvalue(), err.getvalue()


def snapshot() -> tuple[int, int]:
    return Area.objects.count(), AuditEntry.objects.count()


def assert_nothing_written(before: tuple[int, int]) -> None:
    assert snapshot() == before
    assert not AuditEntry.objects.filter(action=AuditAction.BOUNDARY_IMPORT).exists()


def assert_rejected(path: Path, *, feature: int, code: str, message: str) -> Problem:
    """The file has exactly this one problem, through the service and the command, and
    neither writes anything. `message` is the whole English message or, when it ends in
    "…", its beginning."""
    before = snapshot()
    raw = path.read_bytes()
    n_features = len(json.loads(raw)["features"])

    report = boundaries_import(raw=raw)
    assert not report.ok
    assert report.features == n_features
    assert (report.created, report.updated) == (0, 0)
    assert len(report.problems) == 1, [str(p) for p in report.problems]
    problem = report.problems[0]
    assert (problem.feature, problem.code) == (feature, code)
    if message.endswith("…"):
        assert problem.message.startswith(message[:-1]), problem.message
    else:
        assert problem.message == message
    where = f"feature #{feature} ({code})" if code else f"feature #{feature}"
    assert str(problem) == f"{where}: {problem.message}"
    assert_nothing_written(before)

    # the command prints the problem, number and code included, and fails
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_boundaries", str(path), stdout=out, stderr=err, no_color=True)
    assert str(exc.value) == f"1 problem(s) in {n_features} features; nothing was written."
    assert err.getvalue().splitlines() == [str(problem)]
    assert out.getvalue() == ""
    assert_nothing_written(before)
    return problem


def assert_file_rejected(path: Path, message: str) -> None:
    """The file is not a usable FeatureCollection at all: BoundaryFileError / CommandError."""
    before = snapshot()
    with pytest.raises(BoundaryFileError) as exc:
        boundaries_import(raw=path.read_bytes())
    if message.endswith("…"):
        assert str(exc.value).startswith(message[:-1]), str(exc.value)
    else:
        assert str(exc.value) == message
    assert_nothing_written(before)

    with pytest.raises(CommandError) as cmd_exc:
        run_command(str(path))
    assert str(cmd_exc.value) == str(exc.value)
    assert_nothing_written(before)


def m2(x0: float, y0: float, x1: float, y1: float, *, lat0: float) -> str:
    """An axis-aligned rectangle's area in m², formatted as the importer reports it."""
    return f"{area_m2(box(x0, y0, x1, y1), lat0=lat0):.0f}"


# --------------------------------------------------------------------------------------
# the good file
# --------------------------------------------------------------------------------------


def test_good_file_creates_every_area_with_path_level_and_parent(city):
    before = Area.objects.count()

    report = import_file("good.geojson")

    assert report.ok and report.problems == []
    assert (report.features, report.created, report.updated) == (7, 7, 0)
    assert Area.objects.count() == before + 7
    areas = {a.code: a for a in Area.objects.filter(code__in=GOOD_CODES).select_related("parent")}
    assert set(areas) == set(GOOD_CODES)
    expected = {
        CITY: (AreaLevel.CITY, None, "黄石市"),
        DISTRICT: (AreaLevel.DISTRICT, CITY, "黄石港区"),
        STREET: (AreaLevel.STREET, DISTRICT, "胜阳港街道"),
        COMMUNITY: (AreaLevel.COMMUNITY, STREET, "沈家营社区"),
        GRID1: (AreaLevel.GRID, COMMUNITY, "沈家营第一网格"),
        GRID2: (AreaLevel.GRID, COMMUNITY, "沈家营第二网格"),
        GRID3: (AreaLevel.GRID, COMMUNITY, "沈家营第三网格"),
    }
    for code, (level, parent_code, name) in expected.items():
        area = areas[code]
        assert area.level == level, code
        assert area.name == name
        assert (area.parent.code if area.parent else None) == parent_code
        assert isinstance(area.boundary, MultiPolygon) and area.boundary.srid == 4326
        assert area.valid_to is None
    assert areas[CITY].path == CITY
    assert areas[GRID3].path == ".".join([CITY, DISTRICT, STREET, COMMUNITY, GRID3])
    for code in GOOD_CODES[1:]:
        assert areas[code].path == f"{areas[code].parent.path}.{code}"
    # grid types: explicit basic, explicit dedicated, defaulted basic; none above grids
    assert areas[GRID1].grid_type == GridType.BASIC
    assert areas[GRID2].grid_type == GridType.DEDICATED
    assert areas[GRID3].grid_type == GridType.BASIC
    assert {areas[c].grid_type for c in (CITY, DISTRICT, STREET, COMMUNITY)} == {""}
    # validity: the city's from the file, the others the model default
    assert areas[CITY].valid_from == date(2024, 1, 1)
    assert areas[GRID1].valid_from == date(2020, 1, 1)
    # boundaries as drawn (a Polygon and a MultiPolygon feature both stored as MultiPolygon)
    assert areas[GRID1].boundary.extent == pytest.approx((115.0, 30.1, 115.01, 30.13))
    assert areas[GRID2].boundary.extent == pytest.approx((115.01, 30.1, 115.02, 30.13))
    assert len(areas[GRID2].boundary) == 1
    # the factory city is untouched
    assert Area.objects.get(code="420100").children.count() == 1


def test_good_file_writes_exactly_one_audit_entry(city):
    admin = factories.make_user(roles=[Role.ADMIN], username="importer")

    boundaries_import(raw=data_file("good.geojson").read_bytes(), actor=admin)

    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.BOUNDARY_IMPORT == "boundary_import"
    assert entry.actor == admin
    assert entry.actor_name == "importer"
    assert entry.target == "7 areas"
    assert entry.detail == {"created": 7, "updated": 0}


def test_good_file_without_actor_is_audited_as_manage_py(db):
    import_file("good.geojson")

    entry = AuditEntry.objects.get(action=AuditAction.BOUNDARY_IMPORT)
    assert entry.actor is None
    assert entry.actor_name == "manage.py"


def test_command_imports_the_good_file(city):
    before = Area.objects.count()

    out, _err = run_command(str(data_file("good.geojson")))

    assert out.strip() == "7 areas created, 0 updated."
    assert Area.objects.count() == before + 7
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.actor_name) == ("boundary_import", None, "manage.py")


def test_reimporting_the_same_file_updates_instead_of_duplicating(city):
    import_file("good.geojson")
    before = Area.objects.count()
    ids = dict(Area.objects.filter(code__in=GOOD_CODES).values_list("code", "pk"))

    report = import_file("good.geojson")

    assert report.ok
    assert (report.created, report.updated) == (0, 7)
    assert Area.objects.count() == before
    assert dict(Area.objects.filter(code__in=GOOD_CODES).values_list("code", "pk")) == ids
    assert Area.objects.filter(code__in=GOOD_CODES).count() == 7
    entries = AuditEntry.objects.filter(action=AuditAction.BOUNDARY_IMPORT).order_by("pk")
    assert [e.detail for e in entries] == [
        {"created": 7, "updated": 0},
        {"created": 0, "updated": 7},
    ]
    out, _err = run_command(str(data_file("good.geojson")))
    assert out.strip() == "0 areas created, 7 updated."
    assert Area.objects.count() == before


def test_reimport_with_changes_updates_name_boundary_type_and_validity(db):
    import_file("good.geojson")
    grid3 = Area.objects.get(code=GRID3)
    features = good_features()
    features[6]["properties"].update(
        name="沈家营第三网格（新）", grid_type="dedicated", valid_from="2025-01-01"
    )
    features[6]["geometry"] = rect(115.02, 30.1, 115.03, 30.12)
    features[4]["properties"]["valid_to"] = "2026-01-01"

    report = boundaries_import(raw=collection(features))

    assert (report.created, report.updated) == (0, 7)
    updated = Area.objects.get(code=GRID3)
    assert updated.pk == grid3.pk
    assert updated.path == grid3.path and updated.parent_id == grid3.parent_id
    assert updated.name == "沈家营第三网格（新）"
    assert updated.grid_type == GridType.DEDICATED
    assert updated.valid_from == date(2025, 1, 1)
    assert updated.boundary.extent == pytest.approx((115.02, 30.1, 115.03, 30.12))
    assert Area.objects.get(code=GRID1).valid_to == date(2026, 1, 1)


def test_feature_order_does_not_matter(db):
    """Parents are written before children whatever the order in the file."""
    report = boundaries_import(raw=collection(list(reversed(good_features()))))

    assert report.ok and report.created == 7
    grid = Area.objects.get(code=GRID1)
    assert grid.path == ".".join([CITY, DISTRICT, STREET, COMMUNITY, GRID1])


def test_imported_tree_is_queryable(db):
    import_file("good.geojson")
    community = Area.objects.get(code=COMMUNITY)

    assert list(Area.objects.subtree_of(community).values_list("code", flat=True)) == [
        COMMUNITY,
        GRID1,
        GRID2,
        GRID3,
    ]
    assert [g.code for g in Area.objects.containing(Point(115.025, 30.115, srid=4326))] == [GRID3]


def test_crs_given_as_epsg_4326_is_accepted(db):
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}

    report = boundaries_import(raw=collection(good_features(), crs=crs))

    assert report.ok and report.created == 7


# --------------------------------------------------------------------------------------
# dry run
# --------------------------------------------------------------------------------------


def test_dry_run_validates_but_writes_nothing(city):
    before = snapshot()

    report = import_file("good.geojson", dry_run=True)

    assert report.ok
    assert (report.features, report.created, report.updated) == (7, 0, 0)
    assert_nothing_written(before)


def test_command_dry_run_writes_nothing(city):
    before = snapshot()

    out, _err = run_command(str(data_file("good.geojson")), "--dry-run")

    assert out.strip() == "7 features checked, no problem found."
    assert_nothing_written(before)


def test_command_dry_run_still_reports_problems(city):
    before = snapshot()

    with pytest.raises(CommandError, match=r"^1 problem\(s\) in 7 features"):
        run_command(str(data_file("bad_missing_name.geojson")), "--dry-run")

    assert_nothing_written(before)


def test_command_cannot_read_the_file(tmp_path):
    with pytest.raises(CommandError, match=r"^Cannot read .*missing\.geojson: "):
        run_command(str(tmp_path / "missing.geojson"))
    assert not Area.objects.exists()


# --------------------------------------------------------------------------------------
# files that are not a usable FeatureCollection
# --------------------------------------------------------------------------------------


def test_malformed_json_is_rejected(city):
    assert_file_rejected(data_file("bad_malformed_json.geojson"), "The file is not valid JSON: …")


def test_not_a_feature_collection_is_rejected(city):
    assert_file_rejected(
        data_file("bad_not_feature_collection.geojson"),
        "The file is not a GeoJSON FeatureCollection.",
    )


def test_empty_feature_collection_is_rejected(city):
    assert_file_rejected(
        data_file("bad_empty_features.geojson"), "The FeatureCollection has no features."
    )


def test_non_wgs84_crs_is_rejected(city):
    assert_file_rejected(
        data_file("bad_crs.geojson"),
        "Coordinates must be WGS-84 longitude/latitude (EPSG:4326), "
        "not urn:ogc:def:crs:EPSG::3857.",
    )


@pytest.mark.parametrize(
    "crs, shown",
    [
        ("EPSG:3857", "EPSG:3857"),
        ({"type": "name", "properties": "EPSG:4490"}, "EPSG:4490"),
    ],
)
def test_crs_in_an_unexpected_shape_is_checked_not_crashed_on(tmp_path, crs, shown):
    path = write(tmp_path, collection(good_features(), crs=crs))
    assert_file_rejected(
        path, f"Coordinates must be WGS-84 longitude/latitude (EPSG:4326), not {shown}."
    )


# --------------------------------------------------------------------------------------
# one problem per file: reported with the feature number and code, nothing written
# --------------------------------------------------------------------------------------


def test_missing_code(city):
    assert_rejected(
        data_file("bad_missing_code.geojson"),
        feature=7,
        code="",
        message="the property “code” is missing",
    )


def test_missing_name(city):
    assert_rejected(
        data_file("bad_missing_name.geojson"),
        feature=7,
        code=GRID3,
        message="the property “name” is missing",
    )


def test_wrong_code_length(city):
    assert_rejected(
        data_file("bad_code_length.geojson"),
        feature=7,
        code="42020200100103",
        message="a Grid code must be 15 digits",
    )


def test_duplicate_code_in_the_file(city):
    assert_rejected(
        data_file("bad_duplicate_code.geojson"),
        feature=8,
        code=GRID1,
        message="the code also appears in feature #5",
    )


def test_self_intersecting_bow_tie_polygon(city):
    assert_rejected(
        data_file("bad_bowtie.geojson"),
        feature=7,
        code=GRID3,
        message="the polygon is invalid: Self-intersection…",
    )


def test_point_instead_of_polygon(city):
    assert_rejected(
        data_file("bad_point_geometry.geojson"),
        feature=7,
        code=GRID3,
        message="the geometry must be a Polygon or MultiPolygon",
    )


def test_coordinates_out_of_lon_lat_range(city):
    assert_rejected(
        data_file("bad_out_of_range.geojson"),
        feature=7,
        code=GRID3,
        message="coordinates are not WGS-84 longitude/latitude",
    )


def test_grid_code_not_under_the_given_parent(city):
    """parent_code names the (existing) community explicitly, the code belongs elsewhere."""
    assert_rejected(
        data_file("bad_code_not_under_parent.geojson"),
        feature=7,
        code="420202001009003",
        message=f"the code does not fit its parent {COMMUNITY} (Community)",
    )


def test_parent_neither_in_file_nor_in_database(city):
    assert_rejected(
        data_file("bad_parent_missing.geojson"),
        feature=7,
        code="420202001009001",
        message="its parent 420202001009 is neither in the file nor in the database",
    )


def test_grid_sticking_out_of_its_community(city):
    outside = m2(115.03, 30.1, 115.035, 30.13, lat0=GOOD_LAT0)
    assert_rejected(
        data_file("bad_outside_parent.geojson"),
        feature=7,
        code=GRID3,
        message=f"{outside} m² lie outside its parent {COMMUNITY}",
    )
    assert int(outside) > 5


def test_grids_of_one_community_overlapping(city):
    """Grid 3 (115.015-115.03) overlaps grid 2 (115.01-115.02); the pair is reported once,
    on the earlier feature."""
    overlap = m2(115.015, 30.1, 115.02, 30.13, lat0=GOOD_LAT0)
    assert_rejected(
        data_file("bad_overlap.geojson"),
        feature=6,
        code=GRID2,
        message=f"overlaps {GRID3} by {overlap} m²",
    )


def test_tiny_overlap_within_the_tolerance_is_accepted(city):
    """A notch of grid 3 pokes ~2 m² into grid 2: fine under the 5 m² tolerance."""
    report = import_file("tiny_overlap.geojson")

    assert report.ok, [str(p) for p in report.problems]
    assert report.created == 7
    grid2, grid3 = Area.objects.get(code=GRID2), Area.objects.get(code=GRID3)
    shared = grid2.boundary.intersection(grid3.boundary)
    assert shared.area > 0  # they really do overlap


def test_tiny_overlap_beyond_a_stricter_tolerance_is_rejected(city):
    before = snapshot()

    report = import_file("tiny_overlap.geojson", tolerance_m2=1.0)

    assert [(p.feature, p.code, p.message) for p in report.problems] == [
        (6, GRID2, f"overlaps {GRID3} by 2 m²")
    ]
    assert_nothing_written(before)
    with pytest.raises(CommandError, match=r"^1 problem\(s\)"):
        run_command(str(data_file("tiny_overlap.geojson")), "--tolerance", "1")
    assert_nothing_written(before)
    run_command(str(data_file("tiny_overlap.geojson")), "--tolerance", "3")
    assert Area.objects.filter(code__in=GOOD_CODES).count() == 7


def test_unknown_grid_type(city):
    assert_rejected(
        data_file("bad_grid_type.geojson"),
        feature=7,
        code=GRID3,
        message="unknown grid type “special”",
    )


# --------------------------------------------------------------------------------------
# several problems at once
# --------------------------------------------------------------------------------------


def test_every_problem_of_a_file_is_reported(city):
    before = snapshot()

    report = import_file("bad_several_problems.geojson")

    assert report.features == 9
    assert [(p.feature, p.code, p.message) for p in report.problems] == [
        (2, DISTRICT, "the property “parent_code” is missing"),
        (5, GRID1, "the property “name” is missing"),
        (6, GRID2, "the geometry must be a Polygon or MultiPolygon"),
        (7, GRID3, "unknown grid type “special”"),
        (
            8,
            "420202001009001",
            "its parent 420202001009 is neither in the file nor in the database",
        ),
        (9, "", "not a GeoJSON Feature"),
    ]
    assert_nothing_written(before)

    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(
            "import_boundaries",
            str(data_file("bad_several_problems.geojson")),
            stdout=out,
            stderr=err,
            no_color=True,
        )
    assert str(exc.value) == "6 problem(s) in 9 features; nothing was written."
    assert err.getvalue().splitlines() == [str(p) for p in report.problems]
    assert err.getvalue().splitlines()[0] == (
        "feature #2 (420202): the property “parent_code” is missing"
    )
    assert_nothing_written(before)


# --------------------------------------------------------------------------------------
# grids into a community already in the database
# --------------------------------------------------------------------------------------


def test_grid_into_an_existing_community(city):
    community = Area.objects.get(code=STORED_COMMUNITY)
    before = Area.objects.count()

    report = import_file("existing_community_grid.geojson")

    assert report.ok, [str(p) for p in report.problems]
    assert (report.created, report.updated) == (1, 0)
    assert Area.objects.count() == before + 1
    grid = Area.objects.get(code=NEW_GRID)
    assert grid.parent == community
    assert grid.level == AreaLevel.GRID
    assert grid.grid_type == GridType.DEDICATED
    assert grid.path == f"{community.path}.{NEW_GRID}"
    assert grid.path == "420100.420103.420103001.420103001001.420103001001003"
    # the stored siblings are untouched and the new grid answers point queries
    assert community.children.count() == 3
    assert [g.code for g in Area.objects.containing(Point(114.05, 30.075))] == [NEW_GRID]
    assert [g.code for g in Area.objects.containing(Point(114.025, 30.025))] == [STORED_GRID1]
    assert AuditEntry.objects.get().detail == {"created": 1, "updated": 0}


def test_grid_into_an_existing_community_created_with_area_create(db):
    city_ = area_create(
        level=AreaLevel.CITY,
        code="420200",
        name="黄石市",
        parent=None,
        boundary=factories.square(115.0, 30.1, 0.2),
    )
    district = area_create(level=AreaLevel.DISTRICT, code=DISTRICT, name="区", parent=city_)
    street = area_create(level=AreaLevel.STREET, code=STREET, name="街道", parent=district)
    community = area_create(
        level=AreaLevel.COMMUNITY,
        code=COMMUNITY,
        name="社区",
        parent=street,
        boundary=factories.square(115.0, 30.1, 0.03),
    )
    grids = [f for f in good_features() if f["properties"]["code"] in (GRID1, GRID2, GRID3)]

    report = boundaries_import(raw=collection(grids))

    assert report.ok, [str(p) for p in report.problems]
    assert report.created == 3
    assert sorted(community.children.values_list("code", flat=True)) == [GRID1, GRID2, GRID3]
    assert Area.objects.get(code=GRID2).path == f"{community.path}.{GRID2}"


def test_grid_overlapping_a_stored_sibling_is_rejected(city):
    """The new grid (114.0-114.05 x 30.04-30.1) reaches 0.01° into stored grid …001."""
    lat0 = 30.07  # the new grid's centroid: the importer's reference latitude
    overlap = m2(114.0, 30.04, 114.05, 30.05, lat0=lat0)
    assert_rejected(
        data_file("existing_community_overlap.geojson"),
        feature=1,
        code=NEW_GRID,
        message=f"overlaps {STORED_GRID1} by {overlap} m²",
    )


def test_tiny_overlap_with_a_stored_sibling_is_accepted(city):
    # 3e-9° of latitude along 0.1° of longitude: about 3 m².
    raw = collection(
        [feature({"code": NEW_GRID, "name": "北"}, rect(114.0, 30.05 - 3e-9, 114.1, 30.1))]
    )
    assert area_m2(box(114.0, 30.05 - 3e-9, 114.1, 30.05), lat0=30.075) < 5

    report = boundaries_import(raw=raw)

    assert report.ok, [str(p) for p in report.problems]
    assert Area.objects.filter(code=NEW_GRID).exists()


def test_grid_outside_a_stored_community_is_rejected(city, tmp_path):
    # community 420103001001 ends at 30.1; this grid reaches 30.11
    path = write(
        tmp_path,
        collection([feature({"code": NEW_GRID, "name": "北"}, rect(114.0, 30.05, 114.1, 30.11))]),
    )
    outside = m2(114.0, 30.1, 114.1, 30.11, lat0=30.08)
    assert_rejected(
        path,
        feature=1,
        code=NEW_GRID,
        message=f"{outside} m² lie outside its parent {STORED_COMMUNITY}",
    )


def test_updating_a_stored_grid_is_not_checked_against_its_old_shape(city):
    """The file replaces grid …001: its stored boundary leaves the overlap check, the stored
    …002 stays in it."""
    grid = Area.objects.get(code=STORED_GRID1)
    before = Area.objects.count()
    full_height = feature(
        {"code": STORED_GRID1, "name": "网格1-1-1（扩）"}, rect(114.0, 30.0, 114.05, 30.1)
    )

    report = boundaries_import(raw=collection([full_height]))

    assert report.ok, [str(p) for p in report.problems]
    assert (report.created, report.updated) == (0, 1)
    assert Area.objects.count() == before
    grid.refresh_from_db()
    assert grid.name == "网格1-1-1（扩）"
    assert grid.boundary.extent == pytest.approx((114.0, 30.0, 114.05, 30.1))
    assert grid.parent.code == STORED_COMMUNITY


def test_updating_a_stored_grid_onto_its_stored_sibling_is_rejected(city, tmp_path):
    path = write(
        tmp_path,
        collection(
            [feature({"code": STORED_GRID1, "name": "网格"}, rect(114.0, 30.0, 114.06, 30.05))]
        ),
    )
    overlap = m2(114.05, 30.0, 114.06, 30.05, lat0=30.025)
    assert_rejected(
        path, feature=1, code=STORED_GRID1, message=f"overlaps {STORED_GRID2} by {overlap} m²"
    )


# --------------------------------------------------------------------------------------
# other checks of the parser
# --------------------------------------------------------------------------------------


def test_valid_to_before_valid_from(city):
    assert_rejected(
        data_file("bad_validity.geojson"),
        feature=7,
        code=GRID3,
        message="valid_to 2025-01-01 must be later than valid_from 2025-06-01",
    )


def test_valid_to_before_the_stored_valid_from(city, tmp_path):
    grid = Area.objects.get(code=STORED_GRID1)
    props = {"code": STORED_GRID1, "name": grid.name, "valid_to": "2019-12-31"}
    path = write(tmp_path, collection([feature(props, rect(114.0, 30.0, 114.05, 30.05))]))

    assert_rejected(
        path,
        feature=1,
        code=STORED_GRID1,
        message="valid_to 2019-12-31 must be later than valid_from 2020-01-01",
    )


def test_valid_to_retires_a_stored_grid(city):
    props = {"code": STORED_GRID1, "name": "网格1-1-1", "valid_to": "2025-07-01"}

    report = boundaries_import(raw=collection([feature(props, rect(114.0, 30.0, 114.05, 30.05))]))

    assert report.ok and report.updated == 1
    assert Area.objects.get(code=STORED_GRID1).valid_to == date(2025, 7, 1)


def test_dates_must_be_iso(city, tmp_path):
    features = good_features()
    features[6]["properties"]["valid_from"] = "2025/01/01"
    assert_rejected(
        write(tmp_path, collection(features)),
        feature=7,
        code=GRID3,
        message="dates must be written YYYY-MM-DD",
    )


def test_name_longer_than_the_column(city, tmp_path):
    features = good_features()
    features[6]["properties"]["name"] = "网" * 101
    assert_rejected(
        write(tmp_path, collection(features)),
        feature=7,
        code=GRID3,
        message="the name is longer than 100 characters",
    )


def test_grid_type_on_a_community(city, tmp_path):
    features = good_features()
    features[3]["properties"]["grid_type"] = "basic"
    assert_rejected(
        write(tmp_path, collection(features)),
        feature=4,
        code=COMMUNITY,
        message="only grids have a grid type",
    )


def test_unknown_level(city, tmp_path):
    features = good_features()
    features[6]["properties"]["level"] = "village"
    assert_rejected(
        write(tmp_path, collection(features)),
        feature=7,
        code=GRID3,
        message="unknown level 'village'",
    )


def test_district_must_share_its_citys_prefix(city, tmp_path):
    features = good_features()
    features[1]["properties"]["parent_code"] = "420100"  # the factory city, in the database
    assert_rejected(
        write(tmp_path, collection(features)),
        feature=2,
        code=DISTRICT,
        message="the code does not fit its parent 420100 (City)",
    )


@pytest.mark.parametrize(
    "bad, message",
    [
        ("a string", "not a GeoJSON Feature"),
        ({"type": "Feature", "properties": ["code"], "geometry": None}, "not a GeoJSON Feature"),
    ],
)
def test_feature_that_is_not_a_feature(city, tmp_path, bad, message):
    features = [*good_features(), bad]
    assert_rejected(write(tmp_path, collection(features)), feature=8, code="", message=message)


@pytest.mark.parametrize(
    "geometry, message",
    [
        ({"type": "Polygon"}, "the geometry cannot be read: …"),
        ({"type": "Polygon", "coordinates": [[["a", "b"]]]}, "the geometry cannot be read: …"),
        ({"type": "Polygon", "coordinates": []}, "the geometry is empty"),
        (None, "the geometry must be a Polygon or MultiPolygon"),
    ],
)
def test_unreadable_geometry(city, tmp_path, geometry, message):
    features = good_features()
    features[6]["geometry"] = geometry
    assert_rejected(write(tmp_path, collection(features)), feature=7, code=GRID3, message=message)


def test_nan_coordinates_are_reported_not_crashed_on(city, tmp_path):
    features = good_features()
    raw = collection(features).replace(
        "[115.02, 30.1], [115.03, 30.1]", "[NaN, 30.1], [115.03, 30.1]"
    )
    assert "NaN" in raw
    assert_rejected(
        write(tmp_path, raw), feature=7, code=GRID3, message="the geometry cannot be read: …"
    )


def test_z_coordinates_are_dropped(db):
    features = good_features()
    for f in features:
        for ring in f["geometry"]["coordinates"] if f["geometry"]["type"] == "Polygon" else []:
            for point in ring:
                point.append(25.0)

    report = boundaries_import(raw=collection(features))

    assert report.ok, [str(p) for p in report.problems]
    grid = Area.objects.get(code=GRID3)
    assert not grid.boundary.hasz
    assert grid.boundary.equals(MultiPolygon(Polygon.from_bbox((115.02, 30.1, 115.03, 30.13))))
