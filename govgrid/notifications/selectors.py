"""Reads for the inbox and the header badge."""

from django.db.models import QuerySet

from govgrid.notifications.models import Notification


def notification_list_for_user(*, user) -> QuerySet[Notification]:
    """The user's inbox, newest first (only the columns the page shows)."""
    return Notification.objects.filter(recipient=user).only(
        "pk", "title", "body", "link", "created_at", "read_at"
    )


def notification_unread_count(*, user) -> int:
    """One COUNT on the (recipient, read_at) index."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
