from django.contrib import admin

from govgrid.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Admins read the log; nobody edits it (the database refuses it too)."""

    list_display = ["at", "actor_name", "action", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_name", "target"]
    date_hierarchy = "at"
    list_select_related = ["actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
