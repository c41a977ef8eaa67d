from django import forms
from django.contrib import admin, messages
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from govgrid.notifications.models import NotificationTemplate, OutboxMessage, OutboxStatus
from govgrid.notifications.services import KNOWN_PLACEHOLDERS, outbox_retry, template_validate


class NotificationTemplateForm(forms.ModelForm):
    class Meta:
        model = NotificationTemplate
        fields = ["event", "channel", "subject", "body", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = _(
            "Placeholders: %(names)s. A literal brace is written {{ or }}."
        ) % {"names": ", ".join("{%s}" % n for n in sorted(KNOWN_PLACEHOLDERS))}

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"]
        template_validate(subject)
        return subject

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        template_validate(body)
        return body


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    """Admins edit the texts; a template the renderer could not fill is refused."""

    form = NotificationTemplateForm
    list_display = ["event", "channel", "subject", "is_active", "updated_at"]
    list_filter = ["channel", "is_active", "event"]
    search_fields = ["subject", "body"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """What was sent, what waits, and what failed with which error.

    Read-only: rows change only through delivery and the "retry now" action.
    """

    list_display = [
        "created_at",
        "event",
        "channel",
        "recipient",
        "recipient_phone",
        "status",
        "attempts",
        "next_attempt_at",
        "error_short",
    ]
    list_filter = ["status", "channel", "event"]
    search_fields = ["dedupe_key", "recipient_phone", "recipient_email", "recipient__username"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]

    @admin.display(description=_("last error"))
    def error_short(self, obj: OutboxMessage) -> str:
        return Truncator(obj.last_error).chars(80)

    @admin.action(description=_("Retry the selected failed messages now"), permissions=["change"])
    def retry_now(self, request, queryset):
        failed = list(queryset.filter(status=OutboxStatus.FAILED).values_list("pk", flat=True))
        count = outbox_retry(message_ids=failed)
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.", count)
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The list (obj None) needs "change" for the retry action; a row itself is read-only.
        return obj is None and super().has_change_permission(request)
