"""Closed-won deals to invoices, exactly once, and payment status back to the deals.

The shell around `invoicing` (pure). Exactly once rests on three things, none trusted
alone: the `InvoiceLink` row per deal, marked WRITING and committed before the create is
sent (a killed worker, a lost answer or a racing run all find it); a deterministic
DocNumber that is also the deal's reference, looked up before anything is sent again; and
QuickBooks' `requestid` on every batch. One run per client at a time (the lease) keeps the
webhook path and the batched pull from deciding the same deal at once.
"""

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from .. import retries
from ..numbers import BadValue, hubspot_number
from ..records import CrmRecord, Deal, Invoice, PaymentInfo
from . import invoicing
from .alerts import raise_alert
from .models import (
    ConflictKind,
    ConflictStatus,
    CustomerLink,
    InvoiceLink,
    InvoiceState,
    Outcome,
    SyncConflict,
    SyncCursor,
    SyncSettings,
)

BATCH = 30
MAX_ATTEMPTS = 3  # writes of one deal whose outcome stayed unknown, before a person decides
DEALS, MONEY = "deals", "money"
OVERLAP = timedelta(minutes=2)
DUPLICATE_NUMBER = "6140"


class InvoiceStep:
    """Runs inside a sync run (`customers._CustomerSync`), after its customer step."""

    def __init__(self, sync, started: datetime):
        self.sync, self.started = sync, started
        self.client, self.run, self.settings = sync.client, sync.run, sync.settings
        self.accounting, self.crm = sync.accounting, sync.crm
        self.dry_run = sync.dry_run
        self.today = timezone.now().astimezone(self.client.tzinfo).date()

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
        todo = []
        for deal in deals:
            link = links.get(deal.external_id)
            if link is None or link.state in (InvoiceState.HELD, InvoiceState.WRITING):
                todo.append(deal)
            elif link.state in (InvoiceState.CREATED, InvoiceState.HISTORICAL):
                self._check_issued(deal, link)
            elif link.state == InvoiceState.UNCERTAIN:
                self._note(deal, Outcome.HELD, "its last invoice write has no known outcome")
        retry = InvoiceLink.objects.filter(client=self.client, state=InvoiceState.WRITING)
        retry_ids = [link.deal_id for link in retry if link.deal_id not in links]
        if retry_ids:
            todo.extend(self._read_deals(self.crm.read_records(DEALS, retry_ids)))
        if todo:
            self._invoice(todo)
        self._payments()
        if not self.dry_run:
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
        if self.sync.crm_ids is not None:  # a webhook named the records
            wanted = self.sync.crm_ids.get(DEALS, [])
            records = self.crm.read_records(DEALS, list(dict.fromkeys(wanted))) if wanted else []
        elif self.sync.full:
            records = self._all_deals()
        else:
            since = self._cursor(DEALS) or self.started
            records = self.crm.records_changed_since(DEALS, since - OVERLAP)
        return self._read_deals(records)

    def _read_deals(self, records: list[CrmRecord]) -> list[Deal]:
        """Won deals with their lines, skipping those whose link is newer than their last
        change (seen already: the pull's overlap window, or our own payment write-back)."""
        won = self._won_stages()
        records = list({r.external_id: r for r in records}.values())
        chosen = [r for r in records if r.properties.get("dealstage") in won]
        settled = {
            link.deal_id: link.updated_at
            for link in InvoiceLink.objects.filter(
                client=self.client,
                deal_id__in=[r.external_id for r in chosen],
                state__in=[InvoiceState.CREATED, InvoiceState.HISTORICAL, InvoiceState.UNCERTAIN],
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
        invoices = self.accounting.all_invoices()
        by_deal = {}
        for invoice in invoices:
            deal_id = invoicing.referenced_deal(invoice.private_note)
            if deal_id:
                by_deal.setdefault(deal_id, invoice)
        pattern = self.settings.invoice_number_pattern
        by_number = {i.doc_number: i for i in invoices if i.doc_number}
        rows = []
        for record in deals:
            invoice = by_deal.get(record.external_id) or by_number.get(
                _number_or_blank(pattern, record.external_id)
            )
            rows.append(
                InvoiceLink(
                    client=self.client,
                    deal_id=record.external_id,
                    deal_name=(record.properties.get("dealname") or "")[:300],
                    state=InvoiceState.HISTORICAL,
                    accounting_id=invoice.external_id if invoice else "",
                    doc_number=invoice.doc_number[:21] if invoice else "",
                    customer_id=invoice.customer_id if invoice else "",
                    expected_total=invoice.total.amount if invoice else None,
                    due_date=invoice.due_date if invoice else "",
                    reason="" if invoice else "closed-won before invoicing started; no invoice",
                    # What the deal says now: only a real change in the books rewrites it.
                    payment_status=(record.properties.get("syncfirm_payment_status") or "")[:20],
                    amount_paid=_amount(record.properties.get("syncfirm_amount_paid")),
                )
            )
        linked = sum(1 for r in rows if r.accounting_id)
        self.sync.counts["deals_history_linked"] = linked
        self.sync.counts["deals_history_without_invoice"] = len(rows) - linked
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
        items = self.accounting.items()
        index = invoicing.item_index(items)
        readable = [d for d in deals if not d.problems]  # the others are held, not stocked
        wanted = sorted({m for d in readable for m in invoicing.missing_items(d, index)})
        no_account = ""
        if wanted and not self.dry_run:
            index, made = self._create_items(wanted, index)
            if not made:
                no_account = (
                    f" (no income account called {self.settings.income_account!r} to create it in)"
                )
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
                sales_tax=self.settings.sales_tax,
                txn_date=self.sync.invoice_dates.get(deal.external_id),
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
        for start in range(0, len(drafts), BATCH):
            self._write(drafts[start : start + BATCH])
            self.sync._save_outcomes()

    def _create_items(self, wanted: list[tuple[str, str]], index: dict) -> tuple[dict, bool]:
        """Products the books lack, created in the client's income account; (index, made)."""
        account = self.accounting.income_account(self.settings.income_account)
        if account is None:
            return index, False  # the deals are held, saying which products are missing
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            request_id = _request_id(f"items-{self.run.pk}", [n for n, _ in chunk])
            self.accounting.create_items(chunk, account, request_id)
        return invoicing.item_index(self.accounting.items()), True

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
                link.save()
                links[deal.external_id] = link
        sending = [(d, draft) for d, draft in chunk if d.external_id in links]
        if not sending:
            return
        request_id = _request_id(f"inv-{self.client.pk}", [d.external_id for d, _ in sending])
        try:
            results = self.accounting.create_invoices([draft for _, draft in sending], request_id)
        except retries.Unauthorised:
            raise
        except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
            for deal, _ in sending:
                self._note(
                    deal, Outcome.FAILED, f"no answer from QuickBooks ({error}); looked for next"
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
            elif result.error_code == DUPLICATE_NUMBER:
                self._duplicate_number(deal, link)
            else:
                link.state, link.reason = (
                    InvoiceState.HELD,
                    f"QuickBooks refused it: {result.error}",
                )
                link.save(update_fields=["state", "reason", "updated_at"])
                self._note(deal, Outcome.FAILED, link.reason)

    def _mark_created(self, link: InvoiceLink, invoice_id: str, how: str) -> None:
        link.state, link.accounting_id, link.reason = InvoiceState.CREATED, invoice_id, ""
        link.save(update_fields=["state", "accounting_id", "reason", "updated_at"])
        self.sync.note("deals", link.deal_id, link.deal_name, Outcome.CREATED,
                       f"{how}: invoice {link.doc_number}", invoice_id)  # fmt: skip

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
        """QuickBooks already has an invoice with this deal's number: ours from before (link
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

    def _check_issued(self, deal: Deal, link: InvoiceLink) -> None:
        """A deal changed after its invoice was issued: the books own issued invoices; the
        difference is recorded and flagged, nothing is rewritten."""
        if deal.problems:
            reason = f"could not be read: {'; '.join(deal.problems)}"
            self._note(deal, Outcome.HELD, reason, link.accounting_id)
            return
        total = sum(
            (
                invoicing.cents(line.quantity * (line.unit_price - line.discount))
                for line in deal.lines
            ),
            Decimal("0.00"),
        )
        if link.expected_total is None or total == link.expected_total or self.dry_run:
            return
        SyncConflict.objects.update_or_create(
            client=self.client,
            kind=ConflictKind.DEAL_CHANGED,
            crm_type=DEALS,
            crm_id=deal.external_id,
            field="",
            status=ConflictStatus.OPEN,
            defaults={
                "accounting_id": link.accounting_id,
                "crm_value": {"total": str(total)},
                "accounting_value": {"total": str(link.expected_total)},
                "winner": "accounting",
                "reason": (
                    f"the deal now adds up to {total}, its invoice {link.doc_number} to "
                    f"{link.expected_total}; the books keep the invoice"
                ),
            },
        )
        self._note(
            deal,
            Outcome.HELD,
            "changed after its invoice was issued; flagged for review",
            link.accounting_id,
        )

    # -- payments ----------------------------------------------------------------------
    def _payments(self) -> None:
        """Payment status of every invoice whose money moved (or whose due date passed)
        written to its deal."""
        since = (self._cursor(MONEY) or self.started) - OVERLAP
        invoices, payments = self.accounting.money_changed_since(since)
        touched = {i.external_id for i in invoices} | {
            invoice_id for p in payments for invoice_id, _ in p.applied
        }
        # History (invoices that were there before the baseline) moves only on a change made
        # after it: QuickBooks stamps whole seconds, so "after" starts at the next second.
        baseline = self.settings.invoice_baseline_at
        after = baseline.replace(microsecond=0) + timedelta(seconds=1) if baseline else None
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
            if not self.dry_run:
                self._cursor(MONEY, self.started)
            return
        known = {i.external_id: i for i in invoices if i.external_id in links}
        rest = [i for i in links if i not in known]
        if rest:
            known.update({i.external_id: i for i in self.accounting.invoices_by_id(rest)})
        self._write_payment_status(links, known, payments)
        if not self.dry_run:
            self._cursor(MONEY, self.started)

    def _write_payment_status(
        self,
        links: dict[str, InvoiceLink],
        invoices: dict[str, Invoice],
        payments: list[PaymentInfo],
    ) -> None:
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
        found = hubspot_number(value, "amount paid") if value not in (None, "") else None
    except BadValue:
        return None
    return found.quantize(invoicing.CENT) if found is not None else None


def _number_or_blank(pattern: str, deal_id: str) -> str:
    try:
        return invoicing.doc_number(pattern, deal_id)
    except (KeyError, ValueError):
        return ""


def _request_id(prefix: str, keys: list[str]) -> str:
    digest = hashlib.sha256("|".join(sorted(keys)).encode()).hexdigest()[:20]
    return f"sf-{prefix}-{digest}"[:50]
