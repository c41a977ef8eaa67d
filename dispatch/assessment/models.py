"""Assessment schemes (data, edited by admins) and the months computed from them.

A month is an `AssessmentRun`: computed as a draft, adjusted, then published. A published
run and its `AssessmentResult` rows are never changed again (the services refuse); a
correction is a new run of the same month with a higher version and a reason, and publishing
it marks the old one superseded, which is kept.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govgrid.accounts.models import UnitKind
from govgrid.lib.models import TimeStampedModel
from grids.models import AreaLevel

__all__ = [
    "AssessmentAdjustment",
    "AssessmentResult",
    "AssessmentRun",
    "AssessmentScheme",
    "SchemeGroup",
    "SchemeItem",
]


class SubjectKind(models.TextChoices):
    UNIT = "unit", _("Units")
    WORKER = "worker", _("Grid workers")
    AREA = "area", _("Areas")


class SchemeMethod(models.TextChoices):
    # 三率: rates with weights summing to 100 %, plus optional bonus/deduction items.
    WEIGHTED = "weighted", _("Weighted rates")
    # 基准分: a base score with deductions and bonuses (e.g. 100 − 5 per yellow card).
    BASE = "base", _("Base score with deductions and bonuses")


class AssessmentScheme(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100)
    subject_kind = models.CharField(_("assessed"), max_length=8, choices=SubjectKind.choices)
    method = models.CharField(_("method"), max_length=8, choices=SchemeMethod.choices)
    base_score = models.DecimalField(
        _("base score"),
        max_digits=6,
        decimal_places=2,
        default=100,
        help_text=_("Used by the base-score method; a scheme is written on a 100-point scale."),
    )
    min_cases = models.PositiveIntegerField(
        _("minimum number of cases to be ranked"),
        default=1,
        help_text=_("Below it a subject is listed with its figures but not ranked."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("explanation"), blank=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        ordering = ["sort", "pk"]

    def __str__(self) -> str:
        return self.name


class ItemKind(models.TextChoices):
    WEIGHT = "weight", _("Weighted rate")
    POINTS = "points", _("Points from a formula")


class SchemeItem(models.Model):
    """One line of a scheme: a weighted rate, or points from a formula with a cap."""

    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.CASCADE, related_name="items", verbose_name=_("scheme")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=ItemKind.choices)
    indicator = models.CharField(
        _("rate indicator"), max_length=40, blank=True, help_text=_("For a weighted rate.")
    )
    weight = models.DecimalField(
        _("weight (percent)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    formula = models.CharField(
        _("formula"),
        max_length=300,
        blank=True,
        help_text=_(
            "Points, e.g. “-5 * yellow_cards” or “min(results_on_time, 20)”: indicator codes, "
            "numbers, + − × ÷, min() and max()."
        ),
    )
    cap = models.DecimalField(
        _("cap (points)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The most points the item may add or take away."),
    )
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scheme item")
        verbose_name_plural = _("scheme items")
        ordering = ["sort", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gt=0), name="schemeitem_cap_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SchemeGroup(models.Model):
    """Subjects ranked together, with their full marks (e.g. streets out of 150)."""

    scheme = models.ForeignKey(
        AssessmentScheme,
        on_delete=models.CASCADE,
        related_name="groups",
        verbose_name=_("scheme"),
    )
    name = models.CharField(_("name"), max_length=100)
    full_marks = models.DecimalField(_("full marks"), max_digits=6, decimal_places=2, default=100)
    # Which subjects belong here: units by kind and level, areas by level; workers all.
    unit_kind = models.CharField(
        _("unit kind"), max_length=16, choices=UnitKind.choices, blank=True
    )
    level = models.PositiveSmallIntegerField(
        _("level"), choices=AreaLevel.choices, null=True, blank=True
    )
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("ranking group")
        verbose_name_plural = _("ranking groups")
        ordering = ["sort", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(full_marks__gt=0), name="schemegroup_full_marks_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    COMPUTING = "computing", _("Computing")
    DRAFT = "draft", _("Draft")
    FAILED = "failed", _("Failed")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded by a correction")


class AssessmentRun(TimeStampedModel):
    """One version of one month's assessment."""

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(_("status"), max_length=12, choices=RunStatus.choices)
    reason = models.TextField(_("reason for the correction"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    progress = models.PositiveSmallIntegerField(_("progress (percent)"), default=0)
    progress_note = models.CharField(_("step"), max_length=100, blank=True)
    error = models.TextField(_("error"), blank=True)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    seconds = models.FloatField(_("computing time (s)"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    # The schemes as they were when computed (names, items, groups), kept with the results.
    schemes = models.JSONField(_("schemes used"), default=list, blank=True)

    class Meta:
        verbose_name = _("assessment month")
        verbose_name_plural = _("assessment months")
        ordering = ["-month", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["month", "version"], name="assessmentrun_version"),
            models.UniqueConstraint(
                fields=["month"],
                condition=Q(status="published"),
                name="assessmentrun_one_published",
            ),
            models.UniqueConstraint(
                fields=["month"],
                condition=Q(status__in=["computing", "draft", "failed"]),
                name="assessmentrun_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} v{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.status in (RunStatus.PUBLISHED, RunStatus.SUPERSEDED)


class AssessmentResult(models.Model):
    """One subject's figures, score and rank in one scheme of one run (a snapshot)."""

    run = models.ForeignKey(
        AssessmentRun, on_delete=models.CASCADE, related_name="results", verbose_name=_("month")
    )
    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.PROTECT, related_name="+", verbose_name=_("scheme")
    )
    group = models.ForeignKey(
        SchemeGroup, on_delete=models.PROTECT, related_name="+", verbose_name=_("ranking group")
    )
    subject_kind = models.CharField(_("assessed"), max_length=8, choices=SubjectKind.choices)
    # "unit:12", "user:34", "area:56": the same subject across months (trend, last-twice flag).
    subject_key = models.CharField(_("assessed subject"), max_length=24)
    subject_name = models.CharField(_("name"), max_length=150)
    subject_area = models.CharField(_("area"), max_length=100, blank=True)
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    area = models.ForeignKey(
        "grids.Area", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case_count = models.PositiveIntegerField(_("cases"), default=0)
    figures = models.JSONField(_("figures"), default=dict)
    items = models.JSONField(_("score items"), default=list)
    full_marks = models.DecimalField(_("full marks"), max_digits=6, decimal_places=2)
    computed_score = models.DecimalField(_("computed score"), max_digits=8, decimal_places=2)
    adjustment = models.DecimalField(_("adjustment"), max_digits=8, decimal_places=2, default=0)
    score = models.DecimalField(_("score"), max_digits=8, decimal_places=2)
    is_ranked = models.BooleanField(_("ranked"), default=False)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    ranked_count = models.PositiveIntegerField(_("ranked in the group"), default=0)
    is_last = models.BooleanField(_("last in the group"), default=False)
    is_last_twice = models.BooleanField(_("last two months running"), default=False)

    class Meta:
        verbose_name = _("assessment result")
        verbose_name_plural = _("assessment results")
        ordering = ["rank", "-score", "subject_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "scheme", "subject_key"], name="assessmentresult_one_per_subject"
            ),
        ]
        indexes = [
            models.Index(fields=["run", "scheme", "group", "rank"], name="assessresult_rank_idx"),
            models.Index(fields=["scheme", "subject_key"], name="assessresult_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.run} {self.subject_name} {self.score}"


class AssessmentAdjustment(models.Model):
    """A manual bonus or deduction on a draft, with its reason; kept with the month."""

    run = models.ForeignKey(
        AssessmentRun,
        on_delete=models.CASCADE,
        related_name="adjustments",
        verbose_name=_("month"),
    )
    scheme = models.ForeignKey(
        AssessmentScheme, on_delete=models.PROTECT, related_name="+", verbose_name=_("scheme")
    )
    subject_key = models.CharField(_("assessed subject"), max_length=24)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("manual adjustment")
        verbose_name_plural = _("manual adjustments")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""), name="assessmentadjustment_reason_required"
            ),
            models.CheckConstraint(
                condition=~Q(points=0), name="assessmentadjustment_points_nonzero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_key} {self.points:+}"
