"""The append-only audit log: logins, permission changes, reveals, exports, transitions.

Rows are never updated or deleted: a database trigger (migration 0002) refuses it, so not
even a bug or the admin can rewrite what happened.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOGOUT = "logout", _("Logged out")
    LOCKED_OUT = "locked_out", _("Account locked")
    PERMISSION_CHANGE = "permission_change", _("Permission change")
    BOUNDARY_IMPORT = "boundary_import", _("Boundary import")
    REVEAL = "reveal", _("Personal data revealed")
    EXPORT = "export", _("Export")
    TRANSITION = "transition", _("Incident transition")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # Kept even when no user matches (a failed login with an unknown name).
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    target = models.CharField(_("target"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at"]
        indexes = [models.Index(fields=["action", "at"], name="audit_action_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()}"
