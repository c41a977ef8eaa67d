"""Categories, incidents, their attachments and their history.

The incident row keeps its current values (state, owner centre, lead unit, deadlines) for
fast queries; everything that happened to it is an `IncidentEvent` row, appended and never
edited. Only services in `incidents.services` and `dispatch.services` write these models.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govgrid.lib.models import TimeStampedModel
from grids.models import AreaLevel


class DeadlineUnit(models.TextChoices):
    WORKDAY = "workday", _("working days")
    HOUR = "hour", _("hours")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class RiskColour(models.TextChoices):
    """Four-colour dispute risk grading (红橙黄绿)."""

    NONE = "", _("Not graded")
    RED = "red", _("Red")
    ORANGE = "orange", _("Orange")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")


class WarningLevel(models.TextChoices):
    """The colour of a running phase, calm to hottest; the order of the choices is the rank."""

    NONE = "", _("No warning")
    BLUE = "blue", _("Blue warning")
    YELLOW = "yellow", _("Yellow warning")
    RED = "red", _("Red warning")
    # Automatic supervision (督办) after further delays past the deadline.
    YELLOW_CARD = "yellow_card", _("Yellow supervision card")
    RED_CARD = "red_card", _("Red supervision card")


class Category(TimeStampedModel):
    """A two-level tree: big categories (大类) hold small ones (小类) with their defaults."""

    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("big category"),
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    public_name = models.CharField(
        _("public name"), max_length=64, blank=True, help_text=_("Shown to residents.")
    )
    is_public = models.BooleanField(_("on the public form"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)
    # Defaults of a small category (ignored on big ones).
    handling_level = models.PositiveSmallIntegerField(
        _("handling level"),
        choices=[(lv, label) for lv, label in AreaLevel.choices if lv != AreaLevel.GRID],
        default=AreaLevel.STREET,
    )
    urgency = models.CharField(
        _("default urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    deadline_unit = models.CharField(
        _("deadline unit"), max_length=8, choices=DeadlineUnit.choices, default=DeadlineUnit.WORKDAY
    )
    signin_limit = models.PositiveSmallIntegerField(_("sign-in limit"), default=1)
    handle_limit = models.PositiveSmallIntegerField(_("handling limit"), default=5)
    verify_limit = models.PositiveSmallIntegerField(_("verification limit"), default=2)
    duplicate_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=100)
    duplicate_window_hours = models.PositiveIntegerField(_("duplicate window (hours)"), default=72)
    # Warning thresholds of a running phase (dispatch.warnings), in percent of its time limit.
    blue_percent = models.PositiveSmallIntegerField(
        _("blue warning at (percent of the time)"), default=50
    )
    yellow_percent = models.PositiveSmallIntegerField(
        _("yellow warning at (percent of the time)"), default=80
    )
    yellow_card_days = models.PositiveSmallIntegerField(
        _("yellow card after (working days overdue)"), default=1
    )
    red_card_days = models.PositiveSmallIntegerField(
        _("red card after (working days overdue)"), default=3
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(signin_limit__gt=0) & Q(handle_limit__gt=0) & Q(verify_limit__gt=0),
                name="category_limits_positive",
            ),
            models.CheckConstraint(
                condition=Q(blue_percent__gt=0)
                & Q(blue_percent__lt=F("yellow_percent"))
                & Q(yellow_percent__lte=100),
                name="category_warning_percents",
                violation_error_message=_(
                    "The warning thresholds must satisfy 0 < blue < yellow ≤ 100 (percent)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(yellow_card_days__lte=F("red_card_days")),
                name="category_card_days_ordered",
                violation_error_message=_("The red card cannot come before the yellow card."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def clean(self) -> None:
        """Warning thresholds: 0 < blue < yellow ≤ 100 %, and the red card after the yellow."""
        super().clean()
        errors: dict[str, str] = {}
        for field in ("blue_percent", "yellow_percent"):
            value = getattr(self, field)
            if value is not None and value > 100:
                errors[field] = _("A warning threshold cannot be above 100 percent.")
            elif value == 0:
                errors[field] = _("A warning threshold must be above 0 percent.")
        if (
            not errors
            and self.blue_percent is not None
            and self.yellow_percent is not None
            and self.blue_percent >= self.yellow_percent
        ):
            errors["yellow_percent"] = _(
                "The yellow warning must come later than the blue one: give it more than "
                "%(blue)s percent."
            ) % {"blue": self.blue_percent}
        if (
            self.yellow_card_days is not None
            and self.red_card_days is not None
            and self.red_card_days < self.yellow_card_days
        ):
            errors["red_card_days"] = _(
                "The red card cannot come before the yellow card (%(days)s working days)."
            ) % {"days": self.yellow_card_days}
        if errors:
            raise ValidationError(errors)

    @property
    def is_big(self) -> bool:
        return self.parent_id is None


class Channel(models.TextChoices):
    GRID_WORKER = "grid", _("Grid worker report")
    RESIDENT = "resident", _("Resident (QR portal)")
    HOTLINE = "hotline", _("12345 hotline")
    PETITION = "petition", _("Online petition")
    VIDEO = "video", _("Video patrol")
    LEADER = "leader", _("Leader instruction")
    OPEN311 = "open311", _("Open311 client")


# Prefix of the readable incident number per channel (e.g. WG-20261122-000123).
CHANNEL_PREFIX = {
    Channel.GRID_WORKER: "WG",
    Channel.RESIDENT: "JM",
    Channel.HOTLINE: "RX",
    Channel.PETITION: "XF",
    Channel.VIDEO: "SP",
    Channel.LEADER: "LD",
    Channel.OPEN311: "OP",
}


class LocationSource(models.TextChoices):
    GPS = "gps", _("Phone GPS")
    MAP = "map", _("Picked on the map")
    ADDRESS = "address", _("Address")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class Incident(TimeStampedModel):
    number = models.CharField(_("number"), max_length=24, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("category")
    )
    description = models.TextField(_("description"))
    location = models.PointField(_("location"), srid=4326)
    location_source = models.CharField(
        _("location source"),
        max_length=8,
        choices=LocationSource.choices,
        default=LocationSource.GPS,
    )
    # The datum the position arrived in (WGS-84 / GCJ-02 / BD-09); stored converted to WGS-84.
    source_datum = models.CharField(_("source datum"), max_length=8, default="wgs84")
    address = models.CharField(_("address"), max_length=200, blank=True)
    grid = models.ForeignKey(
        "grids.Area", on_delete=models.PROTECT, related_name="incidents", verbose_name=_("grid")
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_incidents",
        verbose_name=_("reporter"),
    )
    reporter_name = models.CharField(_("reporter name"), max_length=64, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=20, blank=True)
    parties = models.TextField(_("parties involved"), blank=True)
    amount = models.DecimalField(
        _("amount involved (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    people_count = models.PositiveIntegerField(_("people involved"), null=True, blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    risk_colour = models.CharField(
        _("risk colour"), max_length=8, choices=RiskColour.choices, blank=True, default=""
    )
    is_self_handled = models.BooleanField(_("handled on the spot"), default=False)
    result = models.TextField(_("result"), blank=True)

    # Current values, kept by the services for fast queries.
    state = models.CharField(_("state"), max_length=16, db_index=True)
    owner_unit = models.ForeignKey(
        "accounts.Unit",
        on_delete=models.PROTECT,
        related_name="owned_incidents",
        verbose_name=_("owning centre"),
    )
    lead_unit = models.ForeignKey(
        "accounts.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_incidents",
        verbose_name=_("lead unit"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    # The running phase (signin / handle / verify, or "" when none runs) and its deadline.
    phase = models.CharField(_("phase"), max_length=8, blank=True, default="")
    phase_started_at = models.DateTimeField(_("phase started at"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True, db_index=True)
    original_deadline_at = models.DateTimeField(_("original deadline"), null=True, blank=True)
    # While suspended: the state to return to and the phase time left (seconds of working time).
    suspended_state = models.CharField(max_length=16, blank=True, default="")
    suspended_remaining = models.BigIntegerField(null=True, blank=True)
    # The phase's colour and when it next changes, kept by dispatch.warnings: the scan reads
    # only the rows whose next_warning_at has come (partial index below).
    warning_level = models.CharField(
        _("warning"), max_length=12, choices=WarningLevel.choices, blank=True, default=""
    )
    next_warning_at = models.DateTimeField(
        _("next warning at"), null=True, blank=True, db_index=True
    )
    reported_at = models.DateTimeField(_("reported at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rating = models.CharField(_("rating"), max_length=16, choices=Rating.choices, blank=True)
    reopen_requested = models.BooleanField(_("reopen requested"), default=False)

    SCOPE_AREA_PATH = "grid__path"
    SCOPE_UNIT = "assignments__unit"

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-reported_at"]
        indexes = [
            models.Index(fields=["state", "owner_unit"], name="incident_state_owner_idx"),
            models.Index(fields=["lead_unit", "state"], name="incident_lead_state_idx"),
            models.Index(fields=["category", "state", "reported_at"], name="incident_dup_idx"),
            models.Index(fields=["reporter", "reported_at"], name="incident_reporter_idx"),
            # Closed per day (dashboard charts) and closed this month (counters, assessment).
            models.Index(fields=["closed_at"], name="incident_closed_at_idx"),
            models.Index(
                fields=["next_warning_at"],
                condition=Q(next_warning_at__isnull=False),
                name="incident_warning_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class IncidentEvent(models.Model):
    """One thing that happened to an incident. Appended, never edited."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="events", verbose_name=_("incident")
    )
    # Set by the services (which may act "as of" a given time, e.g. the demo generator).
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=24)
    from_state = models.CharField(_("from state"), max_length=16, blank=True)
    to_state = models.CharField(_("to state"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    unit = models.ForeignKey(
        "accounts.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit"),
    )
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("incident event")
        verbose_name_plural = _("incident history")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["incident", "at"], name="event_incident_at_idx")]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.action}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"incidents/{instance.incident.reported_at:%Y/%m}/{instance.incident.number}/{filename}"


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    EVIDENCE = "evidence", _("Result evidence")
    FILE = "file", _("File")


class Attachment(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("incident")
    )
    event = models.ForeignKey(
        IncidentEvent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("event"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=AttachmentKind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=64)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.file.name
