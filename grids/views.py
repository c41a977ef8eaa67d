from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from govgrid.accounts.scoping import scope_for
from grids.models import Area, AreaLevel
from grids.selectors import (
    area_children_summary,
    area_get_for_user,
    area_totals,
    grid_colleagues,
    grid_posts_for_user,
)


def _outline_source(area: Area, level: int, style: str) -> dict:
    url = reverse("api:area_outlines", args=[area.code])
    return {"url": f"{url}?level={level}", "style": style, "link": style != "self"}


def _area_map_sources(area: Area) -> list[dict]:
    if area.is_grid:
        return [_outline_source(area, area.level, "self")]
    sources = [_outline_source(area, area.level, "self")]
    if area.level + 1 < AreaLevel.GRID and area.level >= AreaLevel.STREET:
        sources.append(_outline_source(area, AreaLevel.GRID, "grid"))
    sources.append(_outline_source(area, area.level + 1, "child"))
    return sources


@login_required
def my_grids(request):
    """A grid worker's landing page: their grids, colleagues and the grids on a map."""
    posts = list(grid_posts_for_user(user=request.user))
    colleagues = grid_colleagues(grid_ids=[p.grid_id for p in posts])
    return render(
        request,
        "grids/my_grids.html",
        {
            "posts": [(p, colleagues.get(p.grid_id, [])) for p in posts],
            "map_sources": [_outline_source(p.grid, AreaLevel.GRID, "self") for p in posts],
        },
    )


@login_required
def area_detail(request, code: str):
    """A centre's view of an area: totals, children with their grids and workers, a map."""
    area = area_get_for_user(user=request.user, code=code)
    scope = scope_for(request.user)
    # Ancestors outside the user's scope are named in the breadcrumb but not linked.
    ancestors = [
        (a, scope.covers_path(a.path))
        for a in Area.objects.ancestors_of(area).only("code", "name", "level", "path")
    ]
    return render(
        request,
        "grids/area_detail.html",
        {
            "area": area,
            "ancestors": ancestors,
            "totals": area_totals(area=area) if area.level < AreaLevel.GRID else None,
            "children": area_children_summary(area=area),
            "child_level_label": AreaLevel(area.level + 1).label
            if area.level < AreaLevel.GRID
            else "",
            "map_sources": _area_map_sources(area),
            "staff": grid_colleagues(grid_ids=[area.pk]).get(area.pk, []) if area.is_grid else [],
        },
    )
