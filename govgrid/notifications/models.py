"""Notification templates, the outbox, and the in-app inbox.

A service that needs someone told writes `OutboxMessage` rows in its own transaction (the
outbox); Celery delivers them after commit, and a periodic sweep delivers whatever a broker
or worker outage left behind. Delivery to the in-app inbox creates a `Notification`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Event(models.TextChoices):
    DISPATCHED = "dispatched", pgettext_lazy("notification event", "Dispatched")
    RETURNED = "returned", pgettext_lazy("notification event", "Returned")
    EXTENSION_DECIDED = (
        "extension_decided",
        pgettext_lazy("notification event", "Extension decided"),
    )
    WARNING_BLUE = "warning_blue", pgettext_lazy("notification event", "Blue warning")
    WARNING_YELLOW = "warning_yellow", pgettext_lazy("notification event", "Yellow warning")
    WARNING_RED = "warning_red", pgettext_lazy("notification event", "Red warning")
    SUPERVISION = "supervision", pgettext_lazy("notification event", "Supervision")
    CLOSED = "closed", pgettext_lazy("notification event", "Closed")
    RATING_REQUEST = "rating_request", pgettext_lazy("notification event", "Rating request")


class Channel(models.TextChoices):
    INAPP = "inapp", _("In-app inbox")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("outbox status", "Pending")
    SENDING = "sending", pgettext_lazy("outbox status", "Sending")
    SENT = "sent", pgettext_lazy("outbox status", "Sent")
    FAILED = "failed", pgettext_lazy("outbox status", "Failed")


class NotificationTemplate(models.Model):
    """The text sent for one event on one channel, editable by admins.

    Subject and body use `{placeholder}` fields; the admin form refuses unknown ones
    (`services.template_validate`).
    """

    event = models.CharField(
        pgettext_lazy("notification", "event"), max_length=32, choices=Event.choices
    )
    channel = models.CharField(
        pgettext_lazy("notification", "channel"), max_length=8, choices=Channel.choices
    )
    subject = models.CharField(
        _("subject"), max_length=200, blank=True, help_text=_("Title in the inbox and of e-mails.")
    )
    body = models.TextField(_("body"))
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive: nothing is sent on this channel.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["event", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["event", "channel"], name="notification_template_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} · {self.get_channel_display()}"


class OutboxMessage(models.Model):
    """One message for one recipient on one channel, waiting for (or past) delivery."""

    event = models.CharField(
        pgettext_lazy("notification", "event"), max_length=32, choices=Event.choices
    )
    channel = models.CharField(
        pgettext_lazy("notification", "channel"), max_length=8, choices=Channel.choices
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient"),
    )
    # Copied when the message is written (users), or the only address we have (residents).
    recipient_phone = models.CharField(_("phone"), max_length=20, blank=True)
    recipient_email = models.EmailField(_("e-mail"), blank=True)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incident"),
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    link = models.CharField(_("link"), max_length=500, blank=True)
    # "<caller's key>:<channel>:<recipient>": writing the same message twice is a no-op.
    dedupe_key = models.CharField(_("deduplication key"), max_length=255, unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Pending: when the next attempt is due. Sending: when the claim lapses, so a message
    # whose worker died mid-send is picked up again.
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.get_event_display()} #{self.pk}"


class Notification(models.Model):
    """A row of a user's in-app inbox."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incident"),
    )
    # The outbox row this came from: unique, so a message lands in the inbox at most once
    # even if two workers ever delivered it.
    outbox_message = models.OneToOneField(
        OutboxMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notification",
        verbose_name=_("outbox message"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
