"""Sync review names the records it shows ("company Acme Builders ↔ customer Acme
Builders", "deal “Kitchen remodel” ↔ invoice SF-1044"), never "customer 38": the names
come from the conflict's own values, else from the mirror of the books' customers and the
deal-to-invoice links, looked up for a whole page at once (two queries)."""

from collections.abc import Iterable

from django.db.models import Q

from connections.naming import words_of

from .models import CRM_LABELS, ConflictKind, InvoiceLink, MirroredCustomer


def _unnamed(label: str, system: str, record_id: str) -> str:
    return f"{label} (id {record_id} in {system})"


def name_conflicts(conflicts: Iterable) -> None:
    """Set `crm_words` and `books_words` on each conflict."""
    conflicts = list(conflicts)
    if not conflicts:
        return
    clients = {c.client_id for c in conflicts}
    words = words_of(clients)
    deals = {c.crm_id for c in conflicts if c.crm_type == "deals"}
    books = {c.accounting_id for c in conflicts if c.accounting_id}
    customers = dict(
        ((client, external_id), name)
        for client, external_id, name in MirroredCustomer.objects.filter(
            client_id__in=clients, external_id__in=books
        ).values_list("client_id", "external_id", "display_name")
    ) if books else {}  # fmt: skip
    deal_names, numbers = {}, {}
    if deals or books:
        for client, deal_id, name, accounting_id, number in (
            InvoiceLink.objects.filter(client_id__in=clients)
            .filter(Q(deal_id__in=deals) | Q(accounting_id__in=books))
            .values_list("client_id", "deal_id", "deal_name", "accounting_id", "doc_number")
        ):
            deal_names[(client, deal_id)] = name
            if accounting_id:
                numbers[(client, accounting_id)] = number
    for c in conflicts:
        label = CRM_LABELS.get(c.crm_type, c.crm_type)
        crm_name = (c.crm_value or {}).get("display_name") if isinstance(c.crm_value, dict) else ""
        if c.crm_type == "deals":
            named = deal_names.get((c.client_id, c.crm_id))
            crm_name = f"\N{LEFT DOUBLE QUOTATION MARK}{named}\N{RIGHT DOUBLE QUOTATION MARK}"
            crm_name = crm_name if named else ""
        c.crm_words = (
            f"{label} {crm_name}" if crm_name else _unnamed(label, words[c.client_id].crm, c.crm_id)
        )
        books = words[c.client_id]
        c.books_words = ""
        if c.accounting_id:
            key = (c.client_id, c.accounting_id)
            if c.kind == ConflictKind.DEAL_CHANGED:
                number = numbers.get(key)
                c.books_words = (
                    f"invoice {number}"
                    if number
                    else _unnamed("invoice", books.books, c.accounting_id)
                )
            else:
                value = c.accounting_value if isinstance(c.accounting_value, dict) else {}
                name = value.get("display_name") or customers.get(key)
                c.books_words = (
                    f"{books.customer_word} {name}"
                    if name
                    else _unnamed(books.customer_word, books.books, c.accounting_id)
                )
