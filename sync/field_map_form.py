"""The field map as a form: one row per customer field and CRM record type, naming the CRM
properties that feed it, instead of raw JSON. What is saved is the same data the sync has
always read (`mapping.py`): {"companies": {field: {"from" | "first_of": [names]}}, ...}."""

import re
from dataclasses import dataclass

from django import forms

from .books_choices import CrmChoices
from .mapping import field_label
from .models import DEFAULT_FIELD_OWNERS

MAP_TYPES = {"companies": "From companies", "contacts": "From contacts (homeowners)"}
HOW_CHOICES = [("from", "Join with a space"), ("first_of", "First one filled")]
# A CRM's internal property names: lowercase letters, digits and _, starting with a letter
# (HubSpot's rule; a CRM with other names brings its own with its adapter).
PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
MOST_PROPERTIES = 5  # a name is at most first + middle + last; more is a mistake
INPUT_LENGTH = 300


def map_field(crm_type: str, target: str) -> str:
    return f"map_{crm_type}_{target}"


def how_field(crm_type: str, target: str) -> str:
    return f"how_{crm_type}_{target}"


@dataclass
class MapRow:
    """One row of the form as the template lays it out."""

    label: str
    properties: forms.BoundField
    how: forms.BoundField


def add_fields(form: forms.Form, field_map: dict, crm: CrmChoices) -> None:
    """A text input (with the CRM's properties offered as suggestions) and a "how to
    combine" choice for every customer field of every CRM record type."""
    for crm_type in MAP_TYPES:
        type_label = "Companies" if crm_type == "companies" else "Contacts"
        current = field_map.get(crm_type) or {}
        for target in DEFAULT_FIELD_OWNERS:
            rule = current.get(target) or {}
            how = "first_of" if "first_of" in rule else "from"
            form.fields[map_field(crm_type, target)] = forms.CharField(
                required=False,
                max_length=INPUT_LENGTH,
                initial=", ".join(rule.get(how) or []),
                label=f"{type_label}: {field_label(target)}",
                widget=forms.TextInput(
                    attrs={"list": f"properties-{crm_type}", "autocomplete": "off"}
                ),
                error_messages={
                    "max_length": f"At most {INPUT_LENGTH} characters: name up to "
                    f"{MOST_PROPERTIES} properties."
                },
            )
            form.fields[how_field(crm_type, target)] = forms.ChoiceField(
                required=False,
                choices=HOW_CHOICES,
                initial=how,
                label=f"{type_label}: {field_label(target)}, when several",
            )


@dataclass
class MapSection:
    """One CRM record type's rows, with the properties its inputs suggest."""

    crm_type: str
    title: str
    options: tuple[tuple[str, str], ...]
    rows: list[MapRow]


def sections(form: forms.Form, crm: CrmChoices) -> list[MapSection]:
    return [
        MapSection(
            crm_type,
            title,
            (crm.properties or {}).get(crm_type, ()),
            [
                MapRow(
                    field_label(target),
                    form[map_field(crm_type, target)],
                    form[how_field(crm_type, target)],
                )
                for target in DEFAULT_FIELD_OWNERS
            ],
        )
        for crm_type, title in MAP_TYPES.items()
    ]


def clean(form: forms.Form, current: dict, crm: CrmChoices) -> dict:
    """The field map the posted rows make; each bad row gets its reason next to it. A
    property the CRM lacks is refused unless the saved map already names it (the default
    map reads a few properties a portal may not have; that field just stays empty)."""
    data = form.cleaned_data
    made: dict[str, dict] = {}
    for crm_type in MAP_TYPES:
        known = crm.names(crm_type)
        kept = {s for rule in (current.get(crm_type) or {}).values() for s in _sources(rule)}
        for target in DEFAULT_FIELD_OWNERS:
            name = map_field(crm_type, target)
            if name not in data:
                continue  # already refused (too long)
            names = [n for n in re.split(r"[\s,]+", data[name].strip()) if n]
            problem = _problem(names, known, kept, crm_type, crm.crm)
            if problem:
                form.add_error(name, problem)
            elif names:
                how = data.get(how_field(crm_type, target)) or "from"
                made.setdefault(crm_type, {})[target] = {how: names}
    display = [map_field(crm_type, "display_name") for crm_type in MAP_TYPES]
    if not any(m.get("display_name") for m in made.values()) and not any(
        form.has_error(name) for name in display
    ):
        form.add_error(
            map_field("companies", "display_name"),
            "Map at least the display name (from companies or contacts): a customer "
            "cannot be created or matched without it.",
        )
    return made


def _problem(
    names: list[str], known: set[str] | None, kept: set[str], crm_type: str, crm: str
) -> str:
    if len(names) > MOST_PROPERTIES:
        return f"At most {MOST_PROPERTIES} properties; this names {len(names)}."
    for name in names:
        if not PROPERTY_NAME.match(name):
            return (
                f"“{name[:60]}” is not a {crm or 'CRM'} property name: those are lowercase "
                "letters, digits and _ (like firstname)."
            )
        if known is not None and name not in known and name not in kept:
            kind = "company" if crm_type == "companies" else "contact"
            who = crm or "The CRM"
            return f"{who} has no {kind} property called “{name}”; pick one from the list."
    return ""


def _sources(rule) -> list[str]:
    if not isinstance(rule, dict):
        return []
    return [s for key in ("from", "first_of") for s in rule.get(key) or [] if isinstance(s, str)]
