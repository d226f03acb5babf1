"""QuickBooks Online through python-quickbooks: paging, rate limits, and mapping to records."""

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import requests
from quickbooks import QuickBooks
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import AuthorizationException, QuickbooksException
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer as QboCustomer
from quickbooks.objects.preferences import Preferences

from .. import retries
from ..calls import call_for_connection
from ..contract import Capabilities, ChangeFeed, Refusal
from ..job_filing import CLASS, NOTE, SUB_CUSTOMER, JobFiling, names_job
from ..models import Connection
from ..numbers import BadValue, clean_text, quickbooks_number, text
from ..providers import quickbooks_api_base, quickbooks_record_url
from ..reading import ReadsRecords
from ..reading import as_object as _dict
from ..records import (
    AccountInfo,
    Address,
    CreditMemo,
    Customer,
    Invoice,
    InvoiceLine,
    Item,
    LedgerAccount,
    Money,
    NewPayment,
    Page,
    Payment,
    PaymentInfo,
    Unreadable,
    WriteResult,
    address_to_write,
)
from ..refresh import access_token_for
from .oauth import auth_client

MINOR_VERSION = 75
PAGE_SIZE = 1000  # QBO's MAXRESULTS ceiling
THROTTLE_CODE = 3001
STALE_CODE = "5010"  # Stale Object Error: the SyncToken sent is not the current one
BATCH_SIZE = 30  # QBO's ceiling of items per batch request
ZERO = Decimal(0)
# The longest name a job is given as a class or sub-customer: a Class's Name holds 100
# characters (Intuit's entity reference; api-facts has no fact on it: correct it here).
JOB_NAME_LENGTH = 100

CAPABILITIES = Capabilities(
    batch_size=BATCH_SIZE,
    idempotency="requestid",
    idempotency_window=None,  # not documented; the sandbox keeps answers for a day
    # Not always honoured (and with custom transaction numbers a second invoice with the
    # same DocNumber is accepted): look up by number before any retry of an invoice.
    idempotency_reliable=False,
    unique_invoice_numbers=False,
    invoice_number_length=21,  # DocNumber
    unique_customer_names=True,  # 6240 Duplicate Name Exists, across customers and vendors
    change_feed=ChangeFeed.CHANGE_DATA_CAPTURE,
    change_feed_limit=1000,  # objects per entity per CDC answer
    change_feed_reach=timedelta(days=30),
    rate_limits="500 requests a minute and 10 at once per company; 40 batch requests a minute",
    void="voided: QuickBooks keeps the invoice at zero, with its number",
    invoice_statuses=("open", "paid", "voided"),
    job_references=(NOTE, CLASS, SUB_CUSTOMER),
    # No field_limits: validation's defaults (`sync.validation.LIMITS`) are QuickBooks' own.
)


class _LastResponse:
    """python-quickbooks hides the HTTP response; a session hook keeps status and headers so a
    429 (whose body may be XML) is recognised and its Retry-After honoured."""

    def __init__(self) -> None:
        self.status = 0
        self.retry_after: str | None = None

    def __call__(self, response: requests.Response, *args, **kwargs) -> requests.Response:
        self.status = response.status_code
        self.retry_after = response.headers.get("Retry-After")
        return response


class QuickBooksAdapter(ReadsRecords):
    capabilities = CAPABILITIES
    bad_record = staticmethod(lambda kind, row, error: _unreadable(kind, row, error))

    def __init__(self, connection: Connection):
        self.connection = connection
        # Records left out of reads because a value in them could not be read: the caller
        # holds them with the reason (a sync run's outcomes, a reconciliation's notes).
        self.unreadable: list[Unreadable] = []
        # Sub-customers that are jobs, by id: (parent id, name); read once, when first needed.
        self._jobs: dict[str, tuple[str, str]] | None = None
        self._classes: dict[str, str] = {}  # class ids found or created, by folded name

    def _client(self) -> tuple[QuickBooks, _LastResponse]:
        client = auth_client()
        client.access_token = access_token_for(self.connection)
        client.refresh_token = self.connection.refresh_token
        qb = QuickBooks(
            auth_client=client,
            refresh_token=self.connection.refresh_token,
            company_id=self.connection.external_id,
            minorversion=MINOR_VERSION,
            use_decimal=True,  # amounts parse as Decimal, never float
        )
        qb.api_url_v3 = quickbooks_api_base()
        last = _LastResponse()
        qb.session.hooks["response"].append(last)
        return qb, last

    def _call(
        self, describe: str, operation, *, retry_transient: bool = True, patient: bool = True
    ):
        def attempt():
            qb, last = self._client()
            try:
                return operation(qb)
            except AuthorizationException as error:
                raise retries.Unauthorised(str(error)) from error
            except QuickbooksException as error:
                if str(getattr(error, "error_code", "")) == STALE_CODE:
                    raise retries.Stale(f"QuickBooks refused: {error.message}") from error
                if last.status == 429 or getattr(error, "error_code", None) == THROTTLE_CODE:
                    raise retries.RateLimited(
                        "QuickBooks throttled", retries.parse_retry_after(last.retry_after)
                    ) from error
                if last.status >= 500:
                    raise retries.Transient(f"QuickBooks answered {last.status}") from error
                code = str(getattr(error, "error_code", "") or "")
                raise retries.ProviderError(
                    f"QuickBooks refused: {error.message}",
                    code=code,
                    detail=str(getattr(error, "detail", "") or ""),
                    refusal=REFUSALS.get(code, ""),
                ) from error
            except (requests.ConnectionError, requests.Timeout, ValueError) as error:
                # ValueError: a truncated or non-JSON body from a dropped response.
                raise retries.Transient(str(error)) from error

        return call_for_connection(
            self.connection,
            attempt,
            describe,
            retry_transient=retry_transient,
            attempts=None if patient else 1,
        )

    def record_url(self, kind: str, record_id: str) -> str:
        return quickbooks_record_url(self.connection.external_id, kind, record_id)

    def account_info(self) -> AccountInfo:
        info = self._call(
            "Reading the QuickBooks company",
            lambda qb: CompanyInfo.get(self.connection.external_id, qb=qb),
        )
        return AccountInfo(
            external_id=self.connection.external_id,
            name=getattr(info, "CompanyName", "") or "",
        )

    def books_closed_through(self) -> date | None:
        """The books' closing date (Preferences: AccountingInfoPrefs.BookCloseDate): nothing
        dated on or before it should be written. None while the books were never closed."""
        prefs = self._call("Reading the QuickBooks preferences", lambda qb: Preferences.get(qb=qb))
        accounting = getattr(prefs, "AccountingInfoPrefs", None)
        try:
            found = _date(getattr(accounting, "BookCloseDate", "") or "", "BookCloseDate")
        except BadValue as error:
            raise retries.ProviderError(
                f"QuickBooks' closing date is unreadable: {error}"
            ) from error
        return date.fromisoformat(found) if found else None

    def customers(self, cursor: str | None = None) -> Page[Customer]:
        start = int(cursor or 1)
        found = self._call(
            "Listing QuickBooks customers",
            lambda qb: QboCustomer.where(
                "Active IN (true, false)",
                order_by="Id",
                start_position=start,
                max_results=PAGE_SIZE,
                qb=qb,
            ),
        )
        # A sub-customer that is a job is the job's, not a customer of its own: its invoices
        # read as its parent's (`_under_parents`), its balance is in the parent's.
        records = self._each([c for c in found if not _is_job(c)], _customer, "customer")
        return Page(records, str(start + PAGE_SIZE) if len(found) == PAGE_SIZE else None)

    def customer_by_id(self, customer_id: str) -> Customer | None:
        """One customer (active or not), or None when QuickBooks has no such customer."""
        found = self._call(
            "Reading a QuickBooks customer",
            lambda qb: QboCustomer.where(
                f"Id = '{_quoted(customer_id)}' AND Active IN (true, false)", qb=qb
            ),
        )
        parsed = self._each(found, _customer, "customer")
        return parsed[0] if parsed else None

    def customers_changed_since(self, since: datetime) -> list[Customer]:
        """Customers created or changed after `since` (QBO's change data capture)."""
        found = self._call(
            "Reading changed QuickBooks customers",
            lambda qb: change_data_capture([QboCustomer], since, qb=qb),
        )
        response = getattr(found, "Customer", None)
        changed = [c for c in (response._object_list if response else []) if not _is_job(c)]
        return self._each(changed, _customer, "customer")

    def customers_named(self, display_name: str) -> list[Customer]:
        """Customers (active or not) whose display name is `display_name`, ignoring case."""
        # LIKE ignores case, as QuickBooks' unique names do (= does not); a % in the name
        # is a wildcard there, so the answer is narrowed to the name itself here.
        found = self._call(
            "Looking up a QuickBooks customer by name",
            lambda qb: QboCustomer.where(
                f"DisplayName LIKE '{_quoted(display_name)}' AND Active IN (true, false)", qb=qb
            ),
        )
        wanted = display_name.casefold()
        parsed = self._each(found, _customer, "customer")
        return [c for c in parsed if c.display_name.casefold() == wanted]

    def write_customers(
        self, writes: Iterable[tuple[str, Mapping[str, str], Customer | None]], request_id: str
    ) -> list[WriteResult]:
        """Create (no current customer) or sparse-update customers in one batch request of at
        most 30. `request_id` makes a retried batch replay the first answer, not write twice."""
        items, keys = [], []
        for key, values, current in writes:
            body = customer_body(values, current)
            if current is None:
                items.append({"bId": key, "operation": "create", "Customer": body})
            else:
                body |= {"Id": current.external_id, "SyncToken": current.version, "sparse": True}
                items.append({"bId": key, "operation": "update", "Customer": body})
            keys.append(key)
        return self._batch("customers", "Customer", items, keys, request_id)

    def _batch(
        self,
        what: str,
        entity: str,
        items: list[dict],
        keys: list[str],
        request_id: str,
        *,
        repeatable: bool = True,
    ) -> list[WriteResult]:
        """One batch request of at most 30 items; each item's result by its key.

        `repeatable=False`: a failure that may have come after QuickBooks committed is not
        retried here (the caller looks for what landed first)."""
        if len(items) > BATCH_SIZE:
            raise ValueError(f"at most {BATCH_SIZE} {what} per batch, not {len(items)}")
        if not items:
            return []
        answer = self._call(
            f"Writing QuickBooks {what}",
            lambda qb: qb.make_request(
                "POST",
                f"{qb.api_url}/company/{qb.company_id}/batch",
                json.dumps({"BatchItemRequest": items}, default=str),
                request_id=request_id,
            ),
            retry_transient=repeatable,
        )
        by_key = {item.get("bId"): item for item in answer.get("BatchItemResponse", [])}
        return [_write_result(key, by_key.get(key), entity) for key in keys]

    def _query(self, describe: str, text: str, *, patient: bool = True) -> list[dict]:
        """Every row of a query, page by page, as QuickBooks' JSON."""
        rows: list[dict] = []
        start = 1
        while True:
            paged = f"{text} STARTPOSITION {start} MAXRESULTS {PAGE_SIZE}"
            answer = self._call(describe, lambda qb, q=paged: qb.query(q), patient=patient)
            found = next(iter((answer.get("QueryResponse") or {}).values()), [])
            found = found if isinstance(found, list) else []
            rows.extend(found)
            if len(found) < PAGE_SIZE:
                return rows
            start += PAGE_SIZE

    def items(self, *, patient: bool = True) -> list[Item]:
        rows = self._query("Listing QuickBooks items", "SELECT * FROM Item", patient=patient)
        return [_item(r) for r in rows]

    def tracking_categories(self, *, patient: bool = True) -> list[str]:
        return []  # QuickBooks files jobs as classes or sub-customers, not categories

    def income_accounts(self, *, patient: bool = True) -> list[LedgerAccount]:
        """The books' active income accounts, by name. `patient=False` tries once (a page
        showing them answers now, saying why when QuickBooks cannot be read)."""
        rows = self._query(
            "Listing QuickBooks income accounts",
            "SELECT * FROM Account WHERE AccountType = 'Income'",
            patient=patient,
        )
        accounts = self._each(rows, _ledger_account, "account")
        return sorted(accounts, key=lambda a: a.name.casefold())

    def income_account(self, name: str) -> str | None:
        """The id of the income account called `name`, or None when the books have none:
        products are never created in an account nobody chose."""
        named = [a for a in self.income_accounts() if a.name.casefold() == name.casefold()]
        return named[0].external_id if named else None

    def create_items(
        self, wanted: list[tuple[str, str]], income_account_id: str, request_id: str
    ) -> list[WriteResult]:
        """Service items for (name, sku) pairs, in the given income account."""
        items, keys = [], []
        for name, sku in wanted:
            body = {
                "Name": name[:100],
                "Type": "Service",
                "IncomeAccountRef": {"value": income_account_id},
            }
            if sku:
                body["Sku"] = sku[:100]
            items.append({"bId": name, "operation": "create", "Item": body})
            keys.append(name)
        return self._batch("items", "Item", items, keys, request_id)

    def create_invoices(self, drafts: list, request_id: str) -> list[WriteResult]:
        """Invoices from drafts (`sync.invoicing.InvoiceDraft`), one batch of at most 30,
        keyed by deal id; each filed under its job's class or sub-customer (found or created
        first) where the draft says so. One whose job cannot be filed is refused, not sent."""
        filed, refused = {}, {}
        for d in drafts:
            try:
                filed[d.deal_id] = self._file_job(d.job, d.customer_id) if d.job else {}
            except retries.ProviderError as error:
                refused[d.deal_id] = WriteResult(
                    d.deal_id,
                    error_code=error.code or "job",
                    error=f"it could not be filed under job #{d.job.number}: {error}",
                )
        sent = [d for d in drafts if d.deal_id not in refused]
        items = [
            {"bId": d.deal_id, "operation": "create", "Invoice": invoice_body(d, filed[d.deal_id])}
            for d in sent
        ]
        # Not repeated blindly: with custom transaction numbers on, QuickBooks accepts a
        # second invoice with the same number, and its requestid is not always honoured.
        results = self._batch(
            "invoices", "Invoice", items, [d.deal_id for d in sent], request_id, repeatable=False
        )
        answered = {r.key: r for r in results} | refused
        return [answered[d.deal_id] for d in drafts]

    # -- jobs: a class or a sub-customer per job ---------------------------------------
    def _file_job(self, job: JobFiling, customer_id: str) -> dict:
        """What an invoice of `job` carries to be filed under it: a ClassRef on its lines
        or a sub-customer of `customer_id` for its customer ({} where the note does)."""
        if job.kind == CLASS:
            return {"ClassRef": {"value": self._job_class(job)}}
        if job.kind == SUB_CUSTOMER:
            return {"CustomerRef": {"value": self._job_customer(job, customer_id)}}
        return {}

    def _job_class(self, job: JobFiling) -> str:
        """The id of job `job.number`'s class, whatever title it was first given, created
        when there is none and made active again when the bookkeeper had retired it. Safe
        to repeat: looked for first, created with a requestid, and a name taken (6240: a
        create whose answer was lost) is looked for again."""
        key = job.number.casefold()
        if key in self._classes:
            return self._classes[key]
        found = self._job_rows("Class", "Name", job.number)
        if not found:
            name = job.name(JOB_NAME_LENGTH)
            found = self._create_named(
                "class", {"Name": name}, lambda: self._job_rows("Class", "Name", job.number)
            )
        self._classes[key] = self._active("class", found[0])
        return self._classes[key]

    def _job_customer(self, job: JobFiling, parent_id: str) -> str:
        """The id of job `job.number`'s sub-customer under customer `parent_id`, found,
        created or made active again as a class is. The name taken by another customer is
        refused: its invoices would move another customer's balance."""
        name = job.name(JOB_NAME_LENGTH)

        def under_parent() -> list[dict]:
            found = self._job_rows("Customer", "DisplayName", job.number)
            mine = [r for r in found if _parent_of(r) == parent_id]
            if not mine and any(
                str(r.get("DisplayName", "")).casefold() == name.casefold() for r in found
            ):
                raise retries.ProviderError(
                    f"the name {name!r} is taken by another QuickBooks customer",
                    refusal=Refusal.NAME_TAKEN,
                )
            return mine

        found = under_parent()
        if not found:
            body = {"DisplayName": name, "ParentRef": {"value": parent_id}, "Job": True,
                    "BillWithParent": True}  # fmt: skip
            found = self._create_named("customer", body, under_parent)
        job_id = self._active("customer", found[0])
        if self._jobs is not None:
            self._jobs[job_id] = (parent_id, str(found[0].get("DisplayName") or name))
        return job_id

    def _job_rows(self, entity: str, field: str, number: str) -> list[dict]:
        """`entity` rows named for job `number` ("Job #57", "Job #57 - any title"), active
        ones first, inactive ones too (LIKE narrowed here: a % in the name is a wildcard)."""
        rows = self._query(
            f"Looking up a job's QuickBooks {entity.lower()}",
            f"SELECT * FROM {entity} WHERE {field} LIKE 'Job #{_quoted(number)}%' "  # noqa: S608
            "AND Active IN (true, false)",
        )
        mine = [r for r in rows if names_job(str(r.get(field, "")), number)]
        return sorted(mine, key=lambda r: r.get("Active") is False)

    def _active(self, entity: str, row: dict) -> str:
        """The row's id, after making it active again if the bookkeeper made it inactive:
        the job's revenue stays under its one class or sub-customer."""
        if row.get("Active") is False:
            body = {"Id": row["Id"], "SyncToken": row.get("SyncToken", "0"), "sparse": True,
                    "Active": True}  # fmt: skip
            if entity == "class":
                body["Name"] = row.get("Name")
            self._post(entity, body, f"Making the job's QuickBooks {entity} active again")
        return str(row["Id"])

    def _create_named(self, entity: str, body: dict, look: Callable[[], list[dict]]) -> list:
        """Create a name-list entry; a name taken (ours, created by an answer that was lost)
        is found by `look`."""
        request_id = "job-" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        try:
            answer = self._call(
                f"Creating a QuickBooks {entity}",
                lambda qb: qb.make_request(
                    "POST",
                    f"{qb.api_url}/company/{qb.company_id}/{entity}",
                    json.dumps(body),
                    request_id=request_id[:50],
                ),
            )
        except retries.ProviderError as error:
            if error.refusal != Refusal.NAME_TAKEN or not (found := look()):
                raise
            return found
        created = answer.get(entity.capitalize()) or {}
        return [created] if created.get("Id") else look()

    def _answered_invoice(self, answer: dict) -> Invoice:
        row = answer.get("Invoice") or {}
        return self._under_parents([self._one(row, _invoice, "invoice")], [row])[0]

    def _job_customers(self) -> dict[str, tuple[str, str]]:
        if self._jobs is None:
            rows = self._query(
                "Listing QuickBooks sub-customers",
                "SELECT * FROM Customer WHERE Job = true AND Active IN (true, false)",
            )
            self._jobs = {str(r.get("Id")): (_parent_of(r), str(r.get("DisplayName") or ""))
                          for r in rows if _parent_of(r)}  # fmt: skip
        return self._jobs

    def _under_parents[T: (Invoice, CreditMemo, Payment)](
        self, records: list[T], rows: list | None = None
    ) -> list[T]:
        """Records on a job sub-customer read as its top-level customer's (the CRM client's
        customer, whose balance holds its jobs'), filed under the job by its name unless a
        class on its lines says another; a payment's too (money on a job is its customer's).
        With the `rows` they were read from, the sub-customers are looked up only when one
        of them names one (`_on_sub_customer`)."""
        if not records or (rows is not None and not any(map(_on_sub_customer, rows))):
            return records
        jobs, out = self._job_customers(), []
        for record in records:
            job = jobs.get(record.customer_id)
            if job is None:
                out.append(record)
                continue
            top, seen = record.customer_id, set()
            while top in jobs and top not in seen:  # a job under a job: the top customer
                seen.add(top)
                top = jobs[top][0]
            filed = {"job": record.job or job[1]} if hasattr(record, "job") else {}
            out.append(replace(record, customer_id=top, **filed))
        return out

    def invoices_numbered(self, doc_numbers: list[str]) -> list[Invoice]:
        """Invoices carrying any of these DocNumbers (the deal reference): the look before
        a retry whose first outcome is unknown."""
        found: list[Invoice] = []
        for start in range(0, len(doc_numbers), 100):
            quoted = ", ".join(f"'{_quoted(n)}'" for n in doc_numbers[start : start + 100])
            rows = self._query(
                "Looking up QuickBooks invoices by number",
                f"SELECT * FROM Invoice WHERE DocNumber IN ({quoted})",  # noqa: S608 - quoted
            )
            found.extend(self._under_parents(self._each(rows, _invoice, "invoice"), rows))
        return found

    def invoices_by_id(self, ids: list[str]) -> list[Invoice]:
        found: list[Invoice] = []
        for start in range(0, len(ids), 100):
            quoted = ", ".join(f"'{_quoted(i)}'" for i in ids[start : start + 100])
            text = f"SELECT * FROM Invoice WHERE Id IN ({quoted})"  # noqa: S608 - quoted
            rows = self._query("Reading QuickBooks invoices", text)
            found.extend(self._under_parents(self._each(rows, _invoice, "invoice"), rows))
        return found

    def all_invoices(self) -> list[Invoice]:
        rows = self._query("Listing QuickBooks invoices", "SELECT * FROM Invoice")
        return self._under_parents(self._each(rows, _invoice, "invoice"), rows)

    def void_invoice(self, invoice_id: str) -> Invoice:
        """Void an invoice (QuickBooks keeps it, at zero). Voiding one already void is a
        no-op here: it is read first, so a repeated approval writes nothing."""
        current = self.invoices_by_id([invoice_id])
        if not current:
            raise retries.ProviderError(f"QuickBooks has no invoice {invoice_id}")
        if current[0].voided:
            return current[0]
        body = json.dumps({"Id": invoice_id, "SyncToken": current[0].version})
        answer = self._call(
            f"Voiding QuickBooks invoice {invoice_id}",
            lambda qb: qb.make_request(
                "POST",
                f"{qb.api_url}/company/{qb.company_id}/invoice",
                body,
                params={"operation": "void"},
            ),
            retry_transient=False,
        )
        return self._answered_invoice(answer)

    def add_invoice_lines(self, invoice_id: str, lines: list) -> Invoice:
        """Append lines (`sync.invoicing.DraftLine`) to an invoice, keeping its own."""
        current = self._invoice_as_stored(invoice_id)
        kept = [
            line
            for line in current.get("Line", [])
            if line.get("DetailType") != "SubTotalLineDetail"
        ]
        return self._sparse_invoice_update(
            f"Adding lines to QuickBooks invoice {invoice_id}",
            invoice_id,
            current.get("SyncToken", "0"),
            kept + _with_class(current, [_line_body(line) for line in lines]),
        )

    def replace_invoice_lines(self, invoice_id: str, version: str, lines: list) -> Invoice:
        """Set an invoice's sales lines to exactly these (`sync.invoicing.DraftLine`) by a
        sparse update, keeping the lines it holds of other kinds (a discount, a note).
        Refused with `retries.Stale` when the invoice changed since `version` was read.
        Sent once: an unknown outcome is settled by reading the invoice again."""
        current = self._invoice_as_stored(invoice_id)
        if str(current.get("SyncToken", "")) != str(version):
            raise retries.Stale(f"invoice {invoice_id} changed in QuickBooks since it was read")
        others = [
            line
            for line in current.get("Line", [])
            if line.get("DetailType") not in ("SalesItemLineDetail", "SubTotalLineDetail")
        ]
        return self._sparse_invoice_update(
            f"Updating the lines of QuickBooks invoice {invoice_id}",
            invoice_id,
            version,
            _with_class(current, [_line_body(line) for line in lines]) + others,
        )

    def _invoice_as_stored(self, invoice_id: str) -> dict:
        """The invoice as QuickBooks holds it (raw JSON: its lines are sent back as they are)."""
        rows = self._query(
            "Reading a QuickBooks invoice",
            f"SELECT * FROM Invoice WHERE Id = '{_quoted(invoice_id)}'",  # noqa: S608 - quoted
        )
        if not rows:
            raise retries.ProviderError(f"QuickBooks has no invoice {invoice_id}")
        return rows[0]

    def _sparse_invoice_update(
        self, doing: str, invoice_id: str, version: str, lines: list
    ) -> Invoice:
        """A sparse update of an invoice's lines, sent once (no retry: the caller settles an
        unknown outcome by reading it again)."""
        body = {"Id": invoice_id, "SyncToken": version, "sparse": True, "Line": lines}
        answer = self._call(
            doing,
            lambda qb: qb.make_request(
                "POST",
                f"{qb.api_url}/company/{qb.company_id}/invoice",
                json.dumps(body, default=str),
            ),
            retry_transient=False,
        )
        return self._answered_invoice(answer)

    def receivable(self) -> Decimal:
        """Accounts receivable: what customers owe on open invoices."""
        return sum((i.balance.amount for i in self.all_invoices() if not i.voided), Decimal(0))

    def credit_memos(self) -> list[CreditMemo]:
        rows = self._query("Listing QuickBooks credit memos", "SELECT * FROM CreditMemo")
        return self._under_parents(self._each(rows, _credit_memo, "credit memo"), rows)

    def credit_memos_by_id(self, ids: list[str]) -> list[CreditMemo]:
        return self._under_parents(self._by_id("CreditMemo", ids, _credit_memo, "credit memo"))

    def payments(self) -> list[Payment]:
        """Every payment received, with what is left unapplied on each (UnappliedAmt)."""
        rows = self._query("Listing QuickBooks payments", "SELECT * FROM Payment")
        return self._under_parents(self._each(rows, _received, "payment"), rows)

    def payments_by_id(self, ids: list[str]) -> list[Payment]:
        return self._under_parents(self._by_id("Payment", ids, _received, "payment"))

    def _by_id[T](self, entity: str, ids: list[str], parse: Callable[[dict], T], kind: str):
        found: list[T] = []
        for start in range(0, len(ids), 100):
            quoted = ", ".join(f"'{_quoted(i)}'" for i in ids[start : start + 100])
            text = f"SELECT * FROM {entity} WHERE Id IN ({quoted})"  # noqa: S608 - quoted
            rows = self._query(f"Reading QuickBooks {kind}s", text)
            found.extend(self._each(rows, parse, kind))
        return found

    def all_customers(self) -> list[Customer]:
        """Every customer, active or not, page by page (with its balance)."""
        found, cursor = [], None
        while True:
            page = self.customers(cursor)
            found.extend(page.records)
            if not (cursor := page.next_cursor):
                return found

    def open_transactions(self, customer_id: str) -> tuple[list[Invoice], list[Payment], list]:
        """One customer's open invoices, payments with money unapplied, and credit memos with
        credit left: what must move before it can be made inactive."""
        where = f"WHERE CustomerRef = '{_quoted(customer_id)}'"
        invoices = self._each(
            self._query("Reading a customer's invoices", f"SELECT * FROM Invoice {where}"),  # noqa: S608 - quoted
            _invoice, "invoice",
        )  # fmt: skip
        payments = self._each(
            self._query("Reading a customer's payments", f"SELECT * FROM Payment {where}"),  # noqa: S608 - quoted
            _received, "payment",
        )  # fmt: skip
        credits = self._each(
            self._query("Reading a customer's credit memos", f"SELECT * FROM CreditMemo {where}"),  # noqa: S608 - quoted
            _credit_memo, "credit memo",
        )  # fmt: skip
        return (
            [i for i in invoices if not i.voided and i.balance.amount > 0],
            [p for p in payments if p.unapplied > 0],
            [c for c in credits if c.remaining is not None and c.remaining > 0],
        )

    def make_customer_inactive(self, customer_id: str) -> Customer:
        """Make a customer inactive (QuickBooks keeps it, and its history). Read first: one
        inactive already is left as it is, so a repeated approval writes nothing. Sent once,
        with its SyncToken: a customer changed meanwhile is refused, not overwritten."""
        current = self.customer_by_id(customer_id)
        if current is None:
            raise retries.ProviderError(f"QuickBooks has no customer {customer_id}")
        if not current.active:
            return current
        body = {"Id": customer_id, "SyncToken": current.version, "sparse": True, "Active": False}
        answer = self._post("customer", body, f"Making QuickBooks customer {customer_id} inactive")
        return self._one(answer.get("Customer") or {}, _customer_json, "customer")

    def apply_payment(self, payment_id: str, invoice_id: str, amount: Decimal) -> None:
        """Apply `amount` of a payment's unapplied money to an invoice: a line linking the
        invoice is added to the payment, its own lines kept (a sparse update replaces them
        all). Its SyncToken goes along, so a payment changed meanwhile is refused."""
        rows = self._query(
            "Reading a QuickBooks payment",
            f"SELECT * FROM Payment WHERE Id = '{_quoted(payment_id)}'",  # noqa: S608 - quoted
        )
        if not rows:
            raise retries.ProviderError(f"QuickBooks has no payment {payment_id}")
        current = rows[0]
        link = {"TxnId": invoice_id, "TxnType": "Invoice"}
        body = {
            "Id": payment_id,
            "SyncToken": current.get("SyncToken", "0"),
            "sparse": True,
            "CustomerRef": current.get("CustomerRef"),
            "TotalAmt": str(current.get("TotalAmt", "0")),
            "Line": [*current.get("Line", []), {"Amount": str(amount), "LinkedTxn": [link]}],
        }
        self._post("payment", body, f"Applying QuickBooks payment {payment_id}")

    def apply_credit_memo(self, credit_id: str, invoice_id: str, amount: Decimal) -> None:
        """Apply `amount` of a credit memo to an invoice the way QuickBooks records it: a
        payment of nothing that uses the credit and pays the invoice with it."""
        memos = self.credit_memos_by_id([credit_id])
        if not memos:
            raise retries.ProviderError(f"QuickBooks has no credit memo {credit_id}")
        body = {
            "CustomerRef": {"value": memos[0].customer_id},
            "TotalAmt": "0.00",
            "PrivateNote": f"Credit memo {credit_id} applied to invoice {invoice_id} by syncfirm",
            "Line": [
                {"Amount": str(amount), "LinkedTxn": [{"TxnId": doc_id, "TxnType": kind}]}
                for kind, doc_id in (("Invoice", invoice_id), ("CreditMemo", credit_id))
            ],
        }
        self._post("payment", body, f"Applying QuickBooks credit memo {credit_id}")

    def record_payment(self, payment: NewPayment, request_id: str) -> WriteResult:
        """A payment received and applied to one invoice, with its source in the note (the
        look before a retry finds it there). QuickBooks deposits it to Undeposited Funds
        when no account is named, where the bookkeeper matches it to the bank deposit."""
        amount = str(payment.amount.amount)
        link = {"TxnId": payment.invoice_id, "TxnType": "Invoice"}
        # The invoice's own customer: a job's sub-customer when jobs are filed that way (a
        # payment's customer must be the invoice's; `Invoice.customer_id` reads the parent).
        rows = self._query(
            "Reading the QuickBooks invoice a payment is for",
            f"SELECT * FROM Invoice WHERE Id = '{_quoted(payment.invoice_id)}'",  # noqa: S608
        )
        customer = (rows[0].get("CustomerRef") or {}).get("value") if rows else None
        body = {
            "CustomerRef": {"value": customer or payment.customer_id},
            "TotalAmt": amount,
            "TxnDate": payment.paid_on,
            "PrivateNote": payment.reference,
            "CurrencyRef": {"value": payment.amount.currency},
            "Line": [{"Amount": amount, "LinkedTxn": [link]}],
        }
        item = {"bId": payment.invoice_id, "operation": "create", "Payment": body}
        # Sent once: requestid is not always honoured, and a second payment would pay twice.
        return self._batch(
            "payments", "Payment", [item], [payment.invoice_id], request_id, repeatable=False
        )[0]

    def payments_of_invoice(self, invoice_id: str) -> list[PaymentInfo]:
        """The payments linked to an invoice (its LinkedTxn), each with its note."""
        rows = self._query(
            "Reading a QuickBooks invoice's payments",
            f"SELECT * FROM Invoice WHERE Id = '{_quoted(invoice_id)}'",  # noqa: S608 - quoted
        )
        ids = [
            str(link.get("TxnId"))
            for row in rows[:1]
            for link in _list(row.get("LinkedTxn"), "LinkedTxn")
            if isinstance(link, dict) and link.get("TxnType") == "Payment"
        ]
        return self._by_id("Payment", ids, _payment, "payment") if ids else []

    def _post(self, entity: str, body: dict, describe: str) -> dict:
        # Never repeated blindly: a write that landed before a dropped answer would apply
        # the money twice. The caller reads what landed instead.
        return self._call(
            describe,
            lambda qb: qb.make_request(
                "POST",
                f"{qb.api_url}/company/{qb.company_id}/{entity}",
                json.dumps(body, default=str),
            ),
            retry_transient=False,
        )

    def money_changed_since(self, since: datetime) -> tuple[list[Invoice], list[PaymentInfo]]:
        """Invoices, payments and credit memos changed after `since` (one CDC call)."""
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "Z"
        answer = self._call(
            "Reading changed QuickBooks invoices and payments",
            lambda qb: qb.change_data_capture("Invoice,Payment,CreditMemo", stamp),
        )
        invoices, payments = [], []
        for response in (answer.get("CDCResponse") or [{}])[0].get("QueryResponse", []):
            rows = response.get("Invoice", [])
            invoices.extend(self._under_parents(self._each(rows, _invoice, "invoice"), rows))
            payments.extend(self._each(response.get("Payment", []), _payment, "payment"))
            payments.extend(
                self._each(response.get("CreditMemo", []), _credit_applied, "credit memo")
            )
        return invoices, payments


def _line_body(line) -> dict:
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": str(line.amount),
        "Description": line.description,
        "SalesItemLineDetail": {
            "ItemRef": {"value": line.item_id},
            "Qty": str(line.quantity),
            "UnitPrice": str(line.unit_price),
            **({"ServiceDate": line.service_date} if line.service_date else {}),
            **({"TaxCodeRef": {"value": line.tax_code}} if line.tax_code else {}),
        },
    }


def invoice_body(draft, filed: Mapping | None = None) -> dict:
    """The Invoice JSON of a draft; `filed`: its job's ClassRef (on each line) or its job
    sub-customer's CustomerRef (`QuickBooksAdapter._file_job`)."""
    filed = filed or {}
    lines = [_line_body(line) for line in draft.lines]
    if "ClassRef" in filed:
        for line in lines:
            line["SalesItemLineDetail"]["ClassRef"] = filed["ClassRef"]
    return {
        "CustomerRef": filed.get("CustomerRef") or {"value": draft.customer_id},
        "DocNumber": draft.doc_number,
        "TxnDate": draft.txn_date.isoformat(),
        "DueDate": draft.due_date.isoformat(),
        "PrivateNote": draft.private_note,
        "CurrencyRef": {"value": draft.currency},
        "Line": lines,
    }


def _list(value: object, field: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadValue(field, "", "is not a list")
    return value


def _id(value: object, field: str = "Id") -> str:
    """QuickBooks ids are strings (a number is read as its digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not -(10**64) < value < 10**64:  # no id is this long; str() of 4,300+ digits raises
            raise BadValue(field, "", "is a number too long to be an id")
        return str(value)
    return text(value, field)


def _ref(row: dict, name: str) -> str:
    return _id(_dict(row.get(name), name).get("value"), name)


def _date(value: object, field: str) -> str:
    """A QuickBooks date (YYYY-MM-DD), blank when missing."""
    found = text(value, field)
    if found and not _ISO_DATE.fullmatch(found):
        raise BadValue(field, repr(found[:40]), "is not a date")
    if found:
        try:
            date.fromisoformat(found)
        except ValueError as error:
            raise BadValue(field, repr(found), "is not a date") from error
    return found


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _invoice(row: dict) -> Invoice:
    """A QuickBooks invoice as sync and reconciliation read it, or BadValue."""
    row = _dict(row, "invoice")
    currency = text(_dict(row.get("CurrencyRef"), "CurrencyRef").get("value"), "currency")
    lines = []
    for line in _list(row.get("Line"), "Line"):
        line = _dict(line, "Line")
        if line.get("DetailType") != "SalesItemLineDetail":
            continue
        detail = _dict(line.get("SalesItemLineDetail"), "SalesItemLineDetail")
        lines.append(
            InvoiceLine(
                _ref(detail, "ItemRef"),
                quickbooks_number(detail.get("Qty"), "quantity", default=ZERO),
                quickbooks_number(detail.get("UnitPrice"), "unit price", default=ZERO),
                quickbooks_number(line.get("Amount"), "line amount", default=ZERO),
                text(line.get("Description"), "Description"),
            )
        )
    note = text(row.get("PrivateNote"), "PrivateNote")
    total = quickbooks_number(row.get("TotalAmt"), "total", default=ZERO)
    return Invoice(
        external_id=_id(row.get("Id", "")),
        doc_number=text(row.get("DocNumber"), "DocNumber"),
        customer_id=_ref(row, "CustomerRef"),
        total=Money(total, currency),
        balance=Money(quickbooks_number(row.get("Balance"), "balance", default=ZERO), currency),
        txn_date=_date(row.get("TxnDate"), "TxnDate"),
        due_date=_date(row.get("DueDate"), "DueDate"),
        lines=tuple(lines),
        private_note=note,
        voided="Voided" in note and total == 0,
        job=_class_of(row),
        version=_id(row.get("SyncToken", ""), "SyncToken"),
        updated_at=_parsed_time(_dict(row.get("MetaData"), "MetaData").get("LastUpdatedTime")),
    )


def _credit_memo(row: dict) -> CreditMemo:
    row = _dict(row, "credit memo")
    total = quickbooks_number(row.get("TotalAmt"), "total", default=ZERO)
    note = text(row.get("PrivateNote"), "PrivateNote")
    return CreditMemo(
        _id(row.get("Id", "")),
        _ref(row, "CustomerRef"),
        _date(row.get("TxnDate"), "TxnDate"),
        total,
        _deal_named(note),
        # Unknown as the whole credit: a memo QuickBooks says nothing of is unused.
        quickbooks_number(row.get("RemainingCredit"), "remaining credit", default=total),
        note,
        job=_class_of(row),
    )


def _class_of(row: dict) -> str:
    """The class the document's sales lines are filed under (its full name, "" for none):
    the first line's that has one."""
    for line in _list(row.get("Line"), "Line"):
        detail = _dict(_dict(line, "Line").get("SalesItemLineDetail"), "SalesItemLineDetail")
        ref = _dict(detail.get("ClassRef"), "ClassRef")
        if ref.get("value"):
            return text(ref.get("name"), "ClassRef")
    return ""


def _with_class(current: dict, lines: list[dict]) -> list[dict]:
    """New sales lines filed under the class the invoice's lines already are: a change to
    its lines keeps the invoice under its job."""
    for line in current.get("Line", []):
        ref = (line.get("SalesItemLineDetail") or {}).get("ClassRef")
        if ref:
            for new in lines:
                new["SalesItemLineDetail"].setdefault("ClassRef", ref)
            break
    return lines


def _on_sub_customer(row: object) -> bool:
    """Whether a document's CustomerRef names a sub-customer: QuickBooks names the customer
    by its full name, "Parent:Child" (as the emulator does; the exact name on a ref is not
    in api-facts: if it proves to be the DisplayName alone, this must always say True)."""
    ref = row.get("CustomerRef") if isinstance(row, dict) else None
    return not isinstance(ref, dict) or ":" in str(ref.get("name", ":"))


def _parent_of(row: dict) -> str:
    """The parent customer's id of a sub-customer that is a job, else ""."""
    if row.get("Job") not in (True, "true"):
        return ""
    return text(_dict(row.get("ParentRef"), "ParentRef").get("value"), "ParentRef")


def _is_job(c: QboCustomer) -> bool:
    return bool(getattr(c, "Job", False)) and bool(getattr(c.ParentRef, "value", None))


def _received(row: dict) -> Payment:
    row = _dict(row, "payment")
    currency = text(_dict(row.get("CurrencyRef"), "CurrencyRef").get("value"), "currency")
    total = quickbooks_number(row.get("TotalAmt"), "total", default=ZERO)
    return Payment(
        _id(row.get("Id", "")),
        _ref(row, "CustomerRef"),
        _date(row.get("TxnDate"), "TxnDate"),
        Money(total, currency),
        quickbooks_number(row.get("UnappliedAmt"), "unapplied amount", default=ZERO),
    )


def _deal_named(note: str) -> str:
    # The reference sync writes ("HubSpot deal 1203"; `sync.invoicing.DEAL_REFERENCE`).
    found = re.search(r"\w+ deal (\d+)", note or "")
    return found.group(1) if found else ""


def _payment(row: dict, kind: str = "Payment") -> PaymentInfo:
    """A payment (or credit memo) and what it applies to each invoice, or BadValue."""
    row = _dict(row, kind)
    applied = []
    for line in _list(row.get("Line"), "Line"):
        line = _dict(line, "Line")
        for link in _list(line.get("LinkedTxn"), "LinkedTxn"):
            link = _dict(link, "LinkedTxn")
            if link.get("TxnType") == "Invoice":
                amount = quickbooks_number(line.get("Amount"), "amount applied", default=ZERO)
                applied.append((_id(link.get("TxnId"), "TxnId"), amount))
    return PaymentInfo(
        _id(row.get("Id", "")),
        kind,
        _date(row.get("TxnDate"), "TxnDate"),
        tuple(applied),
        _parsed_time(_dict(row.get("MetaData"), "MetaData").get("LastUpdatedTime")),
        # The check or reference number first, then the note (syncfirm's marker is there).
        reference=" ".join(
            filter(None, (text(row.get(f), f) for f in ("PaymentRefNum", "PrivateNote")))
        ),
        currency=text(_dict(row.get("CurrencyRef"), "CurrencyRef").get("value"), "currency"),
        received=quickbooks_number(row.get("TotalAmt"), "TotalAmt", default=ZERO)
        if kind == "Payment"
        else None,
        deleted=row.get("status") == "Deleted" or "Voided" in str(row.get("PrivateNote") or ""),
    )


def _credit_applied(row: dict) -> PaymentInfo:
    return _payment(row, "CreditMemo")


def _ledger_account(row: dict) -> LedgerAccount:
    return LedgerAccount(
        _id(row.get("Id")),
        text(row.get("Name"), "Name"),
        clean_text(row.get("AccountType")),
        clean_text(row.get("AccountSubType")),
        bool(row.get("Active", True)),
    )


def _item(row: dict) -> Item:
    """Every item is kept, its text made text: one left out would be created again."""
    return Item(
        clean_text(row.get("Id")),
        clean_text(row.get("Name")),
        clean_text(row.get("Sku")),
        bool(row.get("Active", True)),
        bool(row.get("Taxable", True)),
    )


def _unreadable(kind: str, row: object, error: BadValue) -> Unreadable:
    """What a person needs to find the record: its id and number, when those are text."""
    fields = row if isinstance(row, dict) else getattr(row, "__dict__", {})
    try:
        external_id = _id(fields.get("Id", ""))
    except BadValue:
        external_id = "?"
    number = fields.get("DocNumber") or fields.get("DisplayName") or ""
    return Unreadable(
        kind, external_id, str(error), text(number, "")[:40] if isinstance(number, str) else ""
    )


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def customer_body(values: Mapping[str, str], current: Customer | None = None) -> dict:
    """Mapped customer fields → the QuickBooks Customer JSON that carries them."""
    body: dict = {}
    simple = {
        "display_name": "DisplayName",
        "company_name": "CompanyName",
        "given_name": "GivenName",
        "family_name": "FamilyName",
        "notes": "Notes",
        "tax_id": "PrimaryTaxIdentifier",
    }
    for name, element in simple.items():
        if name in values:
            body[element] = values[name]
    if "email" in values:
        body["PrimaryEmailAddr"] = {"Address": values["email"]}
    if "phone" in values:
        body["PrimaryPhone"] = {"FreeFormNumber": values["phone"]}
    address = {
        "Line1": "line1",
        "City": "city",
        "CountrySubDivisionCode": "region",
        "PostalCode": "postal_code",
        "Country": "country",
    }
    if (whole := address_to_write(values, current)) is not None:
        body["BillAddr"] = {el: whole[name] for el, name in address.items()}
    return body


# QuickBooks' error codes → what the engine does about a refused record.
REFUSALS = {
    "6240": Refusal.NAME_TAKEN,  # Duplicate Name Exists
    "6140": Refusal.NUMBER_TAKEN,  # Duplicate Document Number (when the company checks)
    STALE_CODE: Refusal.STALE,
    "610": Refusal.NOT_FOUND,  # Object Not Found (deleted or inactive)
    "2500": Refusal.NOT_FOUND,  # Invalid Reference Id: a customer or item that is gone
    "2020": Refusal.INVALID,  # Required param missing
    "2050": Refusal.INVALID,  # string too long
}


def _write_result(key: str, item: dict | None, entity: str = "Customer") -> WriteResult:
    if item is None:
        return WriteResult(key, error_code="missing", error="QuickBooks returned no answer for it")
    if "Fault" in item:
        error = (item["Fault"].get("Error") or [{}])[0]
        detail = error.get("Detail") or error.get("Message") or "refused"
        code = str(error.get("code", ""))
        refusal = REFUSALS.get(code, Refusal.OTHER)
        return WriteResult(key, error_code=code, error=detail.strip(), refusal=refusal)
    written = item.get(entity) or {}
    return WriteResult(key, str(written.get("Id", "")), str(written.get("SyncToken", "")))


def _customer(c: QboCustomer) -> Customer:
    """A QuickBooks customer as sync reads it, or BadValue (text where text belongs)."""
    address = c.BillAddr
    currency = text(getattr(c.CurrencyRef, "value", None), "currency") if c.CurrencyRef else ""
    tax_id = text(getattr(c, "PrimaryTaxIdentifier", None), "PrimaryTaxIdentifier")
    meta = getattr(c, "MetaData", None)
    return Customer(
        external_id=_id(c.Id),
        display_name=text(c.DisplayName, "DisplayName"),
        company_name=text(c.CompanyName, "CompanyName"),
        given_name=text(c.GivenName, "GivenName"),
        family_name=text(c.FamilyName, "FamilyName"),
        email=text(c.PrimaryEmailAddr.Address, "email") if c.PrimaryEmailAddr else "",
        phone=text(c.PrimaryPhone.FreeFormNumber, "phone") if c.PrimaryPhone else "",
        billing_address=Address(
            line1=text(address.Line1, "address"),
            line2=text(address.Line2, "address"),
            city=text(address.City, "city"),
            region=text(address.CountrySubDivisionCode, "region"),
            postal_code=text(address.PostalCode, "postal code"),
            country=text(address.Country, "country"),
        )
        if address
        else Address(),
        # QBO masks PrimaryTaxIdentifier on read ("XXXXX6789"): a masked value is no match key.
        tax_id="" if "X" in (tax_id or "X") else tax_id,
        notes=text(c.Notes, "Notes"),
        # With its jobs: a sub-customer's invoices are this customer's (`_under_parents`).
        balance=_balance(_with_jobs(c), currency) if currency else None,
        active=bool(c.Active),
        version=_id(c.SyncToken or "", "SyncToken"),
        updated_at=_parsed_time(meta.get("LastUpdatedTime") if isinstance(meta, dict) else None),
    )


def _customer_json(row: dict) -> Customer:
    return _customer(QboCustomer.from_json(row))


def _with_jobs(c: QboCustomer) -> object:
    found = getattr(c, "BalanceWithJobs", None)
    return c.Balance if found in (None, "") else found


def _balance(value: object, currency: str) -> Money | None:
    """A customer's balance; one that cannot be read is left unknown rather than the
    customer left out (sync matches on who the customer is and never reads the balance;
    a customer missing from the mirror could be created twice)."""
    try:
        return Money(quickbooks_number(value, "balance", default=ZERO), currency)
    except BadValue:
        return None


def _parsed_time(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment
