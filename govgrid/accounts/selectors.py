from django.db.models import Count, Q, QuerySet

from govgrid.accounts.models import Unit, User
from govgrid.accounts.scoping import scope_queryset


def unit_members(*, unit: Unit) -> QuerySet[User]:
    return unit.members.filter(is_active=True).order_by("username")


def unit_list_for_user(*, user) -> QuerySet[Unit]:
    return scope_queryset(user, Unit.objects.select_related("jurisdiction"))


def system_totals() -> dict[str, int]:
    """Counts for the admin's landing page (one query each)."""
    from grids.models import Area, AreaLevel

    per_level = dict(Area.objects.values_list("level").annotate(n=Count("pk")))
    users = User.objects.aggregate(total=Count("pk"), active=Count("pk", filter=Q(is_active=True)))
    return {
        "districts": per_level.get(AreaLevel.DISTRICT, 0),
        "streets": per_level.get(AreaLevel.STREET, 0),
        "communities": per_level.get(AreaLevel.COMMUNITY, 0),
        "grids": per_level.get(AreaLevel.GRID, 0),
        "units": Unit.objects.count(),
        "users": users["total"],
        "active_users": users["active"],
    }
