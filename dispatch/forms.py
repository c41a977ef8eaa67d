"""The action form on the incident page: shape checks for every action's fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dispatch.notices import SUPERVISION_LEVEL_LABELS
from govgrid.accounts.models import Unit
from grids.models import PATH_SEPARATOR
from incidents.forms import PhotosField
from incidents.models import Incident, Rating

SUPERVISION_LEVEL_CHOICES = list(SUPERVISION_LEVEL_LABELS.items())


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class ActionForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput)
    expected_state = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    result = forms.CharField(
        label=_("Result"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence = PhotosField(label=_("Evidence photos"), required=False)
    lead_unit = UnitChoiceField(label=_("Lead unit"), queryset=Unit.objects.none(), required=False)
    co_units = forms.ModelMultipleChoiceField(
        label=_("Co-units"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    duplicate_of = forms.ModelChoiceField(
        label=_("Original incident"),
        queryset=Incident.objects.none(),
        required=False,
        to_field_name="number",
    )
    days = forms.IntegerField(label=_("Working days"), min_value=1, max_value=30, required=False)
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve")), ("0", _("Refuse"))],
        coerce=lambda v: v == "1",
        required=False,
        empty_value=None,
    )
    rating = forms.ChoiceField(label=_("Rating"), choices=Rating.choices, required=False)
    level = forms.ChoiceField(
        label=_("Supervision level"), choices=SUPERVISION_LEVEL_CHOICES, required=False
    )
    reply_days = forms.IntegerField(
        label=_("Reply within (working days)"), min_value=1, max_value=30, required=False
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        district_path = PATH_SEPARATOR.join(incident.grid.path.split(PATH_SEPARATOR)[:2])
        units = Unit.objects.filter(
            is_active=True, jurisdiction__path__startswith=district_path
        ).order_by("level", "kind", "code")
        self.fields["lead_unit"].queryset = units
        self.fields["co_units"].queryset = units
        self.fields["duplicate_of"].queryset = Incident.objects.exclude(pk=incident.pk)

    def service_fields(self) -> dict:
        """The cleaned values, without the empty ones (the service checks what is required)."""
        d = self.cleaned_data
        out = {k: v for k, v in d.items() if k not in ("action", "expected_state")}
        out = {k: v for k, v in out.items() if v not in (None, "", [])}
        if d.get("approve") is not None:
            out["approve"] = d["approve"]
        return out
