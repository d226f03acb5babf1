"""The names `wording.describe` needs, for any number of findings in a fixed number of
queries: first what each finding keeps in its `records` (the deal's name, the invoices'
numbers, and the customer and item names the run read), then the synced tables (the
mirror of the books' customers, the deal-to-invoice links) and the clients' connections
(which company, organisation or portal their links open in)."""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from connections.naming import accounts_of
from sync.models import InvoiceLink, MirroredCustomer

from .wording import BookNames


def book_names(findings: Iterable) -> dict[int, BookNames]:
    """{client id: its BookNames} for the clients of `findings` (three queries)."""
    findings = list(findings)
    customers: dict[int, dict] = defaultdict(dict)
    invoices: dict[int, dict] = defaultdict(dict)
    deals: dict[int, dict] = defaultdict(dict)
    items: dict[int, dict] = defaultdict(dict)
    for f in findings:
        kept, client = f.records or {}, f.client_id
        named = kept.get("names") or {}
        customers[client].update(named.get("customers") or {})
        items[client].update(named.get("items") or {})
        if kept.get("deal"):
            deal_id, name = kept["deal"][0], kept["deal"][1]
            if name:
                deals[client][deal_id] = name
        for row in kept.get("invoices") or ():
            if row[1]:
                invoices[client][row[0]] = row[1]
    clients = {f.client_id for f in findings}
    if not clients:
        return {}
    wanted_customers = {
        f.customer_id
        for f in findings
        if f.customer_id and f.customer_id not in customers[f.client_id]
    }
    if wanted_customers:
        for client, external_id, name in MirroredCustomer.objects.filter(
            client_id__in=clients, external_id__in=wanted_customers
        ).values_list("client_id", "external_id", "display_name"):
            customers[client].setdefault(external_id, name)
    wanted_deals = {f.deal_id for f in findings if f.deal_id}
    wanted_invoices = {i for f in findings for i in f.invoice_ids or ()}
    if wanted_deals or wanted_invoices:
        links = InvoiceLink.objects.filter(client_id__in=clients).filter(
            Q(deal_id__in=wanted_deals) | Q(accounting_id__in=wanted_invoices)
        )
        for client, deal_id, deal_name, accounting_id, number in links.values_list(
            "client_id", "deal_id", "deal_name", "accounting_id", "doc_number"
        ):
            if deal_name:
                deals[client].setdefault(deal_id, deal_name)
            if accounting_id and number:
                invoices[client].setdefault(accounting_id, number)
    accounts = accounts_of(clients)
    return {
        client: BookNames(
            customers=customers[client],
            invoices=invoices[client],
            deals=deals[client],
            items=items[client],
            accounts=accounts[client],
        )
        for client in clients
    }


def describe_all(findings: Iterable) -> None:
    """Set `words` (a `wording.FindingWords`) on each finding, its names looked up in bulk."""
    from .wording import describe

    findings = list(findings)
    names = book_names(findings)
    for f in findings:
        f.words = describe(f, names.get(f.client_id, BookNames()))
