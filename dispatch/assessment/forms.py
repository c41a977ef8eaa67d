"""Forms of the assessment pages: shape only; the services hold the rules."""

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .indicators import month_of


def _recent_months(count: int = 24) -> list[tuple[str, str]]:
    month = month_of(timezone.localdate())
    out = []
    for _i in range(count):
        month = month.previous()
        out.append((month.first.isoformat(), month.first.strftime("%Y-%m")))
    return out


class ComputeForm(forms.Form):
    month = forms.ChoiceField(label=_("Month"))
    reason = forms.CharField(
        label=_("Reason for a correction"),
        required=False,
        max_length=500,
        help_text=_("Needed only when the month is published: the correction is a new version."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = _recent_months()

    def clean_month(self) -> date:
        return date.fromisoformat(self.cleaned_data["month"])


class AdjustForm(forms.Form):
    points = forms.CharField(
        label=_("Points (+ bonus, − deduction)"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "-2"}),
    )
    # Not required here: the service refuses an empty reason with its own clear message.
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
