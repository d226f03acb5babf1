"""CRM v4 associations: typed and default links, one at a time or in batches."""

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from sandbox.routers import SANDBOX_DB

from . import associations_core as assoc
from .api import crm_api, iso, json_body, respond
from .errors import error_item, validation
from .models import Portal
from .objects import MAX_BATCH
from .schema import object_type

MAX_READ_INPUTS = 1000
PAGE_LIMIT = 500


def _labels_pair(kind_from: str, from_id: int, kind_to: str, to_id: int, types: list) -> dict:
    return {
        "fromObjectTypeId": object_type(kind_from).type_id,
        "fromObjectId": from_id,
        "toObjectTypeId": object_type(kind_to).type_id,
        "toObjectId": to_id,
        "labels": [assoc.type_by_id(t).label for t in types if assoc.type_by_id(t).label],
    }


def _specs(raw: Any, from_type: str, to_type: str) -> list[assoc.AssociationType]:
    if not isinstance(raw, list) or not raw:
        raise validation("Association types are required")
    kinds = []
    for spec in raw:
        kind = assoc.type_by_id(
            int(spec.get("associationTypeId", 0)),
            spec.get("associationCategory", assoc.HUBSPOT_DEFINED),
        )
        assoc.check_type_fits(kind, from_type, to_type)
        kinds.append(kind)
    return kinds


def _batch(results: list, errors: list | None = None, status: int = 200) -> HttpResponse:
    now = iso(timezone.now())
    body: dict[str, Any] = {
        "status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now,
        "requestedAt": now, "links": {},
    }  # fmt: skip
    if errors:
        body |= {"numErrors": len(errors), "errors": errors}
        status = 207
    return respond(body, status=status)


def _default_results(kind: assoc.AssociationType, from_id: int, to_id: int) -> list[dict]:
    return [
        {"from": {"id": str(a)}, "to": {"id": str(b)},
         "associationSpec": {"associationCategory": assoc.HUBSPOT_DEFINED,
                             "associationTypeId": type_id}}
        for a, b, type_id in ((from_id, to_id, kind.type_id), (to_id, from_id, kind.reverse_id))
    ]  # fmt: skip


@crm_api(("PUT", "DELETE"))
def pair(
    request: HttpRequest, portal: Portal, object_type_name: str, object_id: str,
    to_object_type: str, to_object_id: str,
) -> HttpResponse:  # fmt: skip
    from_type, to_type = object_type(object_type_name).name, object_type(to_object_type).name
    with transaction.atomic(using=SANDBOX_DB):
        source = assoc.require_object(portal, from_type, object_id)
        target = assoc.require_object(portal, to_type, to_object_id)
        if request.method == "DELETE":
            assoc.unlink_all(portal, from_type, source.pk, to_type, target.pk)
            return HttpResponse(status=204)
        kinds = _specs(json_body(request), from_type, to_type)
        for kind in kinds:
            assoc.link(portal, kind, source.pk, target.pk)
    return respond(
        _labels_pair(from_type, source.pk, to_type, target.pk, [k.type_id for k in kinds]),
        status=201,
    )


@crm_api(("PUT",))
def pair_default(
    request: HttpRequest, portal: Portal, object_type_name: str, object_id: str,
    to_object_type: str, to_object_id: str,
) -> HttpResponse:  # fmt: skip
    from_type, to_type = object_type(object_type_name).name, object_type(to_object_type).name
    kind = assoc.default_type(from_type, to_type)
    with transaction.atomic(using=SANDBOX_DB):
        source = assoc.require_object(portal, from_type, object_id)
        target = assoc.require_object(portal, to_type, to_object_id)
        assoc.link(portal, kind, source.pk, target.pk)
    return _batch(_default_results(kind, source.pk, target.pk))


def _to_list(portal: Portal, from_type: str, from_id: int, to_type: str) -> list[dict]:
    return _targets(assoc.links_of(portal, from_type, [from_id], to_type).get(from_id, {}))


def _targets(links: dict[int, list[int]]) -> list[dict]:
    return [
        {"toObjectId": to_id, "associationTypes": [assoc.spec_with_label(t) for t in type_ids]}
        for to_id, type_ids in links.items()
    ]


@crm_api(("GET",))
def listing(
    request: HttpRequest, portal: Portal, object_type_name: str, object_id: str,
    to_object_type: str,
) -> HttpResponse:  # fmt: skip
    from_type, to_type = object_type(object_type_name).name, object_type(to_object_type).name
    source = assoc.require_object(portal, from_type, object_id)
    limit = min(int(request.GET.get("limit") or PAGE_LIMIT), PAGE_LIMIT)
    after = int(request.GET.get("after") or 0)
    items = [i for i in _to_list(portal, from_type, source.pk, to_type) if i["toObjectId"] > after]
    body: dict[str, Any] = {"results": items[:limit]}
    if len(items) > limit:
        body["paging"] = {"next": {"after": str(items[limit - 1]["toObjectId"])}}
    return respond(body)


def _inputs(body: Any, maximum: int) -> list:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise validation("inputs is required")
    if len(inputs) > maximum:
        raise validation(f"Batch input cannot exceed {maximum} inputs, {len(inputs)} provided")
    return inputs


@crm_api(("POST",))
def batch(
    request: HttpRequest, portal: Portal, from_object_type: str, to_object_type: str, action: str
) -> HttpResponse:
    from_type, to_type = object_type(from_object_type).name, object_type(to_object_type).name
    body = json_body(request)
    results: list[dict] = []
    errors: list[dict] = []
    if action == "read":
        asked = [str((item or {}).get("id", "")) for item in _inputs(body, MAX_READ_INPUTS)]
        # Two queries for the whole batch, not two per input: a month's reconciliation reads
        # a thousand deals' line items through here, and the benchmarks time it.
        live = assoc.live_ids(portal, from_type, asked)
        links = assoc.links_of(portal, from_type, live, to_type)
        for object_id in asked:
            if not object_id.isdigit() or int(object_id) not in live:
                message = f"No {from_type} with ID {object_id} exist"
                errors.append(error_item("OBJECT_NOT_FOUND", message, ids=[object_id]))
                continue
            source = int(object_id)
            to = _targets(links.get(source, {}))
            if to:
                results.append({"from": {"id": str(source)}, "to": to})
            else:
                errors.append(
                    error_item("OBJECT_NOT_FOUND", f"No {to_type} is associated with "
                               f"{from_type} {object_id}.", ids=[object_id])
                )  # fmt: skip
        return _batch(results, errors)

    inputs = _inputs(body, MAX_BATCH)
    with transaction.atomic(using=SANDBOX_DB):
        for item in inputs:
            item = item or {}
            source = assoc.require_object(portal, from_type, (item.get("from") or {}).get("id"))
            if action == "archive":
                for target in item.get("to") or []:
                    assoc.unlink_all(portal, from_type, source.pk, to_type, int(target["id"]))
                continue
            target = assoc.require_object(portal, to_type, (item.get("to") or {}).get("id"))
            if action == "create":
                kinds = _specs(item.get("types"), from_type, to_type)
                for kind in kinds:
                    assoc.link(portal, kind, source.pk, target.pk)
                results.append(
                    _labels_pair(from_type, source.pk, to_type, target.pk,
                                 [k.type_id for k in kinds])
                )  # fmt: skip
            elif action == "labels/archive":
                type_ids = [int(t.get("associationTypeId", 0)) for t in item.get("types") or []]
                assoc.unlink_types(portal, from_type, source.pk, to_type, target.pk, type_ids)
            elif action == "associate/default":
                kind = assoc.default_type(from_type, to_type)
                assoc.link(portal, kind, source.pk, target.pk)
                results += _default_results(kind, source.pk, target.pk)
    if action in ("archive", "labels/archive"):
        return HttpResponse(status=204)
    return _batch(results, status=201 if action == "create" else 200)
