"""Intake: every channel files an incident through `incident_report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govgrid.accounts.models import CENTRE_ROLES, Role, Unit, UnitKind
from govgrid.accounts.scoping import scope_queryset
from govgrid.lib.errors import DomainError
from grids.models import PATH_SEPARATOR, Area, AreaLevel
from grids.patrols import patrol_link_report
from incidents.models import (
    CHANNEL_PREFIX,
    Attachment,
    AttachmentKind,
    Category,
    Channel,
    Incident,
    IncidentEvent,
    LocationSource,
    RiskColour,
    Urgency,
)


@dataclass
class ReportInput:
    """What a report carries, already shape-checked by a form or serializer."""

    category: Category
    description: str
    lon: float
    lat: float
    channel: str = Channel.GRID_WORKER
    location_source: str = LocationSource.GPS
    address: str = ""
    parties: str = ""
    amount: Decimal | None = None
    people_count: int | None = None
    urgency: str = ""
    risk_colour: str = RiskColour.NONE
    reporter_name: str = ""
    reporter_phone: str = ""
    is_self_handled: bool = False
    result: str = ""
    # (file, content type) pairs, already checked by incidents.uploads.clean_photo.
    photos: list = field(default_factory=list)
    evidence: list = field(default_factory=list)
    reported_at: datetime | None = None


# Day sequences this process has seen committed (saves a DDL round trip per report).
_known_sequences: set[str] = set()


def incident_number_next(*, channel: str, on: datetime) -> str:
    """A readable number such as WG-20261122-000123, counted per day.

    One PostgreSQL sequence per day: nextval() takes no row lock and is never rolled back,
    so concurrent reports never wait on each other (a rolled-back report leaves a gap).
    """
    day = timezone.localtime(on).strftime("%Y%m%d")
    seq = f"incident_no_{day}"
    with connection.cursor() as cursor:
        if seq not in _known_sequences:
            try:
                with transaction.atomic():
                    cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {seq}")
            except IntegrityError:
                pass  # another transaction created it at the same moment
            # Remembered only once committed: a rolled-back transaction takes the DDL with it.
            transaction.on_commit(lambda: _known_sequences.add(seq))
        cursor.execute("SELECT nextval(%s)", [seq])
        n = cursor.fetchone()[0]
    return f"{CHANNEL_PREFIX[channel]}-{day}-{n:06d}"


def grid_for_report(*, user, lon: float, lat: float, channel: str) -> Area:
    """The grid that contains the point, among the grids this reporter may report in.

    Residents and hotline entries may name any grid of the deployment (hotline staff type in
    what the caller says, but only inside their own area); grid workers only their grids.
    """
    point = Point(lon, lat, srid=4326)
    grids = Area.objects.active().containing(point)
    if user is not None and user.is_authenticated and channel != Channel.RESIDENT:
        grids = scope_queryset(user, grids)
    grid = grids.select_related("parent").first()
    if grid is None:
        raise DomainError(
            _("This position is outside every grid you may report in."), code="outside_grids"
        )
    return grid


def owner_centre_for(*, grid: Area, level: int) -> Unit:
    """The centre that triages incidents of this grid at `level`, or the nearest above it."""
    codes = grid.path.split(PATH_SEPARATOR)  # city, district, street, community, grid
    centres = {
        u.level: u
        for u in Unit.objects.filter(
            kind=UnitKind.CENTRE, is_active=True, jurisdiction__code__in=codes
        ).select_related("jurisdiction")
    }
    for lv in range(min(level, AreaLevel.COMMUNITY), AreaLevel.CITY - 1, -1):
        if lv in centres:
            return centres[lv]
    raise DomainError(_("No centre covers this grid; ask an administrator."), code="no_centre")


# The channels a centre desk enters on behalf of someone else, in the order the form offers.
DESK_CHANNELS = (Channel.HOTLINE, Channel.PETITION, Channel.VIDEO, Channel.LEADER)
PUBLIC_CHANNELS = frozenset({Channel.RESIDENT, Channel.OPEN311})


def _check_channel(channel: str, actor) -> None:
    """Grid staff report as grid workers; centre desks enter the other channels; the public
    channels need no account."""
    if channel in PUBLIC_CHANNELS:
        return
    allowed = actor is not None and (
        (channel == Channel.GRID_WORKER and actor.has_role(Role.GRID_WORKER, Role.GRID_LEADER))
        or (channel in DESK_CHANNELS and actor.has_role(*CENTRE_ROLES))
    )
    if not allowed:
        raise DomainError(_("You may not file reports on this channel."), code="channel")


def _check_category(category: Category) -> None:
    if category.is_big or not category.is_active:
        raise DomainError(_("Pick an active small category."), code="category")


@transaction.atomic
def incident_report(*, data: ReportInput, actor=None) -> Incident:
    """File an incident from any channel and record who did it.

    Validates the business rules (small active category, a grid the reporter may report in,
    a result and evidence when handled on the spot), resolves the grid with PostGIS, gives
    the incident its number and owning centre, stores the photos, and appends the first
    history row. A report handled on the spot goes straight to verification; otherwise the
    routing rules may dispatch it at once (自动交办).
    """
    from dispatch import services as dispatch_services
    from dispatch.workflow import State

    if actor is not None and not actor.is_authenticated:
        actor = None
    _check_channel(data.channel, actor)
    _check_category(data.category)
    if data.is_self_handled and not (data.result.strip() and data.evidence):
        raise DomainError(
            _("A report handled on the spot needs the result and an evidence photo."),
            code="self_handled",
        )
    if data.is_self_handled and not (actor and actor.has_role(Role.GRID_WORKER, Role.GRID_LEADER)):
        raise DomainError(_("Only grid staff handle reports on the spot."), code="self_handled")
    grid = grid_for_report(user=actor, lon=data.lon, lat=data.lat, channel=data.channel)
    now = data.reported_at or timezone.now()
    owner = owner_centre_for(grid=grid, level=data.category.handling_level)
    incident = Incident.objects.create(
        number=incident_number_next(channel=data.channel, on=now),
        channel=data.channel,
        category=data.category,
        description=data.description.strip(),
        location=Point(data.lon, data.lat, srid=4326),
        location_source=data.location_source,
        address=data.address,
        grid=grid,
        reporter=actor,
        reporter_name=data.reporter_name or (actor.full_name if actor else ""),
        reporter_phone=data.reporter_phone,
        parties=data.parties,
        amount=data.amount,
        people_count=data.people_count,
        urgency=data.urgency or data.category.urgency or Urgency.NORMAL,
        risk_colour=data.risk_colour,
        is_self_handled=data.is_self_handled,
        result=data.result if data.is_self_handled else "",
        state=State.REPORTED,
        owner_unit=owner,
        reported_at=now,
    )
    event = IncidentEvent.objects.create(
        incident=incident,
        at=now,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action="report",
        to_state=State.REPORTED,
        note=data.description.strip()[:500],
        unit=owner,
        data={"channel": data.channel, "grid": grid.code},
    )
    attach_files(incident, event, data.photos, AttachmentKind.PHOTO, actor)
    if data.is_self_handled:
        dispatch_services.incident_self_handled(
            incident=incident, actor=actor, result=data.result, evidence=data.evidence, now=now
        )
    else:
        dispatch_services.incident_route(incident=incident, now=now)
    # A grid worker's report filed while their patrol runs counts for that patrol.
    patrol_link_report(incident=incident, actor=actor)
    return incident


def attach_files(incident, event, files, kind, actor) -> None:
    """Store checked files (see incidents.uploads) on the incident, tied to one history row."""
    for content, content_type in files:
        Attachment.objects.create(
            incident=incident,
            event=event,
            kind=kind,
            file=content,
            content_type=content_type,
            size=content.size,
            uploaded_by=actor if actor is not None and actor.is_authenticated else None,
        )
