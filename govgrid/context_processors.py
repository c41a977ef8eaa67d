"""Navigation by role: every link points to a page the user may open."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from govgrid.accounts.models import (
    CENTRE_ROLES,
    DASHBOARD_ROLES,
    GRID_ROLES,
    JURISDICTION_ROLES,
    Role,
)
from govgrid.notifications.selectors import notification_unread_count


def navigation(request):
    user = getattr(request, "user", None)
    nonce = getattr(request, "csp_nonce", "")
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "csp_nonce": nonce}
    roles = set(user.roles)
    items = [(_("Home"), reverse("home"))]
    if roles & GRID_ROLES:
        items.append((_("Report"), reverse("incidents:report_new")))
        items.append((_("My reports"), reverse("incidents:my_reports")))
        items.append((_("My grids"), reverse("grids:my_grids")))
    if roles & CENTRE_ROLES:
        items.append((_("Triage"), reverse("dispatch:triage")))
    if roles & DASHBOARD_ROLES or user.is_superuser:
        items.append((_("Map dashboard"), reverse("dispatch:dashboard")))
    if roles & JURISDICTION_ROLES or Role.ADMIN in roles or user.is_superuser:
        items.append((_("Areas"), reverse("areas")))
    from residents.selectors import RESIDENT_ROLES

    if roles & RESIDENT_ROLES or user.is_superuser:
        items.append((_("Residents"), reverse("residents:index")))
    if roles & GRID_ROLES:
        items.append((_("Patrol"), reverse("grids:patrol")))
    if roles & (JURISDICTION_ROLES | {Role.GRID_LEADER, Role.ADMIN}) or user.is_superuser:
        items.append((_("Today's patrols"), reverse("grids:patrols_today")))
    if Role.UNIT_HANDLER in roles:
        items.append((_("Unit inbox"), reverse("dispatch:unit_inbox")))
        items.append((_("My unit"), reverse("accounts:unit_home")))
    if roles & {Role.LEADER, Role.ADMIN} or user.is_superuser:
        items.append((_("Monthly assessment"), reverse("dispatch:assessment_home")))
    if user.is_staff:
        items.append((_("Administration"), reverse("admin:index")))
    return {
        "csp_nonce": nonce,
        "nav_items": items,
        # The header badge: one COUNT on the (recipient, read_at) index per page.
        "unread_notifications": notification_unread_count(user=user),
        "map_config": {
            "provider": settings.MAP_TILE_PROVIDER,
            "tiandituKey": settings.TIANDITU_KEY,
            "center": settings.MAP_DEFAULT_CENTER,
        },
    }
