"""The in-app inbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govgrid.notifications.models import Notification
from govgrid.notifications.selectors import notification_list_for_user
from govgrid.notifications.services import notification_mark_read, notifications_mark_all_read

PAGE_SIZE = 50


@login_required
def notification_list(request):
    page = Paginator(notification_list_for_user(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_read(request, pk: int):
    try:
        notification = notification_mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    link = notification.link
    if link and url_has_allowed_host_and_scheme(
        link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(link)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request):
    count = notifications_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("All notifications marked read."))
    return redirect("notifications:list")
