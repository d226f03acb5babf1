"""Payments carried between a billing CRM and the books when syncfirm posts the CRM's
invoices, each exactly once (decision 0038).

The client's rule (`SyncSettings.payment_rule`) says which way they go. Exactly once rests
on three things, as for invoices: the `PaymentLink` row, WRITING and committed before the
write leaves; the reference written with the payment, naming its source, which is looked
for before anything is sent again; and the books' idempotency key. Two more rules keep an
invoice from being paid twice:
- a payment syncfirm wrote is never carried back (it is a link's target);
- a payment the other side already shows (the same amount on the same invoice, recorded
  there by hand) is matched to it, not written.
What cannot be carried is held with its reason and said once: a refund or a correction,
more than the invoice still owes, a date inside the books' closed period, an invoice that
is voided or gone. A payment changed or deleted after it was carried is an alert: syncfirm
does not take money back on its own.
"""

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from connections import retries
from connections.records import CrmPayment, Money, NewPayment, PaymentInfo
from syncfirm.money import money

from .alerts import raise_alert
from .models import InvoiceLink, InvoiceState, Outcome, PaymentLink, PaymentRule, PaymentState
from .outbox import request_id, unknown_outcome

TO_BOOKS, TO_CRM = PaymentLink.TO_BOOKS, PaymentLink.TO_CRM
MAX_ATTEMPTS = 3  # writes whose outcome stayed unknown, before a person decides
# The adjustment kinds that are money received for the invoice (`CrmPayment.kind`).
RECEIVED = frozenset({"payment", "deposit"})
CARRIES = {
    TO_BOOKS: (PaymentRule.BOTH, PaymentRule.CRM_TO_BOOKS),
    TO_CRM: (PaymentRule.BOTH, PaymentRule.BOOKS_TO_CRM),
}


def carries(rule: str, direction: str) -> bool:
    return rule in CARRIES[direction]


class PaymentStep:
    """Runs inside the invoice step (`invoices.InvoiceStep`), after its invoices are posted
    and the books' money changes are read."""

    def __init__(self, step):
        self.step, self.sync, self.run = step, step.sync, step.run
        self.client, self.settings = step.client, step.settings
        self.accounting, self.crm, self.books = step.accounting, step.crm, step.books
        self._closed: list = []  # the books' closed-through date, read once when needed

    def execute(self, deal_ids: set[str], books_payments: list[PaymentInfo]) -> bool:
        """`deal_ids`: the CRM invoices changed since the last run; `books_payments`: the
        books' payments changed since then. False when a read failed: the caller keeps its
        change feeds where they were, so the next run reads the same payments again."""
        rule = self.settings.payment_rule
        if self.step.dry_run or not self.crm.crm_capabilities.records_payments:
            return True
        if not (carries(rule, TO_BOOKS) or carries(rule, TO_CRM)):
            return True
        unsettled = list(PaymentLink.objects.filter(client=self.client, state=PaymentState.WRITING))
        posted = {
            link.deal_id: link
            for link in InvoiceLink.objects.filter(
                client=self.client, state=InvoiceState.CREATED
            ).exclude(accounting_id="")
        }
        due = {d for d, link in posted.items() if link.payments_due}
        wanted = ({d for d in deal_ids if d in posted} | due) | {
            p.deal_id for p in unsettled if p.deal_id in posted
        }
        try:
            unread: set[str] = set()
            if carries(rule, TO_BOOKS) and wanted:
                unread = self._to_books([posted[d] for d in sorted(wanted)])
            if carries(rule, TO_CRM):
                self._to_crm(posted, books_payments, unsettled)
        except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
            # A read failed: nothing half-decided is written; these invoices' payments are
            # looked at again by the next run.
            InvoiceLink.objects.filter(client=self.client, deal_id__in=wanted).update(
                payments_due=True
            )
            self.sync.note(
                "deals", "", "payments", Outcome.FAILED,
                f"payments could not be read ({error}); the next sync carries them",
                counted_as="payments",
            )  # fmt: skip
            return False
        if carries(rule, TO_BOOKS):
            InvoiceLink.objects.filter(
                client=self.client, deal_id__in=wanted - unread, payments_due=True
            ).update(payments_due=False)
        return True

    def closed(self):
        if not self._closed:
            self._closed.append(self.accounting.books_closed_through())
        return self._closed[0]

    # -- CRM → books ---------------------------------------------------------------------
    def _to_books(self, links: list[InvoiceLink]) -> set[str]:
        """Carries the CRM's payments on these invoices; the invoices whose payments could
        not be read (looked at again next run)."""
        seen = len(self.crm.unreadable)
        crm_payments = self.crm.crm_payments([link.deal_id for link in links])
        unread = {u.external_id for u in self.crm.unreadable[seen:]}
        by_deal: dict[str, list[CrmPayment]] = defaultdict(list)
        for payment in crm_payments:
            by_deal[payment.invoice_id].append(payment)
        self._check_carried(links, crm_payments, unread)
        known = _links(self.client, TO_BOOKS, [p.external_id for p in crm_payments])
        ours = _targets(self.client, TO_CRM)  # the CRM payments syncfirm wrote
        todo = {
            link.deal_id: [
                p
                for p in by_deal.get(link.deal_id, [])
                if p.external_id not in ours and _open(known.get(p.external_id))
            ]
            for link in links
        }
        todo = {d: found for d, found in todo.items() if found}
        if not todo:
            return unread
        invoices = {
            i.external_id: i
            for i in self.accounting.invoices_by_id(
                [link.accounting_id for link in links if link.deal_id in todo]
            )
        }
        for link in links:
            if link.deal_id not in todo:
                continue
            invoice = invoices.get(link.accounting_id)
            there = self.accounting.payments_of_invoice(link.accounting_id) if invoice else []
            free = self._unmatched_books_payments(link, there)
            balance = invoice.balance.amount if invoice else Decimal(0)
            for payment in sorted(todo[link.deal_id], key=lambda p: (p.paid_on, p.external_id)):
                marker = self._marker(TO_BOOKS, payment.external_id)
                landed = next((p for p in there if marker in p.reference), None)
                if landed is not None:  # an earlier write that did land
                    self._settle(TO_BOOKS, link, payment.external_id, payment.amount,
                                 payment.paid_on, landed.external_id)  # fmt: skip
                    continue
                held = self._why_not_to_books(payment, invoice, balance)
                same = next(
                    (p for p in free if _applied(p, link.accounting_id) == payment.amount.amount),
                    None,
                )
                if same is not None:
                    free.remove(same)
                    self._match(TO_BOOKS, link, payment.external_id, payment.amount,
                                payment.paid_on, same.external_id)  # fmt: skip
                elif held:
                    self._hold(
                        TO_BOOKS, link, payment.external_id, payment.amount, payment.paid_on, held
                    )
                elif self._write_to_books(link, payment):
                    balance -= payment.amount.amount
        return unread

    def _why_not_to_books(self, payment: CrmPayment, invoice, balance: Decimal) -> str:
        crm, books = self.books.crm, self.books.name
        amount = money_words(Money(abs(payment.amount.amount), payment.amount.currency))
        if payment.kind not in RECEIVED or payment.amount.amount <= 0:
            return (
                f"a {payment.kind} of {amount} in {crm} is not carried: record it in "
                f"{books} by hand if it belongs there"
            )
        if invoice is None or invoice.voided:
            return f"its invoice is voided or gone in {books}: the {amount} payment is not recorded"
        closed = self.closed()
        if closed and payment.paid_on and payment.paid_on <= closed.isoformat():
            return (
                f"paid {payment.paid_on}, inside {possessive(books)} closed period (closed through "
                f"{closed.isoformat()}): not recorded; record it by hand if it belongs"
            )
        if payment.amount.amount > balance:
            return (
                f"{amount} is more than the {money_words(Money(balance, payment.amount.currency))} "
                f"invoice {invoice.doc_number} still owes in {books}: not recorded twice; a "
                "person decides"
            )
        return ""

    def _write_to_books(self, link: InvoiceLink, payment: CrmPayment) -> bool:
        row = self._outbox(TO_BOOKS, link, payment.external_id, payment.amount, payment.paid_on)
        if row is None:
            return False
        new = NewPayment(
            invoice_id=link.accounting_id,
            customer_id=link.customer_id,
            amount=payment.amount,
            paid_on=payment.paid_on or self.step.today.isoformat(),
            reference=_labelled(
                self._marker(TO_BOOKS, payment.external_id),
                f"{self.books.crm} payment on {link.deal_name or 'its invoice'} "
                f"({link.doc_number})" + (f": {payment.details}" if payment.details else ""),
            ),
        )
        key = request_id(f"pay-{self.client.pk}", [row.source_id])
        return self._sent(row, link, lambda: self.accounting.record_payment(new, key))

    def _unmatched_books_payments(self, link: InvoiceLink, there: list[PaymentInfo]) -> list:
        """The invoice's books payments nobody carried or matched: recorded there by hand."""
        taken = _targets(self.client, TO_BOOKS)
        sources = set(
            PaymentLink.objects.filter(
                client=self.client, direction=TO_CRM, invoice_id=link.accounting_id
            ).values_list("source_id", flat=True)
        )
        return [
            p
            for p in there
            if not p.deleted
            and p.kind == "Payment"
            and p.external_id not in taken
            and _source(p.external_id, link.accounting_id) not in sources
        ]

    # -- books → CRM ---------------------------------------------------------------------
    def _to_crm(
        self, posted: dict[str, InvoiceLink], payments: list[PaymentInfo], unsettled: list
    ) -> None:
        by_invoice = {link.accounting_id: link for link in posted.values()}
        ours = _targets(self.client, TO_BOOKS)  # books payments syncfirm wrote
        self._copies_deleted(payments, ours)
        parts = [
            (payment, invoice_id, amount)
            for payment in payments
            if payment.kind == "Payment" and payment.external_id not in ours
            for invoice_id, amount in payment.applied
            if invoice_id in by_invoice
        ]
        moved = self._moved_or_deleted(payments, ours)
        known = _links(self.client, TO_CRM, [_source(p.external_id, i) for p, i, _ in parts])
        todo = []
        for payment, invoice_id, amount in parts:
            link = known.get(_source(payment.external_id, invoice_id))
            if _open(link) and payment.external_id in moved:
                # Its copy on the invoice it left stands in the CRM: a second would count the
                # money twice until a person corrects the first.
                why = (
                    f"the {self.books.name} payment was moved here from an invoice it had been "
                    f"recorded on in {self.books.crm}: not recorded again until that copy is "
                    "corrected"
                )
                invoice = by_invoice[invoice_id]
                paid = Money(amount, invoice.currency or self.settings.books_currency)
                source = _source(payment.external_id, invoice_id)
                self._hold(TO_CRM, invoice, source, paid, payment.txn_date, why)
            elif _open(link):
                if not payment.deleted and amount > 0:
                    todo.append((payment, by_invoice[invoice_id], amount))
            elif link.state == PaymentState.CREATED and (payment.deleted or amount != link.amount):
                now = money_words(Money(amount, link.currency))
                self._changed_after(link, "deleted" if payment.deleted else f"changed to {now}")
        # Writes left unknown whose payment did not change this time: the payment as the
        # books hold it now (deleted or changed meanwhile, it is not sent again).
        resend = {_source(p.external_id, i) for p, i, _ in parts}
        for row in unsettled:
            if row.direction == TO_CRM and row.deal_id in posted and row.source_id not in resend:
                payment_id = row.source_id.rpartition(":")[0]
                on_invoice = self.accounting.payments_of_invoice(row.invoice_id)
                current = next((p for p in on_invoice if p.external_id == payment_id), None)
                amount = _applied(current, row.invoice_id) if current else Decimal(0)
                if current is None or current.deleted or amount <= 0:
                    why = (
                        f"the {self.books.name} payment was deleted or moved before its write to "
                        f"{self.books.crm} was settled: not recorded; check {self.books.crm}"
                    )
                    self._held(row, posted[row.deal_id], why)
                else:
                    todo.append((current, posted[row.deal_id], amount))
        if not todo:
            return
        in_crm: dict[str, list[CrmPayment]] = defaultdict(list)
        seen = len(self.crm.unreadable)
        for found in self.crm.crm_payments(sorted({link.deal_id for _, link, _ in todo})):
            in_crm[found.invoice_id].append(found)
        unread = {u.external_id for u in self.crm.unreadable[seen:]}
        taken = _targets(self.client, TO_CRM) | set(
            PaymentLink.objects.filter(client=self.client, direction=TO_BOOKS).values_list(
                "source_id", flat=True
            )
        )
        for payment, link, amount in todo:
            source = _source(payment.external_id, link.accounting_id)
            there = in_crm.get(link.deal_id, [])
            marker = self._marker(TO_CRM, source)
            landed = next((p for p in there if marker in p.details), None)
            currency = link.currency or self.settings.books_currency
            owed = (link.expected_total or Decimal(0)) - sum(
                (p.amount.amount for p in there), Decimal(0)
            )
            same = next(
                (
                    p
                    for p in there
                    if p.external_id not in taken
                    and p.kind in RECEIVED
                    and p.amount.amount == amount
                ),
                None,
            )
            paid = Money(amount, currency)
            credit = _credit_used(payment, amount)
            if link.deal_id in unread:
                why = (
                    f"{self.books.crm}'s payments on invoice {link.doc_number} cannot be read, "
                    "so whether it is there already is unknown: not recorded; a person decides"
                )
                self._hold(TO_CRM, link, source, paid, payment.txn_date, why)
            elif credit:
                why = (
                    f"{money_words(Money(credit, currency))} of it is a credit applied in "
                    f"{self.books.name}, not money received: record it in {self.books.crm} by "
                    "hand if it belongs there"
                )
                self._hold(TO_CRM, link, source, paid, payment.txn_date, why)
            elif landed is not None:
                self._settle(TO_CRM, link, source, paid, payment.txn_date, landed.external_id)
            elif same is not None:
                taken.add(same.external_id)
                self._match(TO_CRM, link, source, paid, payment.txn_date, same.external_id)
            elif amount > owed:
                why = (
                    f"{money_words(paid)} paid in {self.books.name} is more than the "
                    f"{money_words(Money(owed, currency))} {self.books.crm} still shows owed on "
                    f"invoice {link.doc_number}: not recorded twice; a person decides"
                )
                self._hold(TO_CRM, link, source, paid, payment.txn_date, why)
            else:
                self._write_to_crm(link, source, paid, payment.txn_date, payment.reference)

    def _write_to_crm(
        self, link: InvoiceLink, source: str, paid: Money, paid_on: str, note: str = ""
    ) -> None:
        row = self._outbox(TO_CRM, link, source, paid, paid_on)
        if row is None:
            return
        new = NewPayment(
            invoice_id=link.deal_id,
            customer_id="",
            amount=paid,
            paid_on=paid_on or self.step.today.isoformat(),
            reference=_labelled(
                self._marker(TO_CRM, source),
                f"{self.books.name} payment on invoice {link.doc_number}"
                + (f": {note}" if note else ""),
            ),
        )
        self._sent(row, link, lambda: self.crm.record_crm_payment(new))

    def _copies_deleted(self, payments: list[PaymentInfo], ours: set[str]) -> None:
        """syncfirm's own copy deleted in the books: the CRM still shows the payment."""
        for payment in payments:
            if payment.deleted and payment.external_id in ours:
                for row in PaymentLink.objects.filter(
                    client=self.client,
                    direction=TO_BOOKS,
                    state=PaymentState.CREATED,
                    target_id=payment.external_id,
                ):
                    self._changed_after(
                        row,
                        reason=f"syncfirm's copy of the {self.books.crm} payment was deleted in "
                        f"{self.books.name}; {self.books.crm} still shows it",
                    )

    def _moved_or_deleted(self, payments: list[PaymentInfo], ours: set[str]) -> set[str]:
        """A books payment carried to the CRM that was deleted, or no longer pays an invoice
        it paid when carried (moved to another): said once; the CRM's copy stands. The ids
        of those moved."""
        changed = {p.external_id: p for p in payments if p.external_id not in ours}
        moved: set[str] = set()
        if not changed:
            return moved
        prefixes = Q()
        for payment_id in changed:
            prefixes |= Q(source_id__startswith=f"{payment_id}:")
        carried = PaymentLink.objects.filter(
            prefixes, client=self.client, direction=TO_CRM, state=PaymentState.CREATED
        )
        for row in carried:
            payment_id, _, invoice_id = row.source_id.rpartition(":")
            payment = changed[payment_id]
            if payment.deleted:
                self._changed_after(row, "deleted")
            elif invoice_id not in {i for i, _ in payment.applied}:
                moved.add(payment_id)
                self._changed_after(row, "moved off this invoice")
        return moved

    def _check_carried(self, links: list[InvoiceLink], payments: list, unread: set) -> None:
        """The CRM payments carried to the books, as the CRM shows them now: one changed or
        deleted since is said (the books' copy is a person's to correct)."""
        now = {p.external_id: p for p in payments}
        carried = PaymentLink.objects.filter(
            client=self.client,
            direction=TO_BOOKS,
            state=PaymentState.CREATED,
            deal_id__in=[link.deal_id for link in links if link.deal_id not in unread],
        )
        for row in carried:
            payment = now.get(row.source_id)
            if payment is None:
                self._changed_after(row, "deleted")
            elif payment.amount.amount != row.amount:
                self._changed_after(row, f"changed to {money_words(payment.amount)}")

    def _changed_after(self, row: PaymentLink, what: str = "", reason: str = "") -> None:
        """A payment changed or deleted where it was recorded after syncfirm carried it (or
        syncfirm's copy deleted): said once, on the link and as an alert; the copy is a
        person's to correct, as syncfirm takes no money back on its own."""
        origin, copy = (
            (self.books.crm, self.books.name)
            if row.direction == TO_BOOKS
            else (self.books.name, self.books.crm)
        )
        reason = reason or f"the {origin} payment was {what} after it was recorded in {copy}"
        if row.reason == reason:
            return
        row.reason = reason
        row.save(update_fields=["reason", "updated_at"])
        number = (
            InvoiceLink.objects.filter(client=self.client, deal_id=row.deal_id)
            .values_list("doc_number", flat=True)
            .first()
        )
        raise_alert(
            self.run,
            f"A payment of {money_words(Money(row.amount, row.currency))} on invoice "
            f"{number or row.invoice_id}: {reason}; correct the payment in {copy} by hand.",
            source="payment sync",
        )

    # -- the outbox ----------------------------------------------------------------------
    def _outbox(
        self, direction: str, link: InvoiceLink, source: str, paid: Money, paid_on: str
    ) -> PaymentLink | None:
        """The link, WRITING and committed before the write leaves; None when another run
        settled it first, or when unknown outcomes ran out (then a person decides)."""
        with transaction.atomic():
            row, _ = self._link(direction, link, source, paid, paid_on, PaymentState.WRITING)
            if row.state != PaymentState.WRITING:
                return None
            if row.attempts >= MAX_ATTEMPTS:
                row.state = PaymentState.UNCERTAIN
                row.reason = f"{row.attempts} writes with no known outcome and none found"
                row.save(update_fields=["state", "reason", "updated_at"])
                raise_alert(
                    self.run,
                    f"A payment of {money_words(paid)} on invoice {link.doc_number} could not be "
                    "settled: check both systems, then record it by hand.",
                    source="payment sync",
                )
                return None
            row.attempts += 1
            row.save(update_fields=["attempts", "updated_at"])
        return row

    def _sent(self, row: PaymentLink, link: InvoiceLink, send) -> bool:
        where = self.books.name if row.direction == TO_BOOKS else self.books.crm
        try:
            result = send()
        except retries.Unauthorised:
            raise
        except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
            if unknown_outcome(error):  # it may have landed: the next run looks first
                paid = money_words(Money(row.amount, row.currency))
                self._note(link, Outcome.FAILED, f"payment of {paid} not recorded in {where} "
                           f"({error}); the next sync looks again")  # fmt: skip
            else:
                self._held(row, link, f"{where} refused the payment: {error}")
            return False
        if not result.ok:
            self._held(row, link, f"{where} refused the payment: {result.error}")
            return False
        self._done(row, link, PaymentState.CREATED, result.external_id)
        return True

    def _link(self, direction, link, source, paid, paid_on, state, **more):
        """(row, created): the payment's link, made in `state` when there is none yet
        (locked until the caller's transaction ends: the outbox decides under it)."""
        with transaction.atomic():
            return PaymentLink.objects.select_for_update().get_or_create(
                client=self.client,
                direction=direction,
                source_id=source,
                defaults={"deal_id": link.deal_id, "invoice_id": link.accounting_id,
                          "amount": paid.amount, "currency": paid.currency, "paid_on": paid_on,
                          "state": state, **more},
            )  # fmt: skip

    def _settle(self, direction, link, source: str, paid: Money, paid_on: str, target: str):
        """A write whose answer was lost, found where it landed."""
        row, created = self._link(direction, link, source, paid, paid_on, PaymentState.WRITING)
        if created or row.state == PaymentState.WRITING:
            self._done(row, link, PaymentState.CREATED, target, "found after an unknown outcome")

    def _match(self, direction, link, source: str, paid: Money, paid_on: str, target: str):
        """The other side already shows this payment (recorded there by hand): linked both
        ways, nothing written, so neither is carried again."""
        row, _ = self._link(direction, link, source, paid, paid_on, PaymentState.WRITING)
        other = TO_CRM if direction == TO_BOOKS else TO_BOOKS
        mirror = _source(target, link.accounting_id) if other == TO_CRM else target
        matched, origin = PaymentState.MATCHED, source.split(":")[0]
        self._link(other, link, mirror, paid, paid_on, matched, target_id=origin)
        where = self.books.name if direction == TO_BOOKS else self.books.crm
        self._done(row, link, PaymentState.MATCHED, target, f"already recorded in {where}")

    def _done(self, row: PaymentLink, link: InvoiceLink, state: str, target: str, how="") -> None:
        row.state, row.target_id, row.reason = state, target, how
        row.save(update_fields=["state", "target_id", "reason", "updated_at"])
        where = self.books.name if row.direction == TO_BOOKS else self.books.crm
        paid = money_words(Money(row.amount, row.currency))
        if state == PaymentState.MATCHED:
            words = f"payment of {paid} {how}: matched, not recorded twice"
        else:
            words = f"payment of {paid} recorded in {where}" + (f" ({how})" if how else "")
        key = "payments_to_books" if row.direction == TO_BOOKS else "payments_to_crm"
        self.sync.counts[key] = self.sync.counts.get(key, 0) + 1
        self._note(link, Outcome.UPDATED, words)

    def _hold(self, direction, link, source: str, paid: Money, paid_on: str, why: str) -> None:
        row, created = self._link(direction, link, source, paid, paid_on, PaymentState.HELD,
                                  reason=why)  # fmt: skip
        if created or row.state == PaymentState.WRITING:
            self._held(row, link, why)

    def _held(self, row: PaymentLink, link: InvoiceLink, why: str) -> None:
        row.state, row.reason = PaymentState.HELD, why
        row.save(update_fields=["state", "reason", "updated_at"])
        self._note(link, Outcome.HELD, f"payment held: {why}")

    def _note(self, link: InvoiceLink, outcome: str, words: str) -> None:
        side = "accounting" if outcome != Outcome.HELD else "crm"
        self.sync.note("deals", link.deal_id, link.deal_name, outcome, words,
                       link.accounting_id, side, counted_as="payments")  # fmt: skip

    def _marker(self, direction: str, source: str) -> str:
        """The reference a carried payment bears: where it came from, found again by it."""
        origin = self.books.crm if direction == TO_BOOKS else self.books.name
        return f"syncfirm: {origin} payment {source}"


def _labelled(marker: str, words: str, longest: int = 255) -> str:
    """A carried payment's note: what a bookkeeper matching deposits reads first, then the
    marker syncfirm finds it again by, never cut (the words are, to fit the field)."""
    room = longest - len(marker) - 3
    return f"{words[:room].rstrip()} · {marker}" if room > 0 else marker


def _source(payment_id: str, invoice_id: str) -> str:
    """A books payment pays several invoices: each part is carried on its own."""
    return f"{payment_id}:{invoice_id}"


def _open(link: PaymentLink | None) -> bool:
    """Not carried yet, or sent with no known outcome (looked for, then sent again)."""
    return link is None or link.state == PaymentState.WRITING


def _credit_used(payment: PaymentInfo, amount: Decimal) -> Decimal:
    """How much of this part a credit pays, not money received (QuickBooks applies a credit
    memo through a payment of less than it applies)."""
    if payment.received is None:
        return Decimal(0)
    spent = sum((a for _, a in payment.applied), Decimal(0))
    return min(amount, max(Decimal(0), spent - payment.received))


def _applied(payment: PaymentInfo, invoice_id: str) -> Decimal:
    return sum((a for i, a in payment.applied if i == invoice_id), Decimal(0))


def _links(client, direction: str, sources: list[str]) -> dict[str, PaymentLink]:
    return {
        row.source_id: row
        for row in PaymentLink.objects.filter(
            client=client, direction=direction, source_id__in=sources
        )
    }


def _targets(client, direction: str) -> set[str]:
    return set(
        PaymentLink.objects.filter(client=client, direction=direction)
        .exclude(target_id="")
        .values_list("target_id", flat=True)
    )


def possessive(name: str) -> str:
    """ "QuickBooks'", "Xero's"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def money_words(paid: Money) -> str:
    return money(paid.amount, paid.currency)
