from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dispatch.workflow import STATE_LABELS
from incidents.models import Category, Incident, IncidentEvent

LIMIT_FIELDS = ("signin_limit", "handle_limit", "verify_limit")


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = [
            "parent",
            "code",
            "name",
            "public_name",
            "is_public",
            "is_active",
            "sort",
            "handling_level",
            "urgency",
            "deadline_unit",
            "signin_limit",
            "handle_limit",
            "verify_limit",
            "duplicate_radius_m",
            "duplicate_window_hours",
            "blue_percent",
            "yellow_percent",
            "yellow_card_days",
            "red_card_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parent = self.fields.get("parent")
        if parent is not None:
            parent.queryset = parent.queryset.select_related("parent").order_by("code")
            parent.help_text = _("Leave empty for a big category.")

    def clean(self):
        data = super().clean()
        parent = data.get("parent")
        if parent is not None:
            # The tree has two levels: big categories hold small ones, nothing below that.
            if parent.parent_id is not None:
                self.add_error(
                    "parent",
                    _(
                        "“%(parent)s” is a small category; a small category's parent must be "
                        "a big category (categories have two levels)."
                    )
                    % {"parent": parent},
                )
            elif self.instance.pk and parent.pk == self.instance.pk:
                self.add_error("parent", _("A category cannot be its own parent."))
            elif self.instance.pk and self.instance.children.exists():
                self.add_error(
                    "parent",
                    _(
                        "This big category has small categories, so it cannot be placed "
                        "under another one (categories have two levels)."
                    ),
                )
        for field in LIMIT_FIELDS:
            if data.get(field) == 0:
                self.add_error(field, _("A time limit must be at least 1."))
        return data


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryAdminForm

    # Fields that move the warning times of running cases of this category.
    SCHEDULE_FIELDS = {
        "blue_percent",
        "yellow_percent",
        "yellow_card_days",
        "red_card_days",
    }

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and self.SCHEDULE_FIELDS & set(form.changed_data):
            from django.db import transaction

            from dispatch import tasks

            # Running cases get their next warning time from the new thresholds.
            transaction.on_commit(lambda: tasks.warnings_rebuild_task.delay([obj.pk]))

    list_display = [
        "code",
        "name",
        "big_category",
        "public_name",
        "is_public",
        "is_active",
        "handling_level",
        "urgency",
        "limits",
    ]
    list_display_links = ["code", "name"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter), "is_public", "is_active"]
    search_fields = ["code", "name", "public_name", "parent__name"]
    list_select_related = ["parent"]
    ordering = ["code"]
    list_per_page = 200
    fieldsets = (
        (None, {"fields": ("parent", "code", "name", "sort", "is_active")}),
        (_("Public form"), {"fields": ("is_public", "public_name")}),
        (
            _("Defaults of a small category"),
            {
                "description": _("Ignored on big categories."),
                "fields": (
                    "handling_level",
                    "urgency",
                    ("deadline_unit", "signin_limit", "handle_limit", "verify_limit"),
                    ("duplicate_radius_m", "duplicate_window_hours"),
                ),
            },
        ),
        (
            _("Warnings and supervision"),
            {
                "description": _(
                    "Colours of a running phase: blue and yellow at these percentages of its "
                    "time (yellow also when less than one working day is left), red when "
                    "overdue; automatic supervision cards this many working days after the "
                    "deadline."
                ),
                "fields": (
                    ("blue_percent", "yellow_percent"),
                    ("yellow_card_days", "red_card_days"),
                ),
            },
        ),
    )

    @admin.display(description=_("big category"), ordering="parent__code")
    def big_category(self, obj: Category) -> str:
        return obj.parent.name if obj.parent_id else "—"

    @admin.display(description=_("limits (sign-in / handling / verification)"))
    def limits(self, obj: Category) -> str:
        if obj.is_big:
            return "—"
        return f"{obj.signin_limit} / {obj.handle_limit} / {obj.verify_limit} " + str(
            obj.get_deadline_unit_display()
        )


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    fields = ["at", "action", "from_state", "to_state", "actor", "unit", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "unit")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read only: incidents change through the services, which keep the history."""

    list_display = ["number", "category", "state_label", "grid", "reported_at"]
    list_filter = ["channel", "urgency"]
    search_fields = ["number"]
    list_select_related = ["category__parent", "grid"]
    show_full_result_count = False
    inlines = [IncidentEventInline]

    @admin.display(description=_("state"), ordering="state")
    def state_label(self, obj: Incident) -> str:
        return str(STATE_LABELS.get(obj.state, obj.state))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
