"""Deciding a finding: approve its proposed fix (shown first exactly as it will be written,
run through the adapter once, checked afterwards, audited), retry one that failed, undo one
that created something, or dismiss it with a reason (the same finding with the same data
does not come back)."""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clients.actions import audit
from clients.models import User
from connections import retries
from connections.adapters import accounting_adapter, crm_adapter
from connections.contract import Refusal
from connections.naming import words_of
from connections.providers import Kind, SystemWords, provider
from connections.records import Item
from sync import invoicing
from sync.customers import (
    LEASE_BUSY,
    SyncUnavailable,
    active_connection,
    run_customer_sync,
)
from sync.invoices import books_of
from sync.models import (
    CRM_LABELS,
    CustomerLink,
    InvoiceLink,
    InvoiceState,
    MirroredCustomer,
    RunKind,
    SyncSettings,
)
from syncfirm.money import money

from .models import Finding, FindingStatus
from .wording import gone, quoted

AUTOMATIC = {
    "void_invoice",
    "create_invoice",
    "update_crm_payment",
    "add_missing_lines",
    "apply_credit",
    "make_inactive",
}
PROVIDER_ERRORS = (retries.ProviderError, retries.Transient, retries.RateLimited)
# How long approving "create the missing invoice" waits for the client's sync lease. It runs
# in the page's request, holding the finding's row lock: a running sync or a dead worker's
# lease (lapsing within 30 s) must not hold the page, least of all a bulk approval.
FIX_LEASE_WAIT_SECONDS = 3
UNDO_DAYS = 30  # an approved fix that created something can be undone this long
SYNC_RUNNING = (
    "A sync of this client is running (or a stopped worker's hold on it has not lapsed yet, "
    "at most 30 s), so nothing was written. Retry in a minute."
)
UNSETTLED = (
    "The books did not confirm whether an earlier write of this invoice landed; nothing was "
    "written again. The next sync looks for it first (or settle it on the sync page), then "
    "retry."
)


def words_of_client(client) -> SystemWords:
    """How this client's systems are named ("QuickBooks", "Xero contact", "HubSpot")."""
    return words_of([client.pk])[client.pk]


def before_open() -> dict:
    return {"status": FindingStatus.OPEN}


class FixRefused(ValueError):
    """The decision does not fit the finding; the message says why, and `kind` which
    refusal it is where a page sums several up (`bulk_outcome.KINDS`)."""

    def __init__(self, message: str, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind


class _Failed(Exception):
    """A fix that could not run because a system could not be read (already in words)."""


REASON_MAX = 2000  # a paragraph or two; a pasted book is not a reason


def do_dismiss(actor: User, finding: Finding, reason: str) -> Finding:
    if not reason.strip():
        raise FixRefused("Say why it is dismissed.", kind="no_reason")
    if len(reason.strip()) > REASON_MAX:
        raise FixRefused(
            f"Keep the reason under {REASON_MAX:,} characters ({len(reason.strip()):,} now)."
        )
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != FindingStatus.OPEN:
            raise FixRefused("This finding was already decided.", kind="decided")
        locked.status, locked.decision_note = FindingStatus.DISMISSED, reason.strip()
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save()
        after = {"status": locked.status, "reason": reason}
        audit(locked.client.firm, actor, "finding.dismissed", locked, before_open(), after)
    return locked


def do_undo_dismiss(actor: User, finding: Finding) -> Finding:
    """Take a dismissal back: the finding is open again, and comes back next month."""
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != FindingStatus.DISMISSED:
            raise FixRefused("Only a dismissed finding can be taken back.")
        before = {"status": locked.status, "reason": locked.decision_note}
        locked.status, locked.decision_note = FindingStatus.OPEN, ""
        locked.decided_by, locked.decided_at = None, None
        locked.save()
        audit(locked.client.firm, actor, "finding.dismissal_undone", locked, before, before_open())
    return locked


# -- what a fix will write ------------------------------------------------------------------
@dataclass
class PreviewLine:
    item: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    new_product: bool = False  # created in the books first


@dataclass
class FixPreview:
    """Exactly what approving will write, read from both systems now. `problems`: why it
    cannot be written as it stands (nothing is offered to confirm)."""

    action: str
    title: str  # "Create invoice SF-123"
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value) in order
    lines: list[PreviewLine] = field(default_factory=list)
    total: Decimal | None = None
    currency: str = ""
    txn_date: date | None = None
    date_words: str = ""
    problems: list[str] = field(default_factory=list)
    failure: str = ""  # a system could not be read: in words (approving records it)
    undo_words: str = ""
    large: bool = False  # above the firm's amount: a second, explicit confirmation
    limit: Decimal = Decimal(0)
    written: dict = field(default_factory=dict)  # what is written, canonical: the digest

    @property
    def digest(self) -> str:
        """Names what was shown: approving with it writes that or nothing."""
        text = json.dumps(self.written, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def needs_second_confirmation(finding: Finding) -> bool:
    return finding.amount > finding.client.firm.confirm_fixes_above


def preview(finding: Finding) -> FixPreview:
    """What approving `finding` would write, read from the systems now. A provider that
    cannot be read is a problem in words, never an exception."""
    action = finding.fix.get("action", "review")
    if action not in AUTOMATIC:
        return FixPreview(action, "No automatic fix", problems=[
            "No safe automatic fix: correct it by hand, then dismiss it saying so."
        ])  # fmt: skip
    try:
        shown = PREVIEWS[action](finding)
    except (*PROVIDER_ERRORS, SyncUnavailable) as error:
        words = words_for(error, action, words_of_client(finding.client))
        shown = FixPreview(action, "Cannot show the fix", problems=[words], failure=words)
    except FixRefused as refused:
        shown = FixPreview(action, "Cannot show the fix", problems=[str(refused)])
    shown.large = needs_second_confirmation(finding)
    shown.limit = finding.client.firm.confirm_fixes_above
    shown.undo_words = undo_words(action, words_of_client(finding.client))
    return shown


def day_words(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def invoice_date(close_day: date, closed_through: date | None) -> tuple[date, str]:
    """The missing invoice's date and why: the deal's close day when the books are open on
    it, else the first open day after the books' closing date."""
    day = invoicing.first_open_day(close_day, closed_through)
    if day == close_day:
        why = "the deal's close date"
        if closed_through:
            why += f" (the books are closed through {day_words(closed_through)})"
        return day, why
    return day, (
        f"the first open day: the deal closed {day_words(close_day)}, but the books "
        f"are closed through {day_words(closed_through)}"
    )


def _preview_create(finding: Finding) -> FixPreview:
    client, deal_id = finding.client, finding.fix["deal_id"]
    books = accounting_adapter(active_connection(client, Kind.ACCOUNTING))
    crm = crm_adapter(active_connection(client, Kind.CRM))
    words = words_of_client(client)
    found = crm.deals(crm.read_records("deals", [deal_id]))
    if not found:
        raise FixRefused(f"{words.crm} has no deal {deal_id} any more.")
    deal = found[0]
    settings = SyncSettings.for_client(client)
    link = None
    for crm_type, ids in (("companies", deal.company_ids), ("contacts", deal.contact_ids)):
        link = (
            link
            or CustomerLink.objects.filter(client=client, crm_type=crm_type, crm_id__in=ids).first()
        )
    customer = books.customer_by_id(link.accounting_id) if link else None
    items = books.items()
    index = invoicing.item_index(items, settings.unmatched_item)
    new = invoicing.missing_items(deal, index) if not deal.problems else []
    # Products the books lack are created first (as sync does): shown as new, priced alike.
    stand_ins = [Item(f"new:{name}", name, sku, True, True) for name, sku in new]
    index = invoicing.item_index([*items, *stand_ins], settings.unmatched_item)
    closed_through = books.books_closed_through()
    day, why = (None, "")
    if deal.close_date is not None and not deal.problems:
        day, why = invoice_date(invoicing.close_day(deal, client.timezone), closed_through)
    built = invoicing.build_invoice(
        deal,
        customer_id=link.accounting_id if link else "new",
        items=index,
        company_currency=settings.books_currency,
        timezone=client.timezone,
        terms_days=settings.payment_terms_days,
        pattern=settings.invoice_number_pattern,
        books=books_of(books, crm),
        sales_tax=settings.sales_tax,
        txn_date=day,
    )
    if isinstance(built, list):
        return FixPreview(
            "create_invoice",
            f"Create the invoice of deal {deal.name}",
            problems=[f"Not possible as the deal stands: {p}" for p in built],
        )
    who = (
        customer.display_name
        if customer
        else f"the deal's company (created in {words.books} first)"
    )
    shown = FixPreview(
        "create_invoice",
        f"Create invoice {built.doc_number}",
        lines=[
            PreviewLine(
                line.name,
                line.quantity,
                line.unit_price,
                line.amount,
                line.item_id.startswith("new:"),
            )
            for line in built.lines
        ],
        total=built.total,
        currency=built.currency,
        txn_date=built.txn_date,
        date_words=why,
    )
    shown.facts = [
        ("Invoice number", built.doc_number),
        ("Customer", who),
        ("Date", day_words(built.txn_date)),
        ("Due", day_words(built.due_date)),
        ("From deal", f"{deal.name} ({deal.external_id})"),
    ]
    if not settings.invoices_on:
        shown.problems.append("Invoice sync is off for this client: turn it on to create it.")
    for same in books.invoices_numbered([built.doc_number]):
        # Sync would take an invoice with the deal's number as the one it made: a void one
        # (an undone fix) must not count as the invoice created now.
        if same.voided:
            why = (
                " (void: the invoice of an undone fix). Numbers are not reused: create it in "
                f"{words.books} with another number, then dismiss this finding saying so."
            )
        else:
            why = f" (id {same.external_id}): reconcile again to see whether it is still missing."
        shown.problems.append(f"{words.books} already has invoice {built.doc_number}{why}")
    shown.written = {
        "action": "create_invoice", "deal": deal.external_id, "number": built.doc_number,
        "customer": built.customer_id, "date": built.txn_date, "total": built.total,
        "lines": [(x.name, x.quantity, x.amount) for x in built.lines],
    }  # fmt: skip
    return shown


def _preview_void(finding: Finding) -> FixPreview:
    books = accounting_adapter(active_connection(finding.client, Kind.ACCOUNTING))
    invoice = _read_invoice(books, finding.fix["invoice_id"])
    before = books.receivable()
    after = before - (Decimal(0) if invoice.voided else invoice.balance.amount)
    customer = books.customer_by_id(invoice.customer_id)
    currency = invoice.total.currency
    shown = FixPreview(
        "void_invoice",
        f"Void invoice {invoice.doc_number or invoice.external_id}",
        total=invoice.total.amount,
        currency=currency,
    )
    shown.facts = [
        ("Invoice", invoice.doc_number or f"no number (id {invoice.external_id})"),
        ("Customer", _customer_words(customer, invoice.customer_id, finding.client)),
        ("Dated", invoice.txn_date or "no date"),
        ("Amount", money(invoice.total.amount, currency)),
        ("Still due on it", money(invoice.balance.amount, currency)),
        # Open invoices only: the balances page's receivable also takes off unused credits.
        ("Owed on open invoices now", money(before, currency)),
        ("Owed on open invoices after, expected", money(after, currency)),
    ]
    if invoice.voided:
        shown.problems.append("It is void already: nothing to write.")
    keep, kept = _kept_copy(books, finding)
    if keep:
        shown.facts.append(("Kept", (kept.doc_number if kept else "") or f"id {keep}"))
    if problem := _kept_problem(keep, kept, invoice):
        shown.problems.append(problem)
    shown.written = {"action": "void_invoice", "invoice": invoice.external_id,
                     "version": invoice.version, "total": invoice.total.amount,
                     "kept": kept and (kept.external_id, kept.version, kept.voided)}  # fmt: skip
    return shown


def _kept_copy(books, finding: Finding) -> tuple[str, object]:
    """The id of the invoice a duplicate's fix keeps ("" for a fix that keeps none), and
    that invoice read now (None when the books no longer hold it, or cannot read it)."""
    keep = finding.evidence.get("keep", "")
    found = books.invoices_by_id([keep]) if keep else []
    return keep, (found[0] if found else None)


def _kept_problem(keep: str, kept, invoice) -> str:
    """Voiding a copy is safe only while the one kept still bills the sale: void it (or
    gone) and the sale would have no invoice left."""
    if not keep or (kept is not None and not kept.voided):
        return ""
    name = (kept.doc_number if kept is not None else "") or keep
    return (
        f"Invoice {name}, the one this fix keeps, is void or gone now: voiding "
        f"{invoice.doc_number or invoice.external_id} too would leave the sale with no invoice. "
        "Nothing was written: reconcile again to see what the books hold now."
    )


def _preview_lines(finding: Finding) -> FixPreview:
    _books, invoice, missing, _ = _missing_lines(finding)
    shown = FixPreview(
        "add_missing_lines",
        f"Add {len(missing)} line(s) to invoice {invoice.doc_number}",
        lines=[PreviewLine(d.name, d.quantity, d.unit_price, d.amount) for d in missing],
        total=sum((d.amount for d in missing), Decimal("0.00")),
        currency=invoice.total.currency,
    )
    shown.facts = [
        ("Invoice", invoice.doc_number or f"no number (id {invoice.external_id})"),
        ("Its lines now", money(sum(x.amount for x in invoice.lines), shown.currency)),
        ("Lines added", money(shown.total, shown.currency)),
    ]
    if not missing:
        shown.problems.append("The invoice already has every line of the deal.")
    shown.written = {"action": "add_missing_lines", "invoice": invoice.external_id,
                     "lines": [(d.item_id, d.quantity, d.amount) for d in missing]}  # fmt: skip
    return shown


def _preview_crm(finding: Finding) -> FixPreview:
    books = accounting_adapter(active_connection(finding.client, Kind.ACCOUNTING))
    invoice = _read_invoice(books, finding.fix["invoice_id"])
    status, paid = _payment_status(invoice)
    deal = _deal_words(finding)
    crm_name = words_of_client(finding.client).crm
    shown = FixPreview("update_crm_payment", f"Update {deal} in {crm_name}")
    shown.facts = [
        ("Deal", deal),
        ("Payment status", status.replace("_", " ")),
        ("Paid", money(paid, invoice.total.currency)),
        ("Balance", money(invoice.balance.amount, invoice.total.currency)),
    ]
    shown.written = {"action": "update_crm_payment", "status": status, "paid": paid}
    return shown


def _preview_apply(finding: Finding) -> FixPreview:
    fix = finding.fix
    books = accounting_adapter(active_connection(finding.client, Kind.ACCOUNTING))
    invoice = _read_invoice(books, fix["invoice_id"])
    amount, currency = Decimal(fix["amount"]), invoice.balance.currency
    what = _money_words(fix)
    doc = invoice.doc_number or invoice.external_id
    shown = FixPreview(
        "apply_credit", f"Apply {what} to invoice {doc}", total=amount, currency=currency
    )
    shown.facts = [
        ("Money applied", f"{what.capitalize()}, {money(amount, currency)}"),
        ("Invoice", doc),
        ("Open on it now", money(invoice.balance.amount, currency)),
        ("Open after, expected", money(invoice.balance.amount - amount, currency)),
    ]
    if invoice.balance.amount < amount:
        shown.problems.append(f"Invoice {doc} is open for less than {money(amount, currency)} now.")
    shown.written = {"action": "apply_credit", "invoice": invoice.external_id,
                     "version": invoice.version, "amount": amount}  # fmt: skip
    return shown


def _open_on(books, finding: Finding):
    """The copy and the customer kept, as the books hold them now, and what is open on the
    copy in words ("" when nothing is)."""
    fix = finding.fix
    copy = books.customer_by_id(fix["copy_id"])
    if copy is None:
        words = words_of_client(finding.client)
        raise FixRefused(
            f"{words.books} has no {words.customer_word} “{fix['copy_name']}” any more."
        )
    keep = books.customer_by_id(fix["keep_id"])
    invoices, payments, credits = books.open_transactions(copy.external_id)
    said = []
    if invoices:
        numbers = ", ".join(i.doc_number or f"(id {i.external_id})" for i in invoices[:5])
        said.append(f"{len(invoices)} open invoice(s) ({numbers})")
    if payments:
        said.append(f"{len(payments)} payment(s) with money unapplied")
    if credits:
        said.append(f"{len(credits)} credit memo(s) with credit left")
    if not said and copy.balance is not None and copy.balance.amount:
        said.append(f"an open balance of {money(copy.balance.amount, copy.balance.currency)}")
    return copy, keep, " and ".join(said)


def move_first(copy_name: str, keep_name: str, open_words: str, words: SystemWords) -> str:
    """Why the copy cannot be made inactive yet, and the steps by hand."""
    copy, keep = f"“{copy_name}”", f"“{keep_name}”"
    return (
        f"{copy} has {open_words}: {words.step('inactive_rule')}. By hand in {words.books}: "
        f"1. {words.step('move', keep=keep, copy=copy)}; 2. then approve this fix again, or "
        f"{words.step('make_inactive', copy=copy)} there "
        f"({words.step('inactive_steps', copy=copy)}). Nothing was written."
    )


def keep_gone(kept: str, words: SystemWords) -> str:
    return (
        f"The {words.customer_word} to keep, {kept}, is not active in {words.books}: decide "
        "by hand which one to keep."
    )


def linked_since(finding: Finding, copy_name: str) -> str:
    """Why the copy may not be made inactive now that a CRM record is linked to it (sync
    linked one after the run), or "": that record would be held by every run after."""
    link = CustomerLink.objects.filter(
        client=finding.client, accounting_id=finding.fix["copy_id"]
    ).first()
    if link is None:
        return ""
    return (
        f"“{copy_name}” is linked to {words_of_client(finding.client).crm} "
        f"{CRM_LABELS.get(link.crm_type, 'record')} "
        f"{link.crm_id} since this was found: made inactive, that record would stop "
        "syncing. Decide by hand which one to keep."
    )


def _preview_inactive(finding: Finding) -> FixPreview:
    books = accounting_adapter(active_connection(finding.client, Kind.ACCOUNTING))
    copy, keep, open_words = _open_on(books, finding)
    words = words_of_client(finding.client)
    kept = (
        keep.display_name
        if keep
        else gone(words.customer_word, words.books, finding.fix["keep_id"])
    )
    balance = money(copy.balance.amount, copy.balance.currency) if copy.balance else "not read"
    shown = FixPreview(
        "make_inactive", f"Make “{copy.display_name}” {words.inactive} in {words.books}"
    )
    shown.facts = [
        ("Made inactive", copy.display_name),
        ("Kept", kept),
        ("Its open balance", balance),
        ("Open on it", open_words or "nothing"),
    ]
    if not copy.active:
        shown.problems.append("It is inactive already: nothing to write.")
    if keep is None or not keep.active:
        shown.problems.append(keep_gone(kept, words))
    if linked := linked_since(finding, copy.display_name):
        shown.problems.append(linked)
    if open_words:
        shown.problems.append(move_first(copy.display_name, kept, open_words, words))
    shown.written = {"action": "make_inactive", "customer": copy.external_id,
                     "version": copy.version}  # fmt: skip
    return shown


PREVIEWS = {
    "make_inactive": _preview_inactive,
    "apply_credit": _preview_apply,
    "void_invoice": _preview_void,
    "create_invoice": _preview_create,
    "update_crm_payment": _preview_crm,
    "add_missing_lines": _preview_lines,
}
UNDO_WORDS = {
    "make_inactive": "Not undone here: {reactivate}.",
    "apply_credit": "Not undone here: {unapply}.",
    "create_invoice": f"Can be undone for {UNDO_DAYS} days: undo voids the invoice it creates.",
    "void_invoice": "Cannot be undone: {unvoid}.",
    "add_missing_lines": "Cannot be undone here: take lines out by editing the invoice in {books}.",
    "update_crm_payment": "Not undone here: the next payment sync writes the deal again.",
}


def undo_words(action: str, words: SystemWords) -> str:
    """Whether and how an approved fix is undone, in the client's books' own words."""
    steps = {k: words.step(k) for k in ("reactivate", "unapply", "unvoid")}
    return UNDO_WORDS[action].format(books=words.books, **steps)


# -- approving, retrying, undoing -------------------------------------------------------------
def do_approve(
    actor: User, finding: Finding, *, seen: str = "", confirmed_large: bool = False
) -> Finding:
    """Run the proposed fix once. The row is locked while it runs, so a double click or a
    second accountant cannot run it twice; a failure leaves the finding open and counted,
    with the error in words. `seen`: the digest of the preview the person confirmed; what
    would be written now must be that, or nothing is written. A fix above the firm's amount
    needs `confirmed_large` (a second, explicit confirmation)."""
    with transaction.atomic():
        locked = (
            Finding.objects.select_for_update().select_related("client__firm").get(pk=finding.pk)
        )
        if locked.status != FindingStatus.OPEN:
            raise FixRefused("This finding was already decided.", kind="decided")
        action = locked.fix.get("action", "review")
        if action not in AUTOMATIC:
            raise FixRefused(
                "No safe automatic fix: correct it by hand, then dismiss it saying so.",
                kind="no_fix",
            )
        if needs_second_confirmation(locked) and not confirmed_large:
            limit = locked.client.firm.confirm_fixes_above
            raise FixRefused(
                f"{money(locked.amount, locked.currency)} is above your firm's "
                f"{money(limit, locked.currency)}: open its fix, check what will be written and "
                "confirm it twice. Nothing was written.",
                kind="large",
            )
        before = {"status": locked.status, "fix_error": locked.fix_error}
        shown = None
        if seen or action == "create_invoice":  # the invoice's date comes from the preview
            shown = preview(locked)
            if not shown.failure and seen and shown.digest != seen:
                raise FixRefused(
                    "What this fix would write changed since it was shown (the books or the "
                    "CRM changed). Nothing was written: look at it again."
                )
            if shown.problems and not shown.failure:
                raise FixRefused(" ".join(shown.problems))
        try:
            if shown is not None and shown.failure:
                raise _Failed(shown.failure)
            result = FIXES[action](locked, shown)
        except (*PROVIDER_ERRORS, SyncUnavailable, _Failed) as error:
            # Still open and counted: the problem is still there; the error says why.
            words = (
                str(error)
                if isinstance(error, _Failed)
                else words_for(error, action, words_of_client(locked.client))
            )
            locked.fix_error, locked.fix_failed_at = words, timezone.now()
            result = {"error": words}
        else:
            locked.status, locked.decision_note = FindingStatus.FIXED, result.get("words", "")
            locked.decided_by, locked.decided_at = actor, timezone.now()
            locked.fix_error, locked.fix_failed_at = "", None
        locked.evidence = {**locked.evidence, "fix_result": result}
        locked.save()
        after = {"status": locked.status, "action": action, "result": result}
        if shown is not None:
            after["shown"] = json.loads(json.dumps(shown.written, default=str))
        audit(locked.client.firm, actor, "finding.fix_approved", locked, before, after)
    return locked


def do_retry(
    actor: User, finding: Finding, *, seen: str = "", confirmed_large: bool = False
) -> Finding:
    """Run a fix that failed once more (after the cause was cleared)."""
    if not finding.fix_error:
        raise FixRefused("Its fix has not failed: approve it instead.")
    return do_approve(actor, finding, seen=seen, confirmed_large=confirmed_large)


def undo_refusal(finding: Finding, now=None) -> str:
    """Why the fix of `finding` cannot be undone, or "" when it can."""
    if finding.status != FindingStatus.FIXED:
        return "Only an approved fix can be undone."
    action = finding.fix.get("action", "")
    words = words_of_client(finding.client)
    if action != "create_invoice":
        if action in UNDO_WORDS:
            return undo_words(action, words)
        return "This fix cannot be undone."
    if not (finding.evidence.get("fix_result") or {}).get("invoice_id"):
        return f"The fix did not record the invoice it created: void it in {words.books}."
    now = now or timezone.now()
    if finding.decided_at and now - finding.decided_at > timedelta(days=UNDO_DAYS):
        return f"Fixes can be undone for {UNDO_DAYS} days; void the invoice in {words.books}."
    return ""


def do_undo_fix(actor: User, finding: Finding) -> Finding:
    """Undo an approved fix that created an invoice: void that invoice (the books keep it,
    at zero) and open the finding again, saying so. Audited."""
    with transaction.atomic():
        locked = (
            Finding.objects.select_for_update().select_related("client__firm").get(pk=finding.pk)
        )
        if refused := undo_refusal(locked):
            raise FixRefused(refused)
        result = locked.evidence["fix_result"]
        books = accounting_adapter(active_connection(locked.client, Kind.ACCOUNTING))
        try:
            voided = books.void_invoice(result["invoice_id"])
        except (*PROVIDER_ERRORS, SyncUnavailable) as error:
            refusal = words_for(error, "void_invoice", words_of_client(locked.client))
            raise FixRefused(f"Not undone: {refusal}") from error
        books_name = words_of_client(locked.client).books
        if not voided.voided:
            raise FixRefused(
                f"Not undone: invoice {voided.doc_number} is not void in {books_name}."
            )
        link = InvoiceLink.objects.filter(client=locked.client, deal_id=locked.fix["deal_id"])
        restored = result.get("link_before")
        if restored is None:
            link.delete()  # as before the fix: the deal had no invoice and no link
        else:
            link.update(state=restored, accounting_id="", reason="its invoice was voided: "
                        "the fix that created it was undone")  # fmt: skip
        before = {"status": locked.status, "decision_note": locked.decision_note}
        when = timezone.now().astimezone(locked.client.tzinfo)
        note = (
            f"Fix undone by {actor.email} on {day_words(when.date())}: invoice "
            f"{voided.doc_number or voided.external_id} voided in {books_name}."
        )
        locked.status, locked.change_note, locked.decision_note = FindingStatus.OPEN, note, ""
        locked.decided_by, locked.decided_at = None, None
        locked.evidence = {**locked.evidence, "fix_result": {**result, "undone": note}}
        locked.save()
        after = {"status": locked.status, "voided": voided.external_id, "note": note}
        audit(locked.client.firm, actor, "finding.fix_undone", locked, before, after)
    return locked


# -- the provider's error in words ------------------------------------------------------------
WHAT = {
    "make_inactive": "making the customer inactive",
    "create_invoice": "the invoice",
    "void_invoice": "the void",
    "add_missing_lines": "the new lines",
    "update_crm_payment": "the deal's payment status",
}
# A provider's refusal (`contract.Refusal`) → why, in words ({books}: the provider's name).
REFUSAL_WORDS = {
    Refusal.NOT_FOUND: "something on it is inactive or deleted in {books} (the customer or a "
    "product)",
    Refusal.STALE: "someone changed it in {books} at the same moment; retry to use the new version",
    Refusal.NUMBER_TAKEN: "its number is already used by another invoice in {books}",
    Refusal.NAME_TAKEN: "a customer or product with that name already exists in {books}",
}


def words_for(
    error: BaseException | str,
    action: str,
    words: SystemWords = SystemWords(),  # noqa: B008 - frozen
) -> str:
    """A provider's error as a sentence an accountant can act on: who refused what, why,
    and whether anything was written."""
    text = str(error).strip().rstrip(".")
    system = words.crm if action == "update_crm_payment" else words.books
    system = system[:1].upper() + system[1:]
    what = WHAT.get(action, "the fix")
    refusal = getattr(error, "refusal", "") or ""
    if isinstance(error, retries.Stale):
        refusal = Refusal.STALE
    detail = (getattr(error, "detail", "") or "").strip()
    lowered = f"{text} {detail}".lower()
    if isinstance(error, SyncUnavailable) or str(error) in (SYNC_RUNNING, UNSETTLED):
        return str(error)
    if "made inactive" in lowered or refusal == Refusal.NOT_FOUND:
        why = REFUSAL_WORDS[Refusal.NOT_FOUND].format(books=system)
        return f"{system} refused {what}: {why}. Make it active, then retry."
    if refusal in REFUSAL_WORDS:
        return f"{system} refused {what}: {REFUSAL_WORDS[refusal].format(books=system)}."
    if "kept failing" in lowered or isinstance(error, retries.Transient):
        return (
            f"{system} did not answer (it failed on every try), so {what} was not written. "
            "Retry when it is back."
        )
    if "rate-limited" in lowered or isinstance(error, retries.RateLimited):
        return (
            f"{system} is limiting how often we may call it; {what} was not written. "
            "Retry in a minute."
        )
    if "refused our access" in lowered:
        return (
            f"{system} no longer accepts syncfirm's connection: reconnect it from the client's "
            "page, then retry."
        )
    if detail:
        return f"{system} refused {what}: {detail.rstrip('.')}."
    for prefix in (f"{system} refused it: ", f"{system} refused: "):
        if prefix in text:
            return f"{system} refused {what}: {text.split(prefix, 1)[1]}."
    return f"{what[:1].upper()}{what[1:]} was not written: {text}."


def _void(finding: Finding, shown: FixPreview | None = None) -> dict:
    books = accounting_adapter(active_connection(finding.client, Kind.ACCOUNTING))
    invoice_id = finding.fix["invoice_id"]
    keep, kept = _kept_copy(books, finding)
    if problem := _kept_problem(keep, kept, _read_invoice(books, invoice_id)):
        raise _Failed(problem)  # approved without its preview (in bulk, or through the API)
    before = books.receivable()
    voided = books.void_invoice(invoice_id)
    after = books.receivable()
    if not voided.voided:
        raise retries.ProviderError(f"invoice {invoice_id} is not void after the fix")
    return {
        "words": f"Invoice {voided.doc_number or invoice_id} voided; "
        f"owed on open invoices {money(before, voided.total.currency)} → "
        f"{money(after, voided.total.currency)}.",
        "receivable_before": str(before),
        "receivable_after": str(after),
    }


def _create(finding: Finding, shown: FixPreview | None = None) -> dict:
    """The missing invoice, made by invoice sync's exactly-once path for this one deal,
    dated as the preview showed (never inside the books' closed period)."""
    client, deal_id = finding.client, finding.fix["deal_id"]
    existing = InvoiceLink.objects.filter(client=client, deal_id=deal_id).first()
    link_before = existing.state if existing else None
    if link_before in (InvoiceState.WRITING, InvoiceState.UNCERTAIN):
        raise retries.ProviderError(UNSETTLED)  # writing again could make a second invoice
    InvoiceLink.objects.update_or_create(
        client=client,
        deal_id=deal_id,
        defaults={"state": InvoiceState.HELD, "reason": "approved from a reconciliation finding"},
    )
    dates = {deal_id: shown.txn_date} if shown and shown.txn_date else None
    run = run_customer_sync(
        client,
        kind=RunKind.MANUAL,
        crm_ids={"deals": [deal_id]},
        wait_seconds=FIX_LEASE_WAIT_SECONDS,
        invoice_dates=dates,
    )
    if run.error == LEASE_BUSY:
        raise retries.ProviderError(SYNC_RUNNING)
    link = InvoiceLink.objects.get(client=client, deal_id=deal_id)
    if link.state in (InvoiceState.WRITING, InvoiceState.UNCERTAIN):
        raise retries.ProviderError(UNSETTLED)
    if link.state != InvoiceState.CREATED:
        # The run's own error (a provider that failed) says more than the link's reason.
        if run.error:
            raise retries.ProviderError(run.error)
        books_name = words_of_client(client).books
        raise retries.ProviderError(f"{books_name} refused it: {link.reason}")
    day = f", dated {day_words(shown.txn_date)}" if shown and shown.txn_date else ""
    deal = f"deal {quoted(link.deal_name)}" if link.deal_name else "the deal"
    words = f"Invoice {link.doc_number} created from {deal}{day}."
    return {
        "words": words,
        "invoice_id": link.accounting_id,
        "doc_number": link.doc_number,
        "link_before": link_before,
    }


def _payment_status(invoice) -> tuple[str, Decimal]:
    paid = invoice.total.amount - invoice.balance.amount
    status = "paid" if invoice.balance.amount <= 0 else "partially_paid" if paid > 0 else "unpaid"
    return status, paid


def _update_crm(finding: Finding, shown: FixPreview | None = None) -> dict:
    client = finding.client
    books = accounting_adapter(active_connection(client, Kind.ACCOUNTING))
    crm = crm_adapter(active_connection(client, Kind.CRM))
    invoice = _read_invoice(books, finding.fix["invoice_id"])
    status, paid = _payment_status(invoice)
    results = crm.update_records(
        "deals",
        {
            finding.fix["deal_id"]: {
                "syncfirm_payment_status": status,
                "syncfirm_amount_paid": str(paid),
                "syncfirm_balance": str(invoice.balance.amount),
            }
        },
    )
    if not results or not results[0].ok:
        raise retries.ProviderError(f"{words_of_client(client).crm} did not take the update")
    InvoiceLink.objects.filter(client=client, deal_id=finding.fix["deal_id"]).update(
        payment_status=status, amount_paid=paid, balance=invoice.balance.amount
    )
    return {
        "words": f"Deal now shows {status.replace('_', ' ')}: "
        f"{money(paid, invoice.balance.currency)} paid, "
        f"{money(invoice.balance.amount, invoice.balance.currency)} due."
    }


def _missing_lines(finding: Finding):
    """(books, the invoice, the deal's lines it lacks as drafts, the deal's lines' total)."""
    client = finding.client
    books = accounting_adapter(active_connection(client, Kind.ACCOUNTING))
    crm = crm_adapter(active_connection(client, Kind.CRM))
    deal = crm.deals(crm.read_records("deals", [finding.fix["deal_id"]]))[0]
    if deal.problems:
        raise FixRefused(f"the deal could not be read: {'; '.join(deal.problems)}")
    invoice = _read_invoice(books, finding.fix["invoice_id"])
    index = invoicing.item_index(books.items(), SyncSettings.for_client(client).unmatched_item)
    have = Counter((line.item_id, line.quantity) for line in invoice.lines)
    missing = []
    for line in deal.lines:
        item = invoicing.find_item(index, line.sku, line.name)
        if item is None:
            raise FixRefused(f"the books have no product {line.sku or line.name!r}")
        if have[(item.external_id, line.quantity)]:
            have[(item.external_id, line.quantity)] -= 1
            continue
        net = line.unit_price - line.discount
        missing.append(
            invoicing.DraftLine(item.external_id, line.name, line.quantity, net,
                                invoicing.cents(line.quantity * net), line.description or line.name)
        )  # fmt: skip
    wanted = sum(
        (invoicing.cents(d.quantity * (d.unit_price - d.discount)) for d in deal.lines), Decimal(0)
    )
    return books, invoice, missing, wanted


def _add_lines(finding: Finding, shown: FixPreview | None = None) -> dict:
    """The deal's lines the invoice lacks, appended to it; its own lines stay."""
    books, invoice, missing, wanted = _missing_lines(finding)
    if not missing:
        return {"words": "The invoice already has every line of the deal."}
    after = books.add_invoice_lines(invoice.external_id, missing)
    lines_total = sum((line.amount for line in after.lines), Decimal(0))
    if lines_total != wanted:
        raise retries.ProviderError(
            f"the invoice's lines add up to {lines_total}, the deal's to {wanted}"
        )
    return {
        "words": f"{len(missing)} line(s) added to invoice {after.doc_number}; it matches the deal."
    }


def _apply_credit(finding: Finding, shown: FixPreview | None = None) -> dict:
    """Apply a payment's unapplied money, or a credit memo, to the open invoice. Both are
    read first: money already used or an invoice already paid is refused, not applied
    twice; the invoice is read again afterwards to check its balance fell by the amount."""
    fix = finding.fix
    books = accounting_adapter(active_connection(finding.client, Kind.ACCOUNTING))
    amount = Decimal(fix["amount"])
    invoice = _read_invoice(books, fix["invoice_id"])
    doc = invoice.doc_number or invoice.external_id
    cur = invoice.balance.currency
    what = _money_words(fix)
    if "payment_id" in fix:
        found = books.payments_by_id([fix["payment_id"]])
        left = found[0].unapplied if found else None
    else:
        found = books.credit_memos_by_id([fix["credit_id"]])
        left = found[0].remaining if found else None
    if left is None:
        raise retries.ProviderError(f"{words_of_client(finding.client).books} has no {what}")
    if left < amount:
        raise FixRefused(
            f"{what.capitalize()} has {money(left, cur)} left unapplied, less than "
            f"{money(amount, cur)}: "
            "it was used meanwhile. Reconcile again to see what is still open."
        )
    if invoice.balance.amount < amount:
        raise FixRefused(
            f"Invoice {doc} is open for {money(invoice.balance.amount, cur)} only, less than "
            f"{money(amount, cur)}: it was paid meanwhile. Reconcile again to see what is still "
            "open."
        )
    if "payment_id" in fix:
        books.apply_payment(fix["payment_id"], invoice.external_id, amount)
    else:
        books.apply_credit_memo(fix["credit_id"], invoice.external_id, amount)
    after = _read_invoice(books, invoice.external_id)
    if after.balance.amount != invoice.balance.amount - amount:
        raise retries.ProviderError(
            f"invoice {doc} is open for {money(after.balance.amount, cur)} after the fix, "
            f"not {money(invoice.balance.amount - amount, cur)}"
        )
    return {
        "words": f"{what.capitalize()} ({money(amount, cur)}) applied to "
        f"invoice {doc}; it is open for {money(after.balance.amount, cur)} now.",
        "balance_before": str(invoice.balance.amount),
        "balance_after": str(after.balance.amount),
    }


def _customer_words(customer, customer_id: str, client) -> str:
    if customer:
        return customer.display_name
    words = words_of_client(client)
    return gone(words.customer_word, words.books, customer_id)


def _money_words(fix: dict) -> str:
    """The payment or credit memo a fix applies, as the finding's words call it."""
    return "the unapplied payment" if "payment_id" in fix else "the unapplied credit memo"


def _deal_words(finding: Finding) -> str:
    """The finding's deal by its name (kept on the finding), else in words."""
    kept = (finding.records or {}).get("deal")
    if kept and kept[1]:
        return f"deal {quoted(kept[1])}"
    crm_name = words_of_client(finding.client).crm
    return gone("deal", crm_name, finding.fix.get("deal_id") or finding.deal_id)


def _read_invoice(books, invoice_id: str):
    """The invoice a fix acts on; one the books hold but syncfirm cannot read is refused
    with the reason, never acted on half-read."""
    found = books.invoices_by_id([invoice_id])
    if not found:
        name = provider(books.connection.system).short_name
        why = "; ".join(str(u) for u in books.unreadable) or f"{name} has no invoice {invoice_id}"
        raise retries.ProviderError(why)
    return found[0]


def _make_inactive(finding: Finding, shown: FixPreview | None = None) -> dict:
    """Make the copy inactive, once nothing is open on it (read now, not as the run saw
    it); the kept customer stays. Refused with the steps by hand while something is open."""
    books = accounting_adapter(active_connection(finding.client, Kind.ACCOUNTING))
    copy, keep, open_words = _open_on(books, finding)
    words = words_of_client(finding.client)
    kept = keep.display_name if keep else finding.fix["keep_name"]
    if open_words:
        raise FixRefused(move_first(copy.display_name, kept, open_words, words))
    # Approved without its preview (in bulk): the kept one merged or made inactive in the
    # books since the run would leave the customer with no active record at all.
    if keep is None or not keep.active:
        raise FixRefused(f"{keep_gone(kept, words)} Nothing was written.")
    if linked := linked_since(finding, copy.display_name):
        raise FixRefused(f"{linked} Nothing was written.")
    done = books.make_customer_inactive(copy.external_id)
    if done.active:
        raise retries.ProviderError(f"“{done.display_name}” is still active after the fix")
    # The mirror follows at once: sync must not link a CRM record to the copy meanwhile.
    MirroredCustomer.objects.filter(client=finding.client, external_id=done.external_id).update(
        active=False, version=done.version
    )
    return {
        "words": f"“{done.display_name}” made {words.inactive} in {words.books}; “{kept}” kept."
    }


FIXES = {
    "make_inactive": _make_inactive,
    "void_invoice": _void,
    "create_invoice": _create,
    "update_crm_payment": _update_crm,
    "add_missing_lines": _add_lines,
    "apply_credit": _apply_credit,
}
