from django.contrib import admin, messages
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dispatch.calendar import years_without_data
from dispatch.models import CalendarDay, ExtensionRequest, RoutingRule


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Holidays and make-up working days; any other day follows Monday–Friday."""

    list_display = ["date", "weekday", "is_workday", "note"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
    ordering = ["date"]
    search_fields = ["note"]

    # gettext_lazy here: a class attribute is built once, before any request picks a language.
    @admin.display(description=gettext_lazy("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        return dateformat.format(obj.date, "l")

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            this_year = timezone.localdate().year
            missing = years_without_data([this_year, this_year + 1])
            if missing:
                messages.warning(
                    request,
                    _(
                        "No working-day calendar for %(years)s: deadlines in those years count "
                        "Monday to Friday as working days, with no holidays."
                    )
                    % {"years": ", ".join(str(year) for year in missing)},
                )
        return super().changelist_view(request, extra_context)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Ordered rules, first match wins. A rule whose unit is inactive never matches, so it
    is flagged in the list and on the page."""

    list_display = ["priority", "name", "lead_unit", "unit_is_active", "auto_dispatch", "is_active"]
    list_display_links = ["name"]
    list_editable = ["priority", "is_active"]
    list_filter = ["is_active", "auto_dispatch", "lead_unit__is_active"]
    search_fields = ["name", "lead_unit__name"]
    list_select_related = ["lead_unit"]
    autocomplete_fields = ["lead_unit", "co_units", "categories", "areas"]
    ordering = ["priority", "pk"]

    @admin.display(description=gettext_lazy("unit active"), boolean=True)
    def unit_is_active(self, obj: RoutingRule) -> bool:
        return obj.lead_unit.is_active

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            broken = list(
                RoutingRule.objects.filter(is_active=True, lead_unit__is_active=False).values_list(
                    "name", flat=True
                )
            )
            if broken:
                messages.warning(
                    request,
                    _("These rules point at an inactive unit and never match: %(rules)s")
                    % {"rules": "、".join(broken)},
                )
        return super().changelist_view(request, extra_context)


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(admin.ModelAdmin):
    list_display = ["incident", "unit", "days", "state", "deadline_before", "deadline_after"]
    list_filter = ["state"]
    list_select_related = ["incident", "unit"]
    search_fields = ["incident__number"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # decided on the incident page, through the service


# The monthly assessment's admin pages (dispatch/assessment/admin.py).
from dispatch.assessment import admin as _assessment_admin  # noqa: E402, F401
