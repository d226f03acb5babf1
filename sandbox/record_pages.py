"""Read-only pages of one emulated record, standing in for QuickBooks' and HubSpot's own
record pages when SANDBOX is on: a link from a finding ("Invoice SF-1044 in QuickBooks")
opens the record the emulator holds, in the company the link names. The URLs mirror the
real apps' (`connections.providers.quickbooks_record_url`, `hubspot_record_url`)."""

from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from syncfirm.money import money

from .hubspot.models import CrmObject, Portal
from .quickbooks.models import Company, Entity

HUBSPOT_TYPES = {"0-3": "deals", "0-2": "companies", "0-1": "contacts"}


def shown_money(value, currency: str) -> str:
    return money(Decimal(str(value)), currency) if value not in (None, "") else ""


def ref_value(data: dict, name: str) -> str:
    return str((data.get(name) or {}).get("value", ""))


def _names(company: Company, entity_type: str, ids: set[str]) -> dict[str, str]:
    wanted = [int(i) for i in ids if i.isdigit()]
    rows = Entity.objects.filter(company=company, entity_type=entity_type, entity_id__in=wanted)
    return {str(r.entity_id): r.name for r in rows}


def _entity(request: HttpRequest, entity_type: str, key: str) -> tuple[Company, Entity]:
    company = Company.objects.filter(realm_id=request.GET.get("companyId", "")).first()
    record_id = request.GET.get(key, "")
    if company is None or not record_id.isdigit():
        raise Http404("No such company or record in the QuickBooks sandbox.")
    row = Entity.objects.filter(
        company=company, entity_type=entity_type, entity_id=int(record_id), deleted=False
    ).first()
    if row is None:
        raise Http404(f"The company has no {entity_type.lower()} {record_id}.")
    return company, row


@require_GET
def quickbooks_invoice(request: HttpRequest) -> HttpResponse:
    company, row = _entity(request, "Invoice", "txnId")
    data = row.data
    details = [line.get("SalesItemLineDetail") or {} for line in data.get("Line") or []]
    items = _names(company, "Item", {ref_value(d, "ItemRef") for d in details})
    customer = ref_value(data, "CustomerRef")
    currency = ref_value(data, "CurrencyRef")
    lines = [
        (
            items.get(ref_value(d, "ItemRef"), ref_value(d, "ItemRef")),
            d.get("Qty", ""),
            shown_money(line.get("Amount"), currency),
        )
        for line, d in zip(data.get("Line") or [], details, strict=True)
        if line.get("DetailType") == "SalesItemLineDetail"
    ]
    fields = [
        ("Customer", _names(company, "Customer", {customer}).get(customer, customer)),
        ("Date", data.get("TxnDate", "")),
        ("Due", data.get("DueDate", "")),
        ("Total", shown_money(data.get("TotalAmt"), currency)),
        ("Balance", shown_money(data.get("Balance"), currency)),
        ("Note", data.get("PrivateNote", "")),
    ]
    return _page(request, "QuickBooks", company.name, f"Invoice {data.get('DocNumber', '')}",
                 fields, lines)  # fmt: skip


@require_GET
def quickbooks_customer(request: HttpRequest) -> HttpResponse:
    company, row = _entity(request, "Customer", "nameId")
    data = row.data
    fields = [
        ("Email", (data.get("PrimaryEmailAddr") or {}).get("Address", "")),
        ("Phone", (data.get("PrimaryPhone") or {}).get("FreeFormNumber", "")),
        ("Open balance", shown_money(data.get("Balance"), ref_value(data, "CurrencyRef"))),
        ("Active", "yes" if row.active else "no"),
    ]
    title = f"Customer {data.get('DisplayName', '')}"
    return _page(request, "QuickBooks", company.name, title, fields, [])


@require_GET
def hubspot_record(request: HttpRequest, portal_id: str, type_id: str, record_id: str):
    object_type = HUBSPOT_TYPES.get(type_id)
    portal = Portal.objects.filter(pk=portal_id).first() if portal_id.isdigit() else None
    found = (
        CrmObject.objects.filter(portal=portal, object_type=object_type, pk=record_id).first()
        if portal and object_type and record_id.isdigit()
        else None
    )
    if found is None:
        raise Http404("No such portal or record in the HubSpot sandbox.")
    props = found.properties
    if object_type == "deals":
        title = f"Deal {props.get('dealname', '')}"
        shown = ("dealstage", "amount", "deal_currency_code", "closedate",
                 "syncfirm_payment_status", "syncfirm_amount_paid")  # fmt: skip
    else:
        title = props.get("name") or " ".join(
            filter(None, (props.get("firstname"), props.get("lastname")))
        )
        shown = ("email", "phone", "zip", "country")
    fields = [(name, props.get(name, "")) for name in shown if props.get(name)]
    return _page(request, "HubSpot", portal.name, title, fields, [])


@require_GET
def xero_record(request: HttpRequest, kind: str, tenant_id: str, record_id: str):
    """A Xero invoice's or contact's page (`providers.xero_record_url`)."""
    from .xero.models import Organisation, Record

    org = Organisation.objects.filter(tenant_id=tenant_id).first()
    wanted = {"invoice": "Invoice", "customer": "Contact"}.get(kind)
    row = (
        Record.objects.filter(organisation=org, kind=wanted, record_id=record_id).first()
        if org and wanted
        else None
    )
    if row is None:
        raise Http404("No such organisation or record in the Xero sandbox.")
    data = row.data
    if wanted == "Contact":
        phone = next(iter(data.get("Phones") or []), {})
        fields = [("Email", data.get("EmailAddress", "")), ("Phone", phone.get("PhoneNumber", "")),
                  ("Status", data.get("ContactStatus", ""))]  # fmt: skip
        return _page(request, "Xero", org.name, f"Contact {data.get('Name', '')}", fields, [])
    currency = data.get("CurrencyCode", "")
    lines = [
        (line.get("Description") or line.get("ItemCode", ""), line.get("Quantity", ""),
         shown_money(line.get("LineAmount"), currency))
        for line in data.get("LineItems") or []
    ]  # fmt: skip
    fields = [
        ("Contact", (data.get("Contact") or {}).get("Name", "")),
        ("Status", data.get("Status", "")),
        ("Total", shown_money(data.get("Total"), currency)),
        ("Due", shown_money(data.get("AmountDue"), currency)),
        ("Reference", data.get("Reference", "")),
    ]
    title = f"Invoice {data.get('InvoiceNumber', '')}"
    return _page(request, "Xero", org.name, title, fields, lines)


@require_GET
def jobber_record(request: HttpRequest, page: str, account_id: str, record_id: str):
    """A Jobber client's, invoice's or job's page (`providers.jobber_record_url`)."""
    from .jobber import store
    from .jobber.ids import decode_id
    from .jobber.models import Account, Client, Invoice, Job

    kinds = {"clients": ("Client", Client), "invoices": ("Invoice", Invoice),
             "work_orders": ("Job", Job)}  # fmt: skip
    account, found = decode_id(account_id, "Account"), decode_id(record_id)
    kind, model = kinds.get(page, ("", None))
    account_row = Account.objects.filter(pk=account[1]).first() if account else None
    row = (
        model.objects.filter(account=account_row, pk=found[1]).first()
        if model and account_row and found and found[0] == kind
        else None
    )
    if row is None:
        raise Http404("No such account or record in the Jobber sandbox.")
    if kind == "Client":
        email = next(iter(row.emails or []), {}).get("address", "")
        phone = next(iter(row.phones or []), {}).get("number", "")
        fields = [("Email", email), ("Phone", phone), ("City", row.city),
                  ("Balance", shown_money(store.client_balance(row), "USD"))]  # fmt: skip
        return _page(request, "Jobber", account_row.name, store.display_name(row), fields, [])
    lines = [(li.name, li.quantity, shown_money(li.total_price, "USD")) for li in row.lines.all()]
    if kind == "Job":
        fields = [("Client", store.display_name(row.client)), ("Status", row.job_status),
                  ("Total", shown_money(row.total, "USD"))]  # fmt: skip
        return _page(request, "Jobber", account_row.name, f"Job #{row.job_number}", fields, lines)
    amounts = store.amounts(row)
    fields = [("Client", store.display_name(row.client)), ("Status", row.invoice_status),
              ("Total", shown_money(amounts.total, "USD")),
              ("Balance", shown_money(amounts.invoice_balance, "USD"))]  # fmt: skip
    title = f"Invoice #{row.invoice_number}"
    return _page(request, "Jobber", account_row.name, title, fields, lines)


def _page(request, system: str, company: str, title: str, fields: list, lines: list):
    context = {"system": system, "company": company, "title": title, "fields": fields,
               "lines": lines}  # fmt: skip
    return render(request, "sandbox/record.html", context)
