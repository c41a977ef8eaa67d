"""Reads for the loop's pages and API, always through the one scoping function."""

from __future__ import annotations

import math

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.measure import D
from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from dispatch.models import Assignment, AssignmentState, ExtensionRequest, ExtensionState
from dispatch.workflow import OPEN_STATES, State
from govgrid.accounts.scoping import scope_queryset
from incidents.models import Incident, IncidentEvent, Urgency


def incident_list_for_user(*, user) -> QuerySet[Incident]:
    """Every incident the user may see, shaped for lists (no N+1)."""
    return scope_queryset(user, Incident.objects.all()).select_related(
        "category", "category__parent", "grid", "owner_unit", "lead_unit"
    )


def incident_get_for_user(*, user, pk: int) -> Incident:
    """The incident if the user may see it; the same 404 for missing and not yours."""
    incident = (
        incident_list_for_user(user=user)
        .select_related("reporter", "duplicate_of", "grid__parent")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=IncidentEvent.objects.select_related("actor", "unit").prefetch_related(
                    "attachments"
                ),
            ),
            Prefetch("assignments", queryset=Assignment.objects.select_related("unit", "handler")),
            "attachments",
            Prefetch(
                "extension_requests",
                queryset=ExtensionRequest.objects.select_related("requested_by", "decided_by"),
            ),
            "duplicates",
        )
        .filter(pk=pk)
        .first()
    )
    if incident is None:
        raise Http404("incident not found")
    return incident


def _urgency_first(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    return qs.annotate(
        urgent_rank=Case(
            When(urgency=Urgency.URGENT, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("urgent_rank", "deadline_at", "reported_at")


def triage_inbox(*, user) -> dict[str, QuerySet[Incident]]:
    """A centre's desk: what waits for it, by column."""
    mine = incident_list_for_user(user=user).filter(owner_unit_id=user.unit_id)
    return {
        "to_accept": _urgency_first(mine.filter(state=State.REPORTED)),
        "to_dispatch": _urgency_first(mine.filter(state__in=[State.ACCEPTED, State.RETURNED])),
        "to_verify": _urgency_first(mine.filter(state=State.HANDLED)),
        "reopen_requests": mine.filter(state=State.CLOSED, reopen_requested=True),
        "extension_requests": mine.filter(
            extension_requests__state=ExtensionState.PENDING
        ).distinct(),
        "running": _urgency_first(mine.filter(state__in=[State.DISPATCHED, State.IN_PROGRESS])),
        "suspended": mine.filter(state=State.SUSPENDED),
    }


def unit_inbox(*, user) -> dict[str, QuerySet[Incident]]:
    """A unit handler's desk: to sign, in progress, returned, overdue; urgent first."""
    ours = incident_list_for_user(user=user).filter(assignments__unit_id=user.unit_id).distinct()
    now = timezone.now()
    lead = ours.filter(lead_unit_id=user.unit_id)
    return {
        "to_sign": _urgency_first(
            lead.filter(
                state=State.DISPATCHED,
                assignments__state=AssignmentState.PENDING,
                assignments__unit_id=user.unit_id,
            )
        ),
        "in_progress": _urgency_first(lead.filter(state=State.IN_PROGRESS)),
        "overdue": _urgency_first(
            lead.filter(state__in=[State.DISPATCHED, State.IN_PROGRESS], deadline_at__lt=now)
        ),
        "returned": ours.filter(
            assignments__unit_id=user.unit_id, assignments__state=AssignmentState.RETURNED
        ).order_by("-updated_at"),
        "co_handling": _urgency_first(
            ours.exclude(lead_unit_id=user.unit_id).filter(state__in=OPEN_STATES)
        ),
    }


def reports_of_user(*, user) -> QuerySet[Incident]:
    """A grid worker's own reports, newest first."""
    return incident_list_for_user(user=user).filter(reporter=user).order_by("-reported_at")


def duplicate_candidates(*, incident: Incident, limit: int = 10) -> list[Incident]:
    """Open incidents of the same category within its radius and time window, nearest first."""
    category = incident.category
    window = timezone.timedelta(hours=category.duplicate_window_hours)
    radius = category.duplicate_radius_m
    # A box in degrees that holds the circle (a degree of longitude is shorter than one of
    # latitude) lets the GiST index find candidates; the exact distance in metres decides.
    box_degrees = radius / (111_320 * max(math.cos(math.radians(incident.location.y)), 0.1))
    return list(
        Incident.objects.filter(
            category=category,
            state__in=OPEN_STATES,
            reported_at__gte=incident.reported_at - window,
            reported_at__lte=incident.reported_at + window,
            location__dwithin=(incident.location, box_degrees),
        )
        .exclude(pk=incident.pk)
        .annotate(distance=Distance("location", incident.location))
        .filter(distance__lte=D(m=radius))
        .select_related("grid")
        .order_by("distance")[:limit]
    )
