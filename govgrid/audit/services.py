from typing import Any

from django.http import HttpRequest

from govgrid.audit.models import AuditEntry


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR is set by the server; a proxy in front must be trusted to rewrite it.
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    actor=None,
    actor_name: str = "",
    target: str = "",
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit row. Runs inside the caller's transaction when there is one."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        actor_name=actor_name or (actor.get_username() if actor else ""),
        target=target[:200],
        ip_address=client_ip(request),
        detail=detail or {},
    )
