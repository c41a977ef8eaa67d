"""Patrol pages: the grid worker's start/stop page and today's tracks for leaders."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from govgrid.accounts.models import GRID_ROLES
from grids import patrols
from residents.selectors import can_use_residents


@login_required
def patrol(request):
    """The phone page: start or stop, with the running patrol's figures."""
    if not request.user.has_role(*GRID_ROLES):
        raise PermissionDenied
    return render(
        request, "grids/patrol.html", {"running": patrols.patrol_running_for(request.user)}
    )


@login_required
def patrols_today(request):
    """Today's patrols in the user's area on a map, with a table of the figures."""
    if not can_use_residents(request.user):
        raise PermissionDenied
    rows = list(patrols.patrols_today_for_user(user=request.user))
    return render(request, "grids/patrols_today.html", {"rows": rows})
