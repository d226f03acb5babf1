from decimal import Decimal

import pycountry
from django import forms
from django.utils.text import slugify

from .models import Client, Firm, Membership, Role, User, timezone_choices
from .names import refuse_control_characters


def say_length_limits(form: forms.BaseForm) -> None:
    """Text over a field's limit is refused with a message next to it, never cut: no
    `maxlength` in the page (a browser silently drops the end of a pasted text), and the
    limit in words (decision 0024)."""
    for field in form.fields.values():
        field.widget.attrs.pop("maxlength", None)
        if getattr(field, "max_length", None):
            field.error_messages.setdefault(
                "max_length", "At most %(limit_value)d characters; this has %(show_value)d."
            )


class FirmForm(forms.ModelForm):
    class Meta:
        model = Firm
        fields = ["name"]
        labels = {"name": "Firm name"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        say_length_limits(self)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        refuse_control_characters(name)  # it is in the subject of every email about the firm
        return name


class MfaPolicyForm(forms.ModelForm):
    class Meta:
        model = Firm
        fields = ["mfa_required"]
        widgets = {"mfa_required": forms.RadioSelect}


class FixConfirmationForm(forms.ModelForm):
    class Meta:
        model = Firm
        fields = ["confirm_fixes_above", "materiality_floor"]
        labels = {
            "confirm_fixes_above": "Ask a second confirmation for fixes above",
            "materiality_floor": "A finding is high from",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["materiality_floor"].required = False  # left out: unchanged

    def _amount(self, name: str, least: Decimal):
        amount = self.cleaned_data[name]
        if amount is None or not amount.is_finite() or amount < least:
            raise forms.ValidationError(f"An amount of {least:,.2f} or more.")
        return amount

    def clean_confirm_fixes_above(self):
        return self._amount("confirm_fixes_above", Decimal("0.00"))

    def clean_materiality_floor(self):
        # Above zero: a floor of 0 would make a client with no revenue all "high".
        if self.cleaned_data.get("materiality_floor") is None:
            return None
        return self._amount("materiality_floor", Decimal("0.01"))


class ClientForm(forms.ModelForm):
    """Create or edit a contractor; the slug is optional and must be unique in the firm."""

    timezone = forms.ChoiceField(
        choices=timezone_choices,
        initial="America/New_York",
        help_text="Dates, periods and month ends are in this timezone.",
    )
    assigned_staff = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Who looks after this client; they get its alerts and monthly report.",
    )

    class Meta:
        model = Client
        fields = ["name", "slug", "timezone", "country", "assigned_staff"]
        help_texts = {"slug": "Used in links and commands. Leave blank to make one from the name."}

    def __init__(self, *args, firm: Firm, **kwargs):
        super().__init__(*args, **kwargs)
        self.firm = firm
        self.instance.firm = firm
        self.fields["slug"].required = False
        self.fields["assigned_staff"].queryset = User.objects.filter(
            memberships__firm=firm
        ).order_by("email")
        if self.instance.pk:
            self.initial["assigned_staff"] = list(self.instance.assigned_staff.all())
        # "ZZZ" is refused as no country code, not as one letter too many.
        country = self.fields["country"]
        country.max_length, country.validators = None, []
        say_length_limits(self)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        refuse_control_characters(name)  # it is in the subject of every email about the client
        clash = Client.objects.for_firm(self.firm).filter(name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("This firm already has a client with this name.")
        return name

    def clean_slug(self) -> str:
        slug = slugify(self.cleaned_data.get("slug") or "")
        if not slug:
            return ""
        clash = Client.objects.for_firm(self.firm).filter(slug=slug)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another client of this firm already uses this slug.")
        return slug

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if len(country) != 2 or pycountry.countries.get(alpha_2=country) is None:
            raise forms.ValidationError(
                f"“{country[:20]}” is not a two-letter country code (ISO 3166), such as US, CA "
                "or GB."
            )
        return country


class StaffInviteForm(forms.Form):
    email = forms.EmailField(
        max_length=254,  # as the invitation's column: a longer one would fail to save
        error_messages={"max_length": "An email address is at most 254 characters."},
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ACCOUNTANT)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        say_length_limits(self)


class RoleForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role"]
