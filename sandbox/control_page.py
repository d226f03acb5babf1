"""The sandbox's page for a person trying the demo: what a contractor or a bookkeeper would
do in HubSpot's or QuickBooks' own screens, which the sandbox does not have.

- HubSpot: stop a portal's webhooks and send them again (its fault plan loses every event,
  then none), and add a company as someone would in HubSpot.
- QuickBooks: key an invoice again by hand, as a bookkeeper does by mistake: same customer,
  date and lines, its own number.

Each write goes through the emulators' own store, so the app hears of it as it would of
the real thing (a HubSpot webhook unless stopped, a QuickBooks change notification). Like
the control API, it exists only when SANDBOX is on.
"""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import emulation
from .hubspot import records, webhooks
from .hubspot.models import CrmObject, Portal
from .hubspot.schema import object_type
from .models import FaultConfig
from .quickbooks import webhooks as qbo_webhooks
from .quickbooks.faults import QboFault
from .quickbooks.models import Company, Entity
from .quickbooks.store import Store
from .record_pages import ref_value, shown_money
from .routers import SANDBOX_DB

INVOICES_SHOWN = 8


def page(request: HttpRequest) -> HttpResponse:
    stopped = set(
        FaultConfig.objects.filter(system=emulation.HUBSPOT, webhook_loss_rate__gte=1).values_list(
            "account", flat=True
        )
    )
    portals = [
        {"portal": p, "webhooks_on": str(p.pk) not in stopped,
         "companies": CrmObject.objects.filter(portal=p, object_type="companies",
                                               archived=False).count()}
        for p in Portal.objects.order_by("name", "pk")
    ]  # fmt: skip
    companies = [
        {"company": c, "invoices": _latest_invoices(c)} for c in Company.objects.order_by("name")
    ]
    return render(request, "sandbox/controls.html", {"portals": portals, "companies": companies})


def _latest_invoices(company: Company) -> list[dict]:
    rows = Entity.objects.filter(company=company, entity_type="Invoice", deleted=False)
    return [
        {"id": row.entity_id, "number": row.data.get("DocNumber") or f"#{row.entity_id}",
         "customer": (row.data.get("CustomerRef") or {}).get("name", ""),
         "date": row.data.get("TxnDate", ""),
         "total": shown_money(row.data.get("TotalAmt"), ref_value(row.data, "CurrencyRef"))}
        for row in rows.order_by("-entity_id")[:INVOICES_SHOWN]
    ]  # fmt: skip


@require_POST
def hubspot_webhooks(request: HttpRequest, portal_id: int) -> HttpResponse:
    portal = get_object_or_404(Portal, pk=portal_id)
    on = request.POST.get("on") == "1"
    plan, _ = FaultConfig.objects.get_or_create(
        system=emulation.HUBSPOT, account=str(portal.pk), defaults=emulation.NO_FAULTS.as_dict()
    )
    plan.webhook_loss_rate = 0.0 if on else 1.0
    plan.save(update_fields=["webhook_loss_rate"])
    emulation.forget_plan(emulation.HUBSPOT, str(portal.pk))
    messages.success(
        request,
        f"HubSpot sends {portal.name}'s webhooks again."
        if on
        else f"HubSpot stopped sending {portal.name}'s webhooks; changes there now reach "
        "syncfirm only by its scheduled pull.",
    )
    return redirect("sandbox_controls")


@require_POST
def hubspot_company(request: HttpRequest, portal_id: int) -> HttpResponse:
    portal = get_object_or_404(Portal, pk=portal_id)
    name = request.POST.get("name", "").strip()[:200]
    if not name:
        messages.error(request, "Give the company a name.")
        return redirect("sandbox_controls")
    otype = object_type("companies")
    known = records.known_properties(portal, otype)
    props = {"name": name, "zip": request.POST.get("zip", "").strip()[:20]}
    with transaction.atomic(using=SANDBOX_DB):
        made = records.create(portal, otype, props, None, known)
        webhooks.queue(portal, otype.singular, made.changes)
    messages.success(request, f"{name} added to {portal.name}'s HubSpot.")
    return redirect("sandbox_controls")


def _typed_again(lines: list[dict]) -> list[dict]:
    """The lines as a person types them: amount, item, quantity and price (no ids, no
    subtotal: QuickBooks works those out)."""
    kept = ("Amount", "Description", "DetailType", "SalesItemLineDetail", "DiscountLineDetail")
    return [
        {key: line[key] for key in kept if key in line}
        for line in lines
        if line.get("DetailType") in ("SalesItemLineDetail", "DiscountLineDetail")
    ]  # fmt: skip


DOC_NUMBER_MAX = 21  # QuickBooks' longest DocNumber


def _number_by_hand(store: Store, number: str) -> str:
    """The copy's own number: the original's with "-H" (then "-H2", "-H3"...), cut so it
    stays within QuickBooks' 21 characters and never repeats a number already taken."""
    for n in range(1, 1000):
        suffix = "-H" if n == 1 else f"-H{n}"
        doc = number[: DOC_NUMBER_MAX - len(suffix)] + suffix
        if doc != number and not store.rows("Invoice").filter(doc_number=doc).exists():
            return doc
    return ""  # QuickBooks numbers it


@require_POST
def quickbooks_key_again(request: HttpRequest, realm_id: str) -> HttpResponse:
    company = get_object_or_404(Company, realm_id=realm_id)
    try:
        with transaction.atomic(using=SANDBOX_DB):
            locked = Company.objects.select_for_update().get(pk=company.pk)
            store = Store(locked)
            original = store.get("Invoice", request.POST.get("invoice", ""))
            data = original.data
            body = {
                "CustomerRef": {"value": data["CustomerRef"]["value"]},
                "TxnDate": data.get("TxnDate"),
                "Line": _typed_again(data.get("Line", [])),
            }
            if locked.custom_txn_numbers:  # otherwise QuickBooks numbers it
                number = _number_by_hand(store, str(data.get("DocNumber") or original.entity_id))
                if number:
                    body["DocNumber"] = number
            copy = store.create("Invoice", body)
            qbo_webhooks.notify(locked, store.events)
    except QboFault as fault:
        messages.error(request, f"QuickBooks refused the copy: {fault.detail or fault.message}")
        return redirect("sandbox_controls")
    number = copy.data.get("DocNumber") or f"#{copy.entity_id}"
    messages.success(
        request,
        f"Invoice {number} keyed by hand in {company.name}'s QuickBooks, a copy of "
        f"{data.get('DocNumber') or original.entity_id}.",
    )
    return redirect("sandbox_controls")
