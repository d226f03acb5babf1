"""Jobber as a CRM: its clients as companies and contacts, its issued invoices as the
"deals" that are posted to the books, its jobs and client balances for the audit.

A field-service CRM bills its own work, so what syncfirm posts is Jobber's invoice itself
(its lines, its client, its issue date and its number), not an invoice syncfirm composes
from a sales deal. Jobber's names live in `schema.py`; the HTTP call and its errors in
`graphql.py`; this module pages, batches and maps.

Writes: Jobber's API takes none of syncfirm's payment properties (it has no custom fields
syncfirm could own on an invoice), so `crm_capabilities.writes_payment_status` is False and
`update_records` answers each record refused, in words, without a call: the engine shows why
nothing was written instead of believing it was. What it does take is a payment record on an
invoice (`record_crm_payment`), which is how the books' payments reach Jobber when syncfirm
posts (`sync.payments`).
"""

from collections.abc import Iterator, Mapping
from datetime import datetime

from .. import retries
from ..calls import call_for_connection
from ..contract import CrmCapabilities, Refusal
from ..models import Connection
from ..numbers import BadValue, clean_text
from ..providers import jobber_record_url
from ..records import (
    AccountInfo,
    CrmCompany,
    CrmInvoice,
    CrmJob,
    CrmPayment,
    CrmRecord,
    Deal,
    Money,
    NewPayment,
    Page,
    Unreadable,
    WriteResult,
)
from ..refresh import access_token_for
from . import graphql, schema

CLIENT_TYPES = ("companies", "contacts")
DEALS = "deals"
# Jobber's 2022 schema does not say an account's currency; Jobber bills in its account's
# country's. Deals carry none (the books' currency is used); audit records need one to be
# compared with the books, and US accounts are the ones this is built for.
CURRENCY = "USD"
NOT_WRITTEN = (
    "Jobber cannot hold syncfirm's payment status: its API has no field for it, and "
    "payments there are the contractor's own records"
)


class JobberAdapter:
    crm_capabilities = CrmCapabilities(
        source="invoice",
        work_word="job",
        issues_invoices=True,
        has_jobs=True,
        writes_payment_status=False,
        records_payments=True,
    )

    def __init__(self, connection: Connection):
        self.connection = connection
        # Invoices an audit read left out because a number in them could not be read.
        self.unreadable: list[Unreadable] = []
        self.last_cost: dict = {}  # extensions.cost of the last answer (throttle state)

    # -- calls -------------------------------------------------------------------------
    def _call(self, describe: str, document: str, variables: dict | None = None,
              *, patient: bool = True, once: bool = False) -> dict:  # fmt: skip
        """`once`: a write Jobber may have made before a lost answer is not sent again."""

        def attempt() -> graphql.Answer:
            return graphql.post(access_token_for(self.connection), document, variables)

        answer = call_for_connection(
            self.connection,
            attempt,
            describe,
            attempts=None if patient else 1,
            retry_transient=not once,
        )
        self.last_cost = answer.extensions.get("cost") or {}
        return answer.data

    def _page(
        self, listing: schema.Listing, describe: str, cursor: str | None, filter: dict | None
    ) -> tuple[list[dict], str | None]:
        variables: dict = {"first": listing.page_size, "after": cursor}
        if filter is not None:
            variables["filter"] = filter
        try:
            return schema.page_of(self._call(describe, listing.document, variables), listing.root)
        except BadValue as error:  # the page itself, not one record: nothing can be held
            reason = f"{describe}: Jobber's answer was not a page ({error})"
            raise retries.ProviderError(reason) from error

    def _every(
        self, listing: schema.Listing, describe: str, filter: dict | None = None
    ) -> Iterator[dict]:
        cursor = None
        while True:
            nodes, cursor = self._page(listing, describe, cursor, filter)
            yield from nodes
            if not cursor:
                return

    def _by_ids(self, kind: str, ids: list[str], describe: str) -> list[dict]:
        """Records by id, several a call (aliases); ids Jobber no longer has are left out.
        `kind` is a `schema.BY_ID` key: "client", "invoice", "invoice_payments"."""
        found = []
        unique = list(dict.fromkeys(i for i in ids if i))
        for start in range(0, len(unique), schema.BY_ID_BATCH):
            chunk = unique[start : start + schema.BY_ID_BATCH]
            data = self._call(
                describe,
                schema.by_ids(kind, len(chunk)),
                {f"id{n}": record_id for n, record_id in enumerate(chunk)},
            )
            found += [data[f"n{n}"] for n in range(len(chunk)) if data.get(f"n{n}")]
        return found

    def _lines(self, node: dict) -> list[dict]:
        """An invoice's line items: the first page came with it; the rest are read here."""
        lines, cursor = schema.page_of(node, "lineItems")
        while cursor:
            data = self._call(
                "Reading a Jobber invoice's line items",
                schema.MORE_LINES,
                {"id": node["id"], "after": cursor},
            )
            more, cursor = schema.lines_page(data)
            lines += more
        return lines

    # -- the account and its pages ---------------------------------------------------------
    def account_info(self) -> AccountInfo:
        account_id, name = schema.account_of(
            self._call("Reading the Jobber account", schema.ACCOUNT)
        )
        return AccountInfo(external_id=account_id, name=name, currency=CURRENCY)

    def record_url(self, kind: str, record_id: str) -> str:
        """A client's, invoice's ("deals") or job's page in Jobber."""
        return jobber_record_url(self.connection.external_id, kind, record_id)

    # -- companies and contacts ----------------------------------------------------------------
    def companies(self, cursor: str | None = None) -> Page[CrmCompany]:
        page = self.records("companies", cursor)
        return Page([_company(r) for r in page.records], page.next_cursor)

    def records(
        self, crm_type: str, cursor: str | None = None, properties: list[str] | None = None
    ) -> Page[CrmRecord]:
        """One page of company clients, person clients, or invoices ("deals")."""
        if crm_type == DEALS:
            nodes, after = self._page(schema.INVOICES, "Listing Jobber invoices", cursor, None)
            return Page([schema.invoice_record(n) for n in nodes], after)
        _check(crm_type)
        nodes, after = self._page(
            schema.CLIENTS, f"Listing Jobber {crm_type}", cursor, schema.company_filter(crm_type)
        )
        return Page([schema.client_record(n) for n in nodes], after)

    def records_changed_since(
        self, crm_type: str, since: datetime, properties: list[str] | None = None
    ) -> list[CrmRecord]:
        """Records Jobber stamped after `since` (its updatedAt filter), oldest id first. A
        line item's change is its invoice's change in Jobber: none are listed on their own."""
        if crm_type == "line_items":
            return []
        if crm_type == DEALS:
            nodes = self._every(
                schema.INVOICES, "Reading Jobber invoices changed", schema.updated_after(since)
            )
            return [schema.invoice_record(n) for n in nodes]
        _check(crm_type)
        changed = schema.updated_after(since, **schema.company_filter(crm_type))
        nodes = self._every(schema.CLIENTS, f"Reading Jobber {crm_type} changed", changed)
        return [schema.client_record(n) for n in nodes]

    def read_records(
        self, crm_type: str, ids: list[str], properties: list[str] | None = None
    ) -> list[CrmRecord]:
        """The records with these ids that Jobber still has, of this type only (a person
        client asked for as a company is not one)."""
        if crm_type == DEALS:
            return [
                schema.invoice_record(n)
                for n in self._by_ids("invoice", ids, "Reading Jobber invoices")
            ]
        _check(crm_type)
        records = [
            schema.client_record(n) for n in self._by_ids("client", ids, "Reading Jobber clients")
        ]
        return [r for r in records if r.crm_type == crm_type]

    def update_records(
        self, crm_type: str, updates: Mapping[str, Mapping[str, str]]
    ) -> list[WriteResult]:
        """Nothing is sent (module docstring): each record is answered refused, saying why."""
        return [
            WriteResult(key, error_code="not_supported", error=NOT_WRITTEN, refusal=Refusal.OTHER)
            for key in updates
        ]

    def record_properties(self, crm_type: str, *, patient: bool = True) -> list[tuple[str, str]]:
        """What a field map may read of clients: fixed by Jobber's schema, so no call."""
        return sorted(schema.CLIENT_PROPERTIES.get(crm_type, []), key=lambda p: p[1].casefold())

    def ensure_deal_properties(self) -> int:
        return 0  # nothing is written to Jobber

    # -- invoices as the deals that are posted -------------------------------------------
    def won_stages(self) -> set[str]:
        """The statuses of an issued invoice: what is posted to the books (not drafts)."""
        return set(schema.ISSUED_STATUSES)

    def deals(self, records: list[CrmRecord]) -> list[Deal]:
        """Invoices read as records, as deals with their lines (read again whole: a record
        carries no lines)."""
        read = self._by_ids("invoice", [r.external_id for r in records], "Reading Jobber invoices")
        nodes = {schema.node_id(n): n for n in read}
        return [self._deal(nodes[r.external_id]) for r in records if r.external_id in nodes]

    def _deal(self, node: dict) -> Deal:
        """An invoice as a deal; one whose lines cannot be read is held, saying why."""
        try:
            lines = self._lines(node)
        except BadValue as error:
            return schema.invoice_deal(node, [], "", unread=f"line items: {error}")
        return schema.invoice_deal(node, lines, "")

    def deals_of_line_items(self, line_ids: list[str]) -> list[str]:
        # Jobber sends no line item events, and a line's change is its invoice's.
        return []

    # -- what a billing CRM holds ---------------------------------------------------------------
    def crm_invoices(self, since: datetime | None = None) -> list[CrmInvoice]:
        """Every invoice (changed since `since`), drafts included; one whose numbers cannot
        be read is left out and named in `unreadable`."""
        found = []
        filter = schema.updated_after(since) if since else None
        for node in self._every(schema.INVOICES, "Reading Jobber invoices", filter):
            try:
                found.append(schema.crm_invoice(node, self._lines(node), CURRENCY))
            except BadValue as error:
                number = clean_text(node.get("invoiceNumber"))[:40]
                self.unreadable.append(
                    Unreadable("invoice", schema.node_id(node), str(error), number)
                )
        return found

    def jobs(self) -> list[CrmJob]:
        found = []
        for node in self._every(schema.JOBS, "Reading Jobber jobs"):
            try:
                found.append(schema.crm_job(node, CURRENCY))
            except BadValue as error:
                self.unreadable.append(Unreadable("job", schema.node_id(node), str(error)))
        return found

    def client_balances(self) -> dict[str, Money]:
        found = {}
        for node in self._every(schema.CLIENTS, "Reading Jobber client balances"):
            try:
                client_id, balance = schema.client_balance(node, CURRENCY)
            except BadValue as error:
                self.unreadable.append(Unreadable("client", schema.node_id(node), str(error)))
            else:
                found[client_id] = balance
        return found

    # -- payments on its invoices ------------------------------------------------------------
    def crm_payments(self, invoice_ids: list[str]) -> list[CrmPayment]:
        """Every payment record on these invoices; an invoice with more than a page of them
        is named in `unreadable` and left out whole, never half read."""
        found = []
        for node in self._by_ids("invoice_payments", invoice_ids, "Reading Jobber payments"):
            try:
                payments, more = schema.invoice_payments(node, CURRENCY)
            except BadValue as error:
                self.unreadable.append(Unreadable("payment", schema.node_id(node), str(error)))
                continue
            if more:
                reason = f"more than {schema.PAYMENTS_PER_INVOICE} payment records"
                self.unreadable.append(Unreadable("payment", schema.node_id(node), reason))
                continue
            found += payments
        return found

    def record_crm_payment(self, payment: NewPayment) -> WriteResult:
        """One payment record on a Jobber invoice, sent once (Jobber takes no idempotency
        key: the caller looks for `payment.reference` in the invoice's payments first)."""
        data = self._call(
            "Recording a payment in Jobber",
            schema.RECORD_PAYMENT,
            schema.payment_input(
                payment.invoice_id, payment.amount.amount, payment.paid_on, payment.reference
            ),
            once=True,
        )
        created, payload = schema.created_payment(data)
        if created:
            return WriteResult(payment.invoice_id, external_id=created)
        reasons = "; ".join(schema.user_errors(payload)) or "no payment record in the answer"
        return WriteResult(
            payment.invoice_id, error_code="userErrors", error=reasons, refusal=Refusal.INVALID
        )


def _check(crm_type: str) -> None:
    if crm_type not in CLIENT_TYPES:
        raise ValueError(f"unknown CRM object type {crm_type!r}")


def _company(record: CrmRecord) -> CrmCompany:
    p = record.properties
    return CrmCompany(
        external_id=record.external_id,
        name=p.get("name", ""),
        email=p.get("email", ""),
        phone=p.get("phone", ""),
        address=schema.address_of(record),
        properties=p,
        updated_at=record.updated_at,
    )
