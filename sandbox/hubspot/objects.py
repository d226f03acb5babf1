"""CRM v3 objects: basic CRUD, list paging and the batch endpoints."""

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from sandbox.routers import SANDBOX_DB

from . import associations_core as assoc
from . import records, webhooks
from .api import crm_api, iso, json_body, respond
from .errors import HubSpotError, error_item, not_found, validation
from .models import CrmObject, Portal
from .schema import ObjectType, object_type

DEFAULT_PAGE = 10
MAX_PAGE = 100
MAX_BATCH = 100


def _int_param(raw: str | None, default: int, name: str) -> int:
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise validation(f"Invalid value for {name}: {raw}") from exc


def _truthy(raw: str | None) -> bool:
    return (raw or "").lower() == "true"


def association_results(
    portal: Portal, otype: ObjectType, ids: list[int], wanted: list[str]
) -> dict[int, dict[str, list[dict]]]:
    """v3-style associations for each record: {id: {toType: [{id, type}]}}."""
    found: dict[int, dict[str, list[dict]]] = {pk: {} for pk in ids}
    for name in wanted:
        to_type = object_type(name)
        links = assoc.links_of(portal, otype.name, ids, to_type.name)
        for pk in ids:
            found[pk][to_type.name] = [
                {"id": str(to_id), "type": next(k.name for k in assoc.TYPES if k.type_id == t)}
                for to_id, type_ids in links.get(pk, {}).items()
                for t in type_ids
            ]
    return found


def _by_pk(id_property: str | None) -> bool:
    return not id_property or id_property == "hs_object_id"


def _by_id(
    portal: Portal, otype: ObjectType, object_ids: list[str], archived: bool
) -> dict[str, CrmObject]:
    """A batch's records by id in one query (a thousand deals' line items are read so)."""
    pks = {int(i) for i in object_ids if i.isdigit()}
    rows = CrmObject.objects.filter(
        portal=portal, object_type=otype.name, archived=archived, pk__in=pks
    )
    return {str(row.pk): row for row in rows}


def _lookup(portal: Portal, otype: ObjectType, object_id: str, id_property: str | None,
            archived: bool = False) -> CrmObject | None:  # fmt: skip
    rows = CrmObject.objects.filter(portal=portal, object_type=otype.name, archived=archived)
    if not _by_pk(id_property):
        value = object_id.lower() if id_property == "email" else object_id
        return rows.filter(**{"properties__" + id_property.replace("__", ""): value}).first()
    if not object_id.isdigit():
        return None
    # The hottest path (single reads): raw SQL skips the ORM's query compiler.
    found = CrmObject.objects.raw(READ_ONE, [int(object_id), portal.pk, otype.name, archived])
    return next(iter(found), None)


READ_ONE = (
    "SELECT * FROM sandbox_hubspot_crmobject "
    "WHERE id = %s AND portal_id = %s AND object_type = %s AND archived = %s"
)


def _missing(otype: ObjectType, object_id: str) -> HubSpotError:
    return not_found("Object not found.  objectId are usually numeric.", ids=[object_id])


@crm_api(("GET", "POST"))
def collection(request: HttpRequest, portal: Portal, object_type_name: str) -> HttpResponse:
    otype = object_type(object_type_name)
    known = records.known_properties(portal, otype)
    if request.method == "POST":
        body = json_body(request)
        with transaction.atomic(using=SANDBOX_DB):
            result = records.create(
                portal, otype, body.get("properties"), body.get("associations"), known
            )
            webhooks.queue(portal, otype.singular, result.changes)
        return respond(records.to_json(result.record, otype, None, known), status=201)

    limit = min(max(_int_param(request.GET.get("limit"), DEFAULT_PAGE, "limit"), 1), MAX_PAGE)
    after = _int_param(request.GET.get("after"), 0, "after")
    archived = _truthy(request.GET.get("archived"))
    names = records.requested_names(request.GET.getlist("properties")) or None
    wanted = records.requested_names(request.GET.getlist("associations"))
    page = list(
        CrmObject.objects.filter(
            portal=portal, object_type=otype.name, archived=archived, pk__gt=after
        ).order_by("pk")[: limit + 1]
    )
    more = len(page) > limit
    page = page[:limit]
    links = association_results(portal, otype, [r.pk for r in page], wanted) if wanted else {}
    body: dict[str, Any] = {
        "results": [records.to_json(r, otype, names, known, links.get(r.pk)) for r in page]
    }
    if more:
        after_token = str(page[-1].pk)
        body["paging"] = {
            "next": {
                "after": after_token,
                "link": f"{request.build_absolute_uri(request.path)}?after={after_token}",
            }
        }
    return respond(body)


@crm_api(("GET", "PATCH", "DELETE"))
def detail(
    request: HttpRequest, portal: Portal, object_type_name: str, object_id: str
) -> HttpResponse:
    otype = object_type(object_type_name)
    known = records.known_properties(portal, otype)
    id_property = request.GET.get("idProperty")
    if request.method == "GET":
        archived = _truthy(request.GET.get("archived"))
        record = _lookup(portal, otype, object_id, id_property, archived)
        if record is None:
            raise _missing(otype, object_id)
        names = records.requested_names(request.GET.getlist("properties")) or None
        wanted = records.requested_names(request.GET.getlist("associations"))
        links = association_results(portal, otype, [record.pk], wanted) if wanted else {}
        return respond(records.to_json(record, otype, names, known, links.get(record.pk)))

    with transaction.atomic(using=SANDBOX_DB):
        record = _lookup(portal, otype, object_id, id_property)
        if record is None:
            if request.method == "DELETE":
                # Archiving an unknown or already archived record succeeds, as in HubSpot.
                return HttpResponse(status=204)
            raise _missing(otype, object_id)
        if request.method == "DELETE":
            result = records.archive(record)
            webhooks.queue(portal, otype.singular, result.changes)
            return HttpResponse(status=204)
        result = records.update(record, otype, json_body(request).get("properties"), known)
        webhooks.queue(portal, otype.singular, result.changes)
    return respond(records.to_json(result.record, otype, None, known))


def _inputs(body: Any) -> list:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise validation("Invalid input JSON: inputs is required")
    if len(inputs) > MAX_BATCH:
        raise HubSpotError(
            400,
            "VALIDATION_ERROR",
            f"Batch input cannot exceed {MAX_BATCH} inputs, {len(inputs)} provided",
            context={"maxInputs": [str(MAX_BATCH)]},
        )
    return inputs


def _batch_response(results: list[dict], errors: list[dict], started: str, ok: int) -> HttpResponse:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "requestedAt": started,
        "startedAt": started,
        "completedAt": iso(timezone.now()),
        "links": {},
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return respond(body, status=207)
    return respond(body, status=ok)


@crm_api(("POST",))
def batch(request: HttpRequest, portal: Portal, object_type_name: str, action: str) -> HttpResponse:
    otype = object_type(object_type_name)
    known = records.known_properties(portal, otype)
    body = json_body(request)
    inputs = _inputs(body)
    started = iso(timezone.now())
    results: list[dict] = []
    errors: list[dict] = []

    if action == "read":
        names = body.get("properties") or None
        id_property = body.get("idProperty")
        archived = _truthy(request.GET.get("archived"))
        asked = [str((item or {}).get("id", "")) for item in inputs]
        by_id = _by_id(portal, otype, asked, archived) if _by_pk(id_property) else None
        for object_id in asked:
            record = (
                by_id.get(object_id)
                if by_id is not None
                else _lookup(portal, otype, object_id, id_property, archived)
            )
            if record is None:
                errors.append(
                    error_item("OBJECT_NOT_FOUND", f"Could not get some {otype.name} objects, "
                               "they may be deleted or not exist.", ids=[object_id])
                )  # fmt: skip
            else:
                results.append(records.to_json(record, otype, names, known))
        return _batch_response(results, _merge_not_found(errors, otype), started, 200)

    with transaction.atomic(using=SANDBOX_DB):
        changes: list[records.Change] = []
        if action == "create":
            created = [
                records.create(
                    portal,
                    otype,
                    (i or {}).get("properties"),
                    (i or {}).get("associations"),
                    known,
                )
                for i in inputs
            ]
            for result in created:
                changes += result.changes
                results.append(records.to_json(result.record, otype, None, known))
            webhooks.queue(portal, otype.singular, changes)
            return _batch_response(results, errors, started, 201)
        if action == "update":
            for item in inputs:
                object_id = str((item or {}).get("id", ""))
                record = _lookup(portal, otype, object_id, (item or {}).get("idProperty"))
                if record is None:
                    errors.append(error_item("OBJECT_NOT_FOUND", "Object not found.",
                                             ids=[object_id]))  # fmt: skip
                    continue
                result = records.update(record, otype, item.get("properties"), known)
                changes += result.changes
                results.append(records.to_json(result.record, otype, None, known))
            webhooks.queue(portal, otype.singular, changes)
            return _batch_response(results, _merge_not_found(errors, otype), started, 200)
        if action == "archive":
            for item in inputs:
                record = _lookup(portal, otype, str((item or {}).get("id", "")), None)
                if record is not None:
                    changes += records.archive(record).changes
            webhooks.queue(portal, otype.singular, changes)
            return HttpResponse(status=204)
    raise not_found(f"Unknown batch action {action}")


def _merge_not_found(errors: list[dict], otype: ObjectType) -> list[dict]:
    """HubSpot reports all missing ids of a batch in one error."""
    if not errors:
        return errors
    ids = [i for e in errors for i in e["context"].get("ids", [])]
    merged = error_item(
        "OBJECT_NOT_FOUND",
        f"Could not get some {otype.name} objects, they may be deleted or not exist. "
        f"Check that ids are valid.",
        ids=ids,
    )
    return [merged]
