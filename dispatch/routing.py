"""Routing rules: ordered, first match wins (category subtree, area subtree, channel, urgency)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from dispatch.models import RoutingRule
from grids.models import PATH_SEPARATOR
from incidents.models import Incident


def rule_for(incident: Incident) -> RoutingRule | None:
    """The first active rule whose conditions all hold for the incident (one query).

    An empty condition matches everything; a category condition naming a big category
    covers its small ones; an area condition covers everything below the area.
    """
    category_ids = [incident.category_id, incident.category.parent_id]
    ancestor_codes = incident.grid.path.split(PATH_SEPARATOR)
    Cat = RoutingRule.categories.through
    Ar = RoutingRule.areas.through
    any_cat = Cat.objects.filter(routingrule_id=OuterRef("pk"))
    any_area = Ar.objects.filter(routingrule_id=OuterRef("pk"))
    return (
        RoutingRule.objects.filter(is_active=True, lead_unit__is_active=True)
        .filter(Q(channels=[]) | Q(channels__contains=[incident.channel]))
        .filter(Q(urgency="") | Q(urgency=incident.urgency))
        .filter(
            ~Exists(any_cat)
            | Exists(any_cat.filter(category_id__in=[c for c in category_ids if c]))
        )
        .filter(~Exists(any_area) | Exists(any_area.filter(area__code__in=ancestor_codes)))
        .select_related("lead_unit")
        .order_by("priority", "pk")
        .first()
    )
