"""Residents test data, built through residents.services."""

from __future__ import annotations

import itertools

from residents import pii, services
from residents.models import KeyGroup

_seq = itertools.count(1)


def id_number(*, region: str = "420103", birth: str = "19800101", seq: int | None = None) -> str:
    """A valid GB 11643 identity number (check digit computed)."""
    n = next(_seq) if seq is None else seq
    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + pii.id_check_char(first17)


def make_person(*, grid, name: str = "", number: str | None = None, phone: str = "", **extra):
    n = next(_seq)
    return services.person_create(
        data=services.PersonInput(
            grid=grid,
            name=name or f"居民{n}",
            id_number=id_number() if number is None else number,
            phone=phone,
            **extra,
        )
    )


def make_house(*, grid, room: str = "", building=None):
    centre = grid.boundary.centroid
    if building is None:
        building = services.building_create(
            grid=grid, name=f"{next(_seq)}栋", lon=centre.x, lat=centre.y
        )
    return services.house_create(building=building, room=room or f"{next(_seq)}室")


def group(code: str) -> KeyGroup:
    return KeyGroup.objects.get(code=code)
