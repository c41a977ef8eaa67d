"""Schemes are edited here by admins. The items are checked together (weights summing to
100 %, formulas naming known indicators) before anything is saved; a bad scheme shows the
error and stays as it was. Months are read-only here: they change through the services."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy

from .indicators import AREA, UNIT, codes_for, describe
from .models import AssessmentRun, AssessmentScheme, ItemKind, SchemeGroup, SchemeItem
from .schemes import ItemSpec, scheme_check


class SchemeItemFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        scheme = self.instance
        items = [
            ItemSpec(
                name=f.cleaned_data.get("name") or "",
                kind=f.cleaned_data.get("kind") or ItemKind.POINTS,
                indicator=f.cleaned_data.get("indicator") or "",
                weight=f.cleaned_data.get("weight"),
                formula=f.cleaned_data.get("formula") or "",
                cap=f.cleaned_data.get("cap"),
            )
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        scheme_check(method=scheme.method, kind=scheme.subject_kind, items=items)


class SchemeGroupFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kind = self.instance.subject_kind
        groups = [
            f.cleaned_data
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        if not groups:
            raise ValidationError(gettext_lazy("A scheme needs at least one ranking group."))
        for g in groups:
            if kind != UNIT and g.get("unit_kind"):
                raise ValidationError(gettext_lazy("Only groups of units choose a unit kind."))
            if kind == AREA and not g.get("level"):
                raise ValidationError(gettext_lazy("A group of areas needs a level."))


class SchemeItemInline(admin.TabularInline):
    model = SchemeItem
    formset = SchemeItemFormSet
    extra = 0
    fields = ["sort", "name", "kind", "indicator", "weight", "formula", "cap"]


class SchemeGroupInline(admin.TabularInline):
    model = SchemeGroup
    formset = SchemeGroupFormSet
    extra = 0
    fields = ["sort", "name", "full_marks", "unit_kind", "level"]


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(admin.ModelAdmin):
    list_display = ["name", "subject_kind", "method", "min_cases", "is_active", "sort"]
    list_filter = ["subject_kind", "is_active"]
    list_editable = ["is_active"]
    inlines = [SchemeItemInline, SchemeGroupInline]
    readonly_fields = ["indicator_codes"]
    fields = [
        "name",
        "subject_kind",
        "method",
        "base_score",
        "min_cases",
        "is_active",
        "sort",
        "description",
        "indicator_codes",
    ]

    @admin.display(description=gettext_lazy("Indicators a formula may use"))
    def indicator_codes(self, obj: AssessmentScheme):
        kind = obj.subject_kind if obj and obj.pk else UNIT
        return format_html_join(
            "",
            "<div><code>{}</code> {} — <span class='help'>{}</span></div>",
            ((code, *describe(code)) for code in codes_for(kind)),
        )


@admin.register(AssessmentRun)
class AssessmentRunAdmin(admin.ModelAdmin):
    list_display = ["month", "version", "status", "computed_at", "published_at", "seconds"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in AssessmentRun._meta.fields]
    exclude = ["schemes"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
