"""Login events arrive as Django's auth signals: the only hook Django offers for them."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from govgrid.audit.models import AuditAction
from govgrid.audit.services import audit_record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_record(action=AuditAction.LOGIN, actor=user, request=request)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, actor=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        actor_name=str(credentials.get("username", ""))[:150],
        request=request,
    )


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    audit_record(action=AuditAction.LOCKED_OUT, actor_name=username or "", request=request)
