"""Admin: code lists, key-person groups and their grants are edited here; the register
itself is read-only (people are written through residents.services, which seal their
personal data), and personal data appears masked only."""

from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from govgrid.audit.models import AuditAction
from govgrid.audit.services import audit_record
from grids.models import Patrol
from residents.models import (
    Building,
    Dictionary,
    House,
    ImportJob,
    KeyGroup,
    KeyGroupGrant,
    KeyPerson,
    Organisation,
    Person,
    RecordChange,
)


@admin.register(Dictionary)
class DictionaryAdmin(admin.ModelAdmin):
    list_display = ["kind", "code", "name", "sort", "is_active"]
    list_filter = ["kind", "is_active"]
    list_editable = ["name", "sort", "is_active"]
    search_fields = ["name", "code"]


class KeyGroupGrantInline(admin.TabularInline):
    model = KeyGroupGrant
    extra = 1


@admin.register(KeyGroup)
class KeyGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "visit_interval_days", "is_active"]
    list_filter = ["kind", "is_active"]
    inlines = [KeyGroupGrantInline]

    def save_formset(self, request, form, formset, change):
        before = set(
            KeyGroupGrant.objects.filter(group=form.instance).values_list("role", flat=True)
        )
        super().save_formset(request, form, formset, change)
        after = set(
            KeyGroupGrant.objects.filter(group=form.instance).values_list("role", flat=True)
        )
        if before != after:
            # Who may see a key-person group is a permission change: audit it.
            audit_record(
                action=AuditAction.PERMISSION_CHANGE,
                actor=request.user,
                target=f"residents.keygroup:{form.instance.pk}",
                request=request,
                detail={"granted": sorted(after - before), "revoked": sorted(before - after)},
            )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "id_number_masked", "phone_masked", "grid"]
    list_filter = ["kind"]
    search_fields = ["name"]
    list_select_related = ["grid"]
    exclude = ["id_number_enc", "id_number_hash", "phone_enc", "phone_hash"]


@admin.register(KeyPerson)
class KeyPersonAdmin(ReadOnlyAdmin):
    list_display = ["person", "group", "risk_level", "responsible", "next_visit_due"]
    list_filter = ["group", "risk_level"]
    list_select_related = ["person", "group", "responsible"]
    exclude = ["sensitive_enc"]


@admin.register(Building)
class BuildingAdmin(LeafletGeoAdmin):
    list_display = ["name", "grid", "address"]
    search_fields = ["name", "address"]
    raw_id_fields = ["grid"]


@admin.register(House)
class HouseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "use", "grid"]
    list_filter = ["use", "hazard_level"]
    raw_id_fields = ["building", "grid"]
    list_select_related = ["building", "grid"]


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "place_kind", "is_key_place", "phone_masked", "grid"]
    list_filter = ["is_key_place", "kind"]
    search_fields = ["name"]
    exclude = ["phone_enc"]


@admin.register(RecordChange)
class RecordChangeAdmin(ReadOnlyAdmin):
    """The register's history, appended by the services: read only."""

    list_display = ["at", "kind", "record_id", "action", "changed_fields", "actor", "grid"]
    list_filter = ["kind", "action"]
    list_select_related = ["actor", "grid"]


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "kind", "state", "total_rows", "written", "actor", "created_at"]
    list_filter = ["kind", "state"]


@admin.register(Patrol)
class PatrolAdmin(ReadOnlyAdmin):
    """Patrols (grids.Patrol) are registered here with the rest of the field work."""

    list_display = ["worker", "grid", "started_at", "ended_at", "distance_m", "duration_s"]
    list_select_related = ["worker", "grid"]
    exclude = ["track"]
