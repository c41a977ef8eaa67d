from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from grids.models import CODE_LENGTH, Area, AreaLevel, GridStaff
from grids.services import area_path, code_fits_parent


class AreaAdminForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = [
            "level",
            "code",
            "name",
            "parent",
            "grid_type",
            "valid_from",
            "valid_to",
            "boundary",
        ]

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            return data
        level, code, parent = data.get("level"), data.get("code") or "", data.get("parent")
        if level is None:
            return data
        if not code.isdigit() or len(code) != CODE_LENGTH[level]:
            self.add_error(
                "code",
                _("A %(level)s code must be %(digits)s digits.")
                % {"level": AreaLevel(level).label, "digits": CODE_LENGTH[level]},
            )
        elif level != AreaLevel.CITY and parent is None:
            self.add_error("parent", _("Every area below the city needs a parent."))
        elif parent is not None and not code_fits_parent(
            level=level, code=code, parent_level=parent.level, parent_code=parent.code
        ):
            self.add_error("code", _("The code does not fit the parent's code."))
        if level != AreaLevel.GRID and data.get("grid_type"):
            self.add_error("grid_type", _("Only grids have a grid type."))
        return data


class GridStaffInline(admin.TabularInline):
    model = GridStaff
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "is_full_time", "since", "until"]


@admin.register(Area)
class AreaAdmin(LeafletGeoAdmin):
    """Admins draw and edit boundaries on a Leaflet map (django-leaflet's widget)."""

    form = AreaAdminForm

    list_display = ["code", "name", "level", "grid_type", "parent", "valid_from", "valid_to"]
    list_filter = ["level", "grid_type"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]
    fields = [
        "level",
        "code",
        "name",
        "parent",
        "path",
        "grid_type",
        "valid_from",
        "valid_to",
        "boundary",
    ]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # Code, level and parent make up the materialised path; changing them would
        # orphan the subtree, so they are fixed once the area exists.
        if obj is not None:
            return ["path", "code", "level", "parent"]
        return ["path"]

    def get_inlines(self, request, obj):
        return [GridStaffInline] if obj is not None and obj.level == AreaLevel.GRID else []

    def save_model(self, request, obj, form, change):
        if not change:
            obj.path = area_path(parent=obj.parent, code=obj.code)
        super().save_model(request, obj, form, change)


@admin.register(GridStaff)
class GridStaffAdmin(admin.ModelAdmin):
    list_display = ["grid", "user", "role", "is_full_time", "since", "until"]
    list_filter = ["role", "is_full_time"]
    search_fields = ["grid__code", "grid__name", "user__username", "user__full_name"]
    autocomplete_fields = ["grid", "user"]
    list_select_related = ["grid", "user"]
