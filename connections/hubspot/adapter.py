"""HubSpot through hubspot-api-client: paging, rate limits, and mapping to plain records."""

import contextlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

import urllib3
from hubspot import HubSpot
from hubspot.crm.associations.v4 import ApiException as AssociationsApiException
from hubspot.crm.companies import ApiException as CompaniesApiException
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.line_items import ApiException as LineItemsApiException
from hubspot.crm.pipelines import ApiException as PipelinesApiException
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.oauth import ApiException as OAuthApiException

from .. import retries
from ..calls import call_for_connection
from ..contract import CrmCapabilities, Refusal
from ..models import Connection
from ..numbers import BadValue, clean_text, hubspot_number
from ..providers import hubspot_api_base, hubspot_record_url
from ..records import (
    AccountInfo,
    Address,
    CrmCompany,
    CrmInvoice,
    CrmJob,
    CrmPayment,
    CrmRecord,
    Deal,
    DealLine,
    Money,
    NewPayment,
    Page,
    WriteResult,
)
from ..refresh import access_token_for

COMPANY_PROPERTIES = [
    "name",
    "domain",
    "phone",
    "address",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "hs_lastmodifieddate",
]
CONTACT_PROPERTIES = [
    "firstname",
    "lastname",
    "email",
    "phone",
    "mobilephone",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "hs_lastmodifieddate",
]
# What each CRM object type is asked for: the defaults the field maps read, plus any
# property a client's own field map names (the sync engine passes those).
BASE_PROPERTIES = {
    "companies": [*COMPANY_PROPERTIES, "description"],
    "contacts": CONTACT_PROPERTIES,
    "deals": [
        "dealname",
        "dealstage",
        "pipeline",
        "amount",
        "closedate",
        "deal_currency_code",
        "hs_lastmodifieddate",
        "syncfirm_payment_status",
        "syncfirm_amount_paid",
    ],
    "line_items": [
        "name",
        "hs_sku",
        "hs_product_id",
        "quantity",
        "price",
        "discount",
        "description",
    ],
}
# What a deal is listed with (`records`), so `deals` need not read the links again.
DEAL_LINKS = ("line_items", "companies", "contacts")
API_EXCEPTIONS = (
    CompaniesApiException,
    ContactsApiException,
    DealsApiException,
    LineItemsApiException,
    PipelinesApiException,
    PropertiesApiException,
    AssociationsApiException,
    OAuthApiException,
)
BATCH_LIMIT = 100  # HubSpot's batch read/update ceiling
# Where payment status is written on a deal (created in a "syncfirm" group on first use).
PAYMENT_PROPERTIES = [
    ("syncfirm_payment_status", "Payment status", "string", "text"),
    ("syncfirm_amount_paid", "Amount paid", "number", "number"),
    ("syncfirm_balance", "Balance due", "number", "number"),
    ("syncfirm_last_payment_date", "Last payment date", "string", "text"),
    ("syncfirm_invoice_number", "Invoice number", "string", "text"),
]
SEARCH_PAGE = 200  # the search endpoint's largest page
SEARCH_WINDOW = 10_000  # results one search can page through


def translate(error: Exception) -> Exception:
    """hubspot-api-client's ApiException → the retry policy's vocabulary."""
    status = getattr(error, "status", None)
    if status == 429:
        headers = getattr(error, "headers", None) or {}
        return retries.RateLimited(
            "HubSpot rate limit", retries.parse_retry_after(headers.get("Retry-After"))
        )
    if status == 401:
        return retries.Unauthorised("HubSpot refused the access token")
    if status is None or status == 0 or status >= 500:
        return retries.Transient(f"HubSpot answered {status}")
    return retries.ProviderError(f"HubSpot refused the request (HTTP {status}).")


class HubSpotAdapter:
    # A sales CRM: won deals become invoices (HubSpot's own invoices are not read).
    crm_capabilities = CrmCapabilities(source="deal")

    def __init__(self, connection: Connection):
        self.connection = connection
        # Deal id -> (updatedAt, links) as the last deal listing gave them (`records`).
        self._listed_links: dict[str, tuple[datetime | None, dict[str, list[str]]]] = {}

    def crm_invoices(self, since: datetime | None = None) -> list[CrmInvoice]:
        return []

    def jobs(self) -> list[CrmJob]:
        return []

    def client_balances(self) -> dict[str, Money]:
        return {}

    def crm_payments(self, invoice_ids: list[str]) -> list[CrmPayment]:
        return []  # a deal carries syncfirm's payment status, not payments of its own

    def record_crm_payment(self, payment: NewPayment) -> WriteResult:
        return WriteResult(
            payment.invoice_id,
            error_code="not_supported",
            error="HubSpot deals hold no payments: syncfirm writes their payment status",
            refusal=Refusal.OTHER,
        )

    def _client(self) -> HubSpot:
        # Retries are ours (retries.py), so the client's own urllib3 retries are off.
        return HubSpot(
            access_token=access_token_for(self.connection),
            host=hubspot_api_base(),
            retry=urllib3.Retry(total=0, raise_on_status=False),
        )

    def _call(self, describe: str, operation, *, patient: bool = True):
        def attempt():
            try:
                return operation(self._client())
            except API_EXCEPTIONS as error:
                raise translate(error) from error
            except (urllib3.exceptions.HTTPError, OSError) as error:
                raise retries.Transient(str(error)) from error

        return call_for_connection(
            self.connection, attempt, describe, attempts=None if patient else 1
        )

    def _json(self, describe: str, operation, *, patient: bool = True) -> dict:
        """A read's JSON body as HubSpot sent it, not the client's models. The client turns
        every createdAt and updatedAt into a datetime through dateutil: a 1,000-invoice
        month-end spent a third of its time there (issue 19's profile), for fields we read
        one of. `operation` passes `_preload_content=False`; errors are the client's own."""

        def body(api: HubSpot) -> dict:
            response = operation(api)
            try:
                found = json.loads(response.data)
            except ValueError as error:  # a cut or garbled answer: ask again
                raise retries.Transient("HubSpot's answer was not JSON") from error
            finally:
                response.release_conn()
            if not isinstance(found, dict):
                raise retries.Transient("HubSpot's answer was not a JSON object")
            if not _shaped(found):  # a page of nothing is not "no records": ask again
                raise retries.Transient("HubSpot's answer held no results list")
            return found

        return self._call(describe, body, patient=patient)

    def record_url(self, kind: str, record_id: str) -> str:
        """A deal's, company's or contact's page ("deals", "companies", "contacts")."""
        return hubspot_record_url(self.connection.external_id, kind, record_id)

    def account_info(self) -> AccountInfo:
        info = self._call(
            "Reading the HubSpot account",
            lambda api: api.oauth.access_tokens_api.get(access_token_for(self.connection)),
        )
        return AccountInfo(external_id=str(info.hub_id), name=info.hub_domain or "")

    def companies(self, cursor: str | None = None) -> Page[CrmCompany]:
        page = self._json(
            "Listing HubSpot companies",
            lambda api: api.crm.companies.basic_api.get_page(
                limit=100, after=cursor, properties=COMPANY_PROPERTIES, _preload_content=False
            ),
        )
        records = [
            _company(clean_text(r.get("id")), r.get("properties"), _updated(r))
            for r in _results(page)
        ]
        return Page(records, _next_after(page))

    def _api(self, api: HubSpot, crm_type: str):
        if crm_type not in BASE_PROPERTIES:
            raise ValueError(f"unknown CRM object type {crm_type!r}")
        return getattr(api.crm, crm_type)

    def records(
        self, crm_type: str, cursor: str | None = None, properties: list[str] | None = None
    ) -> Page[CrmRecord]:
        """One page of all records of a type (contacts with their company ids). Deals are
        listed with their line items, companies and contacts, which `deals` then need not
        read again: 30 fewer calls for a thousand deals."""
        wanted = _wanted(crm_type, properties)
        linked = list(DEAL_LINKS) if crm_type == "deals" else None
        page = self._json(
            f"Listing HubSpot {crm_type}",
            lambda api: self._api(api, crm_type).basic_api.get_page(
                limit=BATCH_LIMIT,
                after=cursor,
                properties=wanted,
                associations=linked,
                _preload_content=False,
            ),
        )
        results = _results(page)
        found = [_record(crm_type, r) for r in results]
        if linked:
            if cursor is None:  # a new listing: forget the last one's links
                self._listed_links.clear()
            self._remember_links(found, results)
        return Page(self._with_companies(found), _next_after(page))

    def _remember_links(self, found: list[CrmRecord], results: list[dict]) -> None:
        """The links listed with each deal, kept for `deals` on this adapter (one run's).
        A list of links HubSpot pages (more than it sends at once) is not kept: that
        deal's links are read whole by the batch endpoint instead. Nor is a page whose
        links are not as asked: a link kind under a name we do not know, or one of the
        three kinds on no deal of the page (the listing may have left it out; a page that
        truly has none costs only the batch reads), since a deal missing from the links
        would read as a deal with no lines."""
        listed_links = [a for r in results if isinstance(a := r.get("associations"), dict)]
        kinds = [_link_kind(key) for a in listed_links for key in a]
        if set(kinds) != set(DEAL_LINKS):
            return
        for record, result in zip(found, results, strict=True):
            links: dict[str, list[str]] = {kind: [] for kind in DEAL_LINKS}
            associations = result.get("associations") or {}
            whole = isinstance(associations, dict)
            for key, listed in (associations if whole else {}).items():
                kind = _link_kind(key)
                if not isinstance(listed, dict):
                    whole = False
                    continue
                paging = listed.get("paging")  # paged, or paging we cannot read: not whole
                whole &= paging is None or (isinstance(paging, dict) and not paging.get("next"))
                ids = [clean_text(a.get("id")) for a in _results(listed)]
                links[kind] = list(dict.fromkeys(i for i in ids if i))
            if whole:
                self._listed_links[record.external_id] = (record.updated_at, links)

    def records_changed_since(
        self, crm_type: str, since: datetime, properties: list[str] | None = None
    ) -> list[CrmRecord]:
        """Records modified after `since`, oldest first (search by last-modified date).

        HubSpot's search pages stop at 10,000 results: past that, the search starts again
        from the last modification time seen (records sharing it may come twice; callers
        key them by id)."""
        wanted = _wanted(crm_type, properties)
        found: list[CrmRecord] = []
        millis, after, in_window = int(since.timestamp() * 1000), None, 0
        while True:
            request = _modified_since(millis, wanted, after)
            page = self._json(
                f"Searching HubSpot {crm_type} changed since {since:%Y-%m-%d %H:%M}",
                lambda api, r=request: self._api(api, crm_type).search_api.do_search(
                    r, _preload_content=False
                ),
            )
            results = _results(page)
            found.extend(_record(crm_type, r) for r in results)
            in_window += len(results)
            after = _next_after(page)
            if not after:
                self._forget_links(crm_type, found)
                return self._with_companies(found)
            if in_window + SEARCH_PAGE > SEARCH_WINDOW:
                newer = _millis(found[-1].properties.get("hs_lastmodifieddate", ""))
                if newer is not None and newer > millis:
                    millis, after, in_window = newer - 1, None, 0

    def read_records(
        self, crm_type: str, ids: list[str], properties: list[str] | None = None
    ) -> list[CrmRecord]:
        """The records with these ids that still exist (batch read, 100 a call)."""
        wanted = _wanted(crm_type, properties)
        found = []
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start : start + BATCH_LIMIT]
            body = {"inputs": [{"id": i} for i in chunk], "properties": wanted}
            page = self._json(
                f"Reading HubSpot {crm_type}",
                lambda api, b=body: self._api(api, crm_type).batch_api.read(
                    b, _preload_content=False
                ),
            )
            found.extend(_record(crm_type, r) for r in _results(page))
        self._forget_links(crm_type, found)
        return self._with_companies(found)

    def _forget_links(self, crm_type: str, found: list[CrmRecord]) -> None:
        """A deal read again is read with its links as they are now, not as listed: a line
        item added since does not change the deal's updatedAt."""
        if crm_type == "deals":
            for record in found:
                self._listed_links.pop(record.external_id, None)

    def update_records(
        self, crm_type: str, updates: Mapping[str, Mapping[str, str]]
    ) -> list[WriteResult]:
        """Set properties on existing records (batch update, 100 a call)."""
        results, ids = [], list(updates)
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start : start + BATCH_LIMIT]
            body = {"inputs": [{"id": i, "properties": dict(updates[i])} for i in chunk]}
            answer = self._call(
                f"Updating HubSpot {crm_type}",
                lambda api, b=body: self._api(api, crm_type).batch_api.update(b),
            )
            done = {str(r.id) for r in answer.results}
            results.extend(
                WriteResult(i, i)
                if i in done
                else WriteResult(i, error="HubSpot did not update it")
                for i in chunk
            )
        return results

    def _associated(self, from_type: str, to_type: str, ids: list[str]) -> dict[str, list[str]]:
        """Associated ids for each record (v4 batch read, 100 records a call)."""
        out: dict[str, list[str]] = {}
        for start in range(0, len(ids), BATCH_LIMIT):
            body = {"inputs": [{"id": i} for i in ids[start : start + BATCH_LIMIT]]}
            answer = self._json(
                f"Reading HubSpot {from_type}-{to_type} associations",
                lambda api, b=body: api.crm.associations.v4.batch_api.get_page(
                    from_type, to_type, b, _preload_content=False
                ),
            )
            out.update(_linked(answer))
        return out

    def won_stages(self) -> set[str]:
        """Deal stages that mean closed-won, from every deal pipeline (probability 1.0)."""
        pipelines = self._call(
            "Reading HubSpot deal pipelines",
            lambda api: api.crm.pipelines.pipelines_api.get_all("deals"),
        )
        return {
            stage.id
            for pipeline in pipelines.results
            for stage in pipeline.stages
            if str((stage.metadata or {}).get("probability", "")) in ("1.0", "1")
        }

    def deals(self, records: list[CrmRecord]) -> list[Deal]:
        """Deals read as records, with their line items and the companies and contacts
        they are for (a few batch calls for any number of deals)."""
        listed = self._listed_links
        known = {
            r.external_id: listed[r.external_id][1]
            for r in records
            if r.external_id in listed and listed[r.external_id][0] == r.updated_at
        }
        unknown = [r.external_id for r in records if r.external_id not in known]
        linked = {kind: {i: links[kind] for i, links in known.items()} for kind in DEAL_LINKS}
        if unknown:
            for kind in DEAL_LINKS:
                linked[kind] |= self._associated("deals", kind, unknown)
        line_ids, companies, contacts = (linked[kind] for kind in DEAL_LINKS)
        every_line = [i for found in line_ids.values() for i in found]
        lines: dict[str, DealLine | str] = {}  # a line, or why it could not be read
        for line in self.read_records("line_items", every_line) if every_line else []:
            try:
                lines[line.external_id] = _deal_line(line)
            except BadValue as error:
                lines[line.external_id] = f"line item {line.external_id}: {error}"
        return [
            _deal(
                r,
                tuple(lines[i] for i in line_ids.get(r.external_id, []) if i in lines),
                _in_id_order(companies.get(r.external_id, [])),
                _in_id_order(contacts.get(r.external_id, [])),
            )
            for r in records
        ]

    def deals_of_line_items(self, line_ids: list[str]) -> list[str]:
        """The deals these line items belong to: a line added to or changed on a deal
        does not always change the deal itself, yet it changes what its invoice should be."""
        found = self._associated("line_items", "deals", list(dict.fromkeys(line_ids)))
        return list(dict.fromkeys(d for ids in found.values() for d in ids))

    def record_properties(self, crm_type: str, *, patient: bool = True) -> list[tuple[str, str]]:
        """(name, label) of each property `crm_type` records have, by label: what a field
        map may read. `patient=False` tries once (a settings page answers now)."""
        found = self._call(
            f"Reading HubSpot {crm_type} properties",
            lambda api: api.crm.properties.core_api.get_all(crm_type),
            patient=patient,
        )
        named = [(p.name, p.label or p.name) for p in found.results if not p.archived]
        return sorted(named, key=lambda p: p[1].casefold())

    def ensure_deal_properties(self) -> int:
        """The deal properties payment status is written to, in a "syncfirm" group; made on
        first use, left alone after. Returns how many were created."""
        have = self._call(
            "Reading HubSpot deal properties",
            lambda api: api.crm.properties.core_api.get_all("deals"),
        )
        names = {p.name for p in have.results}
        made = 0
        if not names & {name for name, *_ in PAYMENT_PROPERTIES}:
            with contextlib.suppress(retries.ProviderError):  # the group is there already
                self._call(
                    "Creating the syncfirm property group",
                    lambda api: api.crm.properties.groups_api.create(
                        "deals", {"name": "syncfirm", "label": "syncfirm", "displayOrder": 1}
                    ),
                )
        for name, label, kind, field_type in PAYMENT_PROPERTIES:
            if name in names:
                continue
            definition = {
                "name": name,
                "label": label,
                "type": kind,
                "fieldType": field_type,
                "groupName": "syncfirm",
            }
            self._call(
                f"Creating the HubSpot deal property {name}",
                lambda api, d=definition: api.crm.properties.core_api.create("deals", d),
            )
            made += 1
        return made

    def _with_companies(self, found: list[CrmRecord]) -> list[CrmRecord]:
        """Contacts with the ids of their companies (one v4 batch read per 100 contacts),
        so sync can tell a homeowner from a company's employee."""
        contacts = [r for r in found if r.crm_type == "contacts"]
        if not contacts:
            return found
        companies = self._associated("contacts", "companies", [r.external_id for r in contacts])
        return [
            CrmRecord(
                r.crm_type,
                r.external_id,
                r.properties,
                tuple(companies.get(r.external_id, ())),
                r.updated_at,
            )
            if r.crm_type == "contacts"
            else r
            for r in found
        ]


def _modified_since(millis: int, wanted: list[str], after: str | None) -> dict:
    return {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": str(millis)}
                ]
            }
        ],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": wanted,
        "limit": SEARCH_PAGE,
        "after": after,
    }


def _millis(value: str) -> int | None:
    """hs_lastmodifieddate as epoch milliseconds (HubSpot sends ISO 8601 or millis)."""
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return int(value) if len(value) <= 15 else None  # 15 digits reach the year 33658
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _wanted(crm_type: str, extra: list[str] | None) -> list[str]:
    return sorted(set(BASE_PROPERTIES[crm_type]) | set(extra or ()))


def _deal_line(record: CrmRecord) -> DealLine:
    """A line item as invoicing reads it, or BadValue (the deal is then held)."""
    p = record.properties
    return DealLine(
        external_id=record.external_id,
        name=(p.get("name") or "").strip(),
        sku=(p.get("hs_sku") or "").strip(),
        product_id=p.get("hs_product_id") or "",
        quantity=hubspot_number(p.get("quantity"), "quantity", default=Decimal(1)),
        unit_price=hubspot_number(p.get("price"), "price", default=Decimal(0)),
        discount=hubspot_number(p.get("discount"), "discount", default=Decimal(0)),
        description=(p.get("description") or "").strip(),
    )


def _deal(record: CrmRecord, lines, companies, contacts) -> Deal:
    """A deal with its lines; a value that cannot be read (its amount, a line's number)
    is kept out of the deal's figures and named in `problems`, so the deal is held."""
    p = record.properties
    currency = (p.get("deal_currency_code") or "").strip()
    problems = [line for line in lines if isinstance(line, str)]
    try:
        amount = hubspot_number(p.get("amount"), "amount", default=Decimal(0))
    except BadValue as error:
        amount, problems = None, [str(error), *problems]
    close = p.get("closedate") or ""
    return Deal(
        external_id=record.external_id,
        name=p.get("dealname") or "",
        stage=p.get("dealstage") or "",
        pipeline=p.get("pipeline") or "",
        amount=Money(amount, currency) if amount is not None else None,
        currency=currency,
        close_date=_when(close),
        lines=tuple(line for line in lines if not isinstance(line, str)),
        company_ids=companies,
        contact_ids=contacts,
        properties=p,
        updated_at=record.updated_at,
        problems=tuple(problems),
    )


def _when(value: str) -> datetime | None:
    """A date property; one that is no date is None (the deal is held for it)."""
    millis = _millis(value)
    try:
        return datetime.fromtimestamp(millis / 1000, UTC) if millis is not None else None
    except (OverflowError, OSError, ValueError):
        return None


def _record(crm_type: str, result: Mapping) -> CrmRecord:
    """A record as HubSpot's JSON holds it. Properties are strings on the wire; kept as
    text PostgreSQL can store, the numbers among them read later by `hubspot_number`."""
    raw = result.get("properties")
    properties = {
        clean_text(k): clean_text(v)
        for k, v in (raw.items() if isinstance(raw, dict) else ())
        if v is not None
    }
    return CrmRecord(crm_type, clean_text(result.get("id")), properties, (), _updated(result))


def _results(body: Mapping) -> list[dict]:
    """A page's or batch's results, the ones that are records (objects)."""
    found = body.get("results")
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def _link_kind(key: object) -> str:
    """A listing's name for a link kind as the path spells it ("line items": line_items)."""
    return str(key).replace(" ", "_")


def _in_id_order(ids: list[str]) -> tuple[str, ...]:
    """A deal's companies or contacts oldest id first: the first linked to a customer is the
    deal's customer, and neither the listing nor the v4 read promises an order, so a deal
    read either way (month-end or sync) is the same customer's."""
    return tuple(sorted(ids, key=lambda i: (len(i), i)))


def _shaped(body: Mapping) -> bool:
    """A page, batch or association answer as HubSpot documents it: a results list, and
    paging (when there) an object whose `next` (when there) is an object; and each
    association row's `from` an object."""
    paging = body.get("paging")
    if not isinstance(body.get("results"), list):
        return False
    if paging is not None and not (
        isinstance(paging, dict) and isinstance(paging.get("next") or {}, dict)
    ):
        return False
    return all(isinstance(r.get("from"), dict) for r in _results(body) if "from" in r or "to" in r)


def _next_after(body: Mapping) -> str | None:
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    return clean_text(after) if after not in (None, "") else None


def _updated(result: Mapping) -> datetime | None:
    """updatedAt; one that is no timestamp is unknown (None), not a failed read: it only
    orders changes, and the record's properties are sound without it."""
    raw = result.get("updatedAt")
    if not isinstance(raw, str):
        return None
    try:
        found = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _linked(body: Mapping) -> dict[str, list[str]]:
    """A v4 association batch read: each record's associated ids, in HubSpot's order."""
    out: dict[str, list[str]] = {}
    for row in _results(body):
        source = clean_text((row.get("from") or {}).get("id"))
        to = row.get("to") if isinstance(row.get("to"), list) else []
        ids = [clean_text(t.get("toObjectId")) for t in to if isinstance(t, dict)]
        out[source] = list(dict.fromkeys(i for i in ids if i))
    return out


def _company(object_id: str, raw: dict | None, updated_at: datetime | None) -> CrmCompany:
    p = {str(k): clean_text(v) for k, v in (raw or {}).items() if v is not None}
    get = lambda key: (p.get(key) or "").strip()  # noqa: E731 - a local shorthand
    return CrmCompany(
        external_id=str(object_id),
        name=get("name"),
        domain=get("domain"),
        phone=get("phone"),
        address=Address(
            line1=get("address"),
            line2=get("address2"),
            city=get("city"),
            region=get("state"),
            postal_code=get("zip"),
            country=get("country"),
        ),
        properties=p,
        updated_at=updated_at,
    )
