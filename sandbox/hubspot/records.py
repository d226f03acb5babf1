"""CRM records: property validation, derived values, writes and the JSON shape of a record."""

import functools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import F
from django.utils import timezone

from sandbox.emulation import RESET_HOOKS

from . import associations_core as assoc
from .api import iso
from .errors import HubSpotError, conflict
from .models import CrmObject, CustomProperty, Portal
from .pipelines_core import closed_won, is_closed
from .schema import READ_ONLY, ObjectType, builtin_properties

# v3 reads name line items' associations with a space, unlike the path name.
ASSOCIATION_KEYS = {"line_items": "line items"}


@dataclass
class Change:
    """One webhook-worthy change: `kind` is creation, deletion or propertyChange."""

    kind: str
    object_id: int
    property_name: str | None = None
    property_value: str | None = None


@dataclass
class WriteResult:
    record: CrmObject
    changes: list[Change] = field(default_factory=list)


# A portal's custom properties, read on every call: kept per (portal, type) and forgotten
# when one is created or the sandbox is reset (both in this process).
_custom: dict[tuple[int, str], dict[str, dict]] = {}


_builtin = functools.cache(builtin_properties)  # fixed per object type


def forget_custom_properties() -> None:
    _custom.clear()


RESET_HOOKS.append(forget_custom_properties)


def known_properties(portal: Portal, otype: ObjectType) -> dict[str, dict]:
    key = (portal.pk, otype.name)
    if key not in _custom:
        rows = CustomProperty.objects.filter(portal=portal, object_type=otype.name)
        _custom[key] = {custom.name: custom.definition for custom in rows}
    return _builtin(otype.name) | _custom[key]


def as_string(value: Any) -> str:
    """HubSpot keeps every property value as a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def clean(props: Any, known: dict[str, dict]) -> dict[str, str]:
    """Validate writable properties and turn their values into strings, or 400."""
    if not isinstance(props, dict):
        raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: properties")
    problems = []
    for name in props:
        if name not in known:
            problems.append(
                {"isValid": False, "message": f'Property "{name}" does not exist',
                 "error": "PROPERTY_DOESNT_EXIST", "name": name}
            )  # fmt: skip
        elif name in READ_ONLY:
            problems.append(
                {"isValid": False, "message": f'"{name}" is a read only property; its value '
                 "cannot be set.", "error": "READ_ONLY_VALUE", "name": name}
            )  # fmt: skip
    if problems:
        details = [
            {"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}}
            for p in problems
        ]
        raise HubSpotError(
            400,
            "VALIDATION_ERROR",
            "Property values were not valid: " + str(problems).replace("'", '"'),
            errors=details,
        )
    # PostgreSQL's JSON cannot hold NUL; the emulator drops it rather than answer 500.
    return {name: as_string(value).replace("\x00", "") for name, value in props.items()}


def _decimal(value: str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def derive(otype: ObjectType, props: dict[str, str], given: dict[str, str]) -> None:
    """Fill the values HubSpot computes from others."""
    if otype.name == "line_items" and "amount" not in given:
        price, quantity = _decimal(props.get("price")), _decimal(props.get("quantity"))
        if price is not None:
            amount = price * (quantity if quantity is not None else Decimal(1))
            amount -= _decimal(props.get("discount")) or Decimal(0)
            props["amount"] = str(amount)
    if otype.name == "deals":
        if props.get("dealstage") and not props.get("pipeline"):
            props["pipeline"] = "default"
        stage = props.get("dealstage", "")
        props["hs_is_closed"] = "true" if is_closed(stage) else "false"
        props["hs_is_closed_won"] = "true" if closed_won(stage) else "false"
    if otype.name == "contacts" and props.get("email"):
        props["email"] = props["email"].strip().lower()


def _stamp(record: CrmObject, otype: ObjectType, moment: datetime) -> None:
    props = record.properties
    props["hs_object_id"] = str(record.pk)
    props["createdate"] = iso(record.created_at)
    props["hs_lastmodifieddate"] = iso(moment)
    if otype.name == "contacts":
        props["lastmodifieddate"] = iso(moment)


def check_unique_email(portal: Portal, props: dict[str, str], exclude: int | None = None) -> None:
    email = props.get("email")
    if not email:
        return
    existing = CrmObject.objects.filter(
        portal=portal, object_type="contacts", archived=False, properties__email=email
    ).exclude(pk=exclude)
    first = existing.values_list("pk", flat=True).first()
    if first is not None:
        raise conflict(f"Contact already exists. Existing ID: {first}")


def create(
    portal: Portal, otype: ObjectType, raw_props: Any, associations: Any, known: dict[str, dict]
) -> WriteResult:
    given = clean(raw_props or {}, known)
    props = {k: v for k, v in given.items() if v != ""}
    derive(otype, props, given)
    if otype.name == "contacts":
        check_unique_email(portal, props)
    links = _parse_associations(portal, otype, associations or [])
    now = timezone.now()
    record = CrmObject.objects.create(
        portal=portal, object_type=otype.name, properties=props, created_at=now, updated_at=now
    )
    _stamp(record, otype, now)
    record.save(update_fields=["properties"])
    for kind, to_id in links:
        assoc.link(portal, kind, record.pk, to_id)
    changes = [Change("creation", record.pk)]
    changes += [Change("propertyChange", record.pk, k, v) for k, v in props.items()]
    return WriteResult(record, changes)


def _parse_associations(portal: Portal, otype: ObjectType, items: Any) -> list[tuple]:
    if not isinstance(items, list):
        raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: associations")
    links = []
    for item in items:
        to_id = str(((item or {}).get("to") or {}).get("id", ""))
        for spec in item.get("types") or []:
            kind = assoc.type_by_id(
                int(spec.get("associationTypeId", 0)),
                spec.get("associationCategory", assoc.HUBSPOT_DEFINED),
            )
            if kind.from_type != otype.name:
                raise HubSpotError(
                    400,
                    "VALIDATION_ERROR",
                    f"{kind.type_id} is not a valid association type from {otype.name}",
                )
            target = assoc.require_object(portal, kind.to_type, to_id)
            links.append((kind, target.pk))
    return links


def update(record: CrmObject, otype: ObjectType, raw_props: Any, known: dict) -> WriteResult:
    given = clean(raw_props or {}, known)
    props = dict(record.properties)
    for name, value in given.items():
        if value == "":
            props.pop(name, None)
        else:
            props[name] = value
    derive(otype, props, given)
    if otype.name == "contacts" and given.get("email"):
        check_unique_email(record.portal, props, exclude=record.pk)
    changes = [
        Change("propertyChange", record.pk, name, props.get(name, ""))
        for name in sorted(set(props) | set(record.properties))
        if name not in READ_ONLY and props.get(name) != record.properties.get(name)
    ]
    now = timezone.now()
    record.properties = props
    record.updated_at = now
    _stamp(record, otype, now)
    record.save(update_fields=["properties", "updated_at"])
    return WriteResult(record, changes)


def archive(record: CrmObject) -> WriteResult:
    now = timezone.now()
    CrmObject.objects.filter(pk=record.pk).update(archived=True, archived_at=now, updated_at=now)
    assoc.unlink_object(record.portal, record.object_type, record.pk)
    return WriteResult(record, [Change("deletion", record.pk)])


def next_event_ids(portal: Portal, count: int) -> range:
    Portal.objects.filter(pk=portal.pk).update(event_seq=F("event_seq") + count)
    last = Portal.objects.filter(pk=portal.pk).values_list("event_seq", flat=True).get()
    return range(last - count + 1, last + 1)


def requested_names(request_values: list[str]) -> list[str]:
    """Property names from repeated and comma-separated query values."""
    names = []
    for value in request_values:
        names += [n.strip() for n in value.split(",") if n.strip()]
    return names


def to_json(
    record: CrmObject,
    otype: ObjectType,
    names: list[str] | None,
    known: dict[str, dict],
    associations: dict[str, list[dict]] | None = None,
) -> dict[str, Any]:
    """The record as the API shows it; `names=None` means the type's default properties."""
    always = {"hs_object_id", "createdate", otype.modified_property}
    wanted = list(otype.defaults) if not names else [n for n in names if n in known]
    props = {}
    for name in sorted(set(wanted) | always):
        props[name] = record.properties.get(name)
    body: dict[str, Any] = {
        "id": str(record.pk),
        "properties": props,
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
        "archived": record.archived,
    }
    if record.archived and record.archived_at:
        body["archivedAt"] = iso(record.archived_at)
    if associations:
        body["associations"] = {
            ASSOCIATION_KEYS.get(key, key): {"results": results}
            for key, results in associations.items()
            if results
        }
    return body
