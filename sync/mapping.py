"""CRM record → accounting customer, driven by a field map that is data, not code.

A field map says, for each customer field, which CRM properties feed it (joined with a
space when several are given, the first non-empty used when `first_of`). Each client can
have its own; `DEFAULT_COMPANY_MAP` and `DEFAULT_CONTACT_MAP` are the starting points.
"""

import copy
from collections.abc import Mapping

from connections.records import Customer

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
    _plan(field_map)


Plan = tuple[tuple[str, bool, tuple[str, ...]], ...]  # (field, first_of?, properties)
_PLANS: dict[int, tuple[FieldMap, dict, Plan]] = {}  # id → (the map, a copy of it, its plan)


def _plan(field_map: FieldMap) -> Plan:
    """The map checked and read once; remembered while the map stays as it was (a run maps
    thousands of records with one map: comparing it with its copy is cheaper than checking)."""
    known = _PLANS.get(id(field_map))
    if known is not None and known[0] is field_map and known[1] == field_map:
        return known[2]
    plan = []
    for target, rule in field_map.items():
        if not isinstance(rule, dict) or not ({"from", "first_of"} & set(rule)):
            raise FieldMapError(f"{target}: needs 'from' or 'first_of' with a list of properties")
        for key in ("from", "first_of"):
            sources = rule.get(key, [])
            if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
                raise FieldMapError(f"{target}: '{key}' must be a list of property names")
        first_of = "first_of" in rule
        plan.append((target, first_of, tuple(rule["first_of"] if first_of else rule["from"])))
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[id(field_map)] = (field_map, copy.deepcopy(dict(field_map)), tuple(plan))
    return tuple(plan)


def map_record(properties: Mapping[str, object], field_map: FieldMap) -> dict[str, str]:
    """The customer fields a CRM record's properties give under `field_map` (text, unvalidated)."""
    get = properties.get
    out = {}
    for target, first_of, sources in _plan(field_map):
        texts = []
        for source in sources:
            value = get(source)
            if value is None:
                continue
            text = value.strip() if type(value) is str else str(value).strip()
            if text:
                texts.append(text)
                if first_of:
                    break
        out[target] = texts[0] if len(texts) == 1 else " ".join(texts)
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


def record_name(record, field_map: dict) -> str:
    """What people call a CRM record: its mapped display or company name, else the person's
    name, else its type and id."""
    values = map_record(record.properties, field_map.get(record.crm_type, {}))
    person = " ".join(filter(None, [values.get("given_name"), values.get("family_name")]))
    return (
        values.get("display_name")
        or values.get("company_name")
        or person
        or f"{record.crm_type} {record.external_id}"
    )
