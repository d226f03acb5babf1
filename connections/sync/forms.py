"""The client's sync settings as a form: direction, which CRM records are customers, who owns
each field, and the field map (JSON, checked before it is saved)."""

import json

from django import forms

from .mapping import FieldMapError, check_field_map
from .models import ACCOUNTING, CRM, DEFAULT_FIELD_OWNERS, REVIEW, SyncSettings

OWNER_CHOICES = [
    (CRM, "CRM wins"),
    (ACCOUNTING, "Accounting system wins"),
    (REVIEW, "Ask a person"),
]
MAP_TYPES = ("companies", "contacts")


class SyncSettingsForm(forms.ModelForm):
    field_map = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text=(
            'For each customer field, the CRM properties that feed it: {"from": [..]} joins '
            'them with a space, {"first_of": [..]} takes the first that is filled.'
        ),
    )

    class Meta:
        model = SyncSettings
        fields = ["customer_direction", "crm_source", "schedule_minutes"]
        labels = {
            "customer_direction": "Direction",
            "crm_source": "Which CRM records are customers",
            "schedule_minutes": "Batched pull every (minutes)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schedule_minutes"].min_value = 1
        self.fields["field_map"].initial = json.dumps(self.instance.field_map, indent=2)
        owners = {**DEFAULT_FIELD_OWNERS, **(self.instance.field_owners or {})}
        for name in DEFAULT_FIELD_OWNERS:
            self.fields[f"owner_{name}"] = forms.ChoiceField(
                choices=OWNER_CHOICES,
                initial=owners[name],
                label=name.replace("_", " ").capitalize(),
            )

    @property
    def owner_fields(self) -> list:
        return [self[f"owner_{name}"] for name in DEFAULT_FIELD_OWNERS]

    def clean_field_map(self) -> dict:
        text = self.cleaned_data["field_map"]
        try:
            value = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"Not valid JSON: {error}") from error
        if not isinstance(value, dict) or set(value) - set(MAP_TYPES):
            raise forms.ValidationError(
                'Expected {"companies": {...}, "contacts": {...}} and nothing else.'
            )
        for crm_type, field_map in value.items():
            if not isinstance(field_map, dict):
                raise forms.ValidationError(f"{crm_type}: expected an object of fields.")
            unknown = set(field_map) - set(DEFAULT_FIELD_OWNERS)
            if unknown:
                raise forms.ValidationError(
                    f"{crm_type}: unknown customer field(s) {', '.join(sorted(unknown))}; "
                    f"the fields are {', '.join(DEFAULT_FIELD_OWNERS)}."
                )
            try:
                check_field_map(field_map)
            except FieldMapError as error:
                raise forms.ValidationError(f"{crm_type}: {error}") from error
        return value

    def save(self, commit: bool = True) -> SyncSettings:
        settings = super().save(commit=False)
        settings.field_map = self.cleaned_data["field_map"]
        settings.field_owners = {
            name: self.cleaned_data[f"owner_{name}"] for name in DEFAULT_FIELD_OWNERS
        }
        if commit:
            settings.save()
        return settings
