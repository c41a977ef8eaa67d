"""Intake forms: shape checks only; rules live in incidents.services."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from incidents.models import Category, Channel, LocationSource, RiskColour, Urgency
from incidents.services import DESK_CHANNELS
from incidents.uploads import clean_photo

MAX_PHOTOS = 9


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos at once; each checked by incidents.uploads.clean_photo."""

    widget = MultipleFileInput(
        attrs={"accept": "image/jpeg,image/png,image/webp", "multiple": True}
    )

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(files) > MAX_PHOTOS:
            raise ValidationError(_("At most %(n)s photos.") % {"n": MAX_PHOTOS}, code="too_many")
        return [clean_photo(f) for f in files]


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return obj.name


def small_categories():
    return (
        Category.objects.filter(parent__isnull=False, is_active=True, parent__is_active=True)
        .select_related("parent")
        .order_by("parent__sort", "parent__code", "sort", "code")
    )


class ReportForm(forms.Form):
    """The grid worker's phone form."""

    category = CategoryChoiceField(queryset=Category.objects.none(), label=_("Category"))
    description = forms.CharField(
        label=_("What is the problem?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    lon = forms.FloatField(min_value=-180, max_value=180, widget=forms.HiddenInput)
    lat = forms.FloatField(min_value=-90, max_value=90, widget=forms.HiddenInput)
    location_source = forms.ChoiceField(
        choices=LocationSource.choices, initial=LocationSource.GPS, widget=forms.HiddenInput
    )
    address = forms.CharField(label=_("Address or landmark"), max_length=200, required=False)
    photos = PhotosField(label=_("Photos"), required=False)
    parties = forms.CharField(
        label=_("Parties involved"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    people_count = forms.IntegerField(label=_("People involved"), min_value=0, required=False)
    amount = forms.DecimalField(
        label=_("Amount involved (yuan)"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        required=False,
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    risk_colour = forms.ChoiceField(
        label=_("Dispute risk colour"), choices=RiskColour.choices, required=False
    )
    is_self_handled = forms.BooleanField(label=_("Handled on the spot"), required=False)
    result = forms.CharField(
        label=_("Result"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence = PhotosField(label=_("Evidence photo"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        categories = list(small_categories())
        self.fields["category"].queryset = small_categories()
        # Grouped under their big category (optgroups), evaluated once.
        groups: dict[str, list] = {}
        for c in categories:
            groups.setdefault(c.parent.name, []).append((c.pk, c.name))
        self.fields["category"].widget.choices = [("", "---------"), *groups.items()]
        self.fields["lon"].error_messages["required"] = _(
            "Set the position: use the phone's location or tap the map."
        )
        self.fields["lat"].error_messages["required"] = self.fields["lon"].error_messages[
            "required"
        ]

    def clean(self):
        data = super().clean()
        if data.get("is_self_handled"):
            if not (data.get("result") or "").strip():
                self.add_error("result", _("Describe what was done on the spot."))
            if not data.get("evidence"):
                self.add_error("evidence", _("Add a photo of the result."))
        return data


DESK_CHANNEL_CHOICES = [(c.value, c.label) for c in DESK_CHANNELS]


class DeskReportForm(ReportForm):
    """Centre staff entering a hotline (12345) or other channel report at a desk."""

    channel = forms.ChoiceField(
        label=_("Channel"), choices=DESK_CHANNEL_CHOICES, initial=Channel.HOTLINE
    )
    reporter_name = forms.CharField(label=_("Caller's name"), max_length=64, required=False)
    reporter_phone = forms.RegexField(
        label=_("Caller's phone"),
        regex=r"^[0-9+\- ]{5,20}$",
        required=False,
        error_messages={"invalid": _("Enter a phone number of digits.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("is_self_handled", "result", "evidence"):
            del self.fields[name]
        self.fields["location_source"].initial = LocationSource.MAP
