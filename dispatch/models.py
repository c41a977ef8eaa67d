"""Dispatch: assignments to units, extension requests, routing rules, the working-day calendar."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govgrid.lib.models import TimeStampedModel
from incidents.models import Channel, Urgency


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead unit")
    CO = "co", _("Co-unit")


class AssignmentState(models.TextChoices):
    PENDING = "pending", _("Waiting for sign-in")
    SIGNED = "signed", _("Signed")
    RETURNED = "returned", _("Returned")
    DONE = "done", _("Done")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Assignment(TimeStampedModel):
    """One unit's part in one dispatch of an incident (lead 主办 or co-unit 协办)."""

    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name=_("incident"),
    )
    unit = models.ForeignKey(
        "accounts.Unit",
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("unit"),
    )
    role = models.CharField(_("role"), max_length=8, choices=AssignmentRole.choices)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name=_("first handler"),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=AssignmentState.choices, default=AssignmentState.PENDING
    )
    # 吹哨报到: a street summoning a district department, with a short sign-in limit.
    is_whistle = models.BooleanField(_("whistle (吹哨)"), default=False)
    signin_deadline_at = models.DateTimeField(_("sign-in deadline"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    SCOPE_AREA_PATH = "incident__grid__path"
    SCOPE_UNIT = "unit"

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(role="lead") & Q(state__in=["pending", "signed"]),
                name="assignment_one_active_lead",
            )
        ]
        indexes = [models.Index(fields=["unit", "state"], name="assignment_unit_state_idx")]

    def __str__(self) -> str:
        return f"{self.incident} → {self.unit} ({self.get_role_display()})"


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    # The handling phase ended (result reported, returned, cancelled…) before a decision.
    LAPSED = "lapsed", _("Lapsed")


class ExtensionRequest(TimeStampedModel):
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="extension_requests",
        verbose_name=_("incident"),
    )
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    days = models.PositiveSmallIntegerField(_("working days asked"))
    reason = models.TextField(_("reason"))
    state = models.CharField(
        _("state"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    deadline_before = models.DateTimeField(_("deadline before"))
    deadline_after = models.DateTimeField(_("deadline after"), null=True, blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(state="pending"),
                name="extension_one_pending",
            ),
            models.CheckConstraint(condition=Q(days__gt=0), name="extension_days_positive"),
        ]


class RoutingRule(TimeStampedModel):
    """Ordered, first match wins: conditions → unit(s), and whether to dispatch at once."""

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveIntegerField(
        _("priority"), default=100, help_text=_("Lower runs first.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    categories = models.ManyToManyField(
        "incidents.Category",
        blank=True,
        related_name="+",
        verbose_name=_("categories (with their small categories)"),
    )
    areas = models.ManyToManyField(
        "grids.Area", blank=True, related_name="+", verbose_name=_("areas (with everything below)")
    )
    channels = ArrayField(
        models.CharField(max_length=16, choices=Channel.choices),
        default=list,
        blank=True,
        verbose_name=_("channels"),
    )
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, blank=True, default=""
    )
    lead_unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("lead unit")
    )
    co_units = models.ManyToManyField(
        "accounts.Unit", blank=True, related_name="+", verbose_name=_("co-units")
    )
    handle_limit = models.PositiveSmallIntegerField(
        _("handling limit override"), null=True, blank=True
    )
    auto_dispatch = models.BooleanField(_("dispatch automatically"), default=False)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["priority", "pk"]

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """One day of the working-day calendar: holidays and make-up working days (调休)."""

    date = models.DateField(_("date"), primary_key=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("working-day calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'workday' if self.is_workday else 'rest day'}"


# The monthly assessment's models live in their own module (dispatch/assessment/models.py).
from dispatch.assessment.models import *  # noqa: E402, F403
