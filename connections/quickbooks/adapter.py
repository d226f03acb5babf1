"""QuickBooks Online through python-quickbooks: paging, rate limits, and mapping to records."""

from decimal import Decimal

import requests
from quickbooks import QuickBooks
from quickbooks.exceptions import AuthorizationException, QuickbooksException
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer as QboCustomer

from .. import retries
from ..actions import call_for_connection
from ..models import Connection
from ..providers import quickbooks_api_base
from ..records import AccountInfo, Address, Customer, Money, Page
from ..refresh import access_token_for
from .oauth import auth_client

MINOR_VERSION = 75
PAGE_SIZE = 1000  # QBO's MAXRESULTS ceiling
THROTTLE_CODE = 3001


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


class QuickBooksAdapter:
    def __init__(self, connection: Connection):
        self.connection = connection

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

    def _call(self, describe: str, operation):
        def attempt():
            qb, last = self._client()
            try:
                return operation(qb)
            except AuthorizationException as error:
                raise retries.Unauthorised(str(error)) from error
            except QuickbooksException as error:
                if last.status == 429 or getattr(error, "error_code", None) == THROTTLE_CODE:
                    raise retries.RateLimited(
                        "QuickBooks throttled", retries.parse_retry_after(last.retry_after)
                    ) from error
                if last.status >= 500:
                    raise retries.Transient(f"QuickBooks answered {last.status}") from error
                raise retries.ProviderError(f"QuickBooks refused: {error.message}") from error
            except (requests.ConnectionError, requests.Timeout, ValueError) as error:
                # ValueError: a truncated or non-JSON body from a dropped response.
                raise retries.Transient(str(error)) from error

        return call_for_connection(self.connection, attempt, describe)

    def account_info(self) -> AccountInfo:
        info = self._call(
            "Reading the QuickBooks company",
            lambda qb: CompanyInfo.get(self.connection.external_id, qb=qb),
        )
        return AccountInfo(
            external_id=self.connection.external_id,
            name=getattr(info, "CompanyName", "") or "",
        )

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
        records = [_customer(c) for c in found]
        return Page(records, str(start + PAGE_SIZE) if len(found) == PAGE_SIZE else None)


def _customer(c: QboCustomer) -> Customer:
    address = c.BillAddr
    currency = c.CurrencyRef.value if c.CurrencyRef else ""
    return Customer(
        external_id=str(c.Id),
        display_name=c.DisplayName or "",
        company_name=c.CompanyName or "",
        given_name=c.GivenName or "",
        family_name=c.FamilyName or "",
        email=c.PrimaryEmailAddr.Address if c.PrimaryEmailAddr else "",
        phone=c.PrimaryPhone.FreeFormNumber if c.PrimaryPhone else "",
        billing_address=Address(
            line1=address.Line1 or "",
            line2=address.Line2 or "",
            city=address.City or "",
            region=address.CountrySubDivisionCode or "",
            postal_code=address.PostalCode or "",
            country=address.Country or "",
        )
        if address
        else Address(),
        balance=Money(Decimal(str(c.Balance or 0)), currency) if currency else None,
        active=bool(c.Active),
        version=str(c.SyncToken or ""),
    )
