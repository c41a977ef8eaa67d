from django.contrib import admin, messages
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dispatch.calendar import years_without_data
from dispatch.models import CalendarDay


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
