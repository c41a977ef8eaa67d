from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.uploads import clean_photo
from residents.models import Gender, HouseUse, PersonKind, RiskLevel


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.code})"


class NoEchoInput(forms.TextInput):
    """A text input that never renders a value back: a page re-shown after an error does
    not carry an identity number or phone (PIPL: only masked values in pages)."""

    def format_value(self, value):
        return None


class PersonForm(forms.Form):
    """Shape only; the identity number's check digit and uniqueness are the service's rules."""

    grid = AreaChoiceField(queryset=None, label=_("Grid"))
    name = forms.CharField(label=_("Name"), max_length=64)
    kind = forms.ChoiceField(label=_("Population type"), choices=PersonKind.choices)
    id_number = forms.CharField(
        label=_("Identity number"),
        max_length=24,
        required=False,
        help_text=_("Stored encrypted; shown masked."),
        widget=NoEchoInput(attrs={"autocomplete": "off", "inputmode": "latin"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        widget=NoEchoInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Taken from the identity number when left empty."),
    )
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=16, required=False)
    registered_address = forms.CharField(
        label=_("Registered address"), max_length=200, required=False
    )
    house = forms.IntegerField(widget=forms.HiddenInput, required=False)
    relation = forms.ChoiceField(
        label=_("Relation to the house"),
        choices=[
            ("owner", _("Owner")),
            ("tenant", _("Tenant")),
            ("family", _("Family member")),
            ("other", _("Other")),
        ],
        required=False,
    )

    def __init__(self, *args, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids


class VisitForm(forms.Form):
    notes = forms.CharField(
        label=_("What did you find?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    lon = forms.FloatField(min_value=-180, max_value=180, required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(min_value=-90, max_value=90, required=False, widget=forms.HiddenInput)
    photo = forms.FileField(label=_("Photo"), required=False)

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo:
            return None
        content, _content_type = clean_photo(photo)
        return content


class RiskForm(forms.Form):
    risk_level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Reason for the change")}),
    )


class HouseSearchForm(forms.Form):
    q = forms.CharField(label=_("Building or address"), required=False)
    use = forms.ChoiceField(
        label=_("Use"), choices=[("", _("All")), *HouseUse.choices], required=False
    )


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[
            ("people", _("People")),
            ("houses", _("Houses")),
            ("organisations", _("Organisations")),
        ],
    )
    file = forms.FileField(label=_("Excel (.xlsx) or CSV file"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        name = f.name.lower()
        if not (name.endswith(".xlsx") or name.endswith(".csv")):
            raise forms.ValidationError(_("Upload an .xlsx or .csv file."))
        if f.size > 50 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 50 MB."))
        return f


class EnrolForm(forms.Form):
    """Enrol a person in a key-person or care group; the group's own fields are added."""

    risk_level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices)
    visit_interval_days = forms.IntegerField(
        label=_("Visit at least every (days)"), min_value=1, max_value=365
    )
    responsible = forms.ModelChoiceField(
        label=_("Responsible worker"), queryset=None, required=False
    )

    def __init__(self, *args, group, workers, **kwargs):
        super().__init__(*args, **kwargs)
        self.group = group
        self.fields["responsible"].queryset = workers
        self.fields["visit_interval_days"].initial = group.visit_interval_days
        for f in group.detail_fields:
            self.fields[f"detail_{f['key']}"] = forms.CharField(
                label=f["label"],
                max_length=200,
                required=False,
                help_text=_("Stored encrypted.") if f.get("sensitive") else "",
            )

    def details(self) -> dict:
        return {
            f["key"]: self.cleaned_data.get(f"detail_{f['key']}", "")
            for f in self.group.detail_fields
        }


class HouseForm(forms.Form):
    grid = AreaChoiceField(queryset=None, label=_("Grid"))
    building = forms.CharField(
        label=_("Building"), max_length=100, help_text=_("A new name adds the building here.")
    )
    unit_no = forms.CharField(label=_("Unit"), max_length=16, required=False)
    room = forms.CharField(label=_("Room"), max_length=16)
    use = forms.ChoiceField(label=_("Use"), choices=HouseUse.choices)
    owner_name = forms.CharField(label=_("Owner"), max_length=64, required=False)
    landlord_name = forms.CharField(label=_("Landlord"), max_length=64, required=False)
    lease_number = forms.CharField(
        label=_("Lease registration number"), max_length=32, required=False
    )
    tenant_limit = forms.IntegerField(label=_("Tenant limit"), min_value=0, required=False)
    lon = forms.FloatField(min_value=-180, max_value=180, required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(min_value=-90, max_value=90, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids
