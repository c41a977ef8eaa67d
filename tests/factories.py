"""Test data built through the same services production uses."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from django.contrib.gis.geos import MultiPolygon, Polygon

from govgrid.accounts.models import Role, Unit, UnitKind, User
from grids.models import Area, AreaLevel, GridStaff, StaffRole
from grids.services import area_create

PASSWORD = "Correct-Horse-42"
_seq = itertools.count(1)


def square(x0: float, y0: float, size: float) -> MultiPolygon:
    return MultiPolygon(
        Polygon(((x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0))),
        srid=4326,
    )


def make_unit(*, area: Area, kind: str = UnitKind.CENTRE, name: str = "", parent=None) -> Unit:
    n = next(_seq)
    return Unit.objects.create(
        code=f"U{area.code}-{n}",
        name=name or f"{area.name}单位{n}",
        kind=kind,
        level=area.level,
        jurisdiction=area,
        parent=parent,
    )


def make_user(*, roles: list[str], unit: Unit | None = None, username: str = "", **extra) -> User:
    user = User.objects.create_user(
        username=username or f"user{next(_seq)}",
        password=PASSWORD,
        roles=roles,
        unit=unit,
        **extra,
    )
    return user


def staff_grid(*, grid: Area, user: User, role: str = StaffRole.WORKER) -> GridStaff:
    return GridStaff.objects.create(grid=grid, user=user, role=role)


@dataclass
class City:
    """A tiny city: 1 district, 2 streets, 2 communities each, 2 grids per community.

    Street A lies at x 114.0-114.2, street B at 114.2-114.4; each area is a square so the
    tests can reason about points.
    """

    city: Area
    district: Area
    streets: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[Area] = field(default_factory=list)

    def grids_of(self, area: Area) -> list[Area]:
        return [g for g in self.grids if g.path.startswith(area.path + ".")]


def build_city() -> City:
    city = area_create(
        level=AreaLevel.CITY,
        code="420100",
        name="测试市",
        parent=None,
        boundary=square(113.9, 29.9, 0.6),
    )
    district = area_create(
        level=AreaLevel.DISTRICT,
        code="420103",
        name="测试区",
        parent=city,
        boundary=square(114.0, 30.0, 0.4),
    )
    c = City(city=city, district=district)
    for s in range(2):
        sx = 114.0 + s * 0.2
        street = area_create(
            level=AreaLevel.STREET,
            code=f"420103{s + 1:03d}",
            name=f"街道{s + 1}",
            parent=district,
            boundary=square(sx, 30.0, 0.2),
        )
        c.streets.append(street)
        for k in range(2):
            cx = sx + k * 0.1
            community = area_create(
                level=AreaLevel.COMMUNITY,
                code=f"{street.code}{k + 1:03d}",
                name=f"社区{s + 1}-{k + 1}",
                parent=street,
                boundary=square(cx, 30.0, 0.1),
            )
            c.communities.append(community)
            for g in range(2):
                grid = area_create(
                    level=AreaLevel.GRID,
                    code=f"{community.code}{g + 1:03d}",
                    name=f"网格{s + 1}-{k + 1}-{g + 1}",
                    parent=community,
                    boundary=square(cx + g * 0.05, 30.0, 0.05),
                )
                c.grids.append(grid)
    return c


ROLE_USERS = [
    Role.ADMIN,
    Role.LEADER,
    Role.DISTRICT_CENTRE,
    Role.STREET_CENTRE,
    Role.COMMUNITY_STATION,
    Role.GRID_LEADER,
    Role.GRID_WORKER,
    Role.UNIT_HANDLER,
]


def ensure_seeded() -> None:
    """Put back the rows the data migrations seed (calendar, categories, notification
    templates, residents' code lists and key-person groups, assessment schemes) if a flush
    after an earlier transactional test on this worker removed them."""
    from dispatch.calendar import calendar_cache_clear, calendar_seed
    from dispatch.models import CalendarDay
    from incidents.category_seed import seed_categories
    from incidents.models import Category

    if not CalendarDay.objects.exists():
        calendar_seed()
        calendar_cache_clear()
    if not Category.objects.exists():
        seed_categories(Category)
    from govgrid.notifications.models import NotificationTemplate
    from govgrid.notifications.template_seed import seed_templates

    if not NotificationTemplate.objects.exists():
        seed_templates(NotificationTemplate)
    from residents.models import Dictionary, KeyGroup, KeyGroupGrant
    from residents.seed import seed_residents

    if not KeyGroup.objects.exists():
        seed_residents(Dictionary, KeyGroup, KeyGroupGrant)
    from dispatch.assessment.models import AssessmentScheme
    from dispatch.assessment.seed import seed_default

    if not AssessmentScheme.objects.exists():
        seed_default()


def jpeg_file(name: str = "photo.jpg"):
    """A small real JPEG, checked and turned upright as an upload would be."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from incidents.uploads import clean_photo

    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 140, 60)).save(buf, "JPEG")
    return clean_photo(SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg"))
