"""Users, their roles, and the organisation units they belong to."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from govgrid.lib.models import TimeStampedModel
from grids.models import AreaLevel


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker")
    GRID_LEADER = "grid_leader", _("Grid leader")
    COMMUNITY_STATION = "community_station", _("Community station")
    STREET_CENTRE = "street_centre", _("Street centre")
    DISTRICT_CENTRE = "district_centre", _("District centre")
    UNIT_HANDLER = "unit_handler", _("Unit handler")
    LEADER = "leader", _("Leader")
    ADMIN = "admin", _("Administrator")


# The triage desks: community stations and street and district centres.
CENTRE_ROLES = frozenset({Role.COMMUNITY_STATION, Role.STREET_CENTRE, Role.DISTRICT_CENTRE})
# Roles whose scope is the jurisdiction of their unit (a centre's area).
JURISDICTION_ROLES = CENTRE_ROLES | {Role.LEADER}
# Roles whose scope is the grids they staff.
GRID_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_LEADER})
# Roles that open the centre's map dashboard (leaders read it; their actions are few).
DASHBOARD_ROLES = JURISDICTION_ROLES | {Role.ADMIN}


class UnitKind(models.TextChoices):
    CENTRE = "centre", _("Centre")
    DEPARTMENT = "department", _("Functional department")


class Unit(TimeStampedModel):
    """An organisation unit: a centre at some level or a functional department.

    Its jurisdiction is an area subtree: a street centre's is its street, a district
    department's its district.
    """

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    # The level of the area the unit works at (city, district, street, community).
    level = models.PositiveSmallIntegerField(_("level"), choices=AreaLevel.choices)
    jurisdiction = models.ForeignKey(
        "grids.Area",
        on_delete=models.PROTECT,
        related_name="units",
        verbose_name=_("jurisdiction"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    head = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_units",
        verbose_name=_("head"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    SCOPE_AREA_PATH = "jurisdiction__path"
    # A unit handler sees their own unit only.
    SCOPE_UNIT = "pk"

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        ordering = ["code"]
        indexes = [models.Index(fields=["kind", "level"])]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("unit"),
    )
    roles = ArrayField(
        models.CharField(max_length=32, choices=Role.choices),
        default=list,
        blank=True,
        verbose_name=_("roles"),
    )
    # Extra areas beyond the unit's jurisdiction (e.g. a leader covering two streets).
    scope_areas = models.ManyToManyField(
        "grids.Area", blank=True, related_name="+", verbose_name=_("extra scope areas")
    )

    objects = UserManager()

    SCOPE_AREA_PATH = "unit__jurisdiction__path"
    # A unit handler sees their colleagues only.
    SCOPE_UNIT = "unit"

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["unit"])]

    def __str__(self) -> str:
        return self.full_name or self.username

    def has_role(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))

    @property
    def primary_role(self) -> str | None:
        """The role that decides the landing page: the broadest one the user holds."""
        for role in Role.values[::-1]:
            if role in self.roles:
                return role
        return None

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in self.roles if r in Role.values]
