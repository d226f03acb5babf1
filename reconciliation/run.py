"""One reconciliation: read both systems through the adapters, judge the month on what was
dated by its end, run the detectors, weigh each finding against the client's revenue, and
carry the result into the client's ledger (ledger.py)."""

import logging
from dataclasses import replace
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clients.models import Client
from connections import retries
from connections.adapters import accounting_adapter, crm_adapter, crm_adapter_class
from connections.naming import words_of
from connections.numbers import BadValue, crm_number
from connections.providers import Kind, SystemWords, provider
from connections.refresh import ConnectionUnusable
from connections.tokens import OAuthError
from sync import learnt
from sync.customers import SyncUnavailable, active_connection, properties_for
from sync.invoice_pairing import number_core
from sync.invoicing import doc_number, referenced_deal
from sync.linkage.collector import collector_paused
from sync.mapping import map_record
from sync.models import (
    CrmSource,
    CustomerLink,
    InvoiceLink,
    PaymentLink,
    PaymentState,
    SyncSettings,
)
from sync.validation import check_customer

from . import audit_run, balances, detectors, ledger, lifecycle, materiality
from .duplicate_customers import BOOKS, CRM, CRM_KEY, SnapParty, duplicate_customers
from .models import Reconciliation, ReconStatus
from .periods import PeriodRefused, check_period
from .records import records_of
from .stored_balances import store_balances

log = logging.getLogger(__name__)
BULK = 2000
ZERO = Decimal("0.00")


def local_today(client: Client) -> date:
    return timezone.now().astimezone(client.tzinfo).date()


def client_period(client: Client, text: str | date) -> date:
    """The month `text` names, when it is in the client's history (else PeriodRefused)."""
    return check_period(text, local_today(client))


def reconcile(
    client: Client,
    period: date,
    *,
    user=None,
    stale_after_days: int | None = None,
    recon: Reconciliation | None = None,
) -> Reconciliation:
    """Run and store a reconciliation of `client` for the month starting `period` (into
    `recon` when one was queued). It always ends: whatever goes wrong is recorded on the run
    as failed with the reason, never raised past here and never left "running"."""
    if recon is None:
        recon = Reconciliation.objects.create(
            client=client, period=period.replace(day=1), started_by=user, stage=lifecycle.CHECKING
        )
    with lifecycle.Heartbeat(recon):
        _run(recon, client, period, stale_after_days)
    return recon


def _run(recon: Reconciliation, client: Client, period: date, stale_after_days) -> None:
    try:
        lifecycle.beat(recon, lifecycle.CHECKING)
        client_period(client, period)
        if stale_after_days is None:
            stale_after_days = SyncSettings.for_client(client).stale_after_days
        lifecycle.beat(recon, lifecycle.READING_BOOKS)
        snapshot = take_snapshot(client, recon)
        lifecycle.beat(recon, lifecycle.COMPARING)
        reconcile_records(recon, snapshot, _period_end(period, client), stale_after_days)
        recon.status = ReconStatus.PARTIAL if recon.not_checked else ReconStatus.DONE
        recon.error = recon.error_detail = ""  # a slow run ended as dead, then finished after all
    except Exception as error:  # a run always ends: recorded in words, logged, never left running
        expected = (SyncUnavailable, PeriodRefused, retries.ProviderError, retries.Transient,
                    retries.RateLimited)  # fmt: skip
        if isinstance(error, expected):
            log.warning("reconciliation %s of %s failed at %s: %r", recon.pk, client, recon.stage,
                        error)  # fmt: skip
        else:
            log.exception("reconciliation %s of %s failed at %s", recon.pk, client, recon.stage)
        recon.status = ReconStatus.FAILED
        recon.error = lifecycle.failure_words(error, recon.stage, recon.pk)
        recon.error_detail = lifecycle.technical(error)
    now = timezone.now()
    recon.finished_at, recon.heartbeat_at = now, now
    if recon.status != ReconStatus.FAILED:
        recon.stage = "Finished"  # a failed run keeps the stage it stopped at
    recon.save()


def _period_end(period: date, client: Client) -> date:
    """The day the month is judged on: its last day, or today for the current month."""
    first = period.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return min(local_today(client), date.fromordinal(following.toordinal() - 1))


def take_snapshot(client: Client, recon: Reconciliation) -> dict:
    settings = SyncSettings.for_client(client)
    accounting = accounting_adapter(
        active_connection(client, Kind.ACCOUNTING), job_category=settings.job_tracking_category
    )
    invoices = accounting.all_invoices()
    credits = accounting.credit_memos()
    payments = accounting.payments()
    customers = accounting.all_customers()
    item_names = _item_names(accounting, recon)
    deals, companies, crm_read, billed = [], [], False, None
    bills = crm_bills(client)
    try:
        lifecycle.beat(recon, lifecycle.READING_CRM)
        crm = crm_adapter(active_connection(client, Kind.CRM))
        if crm.crm_capabilities.issues_invoices:  # the CRM's own invoices, not deals
            billed = (crm.crm_invoices(), crm.jobs(), crm.client_balances())
            lifecycle.beat(recon)
        else:
            deals = _won_deals(crm, settings, recon)
        companies = _crm_companies(crm, client, settings, recon)
        crm_read = True
    except (
        SyncUnavailable,
        retries.ProviderError,
        retries.Transient,
        retries.RateLimited,
        ConnectionUnusable,  # its authorisation gone, or lost with a renewal's answer
        OAuthError,
    ) as error:
        # The books alone still show duplicates and stale invoices; say what was not compared.
        log.warning("reconciliation %s: CRM not read: %r", recon.pk, error)
        words = lifecycle.failure_words(error, lifecycle.READING_CRM, recon.pk)
        if bills:
            recon.not_checked.append(
                f"the CRM side (its invoices, jobs and client balances): {words} The invoices "
                "were not audited this month; the findings already open stay as they were."
            )
        else:
            recon.not_checked.append(f"the CRM side (deals, payment status): {words}")
    links = dict(
        InvoiceLink.objects.filter(client=client)
        .exclude(accounting_id="")
        .values_list("accounting_id", "deal_id")
    )
    customer_of = {
        (link.crm_type, link.crm_id): link.accounting_id
        for link in CustomerLink.objects.filter(client=client)
    }
    linked = set(customer_of.values())
    parties = [_books_party(c, c.external_id in linked, settings.books_currency)
               for c in customers]  # fmt: skip
    companies = [replace(c, linked=("companies", c.id) in customer_of) for c in companies]
    pattern = settings.invoice_number_pattern
    unreadable = [str(u) for u in accounting.unreadable]
    # The CRM's own invoices it could not read: left out of the audit, and said.
    crm_unread = list(getattr(crm, "unreadable", ())) if billed is not None else []
    unreadable += [f"{u} (in the CRM)" for u in crm_unread]
    # A deal whose invoice could not be read is not compared either: it would read as
    # missing its invoice, and the fix for that would write a second one.
    unread_invoice_of = {links[u.external_id]: u for u in accounting.unreadable
                         if u.kind == "invoice" and u.external_id in links}  # fmt: skip
    unread_invoice_of |= {
        _deal_from_number(pattern, u.number): u
        for u in accounting.unreadable
        if u.kind == "invoice" and u.number
    }
    # Records left out: a finding about one of them is not "no longer seen".
    unread_ids = {u.external_id for u in [*accounting.unreadable, *crm_unread]}
    unread_ids |= set(unread_invoice_of)
    # An audit pairs by number too: an invoice one side cannot read leaves its partner on
    # the other side looking unpaired (missing, or stale with no CRM invoice behind it).
    unread_numbers = {
        number_core(u.number) for u in [*accounting.unreadable, *crm_unread] if u.number
    } - {""}
    crm_side = None
    if billed is not None:
        names = {c.external_id: c.display_name for c in customers}
        of_client = {crm_id: books_id for (_, crm_id), books_id in customer_of.items()}
        crm_side = audit_run.read_side(
            *billed, invoices, credits, of_client,
            {k: names.get(v, "") for k, v in of_client.items()},
            settings.books_currency, words_of([client.pk])[client.pk].crm,
        )  # fmt: skip
        recon.not_checked.extend(
            f"{crm_side.system} invoice {said}: its issue date cannot be read, so it was left "
            "out of the audit"
            for said in crm_side.undated
        )
    snap_invoices = []
    for invoice in invoices:
        if not invoice.txn_date:  # a month's books are judged by date: undated is unread
            unreadable.append(f"invoice {invoice.doc_number or invoice.external_id} has no date")
            continue
        if not invoice.customer_id:
            name = invoice.doc_number or invoice.external_id
            recon.not_checked.append(f"invoice {name}: no customer to compare with")
        snap_invoices.append(snap_invoice(invoice, links, pattern, settings.books_currency))
    snap_credits = []
    for c in credits:
        if not c.txn_date:
            unreadable.append(f"credit memo {c.external_id} has no date")
            continue
        snap_credits.append(
            detectors.SnapCredit(
                c.external_id,
                c.customer_id,
                date.fromisoformat(c.txn_date),
                c.total,
                c.deal_id,
                c.remaining,
            )
        )
    snap_payments = []
    for p in payments:
        if not p.txn_date:
            unreadable.append(f"payment {p.external_id} has no date")
            continue
        snap_payments.append(
            detectors.SnapPayment(
                p.external_id,
                p.customer_id,
                date.fromisoformat(p.txn_date),
                p.total.amount,
                p.unapplied,
                p.total.currency or settings.books_currency,
            )
        )
    receivables = [
        balances.Receivable(
            c.external_id,
            c.display_name,
            c.balance.amount,
            c.balance.currency or settings.books_currency,
        )
        for c in customers
        if c.balance is not None
    ]
    snap_deals = []
    for deal in deals:
        props = deal.properties
        try:
            paid = crm_number(props.get("syncfirm_amount_paid"), "amount paid", default=ZERO)
        except BadValue as error:
            deal = replace(deal, problems=(*deal.problems, str(error)))
        if deal.problems:
            unread_ids.add(deal.external_id)
            unreadable.append(f"deal “{deal.name}” could not be read: "
                              + "; ".join(deal.problems))  # fmt: skip
            continue
        if deal.external_id in unread_invoice_of:
            unread_ids.add(deal.external_id)
            unread = unread_invoice_of[deal.external_id]
            name = unread.number or unread.external_id
            unreadable.append(f"deal “{deal.name}”: its invoice {name} "
                              "could not be read")  # fmt: skip
            continue
        customer = _customer_for(deal, customer_of)
        lines = tuple(
            (
                line.sku or line.name,
                line.quantity,
                _cents(line.quantity * (line.unit_price - line.discount)),
            )
            for line in deal.lines
        )
        snap_deals.append(
            detectors.SnapDeal(
                id=deal.external_id,
                name=deal.name,
                won=True,
                amount=deal.amount.amount if deal.amount else Decimal("0.00"),
                payment_status=props.get("syncfirm_payment_status", "") or "",
                amount_paid=paid,
                customer_id=customer,
                lines=lines,
                close_date=deal.close_date.date() if deal.close_date else None,
                currency=deal.currency or settings.books_currency,
            )
        )
    if unreadable:
        # Left out of the comparison, and said: a run that skipped records never reads clean.
        recon.not_checked.append(
            f"{len(unreadable)} record(s) could not be read and were left out: "
            + "; ".join(unreadable)
        )
    currencies = {i.currency for i in snap_invoices}
    if len(currencies) > 1:
        listed = ", ".join(sorted(currencies))
        recon.not_checked.append(f"invoices in several currencies ({listed}): compared as is")
    # Customer balances are compared only when both whole sides were read, and only for
    # customers the CRM knows: a record left out would read as a difference.
    compared = set(customer_of.values()) if crm_read and not unreadable else set()
    compared -= {c.external_id for c in customers if c.balance is None}
    if crm_read and unreadable:
        recon.not_checked.append("customer balances: not compared, records were left out")
    recon.counts = {
        "invoices": len(snap_invoices),
        "credits": len(snap_credits),
        "payments": len(snap_payments),
        "customers": len(receivables),
        "won_deals": len(snap_deals),
        **({"crm_invoices": len(crm_side.invoices)} if crm_side else {}),
        "unreadable": len(unreadable),
        "crm_read": crm_read,
    }
    return {
        "invoices": snap_invoices,
        "credits": snap_credits,
        "deals": snap_deals,
        "unread_ids": unread_ids,
        "unread_numbers": unread_numbers,
        "payments": snap_payments,
        "receivables": receivables,
        "customer_names": {c.external_id: c.display_name for c in customers},
        "parties": parties,
        "companies": companies,
        "country": client.country,
        # How findings name the client's systems ("Xero contact", "HubSpot").
        "words": words_of([client.pk])[client.pk],
        # The client's words, kept weights and thresholds (decision 0026).
        "duplicate_search": learnt.duplicate_search(client, settings),
        "item_names": item_names,
        "compared": compared,
        "crm_read": crm_read,
        "crm_side": crm_side,  # a CRM that bills its own work: its invoices, jobs, balances
        "crm_bills": bills,
    }


def crm_bills(client: Client) -> bool:
    """Whether the client's CRM issues its own invoices (Jobber), known from its connection
    even when the CRM cannot be reached."""
    return any(
        crm_adapter_class(c.system).crm_capabilities.issues_invoices
        for c in client.connections.all()
        if provider(c.system).kind == Kind.CRM
    )


def _won_deals(crm, settings, recon: Reconciliation) -> list:
    won = set(settings.won_stages) or crm.won_stages()
    records, cursor = [], None
    while True:
        page = crm.records("deals", cursor)
        records.extend(page.records)
        lifecycle.beat(recon)
        if not (cursor := page.next_cursor):
            break
    return crm.deals([r for r in records if r.properties.get("dealstage") in won])


def snap_invoice(
    invoice, links: dict[str, str], pattern: str, currency: str
) -> detectors.SnapInvoice:
    """A dated books invoice as the detectors read it, with the deal it was made from: its
    link, the deal its note names, or the deal its number carries (`pattern`)."""
    deal_id = links.get(invoice.external_id) or referenced_deal(invoice.private_note) or ""
    if not deal_id and invoice.doc_number.startswith(pattern.split("{")[0] or "\x00"):
        deal_id = _deal_from_number(pattern, invoice.doc_number)
    return detectors.SnapInvoice(
        id=invoice.external_id,
        doc_number=invoice.doc_number,
        customer_id=invoice.customer_id,
        txn_date=date.fromisoformat(invoice.txn_date),
        total=invoice.total.amount,
        balance=invoice.balance.amount,
        currency=invoice.total.currency or currency,
        deal_id=deal_id,
        lines=tuple((line.item_id, line.quantity, line.amount) for line in invoice.lines),
        due_date=date.fromisoformat(invoice.due_date) if invoice.due_date else None,
        voided=invoice.voided,
    )


def _books_party(c, linked: bool, currency: str) -> SnapParty:
    address = c.billing_address
    return SnapParty(
        c.external_id, c.display_name, BOOKS, email=c.email, phone=c.phone,
        line1=address.line1, city=address.city, region=address.region,
        postal_code=address.postal_code, country=address.country, tax_id=c.tax_id,
        given_name=c.given_name, family_name=c.family_name,
        balance=c.balance.amount if c.balance else None,
        currency=(c.balance.currency if c.balance else "") or currency,
        linked=linked, active=c.active,
    )  # fmt: skip


def _crm_companies(crm, client: Client, settings, recon: Reconciliation) -> list[SnapParty]:
    """The CRM's companies as the client's field map reads them (when companies are its
    customers), to find two that are one."""
    if settings.crm_source == CrmSource.CONTACTS:
        return []
    field_map = settings.field_map.get("companies", {})
    wanted = properties_for(settings.field_map, "companies")
    found, cursor = [], None
    while True:
        page = crm.records("companies", cursor, wanted)
        for r in page.records:
            v = check_customer(map_record(r.properties, field_map), client.country).values
            name = v.get("display_name") or v.get("company_name") or r.properties.get("name") or ""
            found.append(SnapParty(
                r.external_id, name, CRM, email=v.get("email", ""), phone=v.get("phone", ""),
                website=v.get("website") or r.properties.get("domain") or "",
                line1=v.get("line1", ""), city=v.get("city", ""), region=v.get("region", ""),
                postal_code=v.get("postal_code", ""), country=v.get("country", ""),
                tax_id=v.get("tax_id", ""),
            ))  # fmt: skip
        lifecycle.beat(recon)
        if not (cursor := page.next_cursor):
            return found


def _item_names(accounting, recon: Reconciliation) -> dict[str, str]:
    """The books' items by id, so a finding's lines read "Drywall patch", not "item 6". Only
    words hang on it: a failure to list them leaves the ids, never fails the run."""
    try:
        return {item.external_id: item.name for item in accounting.items()}
    except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
        log.warning("reconciliation %s: items not listed: %r", recon.pk, error)
        return {}


def _customer_for(deal, customer_of: dict) -> str:
    """The accounting customer of a deal: its company's link, else its contact's."""
    for crm_type, ids in (("companies", deal.company_ids), ("contacts", deal.contact_ids)):
        for crm_id in ids:
            if (crm_type, crm_id) in customer_of:
                return customer_of[(crm_type, crm_id)]
    return ""


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _deal_from_number(pattern: str, number: str) -> str:
    head, _, tail = pattern.partition("{deal_id}")
    if number.startswith(head) and number.endswith(tail):
        middle = number[len(head) : len(number) - len(tail) if tail else None]
        if middle.isdigit() and doc_number(pattern, middle) == number:
            return middle
    return ""


def as_of(snapshot: dict, period_end: date) -> dict:
    """The records the month is judged on: what was dated by its last day (undated deals
    count, as the CRM keeps no close date for some)."""
    return {
        "invoices": [i for i in snapshot["invoices"] if i.txn_date <= period_end],
        "credits": [c for c in snapshot["credits"] if c.txn_date <= period_end],
        "deals": [d for d in snapshot["deals"] if (d.close_date or period_end) <= period_end],
        # Money on a customer's account is read as it is now, like balances: neither system
        # gives either as of a past date, and judging one by date and not the other would
        # invent differences.
        "payments": list(snapshot.get("payments", ())),
    }


def active_after(snapshot: dict, period_end: date) -> set[str]:
    """The customers with an invoice, credit memo, payment or won deal dated after the
    month's end."""
    dated = [*snapshot["invoices"], *snapshot["credits"], *snapshot.get("payments", ())]
    later = {r.customer_id for r in dated if r.txn_date > period_end}
    later |= {
        d.customer_id for d in snapshot["deals"] if d.close_date and d.close_date > period_end
    }
    return later - {""}


def _with_held_payments(found: list, client) -> list:
    """A payment difference whose cause syncfirm knows (it held a payment on that invoice
    rather than carry it: a refund, a closed period) says so in its fix."""
    held = dict(
        PaymentLink.objects.filter(
            client=client, state__in=[PaymentState.HELD, PaymentState.UNCERTAIN]
        ).values_list("deal_id", "reason")
    )
    out = []
    for finding in found:
        why = held.get(finding.deal_id)
        if why and finding.code in ("paid_but_open", "balance_mismatch"):
            words = f"syncfirm held a payment on this invoice instead of carrying it ({why}). "
            finding = replace(finding, fix={**finding.fix, "words": words + finding.fix["words"]})
        out.append(finding)
    return out


def reconcile_records(
    recon: Reconciliation, snapshot: dict, period_end: date, stale_after_days: int = 90
) -> ledger.Outcome:
    """From both systems' records to the updated ledger: detect, weigh, carry."""
    # A big book is hundreds of thousands of small records and nothing here makes reference
    # cycles: the collector would walk them again and again (a third of the time at 100,000).
    with collector_paused():
        return _reconcile_records(recon, snapshot, period_end, stale_after_days)


def _reconcile_records(recon, snapshot: dict, period_end: date, stale_after_days: int):
    client = recon.client
    records = as_of(snapshot, period_end)
    crm_side = snapshot.get("crm_side")
    # A CRM that bills, unread: the books alone would name its invoices' problems without
    # the CRM invoice each rests on, the same problem under a second identity. Not audited.
    unaudited = crm_side is None and snapshot.get("crm_bills", False)
    if crm_side is not None:
        found = audit_run.findings(
            crm_side, records, snapshot["invoices"], period_end, stale_after_days
        )
        found = _without_unread_partners(found, crm_side, snapshot)
        found = _with_held_payments(found, client)
    elif unaudited:
        found = []
    else:
        found = detectors.detect(**records, today=period_end, stale_after_days=stale_after_days)
    # Customers the books (or companies the CRM) hold twice: read as they are now, like
    # balances, whatever the month.
    found += duplicate_customers(
        snapshot.get("parties", ()), companies=snapshot.get("companies", ()),
        invoices=snapshot["invoices"], payments=snapshot.get("payments", ()),
        credits=snapshot["credits"], country=snapshot.get("country") or "US",
        words=snapshot.get("words") or SystemWords(),
        **snapshot.get("duplicate_search", {}),
    )  # fmt: skip
    balance_rows = None
    if snapshot.get("crm_read"):  # without the CRM's side there is nothing to set beside
        # The books' receivable is read as it is now; a customer with records dated after
        # the month (next month's invoices, payments) has no balance as of its end to set
        # against the month's deals, so is left out rather than called a mismatch.
        later = active_after(snapshot, period_end)
        receivables = [r for r in snapshot["receivables"] if r.customer_id not in later]
        names = {
            "compared": snapshot["compared"] - later,
            "doc_numbers": {i.id: i.doc_number for i in records["invoices"]},
            "deal_names": {d.id: d.name for d in records["deals"]},
        }
        if crm_side is not None:
            names["deal_names"] = {i.id: i.name for i in crm_side.invoices}
            balance_rows, unexplained = audit_run.customer_balances(
                crm_side, receivables, found, **names
            )
        else:
            balance_rows, unexplained = balances.customer_balances(
                records["deals"], receivables, found, **names
            )
        balance_rows = [row for row in balance_rows if row.customer_id not in later]
        found += unexplained
    limits = materiality.thresholds(
        client.firm.materiality_floor, materiality.monthly_revenue(records["invoices"], period_end)
    )
    invoices = {i.id: i for i in records["invoices"]}
    deals = {d.id: d for d in records["deals"]}
    if crm_side is not None:
        deals |= audit_run.as_deals(crm_side)
    seen = []
    for f in found:
        severity = materiality.severity(f.amount, limits)
        values = {
            "code": f.code, "severity": severity, "amount": f.amount, "currency": f.currency,
            "direction": f.direction, "reason": f.reason, "deal_id": f.deal_id,
            "invoice_ids": list(f.invoice_ids), "customer_id": f.customer_id,
            "record_ids": list(f.record_ids),
            "evidence": f.evidence,
            "records": records_of(deals.get(f.deal_id),
                                  [invoices[i] for i in f.invoice_ids if i in invoices],
                                  snapshot.get("customer_names", {}),
                                  snapshot.get("item_names", {}), f.customer_id,
                                  f.parties),
            "fix": f.fix,
        }  # fmt: skip
        seen.append(ledger.Seen(ledger.problem_key(f), values, (f.amount, severity), f))
    crm_checked, unread = snapshot.get("crm_read", True), snapshot.get("unread_ids", set())

    def can_resolve(finding) -> bool:
        """Only what this run could compare may be called gone."""
        if unaudited and finding.code != "duplicate_customer":
            return False
        if finding.deal_id and not crm_checked:
            return False
        if not crm_checked and any(r.startswith(CRM_KEY) for r in finding.record_ids):
            return False  # two CRM companies: the CRM was not read
        return not ({finding.deal_id, *finding.invoice_ids, *finding.record_ids} & unread)

    # One transaction: a run that dies storing the balances leaves the ledger as it was, not
    # findings opened by a run whose report says it did not finish.
    with transaction.atomic():
        outcome = ledger.update(client, recon, seen, can_resolve=can_resolve)
        if balance_rows is not None:
            stored = store_balances(client, recon.period, balance_rows)
            recon.counts = {**recon.counts, "balances": stored}
    recon.counts = {
        **recon.counts,
        **outcome.as_counts(),
        **(audit_run.pairing_counts(crm_side, period_end) if crm_side is not None else {}),
        "aging": {k: str(v) for k, v in aging(records["invoices"], period_end).items()},
        "material_from": str(limits[0]),
    }
    return outcome


def _without_unread_partners(found: list, crm_side, snapshot: dict) -> list:
    """An audit's findings less those about an invoice whose partner could not be read (by
    number): said once as unread, not again as missing or stale under a second identity."""
    unread = snapshot.get("unread_numbers") or set()
    if not unread:
        return found
    crm_numbers = {i.id: number_core(i.number) for i in crm_side.invoices}
    books_numbers = {i.id: number_core(i.doc_number) for i in snapshot["invoices"]}
    return [
        f
        for f in found
        if crm_numbers.get(f.deal_id) not in unread
        and not any(books_numbers.get(i) in unread for i in f.invoice_ids)
    ]


def aging(invoices: list[detectors.SnapInvoice], period_end: date) -> dict[str, Decimal]:
    """Open invoices by age at the month's end."""
    buckets = {label: ZERO for _, label in detectors.AGING_BUCKETS} | {"120+": ZERO}
    for invoice in invoices:
        if invoice.balance > 0 and not invoice.voided:
            age = (period_end - invoice.txn_date).days
            label = next((n for days, n in detectors.AGING_BUCKETS if age <= days), "120+")
            buckets[label] += invoice.balance
    return buckets
