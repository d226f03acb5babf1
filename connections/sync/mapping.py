"""CRM record → accounting customer, driven by a field map that is data, not code.

A field map says, for each customer field, which CRM properties feed it (joined with a
space when several are given, the first non-empty used when `first_of`). Each client can
have its own; `DEFAULT_COMPANY_MAP` and `DEFAULT_CONTACT_MAP` are the starting points.
"""

from collections.abc import Mapping

from ..records import Customer

FieldMap = Mapping[str, dict]

# A customer field as pages name it; the rest read as their name ("postal_code" → "Postal code").
FIELD_WORDS = {"line1": "Address line 1", "tax_id": "Tax ID", "region": "State or region"}


def field_label(name: str) -> str:
    """A customer field in words, the same on the settings form and the client page."""
    return FIELD_WORDS.get(name) or name.replace("_", " ").capitalize()


DEFAULT_COMPANY_MAP: dict[str, dict] = {
    "display_name": {"from": ["name"]},
    "company_name": {"from": ["name"]},
    "phone": {"from": ["phone"]},
    "line1": {"from": ["address"]},
    "city": {"from": ["city"]},
    "region": {"from": ["state"]},
    "postal_code": {"from": ["zip"]},
    "country": {"from": ["country"]},
    "tax_id": {"from": ["tax_id"]},
    "notes": {"from": ["description"]},
}
DEFAULT_CONTACT_MAP: dict[str, dict] = {
    "display_name": {"from": ["firstname", "lastname"]},
    "given_name": {"from": ["firstname"]},
    "family_name": {"from": ["lastname"]},
    "email": {"from": ["email"]},
    "phone": {"first_of": ["phone", "mobilephone"]},
    "line1": {"from": ["address"]},
    "city": {"from": ["city"]},
    "region": {"from": ["state"]},
    "postal_code": {"from": ["zip"]},
    "country": {"from": ["country"]},
}


class FieldMapError(ValueError):
    """The field map itself is malformed; the message names the field."""


def check_field_map(field_map: FieldMap) -> None:
    for target, rule in field_map.items():
        if not isinstance(rule, dict) or not ({"from", "first_of"} & set(rule)):
            raise FieldMapError(f"{target}: needs 'from' or 'first_of' with a list of properties")
        for key in ("from", "first_of"):
            sources = rule.get(key, [])
            if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
                raise FieldMapError(f"{target}: '{key}' must be a list of property names")


def map_record(properties: Mapping[str, object], field_map: FieldMap) -> dict[str, str]:
    """The customer fields a CRM record's properties give under `field_map` (text, unvalidated)."""
    check_field_map(field_map)

    def text(name: str) -> str:
        value = properties.get(name)
        return "" if value is None else str(value).strip()

    out = {}
    for target, rule in field_map.items():
        if "first_of" in rule:
            out[target] = next((text(s) for s in rule["first_of"] if text(s)), "")
        else:
            out[target] = " ".join(t for t in (text(s) for s in rule["from"]) if t)
    return out


def accounting_values(customer: Customer) -> dict[str, str]:
    """An accounting customer in the same field names the CRM side maps to."""
    address = customer.billing_address
    return {
        "display_name": customer.display_name,
        "company_name": customer.company_name,
        "given_name": customer.given_name,
        "family_name": customer.family_name,
        "email": customer.email,
        "phone": customer.phone,
        "line1": address.line1,
        "city": address.city,
        "region": address.region,
        "postal_code": address.postal_code,
        "country": address.country,
        "tax_id": customer.tax_id,
        "notes": customer.notes,
    }
