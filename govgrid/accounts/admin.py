from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from govgrid.accounts.models import Unit, User
from govgrid.audit.models import AuditAction
from govgrid.audit.services import audit_record

PERMISSION_FIELDS = ("roles", "unit_id", "is_staff", "is_superuser", "is_active")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "full_name", "unit", "roles", "is_active", "last_login"]
    list_filter = ["is_active", "is_staff", "unit__kind", "unit__level"]
    search_fields = ["username", "full_name", "phone", "unit__name"]
    list_select_related = ["unit"]
    autocomplete_fields = ["unit", "scope_areas"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("full_name", "phone", "email")}),
        (_("Work"), {"fields": ("unit", "roles", "scope_areas")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "full_name", "unit", "roles", "password1", "password2"),
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        before = {}
        if change:
            old = User.objects.get(pk=obj.pk)
            before = {f: getattr(old, f) for f in PERMISSION_FIELDS}
        super().save_model(request, obj, form, change)
        after = {f: getattr(obj, f) for f in PERMISSION_FIELDS}
        changed = {
            f: [before.get(f), after[f]] for f in PERMISSION_FIELDS if before.get(f) != after[f]
        }
        if changed:
            audit_record(
                action=AuditAction.PERMISSION_CHANGE,
                actor=request.user,
                target=obj.get_username(),
                request=request,
                detail={"changed": changed},
            )


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "level", "jurisdiction", "is_active"]
    list_filter = ["kind", "level", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["jurisdiction"]
    autocomplete_fields = ["jurisdiction", "parent", "head"]
