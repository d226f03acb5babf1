"""Both systems' records of a finding side by side: the CRM deal in one column, each of the
books' invoices in the next, one row per thing an accountant compares, and a flag on the
rows where the columns disagree. Plain data in, plain data out."""

from dataclasses import dataclass
from decimal import Decimal

from syncfirm.money import money as _money

from .detectors import SnapDeal, SnapInvoice
from .wording import BookNames

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Comparison:
    columns: tuple[str, ...]  # "CRM deal …", "Invoice SF-12", …
    rows: tuple[tuple[str, tuple[str, ...], bool], ...]  # (what, one value per column, differs)

    @property
    def differences(self) -> int:
        return sum(1 for _, _, differs in self.rows if differs)


def _lines(lines, name, currency: str) -> tuple[str, tuple]:
    """Lines shown one a line, compared by quantity and amount: the CRM names products by SKU
    and QuickBooks by item id, so the names alone would always differ. `name` says an item
    id in words."""
    times = "\N{MULTIPLICATION SIGN}"
    ordered = sorted(lines, key=lambda line: (line[2], line[1]))
    shown = "\n".join(
        f"{name(item)} {times} {qty.normalize():f} = {_money(amount, currency)}"
        for item, qty, amount in ordered
    )
    return shown, tuple((qty, amount) for _, qty, amount in ordered)


def _same(value: str) -> tuple[str, str]:
    return value, value


def _books_status(invoice: SnapInvoice) -> str:
    if invoice.voided:
        return "voided"
    if invoice.balance <= ZERO:
        return "paid"
    return "partially_paid" if invoice.balance < invoice.total else "unpaid"


def _status(value: str) -> tuple[str, str]:
    return value.replace("_", " "), value


def _deal_column(deal: SnapDeal, names: BookNames) -> dict[str, tuple[str, object]]:
    paid = deal.amount_paid or ZERO
    return {
        "Customer": (names.customer(deal.customer_id), deal.customer_id),
        "Date": _same(deal.close_date.isoformat() if deal.close_date else ""),
        "Amount": _same(_money(deal.amount, deal.currency)),
        "Paid": _same(_money(paid, deal.currency)),
        "Still owed": _same(_money(deal.amount - paid, deal.currency)),
        "Payment status": _status(deal.payment_status or ("unpaid" if deal.won else "not won")),
        "Lines": _lines(deal.lines, str, deal.currency),
    }


def _invoice_column(invoice: SnapInvoice, names: BookNames) -> dict[str, tuple[str, object]]:
    return {
        "Customer": (names.customer(invoice.customer_id), invoice.customer_id),
        "Date": _same(invoice.txn_date.isoformat()),
        "Amount": _same(_money(invoice.total, invoice.currency)),
        "Paid": _same(_money(invoice.total - invoice.balance, invoice.currency)),
        "Still owed": _same(_money(invoice.balance, invoice.currency)),
        "Payment status": _status(_books_status(invoice)),
        "Lines": _lines(invoice.lines, names.item, invoice.currency),
    }


def compare(
    deal: SnapDeal | None, invoices: list[SnapInvoice], names: BookNames | None = None
) -> Comparison | None:
    """The deal against its invoices; None when neither system has a record to show. With a
    deal and no invoice, the books' column is empty and only the amount is marked. `names`:
    the customers and items by name (ids in words without)."""
    names = names or BookNames()
    columns = []
    if deal is not None:
        words = names.accounts.words
        record = "CRM deal" if words.deal_word == "deal" else words.deal_label  # Jobber invoice
        columns.append((f"{record} \N{LEFT DOUBLE QUOTATION MARK}{deal.name or deal.id}"
                        "\N{RIGHT DOUBLE QUOTATION MARK}", _deal_column(deal, names)))  # fmt: skip
    for invoice in invoices:
        title = f"Books invoice {invoice.doc_number or names.invoice(invoice.id)}"
        columns.append((title, _invoice_column(invoice, names)))
    if not columns:
        return None
    if deal is not None and not invoices:
        missing = {what: ("", key) for what, (_, key) in columns[0][1].items()}
        missing["Amount"] = ("", None)
        columns.append(("Books: no invoice", missing))
    rows = []
    for what in columns[0][1]:
        cells = [column[what] for _, column in columns]
        values = tuple(shown for shown, _ in cells)
        rows.append((what, values, len({key for _, key in cells}) > 1))
    return Comparison(tuple(name for name, _ in columns), tuple(rows))


# Rows that differ between two records of one party without saying anything is wrong.
_EXPECTED_TO_DIFFER = {"Open balance", "Open invoices", "Transactions"}


def compare_parties(columns: list) -> Comparison | None:
    """Two records that are one party (a customer keyed twice), field by field as the run
    kept them (`records["parties"]`: [[title, [[what, value], ...]], ...]); a row is marked
    where the records say different things of the party."""
    if not columns:
        return None
    titles = tuple(title for title, _ in columns)
    values = [dict((what, value) for what, value in rows) for _, rows in columns]
    rows = []
    for what, _ in columns[0][1]:
        cells = tuple(v.get(what, "") for v in values)
        said = {c.casefold().strip() for c in cells if c}
        rows.append((what, cells, what not in _EXPECTED_TO_DIFFER and len(said) > 1))
    return Comparison(titles, tuple(rows))
