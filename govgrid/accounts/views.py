from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from govgrid.accounts.models import Role
from govgrid.accounts.selectors import system_totals, unit_members
from govgrid.audit.models import AuditEntry


@login_required
def unit_home(request):
    """A unit handler's landing page: their unit, its jurisdiction and colleagues."""
    unit = request.user.unit
    if unit is None:
        raise PermissionDenied
    return render(
        request,
        "accounts/unit_home.html",
        {"unit": unit, "jurisdiction": unit.jurisdiction, "members": list(unit_members(unit=unit))},
    )


@login_required
def admin_home(request):
    if not (request.user.has_role(Role.ADMIN) or request.user.is_superuser):
        raise PermissionDenied
    return render(
        request,
        "accounts/admin_home.html",
        {
            "totals": system_totals(),
            "recent_audit": list(AuditEntry.objects.order_by("-at")[:10]),
        },
    )


@login_required
def no_role(request):
    return render(request, "accounts/no_role.html")
