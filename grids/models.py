"""The area tree (city > district > street > community > grid) and grid staffing.

Subtree and ancestor queries are index backed: every area stores its materialised path of
codes (`420100.420103.420103001...`) with a `varchar_pattern_ops` index, so "everything under
this street" is one prefix scan and "this grid's ancestors" is one `code IN (...)` lookup.
"""

from datetime import date

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.geos import Point
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govgrid.lib.models import TimeStampedModel


class AreaLevel(models.IntegerChoices):
    CITY = 1, _("City")
    DISTRICT = 2, _("District")
    STREET = 3, _("Street")
    COMMUNITY = 4, _("Community")
    GRID = 5, _("Grid")


# Length of a code at each level. City and district codes are 6-digit administrative
# division codes (GB/T 2260); below the district each level appends 3 digits, so a grid
# code is the 15-digit form 6 district + 3 street + 3 community + 3 sequence.
CODE_LENGTH = {
    AreaLevel.CITY: 6,
    AreaLevel.DISTRICT: 6,
    AreaLevel.STREET: 9,
    AreaLevel.COMMUNITY: 12,
    AreaLevel.GRID: 15,
}
PATH_SEPARATOR = "."


class GridType(models.TextChoices):
    BASIC = "basic", _("Basic grid")
    DEDICATED = "dedicated", _("Dedicated grid")


class AreaQuerySet(models.QuerySet):
    def active(self, on: date | None = None) -> "AreaQuerySet":
        on = on or timezone.localdate()
        return self.filter(valid_from__lte=on).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on))

    def grids(self) -> "AreaQuerySet":
        return self.filter(level=AreaLevel.GRID)

    def subtree_of(self, area: "Area", *, include_self: bool = True) -> "AreaQuerySet":
        below = Q(path__startswith=area.path + PATH_SEPARATOR)
        return self.filter(below | Q(pk=area.pk) if include_self else below)

    def ancestors_of(self, area: "Area", *, include_self: bool = False) -> "AreaQuerySet":
        codes = area.path.split(PATH_SEPARATOR)
        if not include_self:
            codes = codes[:-1]
        return self.filter(code__in=codes).order_by("level")

    def containing(self, point: Point) -> "AreaQuerySet":
        """Grids whose boundary covers the point (ST_Covers, GiST-indexed).

        Covers rather than contains: a point exactly on the edge between two grids belongs
        to both, not to neither; callers take the first by code.
        """
        return self.grids().filter(boundary__covers=point).order_by("code")


class Area(TimeStampedModel):
    level = models.PositiveSmallIntegerField(_("level"), choices=AreaLevel.choices)
    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    # Dotted codes from the root to this node; written by grids.services only.
    path = models.CharField(_("path"), max_length=80, unique=True, editable=False)
    grid_type = models.CharField(
        _("grid type"), max_length=16, choices=GridType.choices, blank=True, default=""
    )
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)
    valid_from = models.DateField(_("valid from"), default=date(2020, 1, 1))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = AreaQuerySet.as_manager()

    # How govgrid.accounts.scoping.scope_queryset reaches this model's area.
    SCOPE_AREA_PATH = "path"

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        # `path` is unique, so PostgreSQL also gets a varchar_pattern_ops index on it
        # (Django's "_like" index): that is the one prefix (subtree) queries use.
        indexes = [models.Index(fields=["level", "parent"], name="area_level_parent_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(level=AreaLevel.GRID) | Q(grid_type=""),
                name="area_grid_type_only_on_grids",
            ),
            models.CheckConstraint(
                condition=Q(level=AreaLevel.CITY, parent__isnull=True)
                | Q(level__gt=AreaLevel.CITY, parent__isnull=False),
                name="area_parent_matches_level",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="area_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_grid(self) -> bool:
        return self.level == AreaLevel.GRID

    @property
    def ancestor_codes(self) -> list[str]:
        return self.path.split(PATH_SEPARATOR)[:-1]


class StaffRole(models.TextChoices):
    WORKER = "worker", _("Grid worker")
    LEADER = "leader", _("Grid leader")
    VOLUNTEER = "volunteer", _("Volunteer")


class GridStaff(TimeStampedModel):
    """Who works in a grid: one or more workers (一格一员、专兼结合), a leader, volunteers."""

    grid = models.ForeignKey(
        Area,
        on_delete=models.CASCADE,
        related_name="staff",
        limit_choices_to={"level": AreaLevel.GRID},
        verbose_name=_("grid"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="grid_posts",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=16, choices=StaffRole.choices)
    is_full_time = models.BooleanField(_("full time"), default=True)
    since = models.DateField(_("since"), default=date(2020, 1, 1))
    until = models.DateField(_("until"), null=True, blank=True)

    SCOPE_AREA_PATH = "grid__path"

    class Meta:
        verbose_name = _("grid staff")
        verbose_name_plural = _("grid staff")
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "user", "role"],
                condition=Q(until__isnull=True),
                name="gridstaff_one_current_post",
            ),
            models.UniqueConstraint(
                fields=["grid"],
                condition=Q(until__isnull=True, role="leader"),
                name="gridstaff_one_current_leader",
            ),
        ]
        indexes = [models.Index(fields=["user", "until"], name="gridstaff_user_idx")]

    def __str__(self) -> str:
        return f"{self.grid} · {self.get_role_display()} · {self.user}"


class Patrol(TimeStampedModel):
    """巡查: a grid worker's walk through a grid, started and stopped on the phone.

    Positions arrive as `PatrolPoint` rows (queued on the phone while offline, so they may
    arrive late and out of order); `grids.patrols` rebuilds the track, ordered by the phone's
    time, with its distance and duration after each batch and on stop.
    """

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="patrols",
        verbose_name=_("grid worker"),
    )
    grid = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        related_name="patrols",
        limit_choices_to={"level": AreaLevel.GRID},
        verbose_name=_("grid"),
    )
    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    track = models.LineStringField(_("track"), srid=4326, null=True, blank=True)
    distance_m = models.FloatField(_("distance (m)"), default=0)
    duration_s = models.PositiveIntegerField(_("duration (s)"), default=0)
    point_count = models.PositiveIntegerField(_("positions"), default=0)
    # Share of the grid's area within PATROL_REACH_M of the track (0–1), for the review.
    coverage = models.FloatField(_("coverage of the grid"), default=0)

    SCOPE_AREA_PATH = "grid__path"

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["worker"], condition=Q(ended_at__isnull=True), name="patrol_one_running"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="patrol_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["worker", "started_at"], name="patrol_worker_start_idx")]

    def __str__(self) -> str:
        return f"{self.worker} · {self.grid} · {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_running(self) -> bool:
        return self.ended_at is None


class PatrolPoint(models.Model):
    """One position of a running patrol, as the phone measured it."""

    patrol = models.ForeignKey(
        Patrol, on_delete=models.CASCADE, related_name="points", verbose_name=_("patrol")
    )
    at = models.DateTimeField(_("time"))
    location = models.PointField(_("location"), srid=4326, spatial_index=False)
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)

    class Meta:
        verbose_name = _("patrol position")
        verbose_name_plural = _("patrol positions")
        ordering = ["at"]
        constraints = [
            # A position re-sent after a lost answer is the same position.
            models.UniqueConstraint(fields=["patrol", "at"], name="patrolpoint_once")
        ]


class PatrolReport(models.Model):
    """An incident filed while the reporter's patrol was running (linked at filing)."""

    patrol = models.ForeignKey(
        Patrol, on_delete=models.CASCADE, related_name="reports", verbose_name=_("patrol")
    )
    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="patrol_link",
        verbose_name=_("incident"),
    )

    class Meta:
        verbose_name = _("report during a patrol")
        verbose_name_plural = _("reports during patrols")
