"""Who may see what: the one scoping function every list, map, export and count uses.

A user's scope is the union of what each of their roles grants:

- admin: everything;
- community station, street centre, district centre, leader: the jurisdiction of their unit
  (an area subtree) plus any extra scope areas;
- grid worker and grid leader: the grids they currently staff;
- unit handler: records that concern their unit (models that name a unit, such as dispatch
  assignments) and, for plain area data, their unit's jurisdiction.

Models opt in by naming the lookup to their area path (`SCOPE_AREA_PATH`) and, where records
belong to a unit, the lookup to that unit (`SCOPE_UNIT`). Everything goes through
`scope_queryset`; views never check roles to filter rows themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from govgrid.accounts.models import GRID_ROLES, JURISDICTION_ROLES, Role
from grids.models import PATH_SEPARATOR, Area, GridStaff


@dataclass(frozen=True)
class Scope:
    sees_everything: bool = False
    # Roots of the visible area subtrees, as materialised paths.
    area_paths: tuple[str, ...] = ()
    # Units whose records the user sees through the unit (unit handlers).
    unit_ids: tuple[int, ...] = ()
    # Area subtrees a unit handler sees for plain area data (their unit's jurisdiction).
    unit_area_paths: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.sees_everything or self.area_paths or self.unit_ids)

    def covers_path(self, path: str) -> bool:
        """Whether an area with this path lies inside the scope (no query)."""
        if self.sees_everything:
            return True
        return any(
            path == root or path.startswith(root + PATH_SEPARATOR)
            for root in (*self.area_paths, *self.unit_area_paths)
        )


def _paths_q(paths: tuple[str, ...], path_lookup: str) -> Q:
    q = Q(pk__in=[])
    for root in paths:
        q |= Q(**{path_lookup: root}) | Q(**{f"{path_lookup}__startswith": root + PATH_SEPARATOR})
    return q


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """Drop paths that lie under another path of the set."""
    keep = [p for p in paths if not any(p != o and p.startswith(o + PATH_SEPARATOR) for o in paths)]
    return tuple(sorted(keep))


def scope_for(user) -> Scope:
    """The user's scope, computed once per user object (at most two small queries)."""
    cached = getattr(user, "_govgrid_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    if user.is_authenticated:
        user._govgrid_scope = scope
    return scope


def _compute_scope(user) -> Scope:
    if not user.is_authenticated or not user.is_active:
        return Scope()
    roles = set(user.roles)
    if Role.ADMIN in roles or user.is_superuser:
        return Scope(sees_everything=True)

    paths: set[str] = set()
    unit_paths: set[str] = set()
    unit_ids: tuple[int, ...] = ()
    if roles & JURISDICTION_ROLES or Role.UNIT_HANDLER in roles:
        jurisdiction = (
            Area.objects.filter(units__pk=user.unit_id).values_list("path", flat=True).first()
            if user.unit_id
            else None
        )
        if roles & JURISDICTION_ROLES:
            if jurisdiction:
                paths.add(jurisdiction)
            paths.update(user.scope_areas.values_list("path", flat=True))
        if Role.UNIT_HANDLER in roles and user.unit_id:
            unit_ids = (user.unit_id,)
            if jurisdiction:
                unit_paths.add(jurisdiction)
    if roles & GRID_ROLES:
        today = timezone.localdate()
        paths.update(
            GridStaff.objects.filter(user=user)
            .filter(Q(until__isnull=True) | Q(until__gt=today))
            .values_list("grid__path", flat=True)
        )
    return Scope(
        area_paths=_outermost(paths),
        unit_ids=unit_ids,
        unit_area_paths=_outermost(unit_paths),
    )


def scope_queryset(user, queryset: QuerySet) -> QuerySet:
    """Narrow `queryset` to the rows `user` may see. The one scoping function.

    The model names how its rows reach an area (`SCOPE_AREA_PATH`, a lookup ending at
    `Area.path`) and, optionally, a unit (`SCOPE_UNIT`, a lookup ending at a Unit).
    """
    scope = scope_for(user)
    if scope.sees_everything:
        return queryset
    model = queryset.model
    area_lookup: str | None = getattr(model, "SCOPE_AREA_PATH", None)
    unit_lookup: str | None = getattr(model, "SCOPE_UNIT", None)
    if area_lookup is None and unit_lookup is None:
        raise TypeError(f"{model.__name__} declares neither SCOPE_AREA_PATH nor SCOPE_UNIT")

    q = Q(pk__in=[])
    if area_lookup and scope.area_paths:
        q |= _paths_q(scope.area_paths, area_lookup)
    if scope.unit_ids:
        if unit_lookup:
            # Through a to-many relation: filter by id subquery so rows are not duplicated.
            q |= Q(
                pk__in=model._default_manager.filter(
                    **{f"{unit_lookup}__in": scope.unit_ids}
                ).values("pk")
            )
        elif area_lookup:
            q |= _paths_q(scope.unit_area_paths, area_lookup)
    return queryset.filter(q)
