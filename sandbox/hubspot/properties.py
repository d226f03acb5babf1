"""CRM v3 properties and property groups: built-in ones plus the portal's custom ones."""

import re

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from sandbox.routers import SANDBOX_DB

from . import records
from .api import crm_api, iso, json_body, respond
from .errors import HubSpotError, conflict, not_found, validation
from .models import CustomProperty, Portal, PropertyGroup
from .schema import DEFAULT_GROUPS, object_type

TYPES = {"string", "number", "date", "datetime", "enumeration", "bool", "phone_number"}
FIELD_TYPES = {
    "text", "textarea", "number", "date", "select", "radio", "checkbox", "booleancheckbox",
    "file", "calculation_equation", "html", "phonenumber",
}  # fmt: skip
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _groups(portal: Portal, type_name: str) -> list[dict]:
    found = [
        {"name": name, "label": label, "displayOrder": -1, "archived": False}
        for name, label in DEFAULT_GROUPS[type_name]
    ]
    for group in PropertyGroup.objects.filter(portal=portal, object_type=type_name).order_by("pk"):
        found.append(
            {"name": group.name, "label": group.label, "displayOrder": group.display_order,
             "archived": False}
        )  # fmt: skip
    return found


@crm_api(("GET", "POST"))
def property_collection(
    request: HttpRequest, portal: Portal, object_type_name: str
) -> HttpResponse:
    otype = object_type(object_type_name)
    if request.method == "GET":
        known = records.known_properties(portal, otype)
        return respond({"results": list(known.values())})
    body = json_body(request)
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
    if missing:
        raise validation(f"Missing required fields: {', '.join(missing)}")
    name = str(body["name"])
    if not _NAME.match(name):
        raise validation(f"Property name {name!r} must be lowercase letters, digits and _")
    if body["type"] not in TYPES or body["fieldType"] not in FIELD_TYPES:
        raise validation(f"Invalid type/fieldType: {body['type']}/{body['fieldType']}")
    if body["type"] == "enumeration" and not body.get("options"):
        raise validation("Enumeration properties require options")
    if body["groupName"] not in {g["name"] for g in _groups(portal, otype.name)}:
        raise validation(f"Property group {body['groupName']} does not exist")
    if name in records.known_properties(portal, otype):
        raise conflict(f"Property named '{name}' already exists.")
    definition = {
        "name": name,
        "label": body["label"],
        "type": body["type"],
        "fieldType": body["fieldType"],
        "groupName": body["groupName"],
        "description": body.get("description") or "",
        "options": [
            {
                "label": o.get("label"),
                "value": o.get("value"),
                "displayOrder": o.get("displayOrder", i),
                "hidden": bool(o.get("hidden", False)),
            }
            for i, o in enumerate(body.get("options") or [])
        ],
        "displayOrder": body.get("displayOrder", -1),
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": bool(body.get("hasUniqueValue", False)),
        "hidden": bool(body.get("hidden", False)),
        "hubspotDefined": False,
        "formField": bool(body.get("formField", False)),
        "modificationMetadata": {
            "archivable": True,
            "readOnlyDefinition": False,
            "readOnlyValue": False,
        },
        "archived": False,
    }
    try:
        with transaction.atomic(using=SANDBOX_DB):
            prop = CustomProperty.objects.create(
                portal=portal, object_type=otype.name, name=name, definition=definition
            )
    except IntegrityError as exc:
        raise conflict(f"Property named '{name}' already exists.") from exc
    definition |= {"createdAt": iso(prop.created_at), "updatedAt": iso(prop.updated_at)}
    prop.definition = definition
    prop.save(update_fields=["definition"])
    records.forget_custom_properties()
    return respond(definition, status=201)


@crm_api(("GET",))
def property_detail(
    request: HttpRequest, portal: Portal, object_type_name: str, property_name: str
) -> HttpResponse:
    otype = object_type(object_type_name)
    found = records.known_properties(portal, otype).get(property_name)
    if found is None:
        raise not_found(f"Unable to find property with name {property_name}")
    return respond(found)


@crm_api(("GET", "POST"))
def group_collection(request: HttpRequest, portal: Portal, object_type_name: str) -> HttpResponse:
    otype = object_type(object_type_name)
    if request.method == "GET":
        return respond({"results": _groups(portal, otype.name)})
    body = json_body(request)
    name, label = str(body.get("name") or ""), str(body.get("label") or "")
    if not name or not label:
        raise validation("Property groups require name and label")
    if name in {g["name"] for g in _groups(portal, otype.name)}:
        raise conflict(f"A property group named '{name}' already exists.")
    try:
        with transaction.atomic(using=SANDBOX_DB):
            group = PropertyGroup.objects.create(
                portal=portal, object_type=otype.name, name=name, label=label,
                display_order=int(body.get("displayOrder", -1)),
            )  # fmt: skip
    except IntegrityError as exc:
        raise HubSpotError(409, "CONFLICT", f"Group {name} already exists.") from exc
    return respond(
        {"name": group.name, "label": group.label, "displayOrder": group.display_order,
         "archived": False},
        status=201,
    )  # fmt: skip
