"""Association types HubSpot defines and the storage of typed links in both directions."""

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import HubSpotError
from .models import Association, CrmObject, Portal

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"


@dataclass(frozen=True)
class AssociationType:
    from_type: str
    to_type: str
    type_id: int
    reverse_id: int
    label: str | None
    name: str  # the v3 `type` of a read's associations, e.g. "deal_to_line_item"
    default: bool = False


def _pair(a: str, b: str, fwd: int, rev: int, label: str | None, names: tuple[str, str],
          default: bool) -> list[AssociationType]:  # fmt: skip
    return [
        AssociationType(a, b, fwd, rev, label, names[0], default),
        AssociationType(b, a, rev, fwd, label, names[1], default),
    ]


TYPES: list[AssociationType] = [
    *_pair("contacts", "companies", 1, 2, "Primary",
           ("contact_to_company", "company_to_contact"), False),
    *_pair("contacts", "companies", 279, 280, None,
           ("contact_to_company_unlabeled", "company_to_contact_unlabeled"), True),
    *_pair("deals", "contacts", 3, 4, None, ("deal_to_contact", "contact_to_deal"), True),
    *_pair("deals", "companies", 5, 6, "Primary", ("deal_to_company", "company_to_deal"), False),
    *_pair("deals", "companies", 341, 342, None,
           ("deal_to_company_unlabeled", "company_to_deal_unlabeled"), True),
    *_pair("deals", "line_items", 19, 20, None, ("deal_to_line_item", "line_item_to_deal"), True),
]  # fmt: skip
_BY_ID = {t.type_id: t for t in TYPES}


def type_by_id(type_id: int, category: str = HUBSPOT_DEFINED) -> AssociationType:
    found = _BY_ID.get(type_id) if category == HUBSPOT_DEFINED else None
    if found is None:
        raise HubSpotError(
            400, "VALIDATION_ERROR", f"{category} {type_id} is not a valid association type"
        )
    return found


def default_type(from_type: str, to_type: str) -> AssociationType:
    for kind in TYPES:
        if kind.default and (kind.from_type, kind.to_type) == (from_type, to_type):
            return kind
    raise HubSpotError(
        400, "VALIDATION_ERROR", f"No default association between {from_type} and {to_type}"
    )


def require_object(portal: Portal, type_name: str, object_id: str | int) -> CrmObject:
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        pk = None
    found = (
        CrmObject.objects.filter(
            portal=portal, object_type=type_name, pk=pk, archived=False
        ).first()
        if pk is not None
        else None
    )
    if found is None:
        raise HubSpotError(
            404,
            "OBJECT_NOT_FOUND",
            f"No {type_name} with ID {object_id} exist",
            context={"ids": [str(object_id)]},
        )
    return found


def live_ids(portal: Portal, type_name: str, object_ids: Iterable[str]) -> set[int]:
    """The ids among `object_ids` of records of this type that exist and are not archived."""
    pks = {int(i) for i in object_ids if str(i).isdigit()}
    return set(
        CrmObject.objects.filter(
            portal=portal, object_type=type_name, pk__in=pks, archived=False
        ).values_list("pk", flat=True)
    )


def link(portal: Portal, kind: AssociationType, from_id: int, to_id: int) -> None:
    """Store the link and its reverse; the same link twice is a no-op, as in HubSpot."""
    for row in (
        (kind.from_type, from_id, kind.to_type, to_id, kind.type_id),
        (kind.to_type, to_id, kind.from_type, from_id, kind.reverse_id),
    ):
        Association.objects.get_or_create(
            portal=portal,
            from_type=row[0],
            from_id=row[1],
            to_type=row[2],
            to_id=row[3],
            category=HUBSPOT_DEFINED,
            type_id=row[4],
        )


def check_type_fits(kind: AssociationType, from_type: str, to_type: str) -> None:
    if (kind.from_type, kind.to_type) != (from_type, to_type):
        raise HubSpotError(
            400,
            "VALIDATION_ERROR",
            f"{kind.type_id} is not a valid association type from {from_type} to {to_type}",
        )


def unlink_all(portal: Portal, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
    Association.objects.filter(
        portal=portal, from_type=from_type, from_id=from_id, to_type=to_type, to_id=to_id
    ).delete()
    Association.objects.filter(
        portal=portal, from_type=to_type, from_id=to_id, to_type=from_type, to_id=from_id
    ).delete()


def unlink_types(
    portal: Portal, from_type: str, from_id: int, to_type: str, to_id: int, type_ids: list[int]
) -> None:
    for type_id in type_ids:
        kind = type_by_id(type_id)
        Association.objects.filter(
            portal=portal, from_type=from_type, from_id=from_id, to_type=to_type, to_id=to_id,
            type_id=kind.type_id,
        ).delete()  # fmt: skip
        Association.objects.filter(
            portal=portal, from_type=to_type, from_id=to_id, to_type=from_type, to_id=from_id,
            type_id=kind.reverse_id,
        ).delete()  # fmt: skip


def unlink_object(portal: Portal, type_name: str, object_id: int) -> None:
    """Archiving a record removes its links both ways."""
    Association.objects.filter(portal=portal, from_type=type_name, from_id=object_id).delete()
    Association.objects.filter(portal=portal, to_type=type_name, to_id=object_id).delete()


def links_of(
    portal: Portal, from_type: str, from_ids: Iterable[int], to_type: str
) -> dict[int, dict[int, list[int]]]:
    """{from_id: {to_id: [type ids]}} for live target records, in id order."""
    found: dict[int, dict[int, list[int]]] = {}
    rows = list(
        Association.objects.filter(
            portal=portal, from_type=from_type, from_id__in=list(from_ids), to_type=to_type
        ).order_by("to_id", "type_id")
    )
    # The targets as a list, not a subquery: on tables just filled (no statistics yet) the
    # planner ran the subquery once per record, most of a reconciliation's time.
    live = set(
        CrmObject.objects.filter(
            portal=portal, object_type=to_type, archived=False, pk__in={r.to_id for r in rows}
        ).values_list("pk", flat=True)
    )
    for row in rows:
        if row.to_id in live:
            found.setdefault(row.from_id, {}).setdefault(row.to_id, []).append(row.type_id)
    return found


def spec_with_label(type_id: int) -> dict:
    kind = _BY_ID[type_id]
    return {"category": HUBSPOT_DEFINED, "typeId": type_id, "label": kind.label}
