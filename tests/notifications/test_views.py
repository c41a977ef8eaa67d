"""The inbox page, marking read, the header badge, and the admin pages."""

import pytest
from django.urls import reverse

from govgrid.notifications.admin import NotificationTemplateForm
from govgrid.notifications.models import (
    Channel,
    Event,
    Notification,
    NotificationTemplate,
    OutboxMessage,
    OutboxStatus,
)
from govgrid.notifications.services import notify, outbox_deliver_due
from tests import factories

pytestmark = pytest.mark.django_db


def deliver_to(user, incident, n: int, *, start: int = 0) -> None:
    for k in range(start, start + n):
        notify(
            event=Event.DISPATCHED,
            recipients=[user],
            incident=incident,
            context={},
            dedupe_key=f"incident:{incident.pk}:dispatched:{k}",
            channels=[Channel.INAPP],
        )
    outbox_deliver_due()


def test_inbox_lists_only_my_notifications_newest_first_with_the_count_in_the_header(
    client, templates, people, incident
):
    handler, street = people["handler"], people["street"]
    deliver_to(handler, incident, 2)
    deliver_to(street, incident, 1, start=10)
    Notification.objects.filter(recipient=handler).update(title="较早")
    newest = Notification.objects.filter(recipient=handler).order_by("-pk").first()
    Notification.objects.filter(pk=newest.pk).update(title="最新")

    client.force_login(handler)
    response = client.get(reverse("notifications:list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert [n.recipient_id for n in response.context["page"]] == [handler.pk, handler.pk]
    assert body.index("最新") < body.index("较早")
    assert 'class="inbox-count"' in body
    assert response.context["unread_notifications"] == 2
    assert body.count('class="notification is-unread"') == 2
    assert reverse("notifications:read", args=[newest.pk]) in body


def test_opening_a_notification_marks_it_read_and_goes_to_the_incident(
    client, templates, people, incident
):
    handler = people["handler"]
    deliver_to(handler, incident, 2)
    first = Notification.objects.filter(recipient=handler).first()
    client.force_login(handler)

    response = client.post(reverse("notifications:read", args=[first.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("dispatch:incident_detail", args=[incident.pk])
    first.refresh_from_db()
    assert first.read_at is not None
    page = client.get(reverse("notifications:list"))
    assert page.context["unread_notifications"] == 1
    assert page.content.decode().count('class="notification is-unread"') == 1

    # Opening it only by GET does nothing; someone else's is a 404 like a missing one.
    assert client.get(reverse("notifications:read", args=[first.pk])).status_code == 405
    client.force_login(people["street"])
    assert client.post(reverse("notifications:read", args=[first.pk])).status_code == 404
    assert client.post(reverse("notifications:read", args=[999999])).status_code == 404


def test_mark_all_read_clears_the_badge(client, templates, people, incident):
    handler = people["handler"]
    deliver_to(handler, incident, 3)
    deliver_to(people["street"], incident, 1, start=10)
    client.force_login(handler)
    response = client.post(reverse("notifications:read_all"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("notifications:list")
    assert response.context["unread_notifications"] == 0
    assert 'class="inbox-count"' not in response.content.decode()
    assert not Notification.objects.filter(recipient=handler, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=people["street"], read_at__isnull=True).exists()


def test_inbox_is_for_signed_in_users(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("n", [1, 12])
def test_inbox_page_query_count_does_not_grow(
    client, templates, people, incident, django_assert_num_queries, n
):
    handler = people["handler"]
    deliver_to(handler, incident, n)
    client.force_login(handler)
    client.get(reverse("notifications:list"))  # warm the session
    # user, unread count (header), page count, page rows
    with django_assert_num_queries(4):
        response = client.get(reverse("notifications:list"))
    assert len(response.context["page"]) == n


# --------------------------------------------------------------------------------------
# Admin
# --------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return factories.make_user(roles=[], username="t_root", is_staff=True, is_superuser=True)


def test_admin_form_refuses_a_template_with_an_unknown_placeholder(templates):
    from django.utils import translation

    data = {
        "event": Event.CLOSED,
        "channel": Channel.EMAIL,
        "subject": "事件{number}",
        "body": "事件{number}已结案，{oops}",
        "is_active": "on",
    }
    # the seeded e-mail template of this event, edited
    instance = NotificationTemplate.objects.get(event=Event.CLOSED, channel=Channel.EMAIL)
    with translation.override("en"):
        form = NotificationTemplateForm(data=data, instance=instance)
        assert not form.is_valid()
        assert "Unknown placeholder {oops}" in form.errors["body"][0]
    ok = NotificationTemplateForm(data={**data, "body": "事件{number}已结案。"}, instance=instance)
    assert ok.is_valid()


def test_admin_page_keeps_the_old_text_when_the_new_one_is_refused(client, templates, superuser):
    template = NotificationTemplate.objects.get(event=Event.DISPATCHED, channel=Channel.SMS)
    client.force_login(superuser)
    url = reverse("admin:notifications_notificationtemplate_change", args=[template.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "event": template.event,
            "channel": template.channel,
            "subject": "",
            "body": "【网格通】{numbr}",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "{numbr}" in response.content.decode()
    template.refresh_from_db()
    assert template.body.startswith("【网格通】事件{number}")


def test_admins_see_failed_sms_with_the_error_and_retry_them(
    client, templates, superuser, people, incident, django_capture_on_commit_callbacks, settings
):
    handler = people["handler"]
    handler.phone = "13800000001"
    handler.save(update_fields=["phone"])
    notify(
        event=Event.DISPATCHED,
        recipients=[handler],
        incident=incident,
        context={},
        dedupe_key="x",
        channels=[Channel.SMS],
    )
    OutboxMessage.objects.update(
        status=OutboxStatus.FAILED, attempts=8, last_error="The SMS gateway answered HTTP 500: no"
    )
    message = OutboxMessage.objects.get()
    client.force_login(superuser)
    changelist = reverse("admin:notifications_outboxmessage_changelist")
    body = client.get(changelist, {"status__exact": "failed"}).content.decode()
    assert "HTTP 500" in body
    assert client.get(reverse("admin:notifications_outboxmessage_add")).status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "retry_now", "_selected_action": [message.pk]}
        )
    assert response.status_code == 302
    message.refresh_from_db()
    # Queued, then delivered by the (eager) task after commit; attempts kept and counted.
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 9)
