"""How a finding reads, wherever a person reads it: the report page, the findings queue, the
monthly email (text and HTML) and the CSV all take their words from `describe`, so they
cannot drift apart. Records are named as people know them (the customer's name, the
invoice's number, the deal's name, the item's name), never by a system's id; a name that is
not known any more says so in words and keeps the id for whoever has to look it up.

Pure: the names come in a `BookNames` (looked up in bulk by `reconciliation.names`)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from connections.naming import Accounts
from connections.providers import PROVIDERS, Kind

from .detectors import CODES

# Where the client's systems are not at hand (a balance row, a stored name).
BOOKS, CRM = "the books", "the CRM"


@dataclass(frozen=True)
class BookNames:
    """What one client's records are called, and the companies they live in."""

    customers: Mapping[str, str] = field(default_factory=dict)  # customer id → name
    invoices: Mapping[str, str] = field(default_factory=dict)  # invoice id → its number
    deals: Mapping[str, str] = field(default_factory=dict)  # deal id → name
    items: Mapping[str, str] = field(default_factory=dict)  # item id → name
    # The client's systems, the accounts its records live in, and their names in words.
    accounts: Accounts = field(default_factory=Accounts)

    @property
    def books(self) -> str:
        return self.accounts.words.books

    @property
    def crm(self) -> str:
        return self.accounts.words.crm

    def customer(self, customer_id: str) -> str:
        if not customer_id:
            return ""
        word = self.accounts.words.customer_word
        return self.customers.get(customer_id) or gone(word, self.books, customer_id)

    def invoice(self, invoice_id: str) -> str:
        return self.invoices.get(invoice_id) or gone("invoice", self.books, invoice_id)

    def deal(self, deal_id: str) -> str:
        if not deal_id:
            return ""
        name = self.deals.get(deal_id)
        return quoted(name) if name else gone("deal", self.crm, deal_id)

    def item(self, item_id: str) -> str:
        return self.items.get(item_id) or gone("item", self.books, item_id)


def gone(kind: str, system: str, record_id: str) -> str:
    """A record whose name is not known: "a customer no longer in QuickBooks (id 19)"."""
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} no longer in {system} (id {record_id})"


def quoted(name: str) -> str:
    return f"\N{LEFT DOUBLE QUOTATION MARK}{name}\N{RIGHT DOUBLE QUOTATION MARK}"


@dataclass(frozen=True)
class Reference:
    """A record a person can open in its own system: "Invoice SF-1044 in QuickBooks"."""

    label: str
    url: str


class Describable(Protocol):
    code: str
    reason: str
    deal_id: str
    invoice_ids: Sequence[str]
    customer_id: str
    fix: dict


@dataclass(frozen=True)
class FindingWords:
    title: str  # the kind of problem: "Duplicate invoice"
    sentence: str  # what is wrong, one sentence
    customer: str
    deal: str
    invoices: tuple[str, ...]  # their numbers
    fix: str
    references: tuple[Reference, ...]
    deal_label: str = "Deal"  # "Jobber invoice" where a CRM's own invoice stands for the deal

    @property
    def about(self) -> str:
        """The records it is about: "Customer: Acme Builders · Deal: “Kitchen” · Invoice
        SF-1044"."""
        said = []
        if self.customer:
            two = self.customer.endswith("(copy)")  # a customer keyed twice: both named
            said.append(f"Customer{'s' if two else ''}: {self.customer}")
        if self.deal:
            said.append(f"{self.deal_label}: {self.deal}")
        if self.invoices:
            many = "Invoices" if len(self.invoices) > 1 else "Invoice"
            said.append(f"{many}: {', '.join(self.invoices)}")
        return " · ".join(said)

    @property
    def lines(self) -> list[str]:
        """The evidence, one line each, as the page and the email both print it."""
        return [line for line in (self.sentence, self.about, f"Proposed fix: {self.fix}") if line]


def sentence(text: str) -> str:
    """A reason as a sentence: capital first letter, one full stop."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def describe(finding: Describable, names: BookNames) -> FindingWords:
    """A finding in words, with the records it names and where to open them."""
    invoice_ids = list(finding.invoice_ids or ())
    accounts, word = names.accounts, names.accounts.words.customer_word.capitalize()
    references = [
        Reference(f"Invoice {names.invoice(i)} in {names.books}", url)
        for i in invoice_ids
        if (url := accounts.books_url("invoice", i))
    ]
    if finding.deal_id and (url := accounts.crm_url("deal", finding.deal_id)):
        label = accounts.words.deal_label
        references.append(Reference(f"{label} {names.deal(finding.deal_id)} in {names.crm}", url))
    fix = finding.fix or {}
    if finding.code == "duplicate_customer":  # both records, each where it can be opened
        references += _pair_references(fix, names)
    elif finding.customer_id and (url := accounts.books_url("customer", finding.customer_id)):
        references.append(
            Reference(f"{word} {names.customer(finding.customer_id)} in {names.books}", url)
        )
    return FindingWords(
        title=CODES.get(finding.code, finding.code.replace("_", " ").capitalize()),
        sentence=sentence(finding.reason),
        customer=_pair_words(fix)
        if finding.code == "duplicate_customer"
        else (names.customer(finding.customer_id)),
        deal=names.deal(finding.deal_id),
        invoices=tuple(names.invoice(i) for i in invoice_ids),
        fix=fix.get("words") or "Review by hand.",
        references=tuple(references),
        deal_label=accounts.words.deal_label,
    )


def _pair_references(fix: dict, names: BookNames) -> list[Reference]:
    """The kept record and its copy (a `duplicate_customer`), in the books or the CRM."""
    # Findings from before the side was kept name the CRM by its label.
    crms = {p.label for p in PROVIDERS.values() if p.kind == Kind.CRM}
    crm = fix.get("side", "crm" if fix.get("system") in crms else "books") == "crm"
    word = names.accounts.words.customer_word.capitalize()
    out = []
    for role in ("keep", "copy"):
        record_id, name = fix.get(f"{role}_id"), fix.get(f"{role}_name") or ""
        if not record_id:
            continue
        if crm and (url := names.accounts.crm_url("company", record_id)):
            out.append(Reference(f"Company {quoted(name)} in {names.crm}", url))
        elif not crm and (url := names.accounts.books_url("customer", record_id)):
            out.append(Reference(f"{word} {quoted(name)} in {names.books}", url))
    return out


def _pair_words(fix: dict) -> str:
    """Both customers of a `duplicate_customer`: "“Maple Homes LLC” (kept) and “Maple
    Homes” (copy)"."""
    return (
        f"{quoted(fix.get('keep_name', ''))} (kept) and {quoted(fix.get('copy_name', ''))} (copy)"
    )
