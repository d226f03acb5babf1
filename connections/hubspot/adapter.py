"""HubSpot through hubspot-api-client: paging, rate limits, and mapping to plain records."""

from datetime import datetime

import urllib3
from hubspot import HubSpot
from hubspot.crm.companies import ApiException as CompaniesApiException
from hubspot.oauth import ApiException as OAuthApiException

from .. import retries
from ..actions import call_for_connection
from ..models import Connection
from ..providers import hubspot_api_base
from ..records import AccountInfo, Address, CrmCompany, Page
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
API_EXCEPTIONS = (CompaniesApiException, OAuthApiException)


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
