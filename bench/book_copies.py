"""Setup for the firm-scale benchmarks: a book written once through the emulators' APIs
(`sandbox.seed_book.write_book`, about a minute for 1,000 invoices) copied into new
QuickBooks companies and HubSpot portals row by row in the sandbox database, in a second
or two. 200 books written through the APIs take hours on the 2-core machine; copies make
the 200-client month-end runnable. Only setup is copied: every reconciliation still reads
its own company and portal over HTTP through the official clients.

A copy is the source book with new HubSpot ids (the emulator's ids are global) and the
invoice notes that name a deal rewritten to the copy's deal ids; QuickBooks ids are per
company and stay as they are. Company settings, custom properties and property groups come
along. Tokens are the control API's for the new company and portal.
"""

import re

from sandbox.hubspot.models import Association, CrmObject, CustomProperty, Portal, PropertyGroup
from sandbox.quickbooks.models import Company, Entity
from sandbox.routers import SANDBOX_DB
from sandbox.seed_book import Written, _control

DEAL_NOTE = re.compile(r"HubSpot deal (\d+)")
QBO_SETTINGS = ("custom_txn_numbers", "book_close_date", "using_sales_tax", "preferences",
                "preferences_version", "next_id", "next_doc_number")  # fmt: skip


def copy_book(source: Written, base: str, name: str) -> Written:
    """A new company and portal holding `source`'s book (QuickBooks books only)."""
    from django.db import transaction

    company = _control(base, "POST", "quickbooks/companies", {"name": name})
    portal = _control(base, "POST", "hubspot/portals", {"name": name})
    realm, portal_id = company["realm_id"], str(portal["portal_id"])
    with transaction.atomic(using=SANDBOX_DB):
        new_ids = _copy_portal(int(source.portal_id), int(portal_id))
        _copy_company(source.realm_id, realm, new_ids)
    ids = {key: new_ids.get(value, value) for key, value in source.ids.items()}
    return Written(realm, company, portal_id, portal, ids)


def _copy_portal(source_pk: int, target_pk: int) -> dict[str, str]:
    """Records, links, properties and groups; returns old id -> new id (as text)."""
    target = Portal.objects.using(SANDBOX_DB).get(pk=target_pk)
    rows = list(CrmObject.objects.using(SANDBOX_DB).filter(portal_id=source_pk).order_by("pk"))
    old = [r.pk for r in rows]
    for row in rows:
        row.pk, row.portal = None, target
    CrmObject.objects.using(SANDBOX_DB).bulk_create(rows, batch_size=2_000)
    new_ids = {str(o): str(r.pk) for o, r in zip(old, rows, strict=True)}
    for row in rows:  # ids a record's properties hold: its own, its product's
        for key in ("hs_object_id", "hs_product_id"):
            if str(row.properties.get(key)) in new_ids:
                row.properties[key] = new_ids[str(row.properties[key])]
    CrmObject.objects.using(SANDBOX_DB).bulk_update(rows, ["properties"], batch_size=2_000)
    links = list(Association.objects.using(SANDBOX_DB).filter(portal_id=source_pk))
    for link in links:
        link.pk, link.portal = None, target
        link.from_id = int(new_ids.get(str(link.from_id), link.from_id))
        link.to_id = int(new_ids.get(str(link.to_id), link.to_id))
    Association.objects.using(SANDBOX_DB).bulk_create(links, batch_size=5_000)
    for model in (PropertyGroup, CustomProperty):
        copies = list(model.objects.using(SANDBOX_DB).filter(portal_id=source_pk))
        for each in copies:
            each.pk, each.portal = None, target
        model.objects.using(SANDBOX_DB).bulk_create(copies, ignore_conflicts=True)
    return new_ids


def _copy_company(source_realm: str, target_realm: str, new_ids: dict[str, str]) -> None:
    source = Company.objects.using(SANDBOX_DB).get(realm_id=source_realm)
    target = Company.objects.using(SANDBOX_DB).get(realm_id=target_realm)
    for setting in QBO_SETTINGS:
        setattr(target, setting, getattr(source, setting))
    target.save(using=SANDBOX_DB)
    # A new company starts with QuickBooks' standard accounts; the source has them too.
    Entity.objects.using(SANDBOX_DB).filter(company=target).delete()
    entities = list(Entity.objects.using(SANDBOX_DB).filter(company=source).order_by("pk"))
    for entity in entities:
        entity.pk, entity.company = None, target
        note = entity.data.get("PrivateNote") if isinstance(entity.data, dict) else None
        if isinstance(note, str):
            entity.data["PrivateNote"] = DEAL_NOTE.sub(
                lambda m: f"HubSpot deal {new_ids.get(m.group(1), m.group(1))}", note
            )
    Entity.objects.using(SANDBOX_DB).bulk_create(entities, batch_size=2_000)
