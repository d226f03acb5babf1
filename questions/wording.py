"""What a question is about, in words (invoice numbers, the deal's name, the customer, the
amount with its currency), and the question a finding suggests. Pure: plain values in,
words out; `asking.subject_of` reads them from a finding."""

from dataclasses import dataclass
from decimal import Decimal

from connections.providers import SystemWords
from reconciliation.detectors import CODES
from reconciliation.wording import quoted
from syncfirm.money import money


@dataclass(frozen=True)
class Subject:
    """A finding as the contractor reads it: never an id of ours or a provider's."""

    kind: str  # "Duplicate invoice"
    amount: Decimal
    currency: str
    deal_name: str = ""
    invoice_numbers: tuple[str, ...] = ()
    customer_name: str = ""
    kept_number: str = ""  # a duplicate: the invoice made from the deal
    extra_number: str = ""  # a duplicate: the one proposed for voiding (keyed by hand)

    @property
    def money(self) -> str:
        return money(self.amount, self.currency)

    @property
    def invoices(self) -> str:
        """ "invoice SF-1044", "invoices M-501 and SF-1044", or ""."""
        numbers = self.invoice_numbers
        if not numbers:
            return ""
        if len(numbers) == 1:
            return f"invoice {numbers[0]}"
        return f"invoices {', '.join(numbers[:-1])} and {numbers[-1]}"


def invoice_number(row: list) -> str:
    """An invoice of a finding's records by its number; one without a number by its date."""
    number, day = row[1], row[3]
    return number or (f"without a number, dated {day}" if day else "without a number")


def subject(
    code: str,
    amount: Decimal,
    currency: str,
    records: dict,
    fix: dict,
    evidence: dict,
    customer_name: str = "",
) -> Subject:
    invoices = records.get("invoices") or []
    deal = records.get("deal")
    number_of = {row[0]: invoice_number(row) for row in invoices}
    kept = extra = ""
    if code == "duplicate_invoice":
        kept = number_of.get(evidence.get("keep"), "")
        extra = number_of.get(fix.get("invoice_id") or evidence.get("void"), "")
    return Subject(
        kind=CODES.get(code, code.replace("_", " ").capitalize()),
        amount=amount,
        currency=currency,
        deal_name=deal[1] if deal else "",
        invoice_numbers=tuple(number_of.values()),
        customer_name=customer_name,
        kept_number=kept,
        extra_number=extra,
    )


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]  # str.capitalize would lower a deal's own capitals


def suggested_question(code: str, about: Subject, words: SystemWords | None = None) -> str:
    """A first draft of the question, for staff to edit before it is sent, in the words of
    the client's own systems ("Jobber shows invoice #1001 as paid, but…")."""
    words = words or SystemWords()
    crm, books, record = words.crm, words.books, words.deal_word
    if record == "deal":  # a sales CRM's deal is the contractor's job
        deal = f"the job {quoted(about.deal_name)}" if about.deal_name else "this job"
        won = "won"
    else:  # the CRM's own invoice: by its number, as the contractor knows it
        deal = f"{record} {about.deal_name}" if about.deal_name else f"this {record}"
        won = "issued"
    customer = about.customer_name or "the customer"
    invoices = about.invoices or "the invoice"
    if code == "duplicate_invoice" and about.extra_number and about.kept_number:
        return (
            f"Did you key invoice {about.extra_number} by hand? "
            f"Is it the same job as {about.kept_number}?"
        )
    drafts = {
        "missing_invoice": (
            f"{_upper_first(deal)} for {customer} ({about.money}) is {won} in {crm}, but "
            f"{books} has no invoice for it. Did you bill it some other way, or should we "
            "create the invoice?"
        ),
        "partial_invoice": (
            f"{_upper_first(invoices)} for {deal} has fewer lines than {crm} shows "
            f"({about.money} short). Was part of the work left off on purpose?"
        ),
        "paid_but_open": (
            f"{_upper_first(crm)} shows {deal} as paid, but {invoices} is still open in "
            f"{books} ({about.money}). Did {customer} pay it, and how (cheque, card, transfer)?"
        ),
        "balance_mismatch": (
            f"What {customer} has paid differs between {crm} and {books} by "
            f"{about.money}{f' on {invoices}' if about.invoice_numbers else ''}. Do you know "
            "of a payment or credit that is missing from one of them?"
        ),
        "stale_open_invoice": (
            f"{_upper_first(invoices)} to {customer} ({about.money}) has been open a long "
            "time. Has it been paid, or is it still owed?"
        ),
        "job_revenue_mismatch": (
            f"{_upper_first(crm)} and {books} disagree about {deal} by {about.money}"
            f"{f' ({invoices})' if about.invoice_numbers else ''}. Which amount is right?"
        ),
    }
    return drafts.get(
        code, f"About {about.kind.lower()} ({about.money}): can you tell us what happened?"
    )
