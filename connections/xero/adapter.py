"""Xero through xero-python: contacts, invoices, payments and credit notes as neutral records.

The SDK's methods are called with `_preload_content=False` and the JSON read here with
`Decimal` for every number: its models parse amounts to float, which money never passes
through. Its urllib3 retries are off (it would sleep out an hour-long Retry-After and
repeat a cut PUT): `retries.py` decides, and every write carries an `Idempotency-Key`
derived from the caller's request id, so a repeated write replays the first answer.
Decision 0030 has the mapping choices.
"""

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import urllib3
from django.conf import settings
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException

from .. import retries
from ..calls import call_for_connection
from ..contract import Capabilities, ChangeFeed, Refusal
from ..job_filing import NOTE, TRACKING, JobFiling, names_job
from ..models import Connection
from ..numbers import BadValue, text, xero_number
from ..providers import xero_api_base, xero_record_url
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

CAPABILITIES = Capabilities(
    batch_size=50,  # Xero's recommendation; it enforces only 3.5 MB per request
    idempotency="Idempotency-Key",
    idempotency_window=timedelta(minutes=6),  # the first answer is replayed for 6 minutes
    idempotency_reliable=True,
    unique_invoice_numbers=True,  # ACCREC numbers, still taken after void or delete
    invoice_number_length=255,
    unique_customer_names=True,  # among active contacts
    change_feed=ChangeFeed.MODIFIED_SINCE,
    change_feed_limit=None,  # paged, every change read
    change_feed_reach=None,
    rate_limits="60 calls a minute, 5 at once and 5,000 a day per organisation",
    void="voided: only an AUTHORISED invoice with no payment or credit; a draft is deleted",
    invoice_statuses=("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"),
    job_references=(NOTE, TRACKING),
    active_tracking_categories=2,  # "You can only have 2 active tracking categories."
    field_limits={
        "display_name": 255,
        "given_name": 255,
        "family_name": 255,
        "email": 255,
        "phone": 50,
        "line1": 500,
        "city": 255,
        "postal_code": 50,
        "tax_id": 50,
    },
)
PAGE_SIZE = 1000  # the largest page Xero gives
# The longest tracking option (and category) name: 100 characters by Xero's API reference;
# api-facts has no fact on it: correct it here.
JOB_NAME_LENGTH = 100
DEFAULT_JOB_CATEGORY = "Job"  # `sync.models.SyncSettings.job_tracking_category`'s default
ZERO = Decimal(0)
KEY_LENGTH = 128  # Idempotency-Key's longest
OPEN = ("AUTHORISED",)  # statuses with money still owed
GONE = ("VOIDED", "DELETED")
# Xero's validation messages → what the engine does about the refused record.
REFUSALS = (
    (re.compile(r"already assigned to another contact", re.I), Refusal.NAME_TAKEN),
    (re.compile(r"must be unique", re.I), Refusal.NUMBER_TAKEN),
    (re.compile(r"not of valid status|cannot be edited", re.I), Refusal.INVALID),
)
# The books' sales-tax codes on a draft line → Xero's tax types (decision 0030).
TAX_TYPES = {"TAX": "OUTPUT", "NON": "NONE"}
# The body's keyword in each xero-python write method.
_BODY = {
    "create_contacts": "contacts",
    "update_or_create_contacts": "contacts",
    "update_contact": "contacts",
    "update_or_create_items": "items",
    "create_invoices": "invoices",
    "update_invoice": "invoices",
    "create_payments": "payments",
}
_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


class XeroAdapter(ReadsRecords):
    capabilities = CAPABILITIES
    bad_record = staticmethod(lambda kind, row, error: _unreadable(kind, row, error))

    def __init__(self, connection: Connection, *, job_category: str = ""):
        self.connection = connection
        # Records left out of reads because a value in them could not be read.
        self.unreadable: list[Unreadable] = []
        # The tracking category whose options are jobs: what `Invoice.job` is read from.
        self.job_category = job_category or DEFAULT_JOB_CATEGORY
        self._categories: list[dict] | None = None  # read once, when first needed

    # -- calling Xero --------------------------------------------------------------------
    def _api(self) -> AccountingApi:
        token = OAuth2Token(
            client_id=settings.XERO_CLIENT_ID, client_secret=settings.XERO_CLIENT_SECRET
        )
        client = ApiClient(Configuration(oauth2_token=token), pool_threads=1)
        current = {
            "access_token": access_token_for(self.connection),
            "token_type": "Bearer",
            "scope": [],
            "expires_in": 1800,  # refreshing is ours (refresh.py), never the SDK's
        }
        client.oauth2_token_getter(lambda: current)
        client.oauth2_token_saver(current.update)
        # Retries are ours (retries.py): none in urllib3, and a bounded wait per call.
        client.rest_client.pool_manager = urllib3.PoolManager(
            num_pools=1,
            retries=urllib3.Retry(total=0, raise_on_status=False),
            timeout=urllib3.Timeout(connect=10, read=60),
        )
        return AccountingApi(client, base_url=xero_api_base())

    def _call(
        self,
        describe: str,
        operation: Callable[[AccountingApi, str], object],
        *,
        retry_transient: bool = True,
        patient: bool = True,
    ) -> dict:
        """One call through the retry policy; the answer's JSON with Decimal numbers."""

        def attempt() -> dict:
            try:
                answer = operation(self._api(), self.connection.external_id)
            except ApiException as error:
                raise _translated(error) from error
            except (urllib3.exceptions.HTTPError, OSError) as error:
                raise retries.Transient(f"Xero did not answer: {error}") from error
            return _json(getattr(answer, "data", b""))

        return call_for_connection(
            self.connection,
            attempt,
            describe,
            retry_transient=retry_transient,
            attempts=None if patient else 1,
        )

    def _pages(
        self, describe: str, method: str, plural: str, *, since: datetime | None = None, **query
    ) -> list[dict]:
        """Every record of a paged list (Invoices, Contacts, CreditNotes, Payments)."""
        rows: list[dict] = []
        page = 1
        if since is not None:
            query["if_modified_since"] = since
        while True:
            answer = self._call(
                describe,
                lambda api, tenant, p=page: getattr(api, method)(
                    tenant, page=p, page_size=PAGE_SIZE, _preload_content=False, **query
                ),
            )
            found = _list(answer.get(plural))
            rows.extend(found)
            if len(found) < PAGE_SIZE:
                return rows
            page += 1

    def _write(
        self,
        describe: str,
        method: str,
        plural: str,
        elements: list[dict],
        request_id: str,
        *,
        repeatable: bool = True,
        **path,
    ) -> list[dict]:
        """One write of `elements`, each answered on its own (summarizeErrors=false), with
        the Idempotency-Key of `request_id`. `repeatable=False`: sent once, the caller
        settles an unknown outcome by reading."""
        if not elements:
            return []
        if len(elements) > CAPABILITIES.batch_size:
            raise ValueError(f"at most {CAPABILITIES.batch_size} per write, not {len(elements)}")
        # The same request (a retry after a lost answer) replays Xero's first answer; the
        # same deals with other content (a deal changed meanwhile) is a new request, which
        # Xero would otherwise refuse for six minutes as a key "used with a different
        # request". A number taken then stops a second invoice.
        body = json.dumps(elements, sort_keys=True, default=str)
        key = _idempotency_key(f"{request_id}-{hashlib.sha256(body.encode()).hexdigest()[:16]}")
        answer = self._call(
            describe,
            # A batch answers per element; one record's write (`path`: its id) has no choice.
            lambda api, tenant: getattr(api, method)(
                tenant,
                **path,
                **{_BODY[method]: {plural: elements}},
                **({} if path else {"summarize_errors": False}),
                idempotency_key=key,
                _preload_content=False,
            ),
            retry_transient=repeatable,
        )
        return _list(answer.get(plural))

    # -- the account -----------------------------------------------------------------
    def record_url(self, kind: str, record_id: str) -> str:
        return xero_record_url(self.connection.external_id, kind, record_id)

    def account_info(self) -> AccountInfo:
        answer = self._call(
            "Reading the Xero organisation",
            lambda api, tenant: api.get_organisations(tenant, _preload_content=False),
        )
        org = _dict((_list(answer.get("Organisations")) or [{}])[0], "organisation")
        return AccountInfo(
            external_id=self.connection.external_id,
            name=text(org.get("Name"), "Name"),
            currency=text(org.get("BaseCurrency"), "BaseCurrency"),
            timezone=text(org.get("Timezone"), "Timezone"),
        )

    def books_closed_through(self) -> date | None:
        """The later of the organisation's lock dates: nothing on or before it is written."""
        answer = self._call(
            "Reading the Xero organisation",
            lambda api, tenant: api.get_organisations(tenant, _preload_content=False),
        )
        org = _dict((_list(answer.get("Organisations")) or [{}])[0], "organisation")
        try:
            found = [
                _day(org.get(f), f) for f in ("PeriodLockDate", "EndOfYearLockDate") if org.get(f)
            ]
        except BadValue as error:
            raise retries.ProviderError(f"Xero's lock date is unreadable: {error}") from error
        days = [date.fromisoformat(d) for d in found if d]
        return max(days) if days else None

    # -- contacts --------------------------------------------------------------------
    def customers(self, cursor: str | None = None) -> Page[Customer]:
        page = int(cursor or 1)
        answer = self._call(
            "Listing Xero contacts",
            lambda api, tenant: api.get_contacts(
                tenant,
                page=page,
                page_size=PAGE_SIZE,
                include_archived=True,
                _preload_content=False,
            ),
        )
        rows = _list(answer.get("Contacts"))
        records = self._each(rows, _customer, "contact")
        return Page(records, str(page + 1) if len(rows) == PAGE_SIZE else None)

    def all_customers(self) -> list[Customer]:
        found, cursor = [], None
        while True:
            page = self.customers(cursor)
            found.extend(page.records)
            if not (cursor := page.next_cursor):
                return found

    def customer_by_id(self, customer_id: str) -> Customer | None:
        """One contact (active or archived), or None when Xero has no such contact."""
        try:
            answer = self._call(
                "Reading a Xero contact",
                lambda api, tenant: api.get_contact(tenant, customer_id, _preload_content=False),
            )
        except retries.NotFound:
            return None
        parsed = self._each(_list(answer.get("Contacts")), _customer, "contact")
        return parsed[0] if parsed else None

    def customers_changed_since(self, since: datetime) -> list[Customer]:
        rows = self._pages(
            "Reading changed Xero contacts",
            "get_contacts",
            "Contacts",
            since=since,
            include_archived=True,
        )
        return self._each(rows, _customer, "contact")

    def customers_named(self, display_name: str) -> list[Customer]:
        """Contacts (active or archived) whose name is `display_name`, ignoring case."""
        answer = self._call(
            "Looking up a Xero contact by name",
            lambda api, tenant: api.get_contacts(
                tenant,
                where=f'Name=="{_quoted(display_name)}"',  # Xero compares text ignoring case
                include_archived=True,
                _preload_content=False,
            ),
        )
        found = self._each(_list(answer.get("Contacts")), _customer, "contact")
        return [c for c in found if c.display_name.casefold() == display_name.casefold()]

    def write_customers(
        self, writes: Iterable[tuple[str, Mapping[str, str], Customer | None]], request_id: str
    ) -> list[WriteResult]:
        """Create contacts with a PUT (refused on a name another active contact bears: a POST
        would quietly update that one) and update others with a POST by ContactID. An update
        of a contact changed since it was read is refused as stale, never written over."""
        writes = list(writes)
        results: dict[str, WriteResult] = {}
        changed = self._changed_since_read([w[2] for w in writes if w[2] is not None])
        creates, updates = [], []
        for key, values, current in writes:
            body = contact_body(values, current)
            if current is None:
                creates.append((key, body))
            elif current.external_id in changed:
                results[key] = WriteResult(
                    key, error_code="stale", refusal=Refusal.STALE,
                    error="changed in Xero since it was read",
                )  # fmt: skip
            else:
                updates.append((key, body | {"ContactID": current.external_id}))
        for method, group, suffix in (
            ("create_contacts", creates, "new"),
            ("update_or_create_contacts", updates, "upd"),
        ):
            answered = self._write(
                "Writing Xero contacts", method, "Contacts", [body for _, body in group],
                f"{request_id}-{suffix}" if creates and updates else request_id,
            )  # fmt: skip
            for (key, _), element in zip(group, _padded(answered, len(group)), strict=True):
                results[key] = _write_result(key, element, "ContactID")
        return [results[key] for key, _, _ in writes]

    def _changed_since_read(self, current: list[Customer]) -> set[str]:
        """Ids of contacts whose UpdatedDateUTC moved since they were read (Xero has no
        SyncToken: the time stamp is the version)."""
        if not current:
            return set()
        now = {
            c.external_id: c.version for c in self._contacts_by_id([c.external_id for c in current])
        }
        return {c.external_id for c in current if now.get(c.external_id, c.version) != c.version}

    def _contacts_by_id(self, ids: list[str]) -> list[Customer]:
        found: list[Customer] = []
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            answer = self._call(
                "Reading Xero contacts",
                lambda api, tenant, c=chunk: api.get_contacts(
                    tenant, i_ds=c, include_archived=True, _preload_content=False
                ),
            )
            found.extend(self._each(_list(answer.get("Contacts")), _customer, "contact"))
        return found

    def make_customer_inactive(self, customer_id: str) -> Customer:
        """Archive a contact (Xero keeps it and its history). Read first: one archived
        already is left as it is; one changed meanwhile is refused, not overwritten."""
        current = self.customer_by_id(customer_id)
        if current is None:
            raise retries.NotFound(f"Xero has no contact {customer_id}")
        if not current.active:
            return current
        body = {"ContactID": customer_id, "ContactStatus": "ARCHIVED"}
        answered = self._write(
            f"Archiving Xero contact {customer_id}",
            "update_contact",
            "Contacts",
            [body],
            f"archive-{customer_id}-{current.version}",
            repeatable=False,
            contact_id=customer_id,
        )
        element = (answered or [{}])[0]
        if _errors(element):
            raise retries.ProviderError(
                f"Xero refused: {'; '.join(_errors(element))}", detail="; ".join(_errors(element))
            )
        return self._one(element, _customer, "contact")

    # -- items and accounts ------------------------------------------------------------
    def items(self, *, patient: bool = True) -> list[Item]:
        answer = self._call(
            "Listing Xero items",
            lambda api, tenant: api.get_items(tenant, _preload_content=False),
            patient=patient,
        )
        return [_item(row) for row in _list(answer.get("Items"))]

    def tracking_categories(self, *, patient: bool = True) -> list[str]:
        """Names of the organisation's active tracking categories (the settings page)."""
        answer = self._call(
            "Listing Xero tracking categories",
            lambda api, tenant: api.get_tracking_categories(tenant, _preload_content=False),
            patient=patient,
        )
        rows = [_dict(c, "tracking category") for c in _list(answer.get("TrackingCategories"))]
        return [text(c.get("Name"), "Name") for c in rows if c.get("Status", "ACTIVE") == "ACTIVE"]

    def income_accounts(self, *, patient: bool = True) -> list[LedgerAccount]:
        answer = self._call(
            "Listing Xero revenue accounts",
            lambda api, tenant: api.get_accounts(tenant, _preload_content=False),
            patient=patient,
        )
        rows = [
            r
            for r in _list(answer.get("Accounts"))
            if _dict(r, "account").get("Class") == "REVENUE"
        ]
        accounts = self._each(rows, _ledger_account, "account")
        return sorted(accounts, key=lambda a: a.name.casefold())

    def income_account(self, name: str) -> str | None:
        """The *code* of the revenue account called `name` (what Xero's lines name)."""
        named = [a for a in self.income_accounts() if a.name.casefold() == name.casefold()]
        return named[0].external_id if named else None

    def create_items(
        self, wanted: list[tuple[str, str]], income_account_id: str, request_id: str
    ) -> list[WriteResult]:
        """Items for (name, sku) pairs selling into the revenue account `income_account_id`
        (a code). The code is the SKU, or one made from the name (Xero's 30 characters)."""
        elements = [
            {
                "Code": item_code(name, sku),
                "Name": name[:50],
                "Description": name[:4000],
                "IsSold": True,
                "SalesDetails": {"AccountCode": income_account_id},
            }
            for name, sku in wanted
        ]
        answered = self._write(
            "Writing Xero items", "update_or_create_items", "Items", elements, request_id
        )
        return [
            _write_result(name, element, "ItemID")
            for (name, _), element in zip(wanted, _padded(answered, len(wanted)), strict=True)
        ]

    # -- invoices --------------------------------------------------------------------
    def create_invoices(self, drafts: list, request_id: str) -> list[WriteResult]:
        """Invoices from drafts, one write, keyed by deal id. Sent once: the idempotency
        key replays a repeat within six minutes, and the caller looks by number first.
        Each is filed under its job's tracking option (found or created first) where the
        draft says so; one whose job cannot be filed is refused, not sent."""
        tracking, refused = {}, {}
        for d in drafts:
            if not d.job or d.job.kind != TRACKING:
                continue
            try:
                tracking[d.deal_id] = self._job_option(d.job)
            except retries.ProviderError as error:
                refused[d.deal_id] = WriteResult(
                    d.deal_id,
                    error_code="job",
                    error=f"it could not be filed under job #{d.job.number}: {error}",
                )
        sent = [d for d in drafts if d.deal_id not in refused]
        answered = self._write(
            "Writing Xero invoices",
            "create_invoices",
            "Invoices",
            [invoice_body(d, tracking.get(d.deal_id)) for d in sent],
            request_id,
            repeatable=False,
        )
        results = {
            d.deal_id: _write_result(d.deal_id, element, "InvoiceID")
            for d, element in zip(sent, _padded(answered, len(sent)), strict=True)
        }
        return [(results | refused)[d.deal_id] for d in drafts]

    def _sales_invoices(self, rows: list[dict]) -> list[Invoice]:
        sales = [r for r in rows if r.get("Type") == "ACCREC"]
        return self._each(sales, self._invoice_row, "invoice")

    def _invoice_row(self, row: dict) -> Invoice:
        return _invoice(row, self.job_category)

    def _credit_row(self, row: dict) -> CreditMemo:
        return _credit_memo(row, self.job_category)

    # -- jobs: a tracking option per job ----------------------------------------------
    def _job_option(self, job: JobFiling) -> dict:
        """The line Tracking that files an invoice under `job`: its option in the client's
        category, each created when missing. Safe to repeat: looked for first, and a
        create Xero refuses (a name taken by a create whose answer was lost) is looked for
        again before the refusal stands."""
        category_name = job.category or self.job_category
        name = job.name(JOB_NAME_LENGTH)
        category = self._tracking_category(category_name)
        if category is None:
            try:
                category = self._created(
                    "Creating a Xero tracking category",
                    lambda api, tenant, key: api.create_tracking_category(
                        tenant, {"Name": category_name}, idempotency_key=key,
                        _preload_content=False,
                    ),
                    f"category-{category_name}",
                    lambda: self._tracking_category(category_name),
                )  # fmt: skip
            except retries.ProviderError as error:
                active = [str(c.get("Name")) for c in self._categories or []
                          if c.get("Status", "ACTIVE") == "ACTIVE"]  # fmt: skip
                raise retries.ProviderError(
                    f"Xero refused the tracking category {category_name!r} ({error}); its "
                    f"active categories: {', '.join(active) or 'none'}. Pick one of them for "
                    "the jobs in the sync settings, archive one in Xero, or file jobs in the "
                    "note",
                    refusal=Refusal.INVALID,
                ) from error
        category_id = category["TrackingCategoryID"]
        option = _job_option(category, job.number)
        if option is None:
            category = self._created(
                f"Creating the Xero tracking option {name}",
                lambda api, tenant, key: api.create_tracking_options(
                    tenant, category_id, {"Name": name}, idempotency_key=key,
                    _preload_content=False,
                ),
                f"option-{category_id}-{name}",
                lambda: (found if _job_option(found := self._tracking_category(category_name),
                                              job.number) else None),
            )  # fmt: skip
            option = _job_option(category, job.number)
        if option.get("Status", "ACTIVE") != "ACTIVE":
            # Archived by the bookkeeper: the job's revenue stays under its one option.
            option_id = option["TrackingOptionID"]
            self._call(
                f"Making the Xero tracking option {option['Name']} active again",
                lambda api, tenant: api.update_tracking_options(
                    tenant, category_id, option_id, {"Status": "ACTIVE"},
                    _preload_content=False,
                ),
            )  # fmt: skip
            self._categories = None
        return {"Name": category["Name"], "Option": option["Name"]}

    def _created(
        self, describe: str, create: Callable, key: str, look: Callable[[], dict | None]
    ) -> dict:
        """Create, then read back by `look` (the categories are read again after any
        write); a refused create whose object `look` finds stands as found."""
        try:
            self._call(
                describe,
                lambda api, tenant: create(api, tenant, _idempotency_key(key)),
            )
        except retries.ProviderError as error:
            self._categories = None
            if found := look():
                return found
            raise error
        self._categories = None
        found = look()
        if found is None:
            raise retries.ProviderError(f"{describe}: Xero did not keep it")
        return found

    def _tracking_category(self, name: str) -> dict | None:
        """The active tracking category called `name` (ignoring case), with its options."""
        if self._categories is None:
            answer = self._call(
                "Reading Xero tracking categories",
                # Archived options too: Xero refuses a new option by an archived one's name.
                lambda api, tenant: api.get_tracking_categories(
                    tenant, include_archived=True, _preload_content=False
                ),
            )
            self._categories = [_dict(c, "tracking category")
                                for c in _list(answer.get("TrackingCategories"))]  # fmt: skip
        wanted = name.casefold()
        return next(
            (
                c
                for c in self._categories
                if text(c.get("Name"), "Name").casefold() == wanted
                and c.get("Status", "ACTIVE") == "ACTIVE"
            ),
            None,
        )

    def invoices_numbered(self, doc_numbers: list[str]) -> list[Invoice]:
        found: list[Invoice] = []
        for start in range(0, len(doc_numbers), 100):
            chunk = doc_numbers[start : start + 100]
            rows = self._pages(
                "Looking up Xero invoices by number",
                "get_invoices",
                "Invoices",
                invoice_numbers=chunk,
            )
            found.extend(self._each(rows, self._invoice_row, "invoice"))
        return found

    def invoices_by_id(self, ids: list[str]) -> list[Invoice]:
        found: list[Invoice] = []
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            rows = self._pages("Reading Xero invoices", "get_invoices", "Invoices", i_ds=chunk)
            found.extend(self._each(rows, self._invoice_row, "invoice"))
        return found

    def all_invoices(self) -> list[Invoice]:
        rows = self._pages("Listing Xero invoices", "get_invoices", "Invoices")
        return self._sales_invoices(rows)

    def void_invoice(self, invoice_id: str) -> Invoice:
        """Void an AUTHORISED invoice with nothing paid on it, delete a draft; refuse the
        rest with what to do by hand. Read first: a void one is left as it is."""
        current = self.invoices_by_id([invoice_id])
        if not current:
            raise retries.NotFound(f"Xero has no invoice {invoice_id}")
        invoice = current[0]
        if invoice.voided:
            return invoice
        if invoice.status == "PAID" or invoice.balance.amount != invoice.total.amount:
            raise retries.ProviderError(
                f"Xero voids only an invoice with no payment or credit on it; invoice "
                f"{invoice.doc_number or invoice_id} has some. Remove them in Xero first "
                "(the payment: Options, Remove and redo; a credit note: its allocation).",
                refusal=Refusal.INVALID,
            )
        status = "VOIDED" if invoice.status == "AUTHORISED" else "DELETED"
        answered = self._write(
            f"Voiding Xero invoice {invoice_id}",
            "update_invoice",
            "Invoices",
            [{"InvoiceID": invoice_id, "Status": status}],
            f"void-{invoice_id}-{invoice.version}",
            repeatable=False,
            invoice_id=invoice_id,
        )
        return self._written_invoice(answered)

    def _written_invoice(self, answered: list[dict]) -> Invoice:
        element = (answered or [{}])[0]
        if errors := _errors(element):
            raise retries.ProviderError(
                f"Xero refused: {'; '.join(errors)}",
                detail="; ".join(errors),
                refusal=_refusal(errors),
            )
        return self._one(element, self._invoice_row, "invoice")

    def add_invoice_lines(self, invoice_id: str, lines: list) -> Invoice:
        """Append lines to an invoice, keeping its own (Xero replaces the whole list)."""
        current = self._invoice_as_stored(invoice_id)
        kept = [_kept_line(line) for line in _list(current.get("LineItems"))]
        added = _with_tracking(current, [_line_body(x) for x in lines])
        return self._set_lines(invoice_id, current, kept + added)

    def replace_invoice_lines(self, invoice_id: str, version: str, lines: list) -> Invoice:
        """Set an invoice's lines to exactly these; refused as stale when it changed
        since `version` (its UpdatedDateUTC) was read. Sent once."""
        current = self._invoice_as_stored(invoice_id)
        if _version(current) != version:
            raise retries.Stale(f"invoice {invoice_id} changed in Xero since it was read")
        return self._set_lines(
            invoice_id, current, _with_tracking(current, [_line_body(x) for x in lines])
        )

    def _invoice_as_stored(self, invoice_id: str) -> dict:
        answer = self._call(
            "Reading a Xero invoice",
            lambda api, tenant: api.get_invoice(tenant, invoice_id, _preload_content=False),
        )
        rows = _list(answer.get("Invoices"))
        if not rows:
            raise retries.NotFound(f"Xero has no invoice {invoice_id}")
        return _dict(rows[0], "invoice")

    def _set_lines(self, invoice_id: str, current: dict, lines: list[dict]) -> Invoice:
        body = {"InvoiceID": invoice_id, "LineItems": lines}
        answered = self._write(
            f"Updating the lines of Xero invoice {invoice_id}",
            "update_invoice",
            "Invoices",
            [body],
            f"lines-{invoice_id}-{_version(current)}",
            repeatable=False,
            invoice_id=invoice_id,
        )
        return self._written_invoice(answered)

    def receivable(self) -> Decimal:
        """Accounts receivable: what customers owe on approved sales invoices."""
        return sum((i.balance.amount for i in self.all_invoices() if not i.voided), ZERO)

    # -- money received ----------------------------------------------------------------
    def payments(self) -> list[Payment]:
        rows = self._pages("Listing Xero payments", "get_payments", "Payments")
        return self._each([r for r in rows if r.get("Status") != "DELETED"], _received, "payment")

    def payments_by_id(self, ids: list[str]) -> list[Payment]:
        wanted = set(ids)
        return [p for p in self.payments() if p.external_id in wanted]

    def credit_memos(self) -> list[CreditMemo]:
        rows = self._pages("Listing Xero credit notes", "get_credit_notes", "CreditNotes")
        wanted = [
            r for r in rows if r.get("Type") == "ACCRECCREDIT" and r.get("Status") not in GONE
        ]
        return self._each(wanted, self._credit_row, "credit note")

    def credit_memos_by_id(self, ids: list[str]) -> list[CreditMemo]:
        wanted = set(ids)
        return [c for c in self.credit_memos() if c.external_id in wanted]

    def open_transactions(
        self, customer_id: str
    ) -> tuple[list[Invoice], list[Payment], list[CreditMemo]]:
        """A contact's open invoices and credit notes with credit left (Xero payments are
        always on an invoice: none carry money unapplied)."""
        rows = self._pages(
            "Reading a contact's invoices", "get_invoices", "Invoices", contact_i_ds=[customer_id]
        )
        invoices = self._each(rows, self._invoice_row, "invoice")
        credits = [c for c in self.credit_memos() if c.customer_id == customer_id]
        return (
            [i for i in invoices if not i.voided and i.balance.amount > 0],
            [],
            [c for c in credits if c.remaining is not None and c.remaining > 0],
        )

    def record_payment(self, payment: NewPayment, request_id: str) -> WriteResult:
        """A payment on one invoice into the organisation's first bank account (by code):
        Xero takes payments only into a bank account. Its source in the Reference."""
        element = {
            "Invoice": {"InvoiceID": payment.invoice_id},
            "Account": {"Code": self._bank_account()},
            "Date": payment.paid_on,
            "Amount": str(payment.amount.amount),
            "Reference": payment.reference[:255],
        }
        answered = self._write(
            "Recording a Xero payment",
            "create_payments",
            "Payments",
            [element],
            request_id,
            repeatable=False,
        )
        return _write_result(payment.invoice_id, _padded(answered, 1)[0], "PaymentID")

    def _bank_account(self) -> str:
        answer = self._call(
            "Reading Xero bank accounts",
            lambda api, tenant: api.get_accounts(tenant, _preload_content=False),
        )
        codes = sorted(
            text(r.get("Code"), "Code")
            for r in (_dict(a, "account") for a in _list(answer.get("Accounts")))
            if r.get("Type") == "BANK" and r.get("Status", "ACTIVE") == "ACTIVE" and r.get("Code")
        )
        if not codes:
            raise retries.ProviderError(
                "Xero has no bank account with a code to record the payment in",
                refusal=Refusal.INVALID,
            )
        return codes[0]

    def payments_of_invoice(self, invoice_id: str) -> list[PaymentInfo]:
        rows = self._pages(
            "Reading a Xero invoice's payments",
            "get_payments",
            "Payments",
            where=f'Invoice.InvoiceID==GUID("{_quoted(invoice_id)}")',
        )
        return self._each(rows, _payment, "payment")

    def apply_payment(self, payment_id: str, invoice_id: str, amount: Decimal) -> None:
        raise retries.ProviderError(
            "Xero ties every payment to one invoice and cannot move it: remove the payment "
            "in Xero (Options, Remove) and record it again on the right invoice.",
            refusal=Refusal.INVALID,
        )

    def apply_credit_memo(self, credit_id: str, invoice_id: str, amount: Decimal) -> None:
        """Allocate `amount` of a credit note to an invoice. Sent once: a repeat would
        allocate twice (the caller reads the invoice back)."""
        answer = self._call(
            f"Allocating Xero credit note {credit_id}",
            lambda api, tenant: api.create_credit_note_allocation(
                tenant,
                credit_id,
                {
                    "Allocations": [
                        {
                            "Invoice": {"InvoiceID": invoice_id},
                            "Amount": str(amount),
                            "Date": date.today().isoformat(),
                        }
                    ]
                },
                summarize_errors=False,
                idempotency_key=_idempotency_key(f"alloc-{credit_id}-{invoice_id}-{amount}"),
                _preload_content=False,
            ),
            retry_transient=False,
        )
        for element in _list(answer.get("Allocations")):
            if errors := _errors(element):
                raise retries.ProviderError(f"Xero refused: {'; '.join(errors)}")

    def money_changed_since(self, since: datetime) -> tuple[list[Invoice], list[PaymentInfo]]:
        """Invoices, payments and credit notes changed after `since` (If-Modified-Since on
        each list: Xero sends no webhook for payments, so this is how they are caught)."""
        rows = self._pages("Reading changed Xero invoices", "get_invoices", "Invoices", since=since)
        invoices = self._sales_invoices(rows)
        payments = self._each(
            self._pages("Reading changed Xero payments", "get_payments", "Payments", since=since),
            _payment,
            "payment",
        )
        credits = self._each(
            self._pages(
                "Reading changed Xero credit notes", "get_credit_notes", "CreditNotes", since=since
            ),
            _credit_applied,
            "credit note",
        )
        return invoices, payments + credits


# -- translating -------------------------------------------------------------------------
def _translated(error: ApiException) -> Exception:
    """xero-python's exception → the retry policy's vocabulary."""
    status = error.status or 0
    headers = error.headers or {}
    if status == 429:
        problem = (headers.get("X-Rate-Limit-Problem") or "").lower()
        wait = retries.parse_retry_after(headers.get("Retry-After"))
        if problem == "day":
            hours = f" for about {wait / 3600:.0f} h" if wait else ""
            return retries.ProviderError(
                f"Xero's daily limit of calls for this organisation is used up{hours}: "
                "nothing more is read or written until it resets."
            )
        return retries.RateLimited(f"Xero throttled ({problem or 'limit'})", wait)
    if status == 401:
        return retries.Unauthorised("Xero refused the access token")
    if status == 403:
        return retries.ProviderError(
            "Xero refused access to the organisation: it is no longer connected to syncfirm "
            "(reconnect it from the client's page)."
        )
    if status == 404:
        return retries.NotFound("Xero has no such record")
    if status == 0 or status >= 500:
        return retries.Transient(f"Xero answered {status}")
    messages = _messages(error.body)
    return retries.ProviderError(
        f"Xero refused: {'; '.join(messages) or f'HTTP {status}'}",
        code=str(status),
        detail="; ".join(messages),
        refusal=_refusal(messages),
    )


def _json(body: object) -> dict:
    """Xero's JSON with every number a Decimal (NaN and 1e309 too: read, then refused)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return {}
    try:
        found = json.loads(body, parse_float=Decimal, parse_constant=Decimal)
    except ValueError as error:  # a cut or non-JSON answer
        raise retries.Transient(f"Xero's answer could not be read: {error}") from error
    return found if isinstance(found, dict) else {}


def _messages(body: object) -> list[str]:
    """The validation messages of a refused request (Elements[].ValidationErrors), or its
    Detail/Message."""
    try:
        found = _json(body)
    except retries.Transient:
        return []
    messages = [m for e in _list(found.get("Elements")) for m in _errors(e)]
    return messages or [str(found.get(k)) for k in ("Detail", "Message") if found.get(k)][:1]


def _errors(element: object) -> list[str]:
    if not isinstance(element, dict):
        return []
    if element.get("StatusAttributeString") != "ERROR" and not element.get("ValidationErrors"):
        return []
    return [
        str(_dict(e, "error").get("Message", "")) for e in _list(element.get("ValidationErrors"))
    ]


def _refusal(messages: list[str]) -> str:
    for message in messages:
        for pattern, refusal in REFUSALS:
            if pattern.search(message):
                return refusal
    return Refusal.OTHER if messages else ""


def _write_result(key: str, element: dict | None, id_field: str) -> WriteResult:
    if element is None:
        return WriteResult(key, error_code="missing", error="Xero returned no answer for it")
    if errors := _errors(element):
        return WriteResult(
            key, error_code="validation", error="; ".join(errors), refusal=_refusal(errors)
        )
    return WriteResult(key, str(element.get(id_field, "")), _version(element))


def _padded(answered: list[dict], count: int) -> list[dict | None]:
    return [*answered[:count], *([None] * (count - len(answered)))]


def _idempotency_key(request_id: str) -> str:
    """A key per write: the request id itself when it fits, else a digest of it."""
    if len(request_id) <= KEY_LENGTH:
        return request_id
    return "sf-" + hashlib.sha256(request_id.encode()).hexdigest()


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


# -- bodies -------------------------------------------------------------------------------
def contact_body(values: Mapping[str, str], current: Customer | None = None) -> dict:
    """Mapped customer fields → the Xero Contact JSON that carries them."""
    body: dict = {}
    simple = {
        "display_name": "Name",
        "given_name": "FirstName",
        "family_name": "LastName",
        "email": "EmailAddress",
        "tax_id": "TaxNumber",
    }
    for name, element in simple.items():
        if name in values:
            body[element] = values[name]
    if "display_name" not in values and "company_name" in values:
        body["Name"] = values["company_name"]
    if "phone" in values:
        body["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": values["phone"]}]
    address = {
        "AddressLine1": "line1",
        "City": "city",
        "Region": "region",
        "PostalCode": "postal_code",
        "Country": "country",
    }
    if (whole := address_to_write(values, current)) is not None:
        # POBOX is Xero's billing address (STREET the delivery one).
        body["Addresses"] = [
            {"AddressType": "POBOX", **{el: whole[name] for el, name in address.items()}}
        ]
    return body


def item_code(name: str, sku: str) -> str:
    """An item's Code: its SKU, else one made from the name (30 characters, unique enough
    with a digest of the whole name)."""
    if sku:
        return sku[:30]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").upper()[:21] or "ITEM"
    return f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8].upper()}"


def _line_body(line) -> dict:
    body = {
        "Description": line.description or line.name,
        "Quantity": str(line.quantity),
        "UnitAmount": str(line.unit_price),
        "ItemCode": line.item_id,
        "TaxType": TAX_TYPES.get(line.tax_code, "NONE"),
    }
    return body


def _kept_line(line: dict) -> dict:
    """A line as Xero holds it, sent back so an update keeps it (its job's tracking too)."""
    line = _dict(line, "line")
    kept = (
        "LineItemID",
        "Description",
        "Quantity",
        "UnitAmount",
        "ItemCode",
        "AccountCode",
        "TaxType",
        "DiscountRate",
        "Tracking",
    )
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in line.items() if k in kept}


def _with_tracking(current: dict, lines: list[dict]) -> list[dict]:
    """New lines tracked as the invoice's first tracked line is: a change to its lines
    keeps the invoice under its job."""
    for line in _list(current.get("LineItems")):
        tracking = _list(_dict(line, "line").get("Tracking"))
        if tracking:
            kept = [{k: t[k] for k in ("Name", "Option") if k in t} for t in tracking]
            return [{**new, "Tracking": kept} for new in lines]
    return lines


def _job_option(category: dict | None, number: str) -> dict | None:
    """Job `number`'s option in the category, whatever title it was given (an active one
    before an archived one)."""
    options = [o for o in _list((category or {}).get("Options"))
               if names_job(str(o.get("Name", "")), number)]  # fmt: skip
    return min(options, key=lambda o: o.get("Status", "ACTIVE") != "ACTIVE", default=None)


def invoice_body(draft, tracking: dict | None = None) -> dict:
    """The Invoice JSON of a draft; `tracking`: its job's {Name, Option} on every line."""
    taxed = any(line.tax_code == "TAX" for line in draft.lines)
    lines = [_line_body(line) for line in draft.lines]
    if tracking:
        for line in lines:
            line["Tracking"] = [tracking]
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": draft.customer_id},
        "InvoiceNumber": draft.doc_number,
        "Reference": draft.private_note,
        "Date": draft.txn_date.isoformat(),
        "DueDate": draft.due_date.isoformat(),
        "CurrencyCode": draft.currency,
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive" if taxed else "NoTax",
        "LineItems": lines,
    }


# -- reading ------------------------------------------------------------------------------
def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _id(value: object, field: str) -> str:
    found = text(value, field)
    if not found:
        raise BadValue(field, "", "is missing")
    return found


def _moment(value: object, field: str) -> datetime | None:
    """Xero's "/Date(1732060800000+0000)/" or an ISO time, as an aware datetime."""
    if value in (None, ""):
        return None
    raw = text(value, field)
    if found := _MS_DATE.fullmatch(raw):
        try:
            return datetime.fromtimestamp(int(found.group(1)) / 1000, tz=UTC)
        except (OverflowError, ValueError, OSError) as error:
            raise BadValue(field, raw[:40], "is not a date") from error
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as error:
        raise BadValue(field, raw[:40], "is not a date") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(value: object, field: str) -> str:
    moment = _moment(value, field)
    return moment.date().isoformat() if moment else ""


def _version(row: dict) -> str:
    """A record's version: its UpdatedDateUTC as Xero sent it (changes on every write)."""
    return text(row.get("UpdatedDateUTC"), "UpdatedDateUTC")


def _money(row: dict, field: str, currency: str) -> Money:
    return Money(xero_number(row.get(field), field, default=ZERO), currency)


def _customer(row: dict) -> Customer:
    row = _dict(row, "contact")
    addresses = [_dict(a, "address") for a in _list(row.get("Addresses"))]
    billing = next((a for a in addresses if a.get("AddressType") == "POBOX"), {})
    phones = [_dict(p, "phone") for p in _list(row.get("Phones"))]
    phone = next(
        (p for p in phones if p.get("PhoneType") == "DEFAULT" and p.get("PhoneNumber")), {}
    )
    number = " ".join(
        text(phone.get(k), "phone")
        for k in ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber")
        if phone.get(k)
    )
    owed = _dict(_dict(row.get("Balances"), "Balances").get("AccountsReceivable"), "balance")
    currency = text(row.get("DefaultCurrency"), "DefaultCurrency") or "USD"
    return Customer(
        external_id=_id(row.get("ContactID"), "ContactID"),
        display_name=text(row.get("Name"), "Name"),
        company_name=text(row.get("Name"), "Name") if not row.get("FirstName") else "",
        given_name=text(row.get("FirstName"), "FirstName"),
        family_name=text(row.get("LastName"), "LastName"),
        email=text(row.get("EmailAddress"), "EmailAddress"),
        phone=number,
        billing_address=Address(
            line1=text(billing.get("AddressLine1"), "address"),
            line2=text(billing.get("AddressLine2"), "address"),
            city=text(billing.get("City"), "city"),
            region=text(billing.get("Region"), "region"),
            postal_code=text(billing.get("PostalCode"), "postal code"),
            country=text(billing.get("Country"), "country"),
        ),
        tax_id=text(row.get("TaxNumber"), "TaxNumber"),
        balance=_money(owed, "Outstanding", currency) if owed else None,
        active=row.get("ContactStatus", "ACTIVE") == "ACTIVE",
        version=_version(row),
        updated_at=_moment(row.get("UpdatedDateUTC"), "UpdatedDateUTC"),
    )


def _job_of(row: dict, category: str) -> str:
    """The option of `category` the document's lines are tracked under (the first line's
    that has one), "" for none."""
    wanted = category.casefold()
    for line in _list(row.get("LineItems")):
        for tracked in _list(_dict(line, "line").get("Tracking")):
            tracked = _dict(tracked, "Tracking")
            if text(tracked.get("Name"), "Tracking").casefold() == wanted:
                return text(tracked.get("Option"), "Tracking")
    return ""


def _invoice(row: dict, job_category: str = DEFAULT_JOB_CATEGORY) -> Invoice:
    row = _dict(row, "invoice")
    currency = text(row.get("CurrencyCode"), "CurrencyCode")
    lines = [
        InvoiceLine(
            text(line.get("ItemCode"), "ItemCode"),
            xero_number(line.get("Quantity"), "quantity", default=ZERO),
            xero_number(line.get("UnitAmount"), "unit price", default=ZERO),
            xero_number(line.get("LineAmount"), "line amount", default=ZERO),
            text(line.get("Description"), "Description"),
        )
        for line in (_dict(x, "line") for x in _list(row.get("LineItems")))
    ]
    status = text(row.get("Status"), "Status")
    return Invoice(
        external_id=_id(row.get("InvoiceID"), "InvoiceID"),
        doc_number=text(row.get("InvoiceNumber"), "InvoiceNumber"),
        customer_id=text(_dict(row.get("Contact"), "Contact").get("ContactID"), "ContactID"),
        total=_money(row, "Total", currency),
        balance=Money(
            ZERO if status in GONE else xero_number(row.get("AmountDue"), "due", default=ZERO),
            currency,
        ),
        txn_date=_day(row.get("Date"), "Date"),
        due_date=_day(row.get("DueDate"), "DueDate"),
        lines=tuple(lines),
        private_note=text(row.get("Reference"), "Reference"),
        voided=status in GONE,
        version=_version(row),
        updated_at=_moment(row.get("UpdatedDateUTC"), "UpdatedDateUTC"),
        status=status,
        job=_job_of(row, job_category),
    )


def _credit_memo(row: dict, job_category: str = DEFAULT_JOB_CATEGORY) -> CreditMemo:
    row = _dict(row, "credit note")
    total = xero_number(row.get("Total"), "total", default=ZERO)
    reference = text(row.get("Reference"), "Reference")
    found = re.search(r"\w+ deal (\d+)", reference)  # the reference sync writes
    return CreditMemo(
        _id(row.get("CreditNoteID"), "CreditNoteID"),
        text(_dict(row.get("Contact"), "Contact").get("ContactID"), "ContactID"),
        _day(row.get("Date"), "Date"),
        total,
        found.group(1) if found else "",
        xero_number(row.get("RemainingCredit"), "remaining credit", default=total),
        reference,
        job=_job_of(row, job_category),
    )


def _received(row: dict) -> Payment:
    row = _dict(row, "payment")
    invoice = _dict(row.get("Invoice"), "Invoice")
    currency = text(invoice.get("CurrencyCode"), "CurrencyCode") or "USD"
    return Payment(
        _id(row.get("PaymentID"), "PaymentID"),
        text(_dict(invoice.get("Contact"), "Contact").get("ContactID"), "ContactID"),
        _day(row.get("Date"), "Date"),
        _money(row, "Amount", currency),
        ZERO,  # a Xero payment is always on its invoice
    )


def _payment(row: dict) -> PaymentInfo:
    row = _dict(row, "payment")
    invoice = _dict(row.get("Invoice"), "Invoice")
    deleted = row.get("Status") == "DELETED"
    amount = xero_number(row.get("Amount"), "amount", default=ZERO)
    applied = () if deleted else ((_id(invoice.get("InvoiceID"), "InvoiceID"), amount),)
    return PaymentInfo(
        _id(row.get("PaymentID"), "PaymentID"),
        "Payment",
        _day(row.get("Date"), "Date"),
        applied,
        _moment(row.get("UpdatedDateUTC"), "UpdatedDateUTC"),
        reference=text(row.get("Reference"), "Reference"),
        currency=text(row.get("CurrencyCode"), "CurrencyCode"),
        deleted=deleted,
        received=amount,
    )


def _credit_applied(row: dict) -> PaymentInfo:
    row = _dict(row, "credit note")
    applied = tuple(
        (
            _id(_dict(a.get("Invoice"), "Invoice").get("InvoiceID"), "InvoiceID"),
            xero_number(a.get("Amount"), "amount applied", default=ZERO),
        )
        for a in (_dict(x, "allocation") for x in _list(row.get("Allocations")))
    )
    return PaymentInfo(
        _id(row.get("CreditNoteID"), "CreditNoteID"),
        "CreditMemo",
        _day(row.get("Date"), "Date"),
        applied,
        _moment(row.get("UpdatedDateUTC"), "UpdatedDateUTC"),
    )


def _ledger_account(row: dict) -> LedgerAccount:
    row = _dict(row, "account")
    return LedgerAccount(
        _id(row.get("Code"), "Code"),
        text(row.get("Name"), "Name"),
        text(row.get("Type"), "Type"),
        text(row.get("Class"), "Class"),
        row.get("Status", "ACTIVE") == "ACTIVE",
    )


def _item(row: dict) -> Item:
    row = _dict(row, "item")
    code = text(row.get("Code"), "Code")
    return Item(code, text(row.get("Name"), "Name") or code, code, True, True)


def _unreadable(kind: str, row: object, error: BadValue) -> Unreadable:
    fields = row if isinstance(row, dict) else {}
    ids = ("ContactID", "InvoiceID", "PaymentID", "CreditNoteID", "Code")
    external_id = next((str(fields[k]) for k in ids if isinstance(fields.get(k), str)), "?")
    number = fields.get("InvoiceNumber") or fields.get("Name") or ""
    return Unreadable(kind, external_id, str(error), number[:40] if isinstance(number, str) else "")
