"""A finding's records as both systems showed them, kept on the finding as JSON (`records`)
so the queue can show them side by side without the whole snapshot of the books."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from .detectors import SnapDeal, SnapInvoice


def _lines(lines) -> list:
    return [[item, str(quantity), str(amount)] for item, quantity, amount in lines]


def _read_lines(rows) -> tuple:
    return tuple((item, Decimal(quantity), Decimal(amount)) for item, quantity, amount in rows)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _read_day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def invoice_row(i: SnapInvoice) -> list:
    return [i.id, i.doc_number, i.customer_id, _day(i.txn_date), str(i.total), str(i.balance),
            i.currency, i.deal_id, _lines(i.lines), _day(i.due_date), i.voided]  # fmt: skip


def invoice_from_row(row: list) -> SnapInvoice:
    i, number, customer, day, total, balance, currency, deal, lines, due, voided = row
    return SnapInvoice(i, number, customer, _read_day(day), Decimal(total), Decimal(balance),
                       currency, deal, _read_lines(lines), _read_day(due), voided)  # fmt: skip


def deal_row(d: SnapDeal) -> list:
    return [d.id, d.name, d.won, str(d.amount), d.payment_status, str(d.amount_paid),
            d.customer_id, _lines(d.lines), _day(d.close_date), d.currency]  # fmt: skip


def deal_from_row(row: list) -> SnapDeal:
    i, name, won, amount, status, paid, customer, lines, close, currency = row
    return SnapDeal(i, name, won, Decimal(amount), status, Decimal(paid), customer,
                    _read_lines(lines), _read_day(close), currency)  # fmt: skip


def records_of(
    deal: SnapDeal | None,
    invoices: list[SnapInvoice],
    customer_names: Mapping[str, str] | None = None,
    item_names: Mapping[str, str] | None = None,
    customer_id: str = "",
    parties: tuple = (),
) -> dict:
    """The records, and the names of the customers and items they mention as the run read
    them (`names`): the page, the email and the CSV name them without asking the books."""
    customer_names, item_names = customer_names or {}, item_names or {}
    customers = {customer_id, deal.customer_id if deal else ""} | {i.customer_id for i in invoices}
    items = {line[0] for i in invoices for line in i.lines}
    kept = {}
    if parties:  # two customers that are one: each record's fields, side by side
        kept["parties"] = [[title, [list(row) for row in rows]] for title, rows in parties]
    return kept | {
        "deal": deal_row(deal) if deal else None,
        "invoices": [invoice_row(i) for i in invoices],
        "names": {
            "customers": {c: customer_names[c] for c in sorted(customers) if c in customer_names},
            "items": {i: item_names[i] for i in sorted(items) if i in item_names},
        },
    }
