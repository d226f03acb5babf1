"""Object types and their built-in properties, as HubSpot defines them."""

from dataclasses import dataclass

from .errors import HubSpotError


@dataclass(frozen=True)
class ObjectType:
    name: str  # plural path name, e.g. "line_items"
    type_id: str  # e.g. "0-8"
    singular: str  # webhook subscription prefix and association type names
    defaults: tuple[str, ...]  # returned when the caller names no properties
    searchable: tuple[str, ...]  # what a search `query` matches
    modified_property: str


OBJECT_TYPES = {
    t.name: t
    for t in (
        ObjectType(
            "contacts", "0-1", "contact",
            ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
            ("firstname", "lastname", "email", "phone", "company"),
            "lastmodifieddate",
        ),
        ObjectType(
            "companies", "0-2", "company",
            ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
            ("name", "domain", "website", "phone"),
            "hs_lastmodifieddate",
        ),
        ObjectType(
            "deals", "0-3", "deal",
            ("amount", "closedate", "createdate", "dealname", "dealstage",
             "hs_lastmodifieddate", "hs_object_id", "pipeline"),
            ("dealname",),
            "hs_lastmodifieddate",
        ),
        ObjectType(
            "products", "0-7", "product",
            ("createdate", "description", "hs_lastmodifieddate", "hs_object_id", "name", "price"),
            ("name", "description", "hs_sku"),
            "hs_lastmodifieddate",
        ),
        ObjectType(
            "line_items", "0-8", "line_item",
            ("amount", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_product_id",
             "name", "price", "quantity"),
            ("name", "hs_sku"),
            "hs_lastmodifieddate",
        ),
    )
}  # fmt: skip
_BY_ID = {t.type_id: t for t in OBJECT_TYPES.values()}
_ALIASES = {t.singular: t for t in OBJECT_TYPES.values()} | {
    "line_item": OBJECT_TYPES["line_items"]
}


def object_type(name: str) -> ObjectType:
    """Resolve a path's object type (plural name, singular or `0-n` id) or 400."""
    found = OBJECT_TYPES.get(name.lower()) or _BY_ID.get(name) or _ALIASES.get(name.lower())
    if found is None:
        raise HubSpotError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
    return found


# (name, label, type, fieldType, groupName)
_COMMON = [
    ("hs_object_id", "Record ID", "number", "number"),
    ("createdate", "Create Date", "datetime", "date"),
    ("hs_lastmodifieddate", "Last Modified Date", "datetime", "date"),
]
_BUILTIN: dict[str, list[tuple[str, str, str, str]]] = {
    "contacts": [
        ("email", "Email", "string", "text"),
        ("firstname", "First Name", "string", "text"),
        ("lastname", "Last Name", "string", "text"),
        ("phone", "Phone Number", "string", "phonenumber"),
        ("company", "Company Name", "string", "text"),
        ("website", "Website URL", "string", "text"),
        ("address", "Street Address", "string", "text"),
        ("city", "City", "string", "text"),
        ("state", "State/Region", "string", "text"),
        ("zip", "Postal Code", "string", "text"),
        ("country", "Country/Region", "string", "text"),
        ("jobtitle", "Job Title", "string", "text"),
        ("lifecyclestage", "Lifecycle Stage", "enumeration", "radio"),
        ("hubspot_owner_id", "Contact owner", "enumeration", "select"),
        ("lastmodifieddate", "Last Modified Date", "datetime", "date"),
    ],
    "companies": [
        ("name", "Company name", "string", "text"),
        ("domain", "Company Domain Name", "string", "text"),
        ("website", "Website URL", "string", "text"),
        ("phone", "Phone Number", "string", "phonenumber"),
        ("address", "Street Address", "string", "text"),
        ("city", "City", "string", "text"),
        ("state", "State/Region", "string", "text"),
        ("zip", "Postal Code", "string", "text"),
        ("country", "Country/Region", "string", "text"),
        ("industry", "Industry", "enumeration", "select"),
        ("description", "Description", "string", "textarea"),
        ("lifecyclestage", "Lifecycle Stage", "enumeration", "radio"),
        ("hubspot_owner_id", "Company owner", "enumeration", "select"),
    ],
    "deals": [
        ("dealname", "Deal Name", "string", "text"),
        ("amount", "Amount", "number", "number"),
        ("dealstage", "Deal Stage", "enumeration", "radio"),
        ("pipeline", "Pipeline", "enumeration", "select"),
        ("closedate", "Close Date", "datetime", "date"),
        ("description", "Deal Description", "string", "textarea"),
        ("dealtype", "Deal Type", "enumeration", "radio"),
        ("deal_currency_code", "Currency", "enumeration", "select"),
        ("hubspot_owner_id", "Deal owner", "enumeration", "select"),
        ("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox"),
        ("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox"),
    ],
    "products": [
        ("name", "Name", "string", "text"),
        ("price", "Unit price", "number", "number"),
        ("description", "Description", "string", "textarea"),
        ("hs_sku", "SKU", "string", "text"),
        ("hs_cost_of_goods_sold", "Unit cost", "number", "number"),
        ("hs_recurring_billing_period", "Term", "string", "text"),
        ("recurringbillingfrequency", "Billing frequency", "enumeration", "select"),
    ],
    "line_items": [
        ("name", "Name", "string", "text"),
        ("price", "Unit price", "number", "number"),
        ("quantity", "Quantity", "number", "number"),
        ("amount", "Net price", "number", "number"),
        ("discount", "Unit discount", "number", "number"),
        ("hs_product_id", "Product ID", "number", "number"),
        ("hs_sku", "SKU", "string", "text"),
        ("description", "Description", "string", "textarea"),
        ("hs_line_item_currency_code", "Currency", "enumeration", "select"),
        ("hs_cost_of_goods_sold", "Unit cost", "number", "number"),
        ("recurringbillingfrequency", "Billing frequency", "enumeration", "select"),
    ],
}
# Computed by HubSpot itself; writes to them are refused.
READ_ONLY = frozenset(
    {"hs_object_id", "createdate", "hs_lastmodifieddate", "lastmodifieddate",
     "hs_is_closed", "hs_is_closed_won"}
)  # fmt: skip
DEFAULT_GROUPS = {
    "contacts": [("contactinformation", "Contact information")],
    "companies": [("companyinformation", "Company information")],
    "deals": [("dealinformation", "Deal information")],
    "products": [("productinformation", "Product information")],
    "line_items": [("lineiteminformation", "Line item information")],
}


def builtin_properties(type_name: str) -> dict[str, dict]:
    """Built-in property definitions of an object type, keyed by name."""
    group = DEFAULT_GROUPS[type_name][0][0]
    found = {}
    for order, (name, label, kind, field) in enumerate(_COMMON + _BUILTIN[type_name]):
        found[name] = {
            "name": name,
            "label": label,
            "type": kind,
            "fieldType": field,
            "groupName": group,
            "description": "",
            "options": [],
            "displayOrder": order,
            "calculated": name in READ_ONLY,
            "externalOptions": False,
            "hasUniqueValue": name == "hs_object_id",
            "hidden": False,
            "hubspotDefined": True,
            "formField": name not in READ_ONLY,
            "modificationMetadata": {
                "archivable": False,
                "readOnlyDefinition": True,
                "readOnlyValue": name in READ_ONLY,
            },
            "archived": False,
            "createdAt": "2019-08-06T02:41:52.000Z",
            "updatedAt": "2019-08-06T02:41:52.000Z",
        }
    return found
