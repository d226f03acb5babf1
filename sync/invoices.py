"""Closed-won deals to invoices, exactly once, and payment status back to the deals.

The shell around `invoicing` (pure). Exactly once rests on three things, none trusted
alone: the `InvoiceLink` row per deal, marked WRITING and committed before the create is
sent (a killed worker, a lost answer or a racing run all find it); a deterministic
invoice number that is also the deal's reference, looked up before anything is sent again;
and the provider's idempotency key on every batch (`requestid`, `Idempotency-Key`). One run
per client at a time (the lease) keeps the
webhook path and the batched pull from deciding the same deal at once.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clients.actions import audit
from connections import retries
from connections.contract import Refusal
from connections.job_filing import NOTE
from connections.numbers import BadValue, crm_number
from connections.providers import provider
from connections.records import CRM_NUMBER_PROPERTY, CrmRecord, Deal, Invoice, PaymentInfo
from syncfirm.money import money

from . import invoice_pairing, invoicing
from .alerts import raise_alert
from .models import (
    DOC_NUMBER_COLUMN,
    ChangeState,
    ConflictKind,
    ConflictStatus,
    CustomerLink,
    InvoiceLink,
    InvoiceState,
    IssuedInvoiceChanges,
    Outcome,
    PaymentLink,
    SyncConflict,
    SyncCursor,
    SyncSettings,
)
from .outbox import request_id, unknown_outcome
from .payments import RECEIVED, PaymentStep, carries
from .signals import books_invoices_changed

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # writes of one deal whose outcome stayed unknown, before a person decides
DEALS, MONEY, LINE_ITEMS = "deals", "money", "line_items"
OVERLAP = timedelta(minutes=2)


def books_of(accounting, crm=None) -> invoicing.Books:
    """What invoicing needs of the adapters: the books' name, the longest invoice number
    they hold, and the CRM's name for the deal reference."""
    name = provider(accounting.connection.system).short_name
    if crm is None:
        return invoicing.Books(name, accounting.capabilities.invoice_number_length)
    known = provider(crm.connection.system)
    return invoicing.Books(
        name, accounting.capabilities.invoice_number_length, known.short_name, known.deal_word
    )


class InvoiceStep:
    """Runs inside a sync run (`customers._CustomerSync`), after its customer step."""

    def __init__(self, sync, started: datetime):
        self.sync, self.started = sync, started
        self.client, self.run, self.settings = sync.client, sync.run, sync.settings
        self.accounting, self.crm = sync.accounting, sync.crm
        self.dry_run = sync.dry_run
        self.today = timezone.now().astimezone(self.client.tzinfo).date()
        self.books = books_of(self.accounting, self.crm)

    # -- the step ------------------------------------------------------------------
    def execute(self) -> None:
        if self.settings.invoice_baseline_at is None:
            self._baseline()
            return
        self.sync._stage("Reading deals")
        self._won_stages()
        self._settle_unknown()  # first: what earlier writes left unknown
        deals = self._changed_won_deals()
        links = {
            link.deal_id: link
            for link in InvoiceLink.objects.filter(
                client=self.client, deal_id__in=[d.external_id for d in deals]
            )
        }
        todo, issued = [], []
        for deal in deals:
            link = links.get(deal.external_id)
            if link is None or link.state in (InvoiceState.HELD, InvoiceState.WRITING):
                todo.append(deal)
            elif link.state in (InvoiceState.CREATED, InvoiceState.HISTORICAL):
                issued.append((deal, link))
            elif link.state == InvoiceState.UNCERTAIN:
                self._note(
                    deal, Outcome.HELD, link.reason or "its last invoice write has no known outcome"
                )
        retry = InvoiceLink.objects.filter(client=self.client, state=InvoiceState.WRITING)
        retry_ids = [link.deal_id for link in retry if link.deal_id not in links]
        if retry_ids:
            todo.extend(self._read_deals(self.crm.read_records(DEALS, retry_ids)))
        # Invoice updates approved by a person or sent with no known outcome: looked at
        # again until settled, whether or not their deal changed since.
        unsettled = {
            link.deal_id: link
            for link in InvoiceLink.objects.filter(
                client=self.client,
                state__in=[InvoiceState.CREATED, InvoiceState.HISTORICAL],
                change_state__in=[ChangeState.APPROVED, ChangeState.UPDATING],
            ).exclude(deal_id__in=list(links))
        }
        if unsettled:
            records = self.crm.read_records(DEALS, list(unsettled))
            issued.extend((d, unsettled[d.external_id]) for d in self._read_deals(records))
        if todo:
            self._invoice(todo)
        if issued:
            self._check_issued(issued)
        books_payments = self._payments()
        carried = PaymentStep(self).execute({d.external_id for d in deals}, books_payments)
        # A payment read that failed leaves both change feeds where they were: the next run
        # reads the same payments again (carrying is exactly once, so nothing lands twice).
        if not self.dry_run and carried:
            self._cursor(MONEY, self.started)
            self._cursor(DEALS, self.started)

    def _note(self, deal: Deal, outcome: str, reason: str, invoice_id: str = "") -> None:
        self.sync.note("deals", deal.external_id, deal.name, outcome, reason, invoice_id)

    def _cursor(self, group: str, value: datetime | None = None) -> datetime | None:
        system = (self.crm if group == DEALS else self.accounting).connection.system
        if value is None:
            found = SyncCursor.objects.filter(client=self.client, system=system, group=group)
            return found.values_list("value", flat=True).first()
        SyncCursor.objects.update_or_create(
            client=self.client, system=system, group=group, defaults={"value": value}
        )
        return value

    def _won_stages(self, force: bool = False) -> set[str]:
        """Closed-won stage ids, read from the pipelines at the baseline and kept."""
        fresh = self.settings.won_stages and not force
        if not fresh:
            stages = sorted(self.crm.won_stages())
            self.settings.won_stages = stages
            SyncSettings.objects.filter(pk=self.settings.pk).update(won_stages=stages)
        return set(self.settings.won_stages)

    # -- reading deals -------------------------------------------------------------------
    def _changed_won_deals(self) -> list[Deal]:
        """The won deals this run looks at: those a webhook named (or whose line items it
        named), every deal in a full sync, else those changed since the cursor, with the
        deals of line items changed since (adding a line need not change the deal)."""
        if self.sync.crm_ids is not None:  # a webhook named the records
            wanted = list(self.sync.crm_ids.get(DEALS, []))
            if lines := self.sync.crm_ids.get(LINE_ITEMS, []):
                wanted += self.crm.deals_of_line_items(list(dict.fromkeys(lines)))
            records = self.crm.read_records(DEALS, list(dict.fromkeys(wanted))) if wanted else []
        elif self.sync.full:
            records = self._all_deals()
        else:
            since = (self._cursor(DEALS) or self.started) - OVERLAP
            records = self.crm.records_changed_since(DEALS, since)
            lines = self.crm.records_changed_since(LINE_ITEMS, since)
            seen = {r.external_id for r in records}
            extra = [
                d
                for d in self.crm.deals_of_line_items([r.external_id for r in lines])
                if d not in seen
            ] if lines else []  # fmt: skip
            if extra:
                records += self.crm.read_records(DEALS, extra)
        return self._read_deals(records)

    def _read_deals(self, records: list[CrmRecord]) -> list[Deal]:
        """Won deals with their lines. Invoiced deals are always compared with what was
        invoiced (a fingerprint: cheap); an uncertain write is skipped when its link is
        newer than the deal's last change (seen already)."""
        won = self._won_stages()
        records = list({r.external_id: r for r in records}.values())
        chosen = [r for r in records if r.properties.get("dealstage") in won]
        settled = {
            link.deal_id: link.updated_at
            for link in InvoiceLink.objects.filter(
                client=self.client,
                deal_id__in=[r.external_id for r in chosen],
                state=InvoiceState.UNCERTAIN,
            )
        }
        chosen = [
            r
            for r in chosen
            if r.external_id not in settled
            or r.updated_at is None
            or r.updated_at > settled[r.external_id]
        ]
        return self.crm.deals(chosen) if chosen else []

    def _all_deals(self) -> list[CrmRecord]:
        records, cursor = [], None
        while True:
            page = self.crm.records(DEALS, cursor)
            records.extend(page.records)
            if not (cursor := page.next_cursor):
                return records

    # -- history -------------------------------------------------------------------
    def _baseline(self) -> None:
        """First invoice step of a client: every deal closed-won now is history. Linked to
        its invoice when the books have one that names it, else left to reconciliation."""
        self.sync._stage("Recording deals already closed-won")
        won = self._won_stages(force=True)
        deals = [r for r in self._all_deals() if r.properties.get("dealstage") in won]
        seen = len(self.accounting.unreadable)
        invoices = self.accounting.all_invoices()
        unread = [u for u in self.accounting.unreadable[seen:] if u.kind == "invoice"]
        by_deal = {}
        for invoice in invoices:
            deal_id = invoicing.referenced_deal(invoice.private_note)
            if deal_id:
                by_deal.setdefault(deal_id, invoice)
        pattern = self.settings.invoice_number_pattern
        by_number = {i.doc_number: i for i in invoices if i.doc_number}
        paired, unsure, to_post, waits = {}, {}, [], set()
        if self.crm.crm_capabilities.issues_invoices:
            paired, unsure = self._posted_already(invoices)
            unsure |= _maybe_unread(deals, paired.keys() | unsure.keys(), unread)
            # A CRM invoice the books do not hold (by number, customer, amount, date and
            # lines) is posted now; one they may hold waits for a person.
            to_post = [r for r in deals if r.external_id not in paired | unsure]
            kept_back = self._history_not_posted(to_post)
            to_post = [r for r in to_post if r.external_id not in kept_back]
            deals = [r for r in deals if r.external_id in paired | unsure | kept_back]
            # One the books may hold waits where a person sees it (uncertain: "post it"
            # releases it); one kept back is history, said in its reason.
            waits, unsure = set(unsure), unsure | kept_back
        rows = []
        for record in deals:
            invoice = (
                paired.get(record.external_id)
                or by_deal.get(record.external_id)
                or by_number.get(
                    _number_or_blank(
                        pattern,
                        record.properties.get(CRM_NUMBER_PROPERTY) or record.external_id,
                        self.books,
                    )
                )
            )
            rows.append(
                InvoiceLink(
                    client=self.client,
                    deal_id=record.external_id,
                    deal_name=(record.properties.get("dealname") or "")[:300],
                    state=InvoiceState.UNCERTAIN
                    if record.external_id in waits
                    else InvoiceState.HISTORICAL,
                    accounting_id=invoice.external_id if invoice else "",
                    doc_number=invoice.doc_number[:DOC_NUMBER_COLUMN] if invoice else "",
                    customer_id=invoice.customer_id if invoice else "",
                    expected_total=invoice.total.amount if invoice else None,
                    due_date=invoice.due_date if invoice else "",
                    reason=unsure.get(record.external_id)
                    or ("" if invoice else "closed-won before invoicing started; no invoice"),
                    # What the deal says now: only a real change in the books rewrites it.
                    payment_status=(record.properties.get("syncfirm_payment_status") or "")[:20],
                    amount_paid=_amount(record.properties.get("syncfirm_amount_paid")),
                )
            )
        linked = sum(1 for r in rows if r.accounting_id)
        self.sync.counts["deals_history_linked"] = linked
        self.sync.counts["deals_history_without_invoice"] = len(rows) - linked
        if to_post:
            self.sync.counts["crm_invoices_to_post"] = len(to_post)
        if self.dry_run:
            return
        created = self.crm.ensure_deal_properties()
        with transaction.atomic():
            InvoiceLink.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
            SyncSettings.objects.filter(pk=self.settings.pk).update(
                invoice_baseline_at=self.started
            )
        self.settings.invoice_baseline_at = self.started
        self._cursor(DEALS, self.started)
        self._cursor(MONEY, self.started)
        self.sync.counts["deal_properties_created"] = created
        if to_post:
            self._invoice(self._read_deals(to_post))
            PaymentStep(self).execute(set(), [])

    def _history_not_posted(self, records: list) -> dict[str, str]:
        """A billing CRM's invoices from before syncfirm posted that the books lack, which
        posting now would make wrong: one already paid whose payments are not carried to
        the books (the client's rule, or none the CRM shows cover it), as it would read as
        owed; and one dated inside the books' closed period (it would change a closed
        year). History, with the reason; the month's audit still lists them."""
        closed = self.accounting.books_closed_through()
        paid = [r for r in records if r.properties.get("dealstage") == "paid"]
        covered = self._paid_by_records(paid) if paid and self._carries_crm_payments() else set()
        out = {}
        for record in records:
            issued = record.properties.get("issued_date") or ""
            if record in paid and record.external_id not in covered:
                why = (
                    "the client's payment rule does not carry its payments to the books"
                    if not self._carries_crm_payments()
                    else f"{self.books.crm} shows no payments that cover it"
                )
                out[record.external_id] = (
                    f"paid in {self.books.crm} before syncfirm began posting: not posted, as "
                    f"{why} and it would read as owed; post it with its payment by hand if needed"
                )
            elif closed and issued and issued <= closed.isoformat():
                out[record.external_id] = (
                    f"issued {issued}, inside the books' closed period (closed through "
                    f"{closed.isoformat()}): not posted; post it by hand if the books need it"
                )
        self.sync.counts["crm_invoices_history_kept_back"] = len(out)
        return out

    def _paid_by_records(self, records: list) -> set[str]:
        """The paid invoices whose payment records (the ones carried) add up to their total:
        posted with them, they read as paid in the books too."""
        received: dict[str, Decimal] = {}
        for payment in self.crm.crm_payments([r.external_id for r in records]):
            if payment.kind in RECEIVED:
                received[payment.invoice_id] = (
                    received.get(payment.invoice_id, Decimal(0)) + payment.amount.amount
                )
        return {
            r.external_id
            for r in records
            if (total := _amount(r.properties.get("total"))) is not None
            and total > 0
            and received.get(r.external_id, Decimal(0)) >= total
        }

    def _carries_crm_payments(self) -> bool:
        return self.crm.crm_capabilities.records_payments and carries(
            self.settings.payment_rule, PaymentLink.TO_BOOKS
        )

    def _posted_already(self, invoices: list[Invoice]) -> tuple[dict[str, Invoice], dict]:
        """A billing CRM's invoices the books hold already (another integration posted them
        before syncfirm did): paired as an accountant would (`invoice_pairing`). Returns the
        sure pairs (CRM id → books invoice) and the unsure ones (CRM id → why it waits)."""
        customer_of = dict(
            CustomerLink.objects.filter(client=self.client).values_list("crm_id", "accounting_id")
        )
        books = {i.external_id: i for i in invoices}
        pairing = invoice_pairing.pair(
            [invoice_pairing.crm_side(i, customer_of) for i in self.crm.crm_invoices()],
            [invoice_pairing.books_side(i) for i in invoices if i.txn_date and not i.voided],
        )
        sure = {p.crm: books[p.books] for p in pairing.sure}
        sure |= {c.crm: books[c.kept] for c in pairing.copies if c.crm not in sure}
        unsure = {
            p.crm: f"may be invoice {books[p.books].doc_number or p.books} in the books "
            f"(probability {p.probability:.2f}): not posted until a person says"
            for p in pairing.near
        }
        self.sync.counts["posted_already"] = len(sure)
        self.sync.counts["posted_maybe"] = len(unsure)
        return sure, unsure

    # -- invoicing -----------------------------------------------------------------------
    def _settle_unknown(self) -> None:
        """Writes a killed worker or a lost answer left WRITING: is the invoice there?"""
        pending = list(InvoiceLink.objects.filter(client=self.client, state=InvoiceState.WRITING))
        if not pending or self.dry_run:
            return
        seen = len(self.accounting.unreadable)
        try:
            found = {i.doc_number: i for i in self.accounting.invoices_numbered(
                [link.doc_number for link in pending]
            )}  # fmt: skip
        except (retries.ProviderError, retries.Transient, retries.RateLimited):
            return  # still unknown; the next run looks again
        unreadable = {u.number: u for u in self.accounting.unreadable[seen:] if u.number}
        for link in pending:
            invoice = found.get(link.doc_number)
            if invoice is None and link.doc_number in unreadable:
                # An invoice with this number is there but cannot be read: whose it is and
                # what it holds are unknown, so a person decides; nothing is sent again.
                link.state = InvoiceState.UNCERTAIN
                link.reason = str(unreadable[link.doc_number])
                link.save(update_fields=["state", "reason", "updated_at"])
            elif invoice is not None and invoicing.referenced_deal(invoice.private_note) in (
                link.deal_id,
                None,
            ):
                self._mark_created(
                    link, invoice.external_id, "found in the books after an unknown outcome"
                )
            elif link.attempts >= MAX_ATTEMPTS:
                link.state = InvoiceState.UNCERTAIN
                link.reason = f"{link.attempts} writes with no known outcome and no invoice found"
                link.save(update_fields=["state", "reason", "updated_at"])
                raise_alert(
                    self.run,
                    f"Deal {link.deal_id}: the invoice write could not be settled; "
                    "check the books, then mark it done or retry from the review queue.",
                    source="invoice sync",
                )

    def _customer_for(self, deal: Deal) -> str:
        for crm_type, ids in (("companies", deal.company_ids), ("contacts", deal.contact_ids)):
            for crm_id in ids:
                link = self.customer_links.get((crm_type, crm_id))
                if link:
                    return link.accounting_id
        return ""

    def _load_customer_links(self, deals: list[Deal]) -> None:
        companies = {i for d in deals for i in d.company_ids}
        contacts = {i for d in deals for i in d.contact_ids}
        links = CustomerLink.objects.filter(client=self.client).filter(
            crm_id__in=companies | contacts
        )
        self.customer_links = {(link.crm_type, link.crm_id): link for link in links}
        missing = {
            "companies": [c for d in deals if not self._customer_for(d) for c in d.company_ids],
            "contacts": [
                c
                for d in deals
                if not self._customer_for(d) and not d.company_ids
                for c in d.contact_ids
            ],
        }
        if any(missing.values()) and not self.dry_run:
            self.sync.sync_customers_now(missing)  # the customer first, then its invoice
            links = CustomerLink.objects.filter(client=self.client).filter(
                crm_id__in=companies | contacts
            )
            self.customer_links = {(link.crm_type, link.crm_id): link for link in links}

    def _invoice(self, deals: list[Deal]) -> None:
        self.sync._stage(f"Invoicing {len(deals)} closed-won deal(s)")
        self._load_customer_links(deals)
        index, no_account = self._items_for(deals)
        drafts = []
        for deal in deals:
            built = invoicing.build_invoice(
                deal,
                customer_id=self._customer_for(deal),
                items=index,
                company_currency=self.settings.books_currency,
                timezone=self.client.timezone,
                terms_days=self.settings.payment_terms_days,
                pattern=self.settings.invoice_number_pattern,
                books=self.books,
                sales_tax=self.settings.sales_tax,
                txn_date=self.sync.invoice_dates.get(deal.external_id),
                job_reference=self._job_reference(),
                job_category=self.settings.job_tracking_category,
            )
            if isinstance(built, list):
                reasons = [b + no_account if ": no product " in b else b for b in built]
                self._hold(deal, "; ".join(reasons))
            elif self.dry_run:
                self._note(
                    deal, Outcome.CREATED, f"would be invoiced: {built.total} {built.currency}"
                )
            else:
                drafts.append((deal, built))
        batch = self.accounting.capabilities.batch_size
        for start in range(0, len(drafts), batch):
            self._write(drafts[start : start + batch])
            self.sync._save_outcomes()

    def _job_reference(self) -> str:
        """The client's way of filing jobs, where these books can; else the note (a setting
        left from other books: the settings page says so until someone replaces it)."""
        chosen = self.settings.job_reference
        return chosen if chosen in self.accounting.capabilities.job_references else NOTE

    def _items_for(self, deals: list[Deal]) -> tuple[dict, str]:
        """The books' items by SKU and name, with the products these deals need created;
        and, when they could not be, the words that say why."""
        stand_in = self.settings.unmatched_item
        index = invoicing.item_index(self.accounting.items(), stand_in)
        readable = [d for d in deals if not d.problems]  # the others are held, not stocked
        wanted = sorted({m for d in readable for m in invoicing.missing_items(d, index)})
        if wanted and stand_in:  # billed as an item the books no longer have: never created
            return index, (
                f" (no item called {stand_in!r} in the books to bill it as;"
                " pick one in the sync settings)"
            )
        if wanted and not self.dry_run:
            index, made = self._create_items(wanted, index)
            if not made:
                account = self.settings.income_account
                return index, (
                    f" (no income account called {account!r} in the books to create it in;"
                    " pick one in the sync settings)"
                )
        return index, ""

    def _create_items(self, wanted: list[tuple[str, str]], index: dict) -> tuple[dict, bool]:
        """Products the books lack, created in the client's income account; (index, made)."""
        account = self.accounting.income_account(self.settings.income_account)
        if account is None:
            return index, False  # the deals are held, saying which products are missing
        batch = self.accounting.capabilities.batch_size
        for start in range(0, len(wanted), batch):
            chunk = wanted[start : start + batch]
            key = request_id(f"items-{self.run.pk}", [n for n, _ in chunk])
            self.accounting.create_items(chunk, account, key)
        return invoicing.item_index(self.accounting.items(), self.settings.unmatched_item), True

    def _hold(self, deal: Deal, reason: str) -> None:
        if not self.dry_run:
            InvoiceLink.objects.update_or_create(
                client=self.client,
                deal_id=deal.external_id,
                defaults={
                    "state": InvoiceState.HELD,
                    "reason": reason,
                    "deal_name": deal.name[:300],
                },
            )
        self._note(deal, Outcome.HELD, reason)

    def _write(self, chunk: list[tuple[Deal, invoicing.InvoiceDraft]]) -> None:
        # The outbox: WRITING is committed before the request leaves.
        with transaction.atomic():
            links = {}
            for deal, draft in chunk:
                link, _ = InvoiceLink.objects.select_for_update().get_or_create(
                    client=self.client, deal_id=deal.external_id,
                    defaults={"state": InvoiceState.WRITING},
                )  # fmt: skip
                if link.state in (
                    InvoiceState.CREATED,
                    InvoiceState.UNCERTAIN,
                    InvoiceState.HISTORICAL,
                ):
                    continue  # another run got there first
                link.state, link.attempts = InvoiceState.WRITING, link.attempts + 1
                link.doc_number, link.customer_id = draft.doc_number, draft.customer_id
                link.expected_total, link.currency = draft.total, draft.currency
                link.deal_name, link.due_date = deal.name[:300], draft.due_date.isoformat()
                link.reason = ""
                # What is sent is what was invoiced, if it lands: the next syncs compare it.
                link.invoiced = invoicing.snapshot(deal, draft)
                link.invoiced_fingerprint = invoicing.deal_fingerprint(deal)
                link.change_fingerprint, link.change_state = "", ChangeState.NONE
                link.save()
                links[deal.external_id] = link
        sending = [(d, draft) for d, draft in chunk if d.external_id in links]
        if not sending:
            return
        key = request_id(f"inv-{self.client.pk}", [d.external_id for d, _ in sending])
        try:
            results = self.accounting.create_invoices([draft for _, draft in sending], key)
        except retries.Unauthorised:
            raise
        except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
            for deal, _ in sending:
                self._note(
                    deal,
                    Outcome.FAILED,
                    f"no answer from {self.books.name} ({error}); looked for next",
                )
            self._settle_unknown()
            return
        created = {r.key: r.external_id for r in results if r.ok}
        readback = (
            {i.external_id: i for i in self.accounting.invoices_by_id(list(created.values()))}
            if created
            else {}
        )
        for (deal, draft), result in zip(sending, results, strict=True):
            link = links[deal.external_id]
            if result.ok:
                self._mark_created(link, result.external_id, "invoiced")
                self._verify(deal, draft, readback.get(result.external_id))
            elif result.refusal == Refusal.NUMBER_TAKEN:
                self._duplicate_number(deal, link)
            else:
                link.state, link.reason = (
                    InvoiceState.HELD,
                    f"{self.books.name} refused it: {result.error}",
                )
                link.save(update_fields=["state", "reason", "updated_at"])
                self._note(deal, Outcome.FAILED, link.reason)

    def _mark_created(self, link: InvoiceLink, invoice_id: str, how: str) -> None:
        link.state, link.accounting_id, link.reason = InvoiceState.CREATED, invoice_id, ""
        # Its payments are looked at by the payment step, this run or the next that can.
        link.payments_due = True
        link.save(update_fields=["state", "accounting_id", "reason", "payments_due", "updated_at"])
        words = f"{how}: invoice {link.doc_number}"
        kept = link.invoiced or {}
        if kept.get("amount") and Decimal(kept["amount"]) != Decimal(kept.get("total") or 0):
            # Invoiced from its lines; a deal whose amount says otherwise may lack a line
            # (a later one is noticed by the next sync that sees the deal).
            c = kept.get("currency") or link.currency
            words += (
                f" for {money(Decimal(kept['total']), c)} from its lines; the deal's amount "
                f"says {money(Decimal(kept['amount']), c)}"
            )
        self.sync.note("deals", link.deal_id, link.deal_name, Outcome.CREATED, words, invoice_id)

    def _verify(self, deal: Deal, draft, invoice: Invoice | None) -> None:
        problems = (
            ["could not be read back"]
            if invoice is None
            else invoicing.readback_problems(draft, invoice)
        )
        if problems:
            raise_alert(
                self.run,
                f"Deal {deal.external_id} ({deal.name}): invoice {draft.doc_number} was created "
                f"but does not match the deal: {'; '.join(problems)}.",
                source="invoice sync",
            )

    def _duplicate_number(self, deal: Deal, link: InvoiceLink) -> None:
        """The books already have an invoice with this deal's number: ours from before (link
        it) or someone else's (hold, never a second invoice)."""
        found = self.accounting.invoices_numbered([link.doc_number])
        ours = [i for i in found if invoicing.referenced_deal(i.private_note) == deal.external_id]
        if ours:
            self._mark_created(link, ours[0].external_id, "already in the books")
            return
        link.state = InvoiceState.HELD
        link.reason = f"invoice number {link.doc_number} is taken by another invoice in the books"
        link.save(update_fields=["state", "reason", "updated_at"])
        self._note(deal, Outcome.HELD, link.reason)

    # -- deals changed after their invoice was issued ---------------------------------
    def _check_issued(self, pairs: list[tuple[Deal, InvoiceLink]]) -> None:
        """Invoiced deals seen again: each is held against what was invoiced from it (a
        fingerprint, so an unchanged deal costs nothing more). A change the deal itself
        settles (its lines, with an amount that agrees or did not move) corrects an unpaid
        invoice syncfirm made when the client's rule says so; any other change is flagged
        for review once per version of the deal."""
        rule = self.settings.issued_invoice_changes
        to_correct = []
        for deal, link in pairs:
            if deal.problems:
                reason = f"could not be read: {'; '.join(deal.problems)}"
                self._note(deal, Outcome.HELD, reason, link.accounting_id)
                continue
            if not link.accounting_id:
                continue  # history without an invoice: reconciliation's to find
            fingerprint = invoicing.deal_fingerprint(deal)
            if (
                link.state == InvoiceState.HISTORICAL
                and not link.invoiced
                and self.crm.crm_capabilities.issues_invoices
            ):
                # Another integration's invoice, seen for the first time: how it differs
                # from the CRM's is the audit's to say (a partial invoice), not a change.
                if not self.dry_run:
                    self._keep_fingerprint(link, deal, fingerprint)
                continue
            if fingerprint == link.invoiced_fingerprint:
                if link.change_state and not self.dry_run:
                    self._settle_change(link, "the deal again matches what was invoiced")
                continue
            if fingerprint == link.change_fingerprint and link.change_state == ChangeState.REVIEW:
                continue  # flagged already (or kept as issued): not again
            change = invoicing.compare(
                link.invoiced, deal, link.expected_total, self.settings.books_currency
            )
            if change is None or (
                not change.lines_changed and change.amount_now in (None, change.total_now)
            ):
                # Nothing an invoice shows moved (or the amount came to agree with the
                # lines and the invoice): this version is what was invoiced.
                if not self.dry_run:
                    self._keep_fingerprint(link, deal, fingerprint)
                continue
            if self.dry_run:
                continue
            approved = (
                link.change_state == ChangeState.APPROVED and link.change_fingerprint == fingerprint
            )
            updating = (
                link.change_state == ChangeState.UPDATING and link.change_fingerprint == fingerprint
            )
            by_rule = (
                rule == IssuedInvoiceChanges.UPDATE_UNPAID
                and link.state == InvoiceState.CREATED
                and change.correctable
            )
            if approved or updating or by_rule:
                to_correct.append((deal, link, change, fingerprint, approved))
            elif not change.correctable:
                self._flag(deal, link, change, fingerprint)
            else:
                why = (
                    "The books keep invoices they did not get from syncfirm; review it."
                    if link.state == InvoiceState.HISTORICAL
                    else "The client's rule: issued invoices are reviewed, not rewritten."
                )
                self._flag(deal, link, change, fingerprint, why)
        if to_correct:
            self._correct(to_correct)

    def _keep_fingerprint(self, link: InvoiceLink, deal: Deal, fingerprint: str) -> None:
        """The deal as it is now stands for what was invoiced (history seen for the first
        time, or a change that leaves the invoice right)."""
        if not link.invoiced:
            link.invoiced = invoicing.snapshot(deal)
        else:
            link.invoiced = {**link.invoiced, "amount": str(invoicing.deal_amount(deal) or "")}
        link.invoiced_fingerprint = fingerprint
        link.save(update_fields=["invoiced", "invoiced_fingerprint", "updated_at"])
        if link.change_state:
            self._settle_change(link, "the deal's change leaves its invoice right")

    def _correct(self, chosen: list) -> None:
        """Invoices brought to their deals' lines: each read once and checked (already
        right, paid, changed in the books) before anything is written, even a product."""
        self.sync._stage(f"Checking {len(chosen)} invoice(s) whose deal changed")
        try:
            invoices = {
                i.external_id: i
                for i in self.accounting.invoices_by_id([c[1].accounting_id for c in chosen])
            }
            index = invoicing.item_index(self.accounting.items(), self.settings.unmatched_item)
        except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
            for deal, link, *_ in chosen:
                self._note(deal, Outcome.FAILED, f"its invoice could not be read ({error}); "
                           "the next sync looks again", link.accounting_id)  # fmt: skip
            return
        writes = []
        for deal, link, change, fingerprint, approved in chosen:
            invoice = invoices.get(link.accounting_id)
            if invoice is None:
                why = f"Its invoice {link.doc_number} could not be found or read in the books."
                self._flag(deal, link, change, fingerprint, why)
                continue
            draft = self._draft(deal, invoice, index)
            if not isinstance(draft, list) and not invoicing.readback_problems(draft, invoice):
                self._already_right(deal, link, change, fingerprint, draft)
                continue
            refused = self._refusal(link, deal, invoice, approved)
            if refused:
                self._flag(deal, link, change, fingerprint, refused)
                continue
            writes.append((deal, link, change, fingerprint, approved, invoice))
        if not writes:
            return
        index, no_account = self._items_for([w[0] for w in writes])
        for deal, link, change, fingerprint, approved, invoice in writes:
            draft = self._draft(deal, invoice, index)
            if isinstance(draft, list):
                reasons = [b + no_account if ": no product " in b else b for b in draft]
                why = f"The deal cannot be invoiced as it is: {'; '.join(reasons)}."
                self._flag(deal, link, change, fingerprint, why)
                continue
            self._update_invoice(deal, link, change, fingerprint, draft, invoice, approved)

    def _draft(self, deal: Deal, invoice: Invoice, index: dict):
        return invoicing.build_invoice(
            deal,
            customer_id=invoice.customer_id,
            items=index,
            company_currency=self.settings.books_currency,
            timezone=self.client.timezone,
            terms_days=self.settings.payment_terms_days,
            pattern=self.settings.invoice_number_pattern,
            books=self.books,
            sales_tax=self.settings.sales_tax,
        )

    def _refusal(self, link: InvoiceLink, deal: Deal, invoice: Invoice, approved: bool) -> str:
        """Why this invoice is not rewritten now, or "" when it may be."""
        paid = invoicing.cents(invoice.total.amount - invoice.balance.amount)
        currency = invoice.total.currency
        if invoice.voided:
            return f"Invoice {invoice.doc_number} was voided in the books."
        if approved:
            wanted = invoicing.lines_total(deal)
            if paid > wanted:
                return (
                    f"{money(paid, currency)} is already paid on invoice {invoice.doc_number}, "
                    f"more than the deal's {money(wanted, currency)}."
                )
            return ""
        if paid:
            return (
                f"{money(paid, currency)} is already paid on invoice {invoice.doc_number}: a "
                "paid invoice is not rewritten."
            )
        kept = link.invoiced or {"total": str(link.expected_total or 0)}
        if invoicing.books_edited(kept, invoice):
            return (
                f"Invoice {invoice.doc_number} was also changed in the books since it was "
                "issued: which change wins is for a person to say."
            )
        return ""

    def _already_right(self, deal, link, change, fingerprint, draft) -> None:
        """The books already hold what the deal says: an update whose answer was lost
        (reported now, once), or one made by reconciliation or by hand (kept quietly)."""
        sent = link.change_state == ChangeState.UPDATING and link.change_fingerprint == fingerprint
        if sent:
            self._corrected(deal, link, change, fingerprint, draft, False, "found in the books")
        else:
            self._record_invoiced(link, deal, draft, fingerprint)
            self._resolve_conflict(link, "settled", "the invoice already matches the deal")

    def _update_invoice(self, deal, link, change, fingerprint, draft, invoice, approved) -> None:
        for attempt in (1, 2):
            # The outbox: "updating" is committed before the request leaves, so a lost
            # answer is looked at again by the next run (the invoice is read, not resent).
            link.change_fingerprint, link.change_state = fingerprint, ChangeState.UPDATING
            link.save(update_fields=["change_fingerprint", "change_state", "updated_at"])
            try:
                after = self.accounting.replace_invoice_lines(
                    invoice.external_id, invoice.version, list(draft.lines)
                )
            except retries.Stale:
                # Changed in the books between our read and our write: read, decide again.
                fresh = self.accounting.invoices_by_id([invoice.external_id])
                if attempt == 2 or not fresh:
                    break
                invoice = fresh[0]
                if not invoicing.readback_problems(draft, invoice):
                    self._already_right(deal, link, change, fingerprint, draft)
                    return
                refused = self._refusal(link, deal, invoice, approved)
                if refused:
                    self._flag(deal, link, change, fingerprint, refused)
                    return
                continue
            except retries.Unauthorised:
                raise
            except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
                if unknown_outcome(error):  # it may have landed: the next run reads it
                    words = f"invoice {link.doc_number} not updated ({error})"
                    words += "; the next sync looks again"
                    self._note(deal, Outcome.FAILED, words, link.accounting_id)
                else:  # refused: sending it again would be refused again
                    why = f"The books refused to update invoice {link.doc_number}: {error}."
                    self._flag(deal, link, change, fingerprint, why)
                return
            self._verify(deal, draft, after)
            self._corrected(deal, link, change, fingerprint, draft, approved, "")
            return
        words = f"invoice {link.doc_number} kept changing in the books while it was being updated"
        self._note(deal, Outcome.FAILED, f"{words}; the next sync looks again", link.accounting_id)

    def _corrected(self, deal, link, change, fingerprint, draft, approved, how: str) -> None:
        """An invoice now matching its deal: recorded, audited, said in the run's results."""
        before = dict(link.invoiced)
        was = Decimal(before["total"]) if before.get("total") else link.expected_total
        self._record_invoiced(link, deal, draft, fingerprint)
        words = invoicing.correction_words(
            link.doc_number, change, was or Decimal(0), draft.total, draft.currency
        )
        if how:
            words += f" ({how} after an update with no known outcome)"
        audit(
            self.client.firm,
            self.run.started_by,
            "sync.invoice_updated",
            link,
            {"invoiced": before, "total": str(was)},
            {
                "invoiced": link.invoiced,
                "total": str(draft.total),
                "run": self.run.pk,
                "approved_by_person": approved,
            },
        )
        self._resolve_conflict(link, "update", words)
        self.sync.counts["invoices_corrected"] = self.sync.counts.get("invoices_corrected", 0) + 1
        self._note(deal, Outcome.UPDATED, words, link.accounting_id)

    def _record_invoiced(self, link: InvoiceLink, deal: Deal, draft, fingerprint: str) -> None:
        link.invoiced = invoicing.snapshot(deal, draft)
        link.invoiced_fingerprint, link.expected_total = fingerprint, draft.total
        link.change_fingerprint, link.change_state = "", ChangeState.NONE
        link.save(update_fields=["invoiced", "invoiced_fingerprint", "expected_total",
                                 "change_fingerprint", "change_state", "updated_at"])  # fmt: skip

    def _flag(self, deal: Deal, link: InvoiceLink, change, fingerprint: str, why: str = "") -> None:
        """One open review item per deal: raised for this version of the deal, rewritten
        in place when the deal changes again, never raised twice for one version."""
        reason = change.reason(link.doc_number, why)
        now, invoiced = change.sides((link.invoiced or {}).get("lines"), deal)
        SyncConflict.objects.update_or_create(
            client=self.client,
            kind=ConflictKind.DEAL_CHANGED,
            crm_type=DEALS,
            crm_id=deal.external_id,
            field="",
            status=ConflictStatus.OPEN,
            defaults={
                "accounting_id": link.accounting_id,
                "crm_value": now,
                "accounting_value": invoiced,
                "winner": "review",
                "reason": reason,
            },
        )
        link.change_fingerprint, link.change_state = fingerprint, ChangeState.REVIEW
        link.save(update_fields=["change_fingerprint", "change_state", "updated_at"])
        self.sync.counts["deal_changes_flagged"] = (
            self.sync.counts.get("deal_changes_flagged", 0) + 1
        )
        self._note(deal, Outcome.HELD, f"changed after its invoice was issued; flagged for review: "
                   f"{reason}", link.accounting_id)  # fmt: skip

    def _settle_change(self, link: InvoiceLink, words: str) -> None:
        link.change_fingerprint, link.change_state = "", ChangeState.NONE
        link.save(update_fields=["change_fingerprint", "change_state", "updated_at"])
        self._resolve_conflict(link, "settled", words)

    def _resolve_conflict(self, link: InvoiceLink, resolution: str, words: str) -> None:
        """The deal's open review item, closed by what sync did about it."""
        SyncConflict.objects.filter(
            client=self.client,
            kind=ConflictKind.DEAL_CHANGED,
            crm_type=DEALS,
            crm_id=link.deal_id,
            status=ConflictStatus.OPEN,
        ).update(
            status=ConflictStatus.RESOLVED,
            resolution=resolution,
            note=words[:2000],
            resolved_at=timezone.now(),
        )

    # -- payments ----------------------------------------------------------------------
    def _payments(self) -> list[PaymentInfo]:
        """Payment status of every invoice whose money moved (or whose due date passed)
        written to its deal; the books' payments changed since the last run, for
        `PaymentStep`."""
        since = (self._cursor(MONEY) or self.started) - OVERLAP
        invoices, payments = self.accounting.money_changed_since(since)
        touched = {i.external_id for i in invoices} | {
            invoice_id for p in payments for invoice_id, _ in p.applied
        }
        # History (invoices that were there before the baseline) moves only on a change made
        # after it: the books may stamp whole seconds, so "after" starts at the next second.
        baseline = self.settings.invoice_baseline_at
        after = baseline.replace(microsecond=0) + timedelta(seconds=1) if baseline else None
        # What changed since the baseline, checked now; history is the month's to judge.
        new = [i for i in invoices if after and i.updated_at and i.updated_at >= after]
        if new and not self.dry_run:
            self._checks_between_reconciliations(new)
        moved = {
            i.external_id for i in invoices if not after or (i.updated_at and i.updated_at >= after)
        } | {
            invoice_id
            for p in payments
            if not after or (p.updated_at and p.updated_at >= after)
            for invoice_id, _ in p.applied
        }
        # Overdue happens with no change in the books; for invoices syncfirm made (history
        # keeps what the CRM said until money actually moves: reconciliation's to judge).
        overdue = InvoiceLink.objects.filter(
            client=self.client,
            state=InvoiceState.CREATED,
            payment_status__in=["", "unpaid", "partially_paid"],
            due_date__lt=self.today.isoformat(),
            due_date__gt="",
        ).exclude(accounting_id="")
        touched |= set(overdue.values_list("accounting_id", flat=True))
        links = {
            link.accounting_id: link
            for link in InvoiceLink.objects.filter(
                client=self.client,
                accounting_id__in=touched,
                state__in=[InvoiceState.CREATED, InvoiceState.HISTORICAL],
            )
            if link.state == InvoiceState.CREATED or link.accounting_id in moved
        }
        if not links:
            return payments
        known = {i.external_id: i for i in invoices if i.external_id in links}
        rest = [i for i in links if i not in known]
        if rest:
            known.update({i.external_id: i for i in self.accounting.invoices_by_id(rest)})
        self._write_payment_status(links, known, payments)
        return payments

    def _checks_between_reconciliations(self, invoices: list[Invoice]) -> None:
        """The layers above look at what changed in the books (a duplicate keyed by hand is
        flagged now, not at month end); a check that fails is said on the run."""
        answers = books_invoices_changed.send_robust(
            sender=type(self), client=self.client, invoices=invoices, accounting=self.accounting
        )
        for receiver, answer in answers:
            if isinstance(answer, Exception):
                log.warning("client %s: check %r failed: %r", self.client.pk, receiver, answer)
                self.sync.counts["checks_failed"] = self.sync.counts.get("checks_failed", 0) + 1
            elif answer:
                self.sync.counts["flagged"] = self.sync.counts.get("flagged", 0) + answer

    def _write_payment_status(
        self,
        links: dict[str, InvoiceLink],
        invoices: dict[str, Invoice],
        payments: list[PaymentInfo],
    ) -> None:
        capabilities = getattr(self.crm, "crm_capabilities", None)
        if capabilities is not None and not capabilities.writes_payment_status:
            return  # a billing CRM keeps its own payments: nothing of ours can be shown there
        updates, states = {}, {}
        for invoice_id, link in links.items():
            invoice = invoices.get(invoice_id)
            if invoice is None:
                continue
            state = invoicing.payment_state(invoice, payments, self.today)
            last = state.last_payment_date or link.last_payment_date
            current = (link.payment_status, link.amount_paid, link.balance, link.last_payment_date)
            if current == (state.status, state.amount_paid, state.balance, last):
                continue  # what the deal already says (ours, coming back): nothing to write
            states[link.deal_id] = (link, state, last)
            updates[link.deal_id] = {
                "syncfirm_payment_status": state.status,
                "syncfirm_amount_paid": str(state.amount_paid),
                "syncfirm_balance": str(state.balance),
                "syncfirm_last_payment_date": last,
                "syncfirm_invoice_number": invoice.doc_number,
            }
        if not updates:
            return
        if self.dry_run:
            for link, state, _ in states.values():
                words = f"would show {state.status} on the deal"
                self._crm_note(link, Outcome.UPDATED, words)
            return
        failure = "no answer"
        try:
            results = {r.key: r for r in self.crm.update_records(DEALS, updates)}
        except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
            results = {}
            failure = str(error)
        for deal_id, (link, state, last) in states.items():
            result = results.get(deal_id)
            if result is not None and result.ok:
                link.payment_status, link.amount_paid = state.status, state.amount_paid
                link.balance, link.last_payment_date = state.balance, last
                link.save(
                    update_fields=[
                        "payment_status",
                        "amount_paid",
                        "balance",
                        "last_payment_date",
                        "updated_at",
                    ]
                )
                status = state.status.replace("_", " ")
                words = f"{status}: {state.amount_paid} paid, {state.balance} due"
                self._crm_note(link, Outcome.UPDATED, words)
            else:
                error = result.error if result else failure
                self._crm_note(link, Outcome.FAILED, f"payment status not written: {error}")

    def _crm_note(self, link: InvoiceLink, outcome: str, words: str) -> None:
        self.sync.note(
            "deals", link.deal_id, link.deal_name, outcome, words, link.accounting_id, "crm"
        )


def _amount(value) -> Decimal | None:
    """What the deal says was paid (syncfirm's own property); unknown when it is no number,
    so the next real change in the books writes it again."""
    try:
        found = crm_number(value, "amount paid") if value not in (None, "") else None
    except BadValue:
        return None
    return found.quantize(invoicing.CENT) if found is not None else None


def _maybe_unread(deals, decided, unread) -> dict[str, str]:
    """CRM invoices that may be a books invoice syncfirm cannot read: one with the same
    number (or, where it has no number to read, every one). Posting them could write a
    second invoice, so each waits for a person, with the reason."""
    out = {}
    for record in deals:
        if record.external_id in decided:
            continue
        core = invoice_pairing.number_core(record.properties.get(CRM_NUMBER_PROPERTY) or "")
        for u in unread:
            if not u.number or invoice_pairing.number_core(u.number) == core:
                out[record.external_id] = (
                    f"may be the books' {u.kind} {u.number or u.external_id}, which cannot be "
                    f"read ({u.reason}): not posted until a person says"
                )
                break
    return out


def _number_or_blank(pattern: str, deal_id: str, books: invoicing.Books) -> str:
    try:
        return invoicing.doc_number(pattern, deal_id, books)
    except (KeyError, ValueError):
        return ""
