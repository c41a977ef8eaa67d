"""Writes to the area tree: creating areas and importing boundaries."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from govgrid.audit.models import AuditAction
from govgrid.audit.services import audit_record
from govgrid.lib.geo import area_m2, to_multipolygon
from grids.models import CODE_LENGTH, PATH_SEPARATOR, Area, AreaLevel, GridType

NAME_MAX_LENGTH = Area._meta.get_field("name").max_length

LEVEL_NAMES = {
    "city": AreaLevel.CITY,
    "district": AreaLevel.DISTRICT,
    "street": AreaLevel.STREET,
    "community": AreaLevel.COMMUNITY,
    "grid": AreaLevel.GRID,
}


def area_path(*, parent: Area | None, code: str) -> str:
    return f"{parent.path}{PATH_SEPARATOR}{code}" if parent else code


def expected_parent_code(*, level: int, code: str) -> str | None:
    """The parent's code implied by a code (None for a city, or a district's city)."""
    if level == AreaLevel.GRID:
        return code[:12]
    if level == AreaLevel.COMMUNITY:
        return code[:9]
    if level == AreaLevel.STREET:
        return code[:6]
    return None


def code_fits_parent(*, level: int, code: str, parent_level: int, parent_code: str) -> bool:
    if parent_level != level - 1:
        return False
    if level == AreaLevel.DISTRICT:
        # Both are 6-digit division codes: a district shares its city's first 4 digits.
        return code[:4] == parent_code[:4]
    return code.startswith(parent_code)


@transaction.atomic
def area_create(
    *,
    level: int,
    code: str,
    name: str,
    parent: Area | None,
    boundary=None,
    grid_type: str = "",
    valid_from: date | None = None,
) -> Area:
    """Create one area below `parent`, checking the code against the parent's."""
    if len(code) != CODE_LENGTH[level] or not code.isdigit():
        raise ValueError(f"code {code!r} is not a {CODE_LENGTH[level]}-digit code")
    if parent is not None and not code_fits_parent(
        level=level, code=code, parent_level=parent.level, parent_code=parent.code
    ):
        raise ValueError(f"code {code!r} does not fit parent {parent.code!r}")
    if level == AreaLevel.GRID and not grid_type:
        grid_type = GridType.BASIC
    return Area.objects.create(
        level=level,
        code=code,
        name=name,
        parent=parent,
        path=area_path(parent=parent, code=code),
        boundary=boundary,
        grid_type=grid_type,
        **({"valid_from": valid_from} if valid_from else {}),
    )


# --------------------------------------------------------------------------------------
# Boundary import
# --------------------------------------------------------------------------------------


class BoundaryFileError(Exception):
    """The file cannot be read as a GeoJSON FeatureCollection at all."""


@dataclass
class Problem:
    feature: int | None  # 1-based position in the file; None for file-wide problems
    code: str
    message: str

    def __str__(self) -> str:
        where = _("feature #%(n)s") % {"n": self.feature} if self.feature else _("file")
        code = f" ({self.code})" if self.code else ""
        return f"{where}{code}: {self.message}"


@dataclass
class ParsedFeature:
    index: int
    code: str
    name: str
    level: int
    parent_code: str | None
    geometry: BaseGeometry
    grid_type: str
    valid_from: date | None
    valid_to: date | None


@dataclass
class ImportReport:
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    features: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return date.fromisoformat(str(value))


def _infer_level(props: dict[str, Any], code: str) -> int | None:
    raw = props.get("level")
    if raw not in (None, ""):
        return LEVEL_NAMES.get(str(raw).lower()) or (
            int(raw) if str(raw).isdigit() and int(raw) in AreaLevel.values else None
        )
    if len(code) == 6:
        # Both are 6-digit division codes; a city's ends in 00 (420100), a district's not.
        return AreaLevel.CITY if code.endswith("00") else AreaLevel.DISTRICT
    return {15: AreaLevel.GRID, 12: AreaLevel.COMMUNITY, 9: AreaLevel.STREET}.get(len(code))


def load_feature_collection(raw: bytes | str) -> list[dict[str, Any]]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BoundaryFileError(
            _("The file is not valid JSON: %(error)s") % {"error": exc}
        ) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise BoundaryFileError(_("The file is not a GeoJSON FeatureCollection."))
    crs = data.get("crs") or {}
    if isinstance(crs, dict):
        crs_props = crs.get("properties") or {}
        crs = crs_props.get("name", "") if isinstance(crs_props, dict) else str(crs_props)
    crs = str(crs or "")
    if crs and not any(tag in crs for tag in ("CRS84", "4326")):
        raise BoundaryFileError(
            _("Coordinates must be WGS-84 longitude/latitude (EPSG:4326), not %(crs)s.")
            % {"crs": crs}
        )
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryFileError(_("The FeatureCollection has no features."))
    return features


def _parse_features(features: list[Any], report: ImportReport) -> list[ParsedFeature]:
    parsed: list[ParsedFeature] = []
    seen: dict[str, int] = {}
    for n, feat in enumerate(features, start=1):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            report.problems.append(Problem(n, "", _("not a GeoJSON Feature")))
            continue
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            report.problems.append(Problem(n, "", _("not a GeoJSON Feature")))
            continue
        code = str(props.get("code") or "").strip()
        name = str(props.get("name") or "").strip()
        if not code:
            report.problems.append(Problem(n, "", _("the property “code” is missing")))
            continue
        if not name:
            report.problems.append(Problem(n, code, _("the property “name” is missing")))
        elif len(name) > NAME_MAX_LENGTH:
            report.problems.append(
                Problem(
                    n,
                    code,
                    _("the name is longer than %(n)s characters") % {"n": NAME_MAX_LENGTH},
                )
            )
        level = _infer_level(props, code)
        if level is None and props.get("level") in (None, ""):
            report.problems.append(
                Problem(n, code, _("a code must have 6, 9, 12 or 15 digits, or name its level"))
            )
            continue
        if level is None:
            report.problems.append(Problem(n, code, _("unknown level %(level)r") % props))
            continue
        if not code.isdigit() or len(code) != CODE_LENGTH[level]:
            report.problems.append(
                Problem(
                    n,
                    code,
                    _("a %(level)s code must be %(digits)s digits")
                    % {"level": AreaLevel(level).label, "digits": CODE_LENGTH[level]},
                )
            )
            continue
        if code in seen:
            report.problems.append(
                Problem(n, code, _("the code also appears in feature #%(n)s") % {"n": seen[code]})
            )
            continue
        seen[code] = n

        grid_type = str(props.get("grid_type") or "").strip()
        if level == AreaLevel.GRID:
            grid_type = grid_type or GridType.BASIC
            if grid_type not in GridType.values:
                report.problems.append(
                    Problem(n, code, _("unknown grid type “%(t)s”") % {"t": grid_type})
                )
        elif grid_type:
            report.problems.append(Problem(n, code, _("only grids have a grid type")))
            grid_type = ""
        try:
            valid_from = _parse_date(props.get("valid_from"))
            valid_to = _parse_date(props.get("valid_to"))
        except ValueError:
            report.problems.append(Problem(n, code, _("dates must be written YYYY-MM-DD")))
            continue

        geom = _parse_geometry(n, code, feat.get("geometry"), report)
        if geom is None:
            continue
        parent_code = str(props.get("parent_code") or "").strip() or expected_parent_code(
            level=level, code=code
        )
        parsed.append(
            ParsedFeature(n, code, name, level, parent_code, geom, grid_type, valid_from, valid_to)
        )
    return parsed


def _parse_geometry(n: int, code: str, raw: Any, report: ImportReport) -> BaseGeometry | None:
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        report.problems.append(
            Problem(n, code, _("the geometry must be a Polygon or MultiPolygon"))
        )
        return None
    try:
        # Stored boundaries are 2D: drop any Z (elevation) coordinate.
        geom = shapely.force_2d(shape(raw))
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, GEOSException) as exc:
        report.problems.append(
            Problem(n, code, _("the geometry cannot be read: %(error)s") % {"error": exc})
        )
        return None
    if geom.is_empty:
        report.problems.append(Problem(n, code, _("the geometry is empty")))
        return None
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        report.problems.append(Problem(n, code, _("coordinates are not WGS-84 longitude/latitude")))
        return None
    if not geom.is_valid:
        report.problems.append(
            Problem(
                n,
                code,
                _("the polygon is invalid: %(reason)s") % {"reason": shapely.is_valid_reason(geom)},
            )
        )
        return None
    return geom


def _check_tree(parsed: list[ParsedFeature], report: ImportReport, tolerance_m2: float) -> None:
    by_code = {f.code: f for f in parsed}
    parent_codes = {f.parent_code for f in parsed if f.parent_code and f.parent_code not in by_code}
    existing = {
        a.code: a
        for a in Area.objects.filter(code__in=parent_codes).only(
            "code", "level", "boundary", "path"
        )
    }
    lat0 = parsed[0].geometry.centroid.y if parsed else 30.0

    for f in parsed:
        if f.level == AreaLevel.CITY:
            continue
        if not f.parent_code:
            report.problems.append(
                Problem(f.index, f.code, _("the property “parent_code” is missing"))
            )
            continue
        parent_in_file = by_code.get(f.parent_code)
        parent_db = existing.get(f.parent_code)
        if parent_in_file is None and parent_db is None:
            report.problems.append(
                Problem(
                    f.index,
                    f.code,
                    _("its parent %(code)s is neither in the file nor in the database")
                    % {"code": f.parent_code},
                )
            )
            continue
        p_level = parent_in_file.level if parent_in_file else parent_db.level
        if not code_fits_parent(
            level=f.level, code=f.code, parent_level=p_level, parent_code=f.parent_code
        ):
            report.problems.append(
                Problem(
                    f.index,
                    f.code,
                    _("the code does not fit its parent %(parent)s (%(level)s)")
                    % {"parent": f.parent_code, "level": AreaLevel(p_level).label},
                )
            )
            continue
        if parent_in_file is not None:
            parent_geom = parent_in_file.geometry
        elif parent_db.boundary is not None:
            parent_geom = shapely.from_wkb(bytes(parent_db.boundary.wkb))
        else:
            continue
        outside = area_m2(f.geometry.difference(parent_geom), lat0=lat0)
        if outside > tolerance_m2:
            report.problems.append(
                Problem(
                    f.index,
                    f.code,
                    _("%(m2).0f m² lie outside its parent %(parent)s")
                    % {"m2": outside, "parent": f.parent_code},
                )
            )

    _check_overlaps(parsed, report, tolerance_m2, lat0)


def _check_overlaps(
    parsed: list[ParsedFeature], report: ImportReport, tolerance_m2: float, lat0: float
) -> None:
    """Areas with the same parent may not overlap (beyond the tolerance).

    Current siblings already in the database take part too, unless the file replaces them;
    retired ones (valid_to in the past) do not, so grids can be redrawn under new codes.
    """
    siblings: dict[str, list[tuple[str, int | None, BaseGeometry]]] = defaultdict(list)
    file_codes = {f.code for f in parsed}
    for f in parsed:
        if f.parent_code:
            siblings[f.parent_code].append((f.code, f.index, f.geometry))
    stored = (
        Area.objects.active()
        .filter(parent__code__in=list(siblings), boundary__isnull=False)
        .exclude(code__in=file_codes)
        .values_list("parent__code", "code", "boundary")
    )
    for parent_code, code, boundary in stored:
        siblings[parent_code].append((code, None, shapely.from_wkb(bytes(boundary.wkb))))

    for members in siblings.values():
        if len(members) < 2:
            continue
        tree = STRtree([g for _c, _i, g in members])
        for i, (code, index, geom) in enumerate(members):
            if index is None:
                continue
            for j in tree.query(geom, predicate="intersects"):
                j = int(j)
                if j == i or (members[j][1] is not None and j < i):
                    continue  # each pair within the file is reported once
                overlap = area_m2(geom.intersection(members[j][2]), lat0=lat0)
                if overlap > tolerance_m2:
                    report.problems.append(
                        Problem(
                            index,
                            code,
                            _("overlaps %(other)s by %(m2).0f m²")
                            % {"other": members[j][0], "m2": overlap},
                        )
                    )


def _check_validity(parsed: list[ParsedFeature], report: ImportReport) -> None:
    """valid_to must come after the valid_from the area will have once written (the file's,
    else the stored area's, else the model default), as the database requires."""
    stored_from = dict(
        Area.objects.filter(code__in=[f.code for f in parsed if f.valid_to]).values_list(
            "code", "valid_from"
        )
    )
    default_from = Area._meta.get_field("valid_from").get_default()
    for f in parsed:
        if f.valid_to is None:
            continue
        valid_from = f.valid_from or stored_from.get(f.code) or default_from
        if f.valid_to <= valid_from:
            report.problems.append(
                Problem(
                    f.index,
                    f.code,
                    _("valid_to %(to)s must be later than valid_from %(from)s")
                    % {"to": f.valid_to.isoformat(), "from": valid_from.isoformat()},
                )
            )


def boundaries_import(
    *,
    raw: bytes | str,
    actor=None,
    dry_run: bool = False,
    tolerance_m2: float | None = None,
    progress=None,
) -> ImportReport:
    """Validate a GeoJSON file of areas and, when it has no problem at all, write it.

    All or nothing: any problem leaves the database untouched and the report lists every
    problem with the feature it came from. Areas are matched by code: existing ones are
    updated (name, boundary, type, validity), new ones created below their parent.
    Raises BoundaryFileError when the file is not a FeatureCollection.
    """
    tolerance = settings.BOUNDARY_TOLERANCE_M2 if tolerance_m2 is None else tolerance_m2
    report = ImportReport()
    features = load_feature_collection(raw)
    report.features = len(features)
    parsed = _parse_features(features, report)
    _check_tree(parsed, report, tolerance)
    _check_validity(parsed, report)
    if report.problems:
        report.problems.sort(key=lambda p: p.feature or 0)
        return report
    if dry_run:
        return report
    _write(parsed, report, actor=actor, progress=progress)
    return report


@transaction.atomic
def _write(parsed: list[ParsedFeature], report: ImportReport, *, actor, progress) -> None:
    ordered = sorted(parsed, key=lambda f: f.level)
    known = {a.code: a for a in Area.objects.filter(code__in=[f.code for f in parsed])}
    parents = {
        a.code: a
        for a in Area.objects.filter(code__in={f.parent_code for f in parsed if f.parent_code})
    }
    iterator = progress(ordered) if progress else ordered
    for f in iterator:
        boundary = to_multipolygon(f.geometry)
        area = known.get(f.code)
        if area is None:
            parent = parents.get(f.parent_code) if f.parent_code else None
            area = area_create(
                level=f.level,
                code=f.code,
                name=f.name,
                parent=parent,
                boundary=boundary,
                grid_type=f.grid_type,
                valid_from=f.valid_from,
            )
            if f.valid_to:
                area.valid_to = f.valid_to
                area.save(update_fields=["valid_to"])
            report.created += 1
        else:
            area.name, area.boundary, area.grid_type = f.name, boundary, f.grid_type
            if f.valid_from:
                area.valid_from = f.valid_from
            area.valid_to = f.valid_to
            area.save(
                update_fields=[
                    "name",
                    "boundary",
                    "grid_type",
                    "valid_from",
                    "valid_to",
                    "updated_at",
                ]
            )
            report.updated += 1
        parents[f.code] = area
    audit_record(
        action=AuditAction.BOUNDARY_IMPORT,
        actor=actor,
        actor_name="" if actor else "manage.py",
        target=_("%(n)s areas") % {"n": len(parsed)},
        detail={"created": report.created, "updated": report.updated},
    )
