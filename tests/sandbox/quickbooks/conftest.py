from decimal import Decimal

import pytest
import requests
from django.conf import settings
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.objects.account import Account
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item


@pytest.fixture
def make_company(sandbox_url):
    def make(name: str = "Hartley Roofing Books", **settings_) -> dict:
        made = requests.post(
            f"{sandbox_url}/control/quickbooks/companies", json={"name": name}, timeout=10
        )
        assert made.status_code == 201, made.text
        company = made.json()
        if settings_:
            patched = requests.patch(
                f"{sandbox_url}/control/quickbooks/companies/{company['realm_id']}",
                json=settings_,
                timeout=10,
            )
            assert patched.status_code == 200, patched.text
        return company

    return make


@pytest.fixture
def qbo(sandbox_url, make_company):
    """A python-quickbooks client, unmodified but for its base URL, on a new company."""
    company = make_company(rate_limits=False)
    auth = AuthClient(
        settings.QUICKBOOKS_CLIENT_ID,
        settings.QUICKBOOKS_CLIENT_SECRET,
        "http://testserver/cb",
        environment=f"{sandbox_url}/intuit/.well-known/openid_configuration",
    )
    auth.access_token = company["access_token"]
    client = QuickBooks(
        auth_client=auth,
        refresh_token=company["refresh_token"],
        company_id=company["realm_id"],
        minorversion=75,
        use_decimal=True,
    )
    client.api_url_v3 = f"{sandbox_url}/quickbooks/v3"
    client.realm = company
    return client


def income_account(qbo, name: str = "Services") -> Account:
    """One of the income accounts every new company starts with."""
    found = Account.filter(Name=name, qb=qbo)
    assert found, f"no account {name!r} in the company's chart of accounts"
    return found[0]


def service_item(qbo, name: str = "Roof repair", price: str = "150.00") -> Item:
    account = income_account(qbo) if not hasattr(qbo, "_income") else qbo._income
    qbo._income = account
    item = Item()
    item.Name = name
    item.Type = "Service"
    item.UnitPrice = Decimal(price)
    item.IncomeAccountRef = account.to_ref()
    return item.save(qb=qbo)


def customer(qbo, name: str = "Ann Lee") -> Customer:
    c = Customer()
    c.DisplayName = name
    return c.save(qb=qbo)


def invoice(
    qbo, who: Customer, item: Item, qty: str = "2", price: str = "150.00", doc: str = ""
) -> Invoice:
    line = SalesItemLine()
    line.Amount = Decimal(qty) * Decimal(price)
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = Decimal(qty)
    line.SalesItemLineDetail.UnitPrice = Decimal(price)
    inv = Invoice()
    inv.CustomerRef = who.to_ref()
    inv.Line = [line]
    if doc:
        inv.DocNumber = doc
    return inv.save(qb=qbo)
