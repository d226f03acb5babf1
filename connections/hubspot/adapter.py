"""HubSpot through hubspot-api-client: paging, rate limits, and mapping to plain records."""

from collections.abc import Mapping
from datetime import datetime

import urllib3
from hubspot import HubSpot
from hubspot.crm.associations.v4 import ApiException as AssociationsApiException
from hubspot.crm.companies import ApiException as CompaniesApiException
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.oauth import ApiException as OAuthApiException

from .. import retries
from ..actions import call_for_connection
from ..models import Connection
from ..providers import hubspot_api_base
from ..records import AccountInfo, Address, CrmCompany, CrmRecord, Page, WriteResult
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
}
API_EXCEPTIONS = (
    CompaniesApiException,
    ContactsApiException,
    AssociationsApiException,
    OAuthApiException,
)
BATCH_LIMIT = 100  # HubSpot's batch read/update ceiling
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
    def __init__(self, connection: Connection):
        self.connection = connection

    def _client(self) -> HubSpot:
        # Retries are ours (retries.py), so the client's own urllib3 retries are off.
        return HubSpot(
            access_token=access_token_for(self.connection),
            host=hubspot_api_base(),
            retry=urllib3.Retry(total=0, raise_on_status=False),
        )

    def _call(self, describe: str, operation):
        def attempt():
            try:
                return operation(self._client())
            except API_EXCEPTIONS as error:
                raise translate(error) from error
            except (urllib3.exceptions.HTTPError, OSError) as error:
                raise retries.Transient(str(error)) from error

        return call_for_connection(self.connection, attempt, describe)

    def account_info(self) -> AccountInfo:
        info = self._call(
            "Reading the HubSpot account",
            lambda api: api.oauth.access_tokens_api.get(access_token_for(self.connection)),
        )
        return AccountInfo(external_id=str(info.hub_id), name=info.hub_domain or "")

    def companies(self, cursor: str | None = None) -> Page[CrmCompany]:
        page = self._call(
            "Listing HubSpot companies",
            lambda api: api.crm.companies.basic_api.get_page(
                limit=100, after=cursor, properties=COMPANY_PROPERTIES
            ),
        )
        records = [
            _company(result.id, result.properties, result.updated_at) for result in page.results
        ]
        next_cursor = page.paging.next.after if page.paging and page.paging.next else None
        return Page(records, next_cursor)

    def _api(self, api: HubSpot, crm_type: str):
        if crm_type not in BASE_PROPERTIES:
            raise ValueError(f"unknown CRM object type {crm_type!r}")
        return getattr(api.crm, crm_type)

    def records(
        self, crm_type: str, cursor: str | None = None, properties: list[str] | None = None
    ) -> Page[CrmRecord]:
        """One page of all companies or contacts (contacts with their company ids)."""
        wanted = _wanted(crm_type, properties)
        page = self._call(
            f"Listing HubSpot {crm_type}",
            lambda api: self._api(api, crm_type).basic_api.get_page(
                limit=BATCH_LIMIT, after=cursor, properties=wanted
            ),
        )
        found = [_record(crm_type, r) for r in page.results]
        next_cursor = page.paging.next.after if page.paging and page.paging.next else None
        return Page(self._with_companies(found), next_cursor)

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
            page = self._call(
                f"Searching HubSpot {crm_type} changed since {since:%Y-%m-%d %H:%M}",
                lambda api, r=request: self._api(api, crm_type).search_api.do_search(r),
            )
            found.extend(_record(crm_type, r) for r in page.results)
            in_window += len(page.results)
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
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
            page = self._call(
                f"Reading HubSpot {crm_type}",
                lambda api, b=body: self._api(api, crm_type).batch_api.read(b),
            )
            found.extend(_record(crm_type, r) for r in page.results)
        return self._with_companies(found)

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

    def _with_companies(self, found: list[CrmRecord]) -> list[CrmRecord]:
        """Contacts with the ids of their companies (one v4 batch read per 100 contacts),
        so sync can tell a homeowner from a company's employee."""
        contacts = [r for r in found if r.crm_type == "contacts"]
        if not contacts:
            return found
        companies: dict[str, tuple[str, ...]] = {}
        for start in range(0, len(contacts), BATCH_LIMIT):
            body = {
                "inputs": [{"id": r.external_id} for r in contacts[start : start + BATCH_LIMIT]]
            }
            answer = self._call(
                "Reading HubSpot contact-company associations",
                lambda api, b=body: api.crm.associations.v4.batch_api.get_page(
                    "contacts", "companies", b
                ),
            )
            for row in answer.results:
                companies[str(row._from.id)] = tuple(str(t.to_object_id) for t in row.to)
        return [
            CrmRecord(
                r.crm_type,
                r.external_id,
                r.properties,
                companies.get(r.external_id, ()),
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
    if value.isdigit():
        return int(value)
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _wanted(crm_type: str, extra: list[str] | None) -> list[str]:
    return sorted(set(BASE_PROPERTIES[crm_type]) | set(extra or ()))


def _record(crm_type: str, result) -> CrmRecord:
    properties = {k: v for k, v in (result.properties or {}).items() if v is not None}
    return CrmRecord(crm_type, str(result.id), properties, (), result.updated_at)


def _company(object_id: str, p: dict, updated_at: datetime | None) -> CrmCompany:
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
        properties={k: v for k, v in p.items() if v is not None},
        updated_at=updated_at,
    )
