"""A new sandbox company starts as a real QuickBooks Online company does: the standard
chart of accounts and the company preferences, read through python-quickbooks."""

import pytest
import requests
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.account import Account
from quickbooks.objects.item import Item
from quickbooks.objects.preferences import Preferences

from sandbox.quickbooks.standard_books import STANDARD_ACCOUNTS
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def accounts(qbo) -> dict[str, Account]:
    return {a.Name: a for a in Account.all(max_results=1000, qb=qbo)}


def test_it_opens_a_company_with_the_standard_chart_of_accounts(qbo):
    chart = accounts(qbo)

    assert set(chart) == {a.name for a in STANDARD_ACCOUNTS}
    wanted = {
        "Checking": ("Bank", "Checking", "Asset"),
        "Undeposited Funds": ("Other Current Asset", "UndepositedFunds", "Asset"),
        "Accounts Receivable (A/R)": ("Accounts Receivable", "AccountsReceivable", "Asset"),
        "Accounts Payable (A/P)": ("Accounts Payable", "AccountsPayable", "Liability"),
        "Services": ("Income", "ServiceFeeIncome", "Revenue"),
        "Sales of Product Income": ("Income", "SalesOfProductIncome", "Revenue"),
        "Discounts given": ("Income", "DiscountsRefundsGiven", "Revenue"),
        "Cost of Goods Sold": ("Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
        "Contractors": ("Expense", "CostOfLabor", "Expense"),
        "Opening Balance Equity": ("Equity", "OpeningBalanceEquity", "Equity"),
        "Retained Earnings": ("Equity", "RetainedEarnings", "Equity"),
    }
    for name, (kind, sub_type, classification) in wanted.items():
        account = chart[name]
        assert (account.AccountType, account.AccountSubType, account.Classification) == (
            kind,
            sub_type,
            classification,
        ), name
        assert account.Active is True and account.CurrencyRef.value == "USD"
    incomes = Account.filter(AccountType="Income", qb=qbo)
    assert "Services" in {a.Name for a in incomes}


def test_an_item_goes_straight_into_a_standard_income_account(qbo):
    item = Item()
    item.Name, item.Type = "Roof repair", "Service"
    item.IncomeAccountRef = accounts(qbo)["Services"].to_ref()
    saved = item.save(qb=qbo)
    assert saved.IncomeAccountRef.value == accounts(qbo)["Services"].Id


def test_a_second_account_with_a_standard_name_is_refused_as_a_duplicate(qbo):
    account = Account()
    account.Name, account.AccountType = "services", "Income"  # names ignore case
    with pytest.raises(QuickbooksException) as error:
        account.save(qb=qbo)
    assert error.value.error_code == 6240
    assert len(Account.filter(Name="Services", qb=qbo)) == 1


def test_a_new_account_gets_the_classification_of_its_type(qbo):
    account = Account()
    account.Name, account.AccountType = "Dump Fees", "Expense"
    saved = account.save(qb=qbo)
    assert saved.Classification == "Expense" and saved.AccountSubType


def test_each_company_has_its_own_chart(qbo, make_company, sandbox_url):
    other = make_company("Second Books")
    assert other["realm_id"] != qbo.company_id
    Account.filter(Name="Services", qb=qbo)[0]  # both hold their own "Services"
    chart = requests.post(
        f"{sandbox_url}/quickbooks/v3/company/{other['realm_id']}/query",
        data="SELECT * FROM Account WHERE Name = 'Services'",
        headers={"Authorization": f"Bearer {other['access_token']}", "Accept": "application/json"},
        timeout=10,
    ).json()
    assert len(chart["QueryResponse"]["Account"]) == 1


def test_preferences_read_as_quickbooks_exposes_them(qbo):
    prefs = Preferences.get(qb=qbo)

    assert prefs.Id == "1" and prefs.SyncToken == "0"
    assert prefs.TaxPrefs.UsingSalesTax is False
    assert prefs.CurrencyPrefs.HomeCurrency.value == "USD"
    assert prefs.SalesFormsPrefs.CustomTxnNumbers is False
    assert prefs.AccountingInfoPrefs.FirstMonthOfFiscalYear == "January"
    assert not prefs.AccountingInfoPrefs.BookCloseDate  # no closing date yet


def test_the_control_api_sets_the_closing_date_and_sales_tax(qbo, sandbox_url):
    company = f"{sandbox_url}/control/quickbooks/companies/{qbo.company_id}"
    patched = requests.patch(
        company, json={"book_close_date": "2026-11-30", "using_sales_tax": True}, timeout=10
    )
    assert patched.status_code == 200 and patched.json()["book_close_date"] == "2026-11-30"

    prefs = Preferences.get(qb=qbo)
    assert prefs.AccountingInfoPrefs.BookCloseDate == "2026-11-30"
    assert prefs.TaxPrefs.UsingSalesTax is True
    assert prefs.SyncToken == "1"

    requests.patch(company, json={"book_close_date": None}, timeout=10)
    assert not Preferences.get(qb=qbo).AccountingInfoPrefs.BookCloseDate
    refused = requests.patch(company, json={"book_close_date": "30/11/2026"}, timeout=10)
    assert refused.status_code == 400 and "YYYY-MM-DD" in refused.json()["error"]


def test_a_preferences_update_changes_what_is_writable_only(qbo):
    prefs = Preferences.get(qb=qbo)
    prefs.SalesFormsPrefs.CustomTxnNumbers = True
    prefs.AccountingInfoPrefs.BookCloseDate = "2026-06-30"  # read-only through the API
    prefs.TaxPrefs.UsingSalesTax = True  # read-only too

    saved = prefs.save(qb=qbo)

    assert saved.SyncToken == "1" and saved.SalesFormsPrefs.CustomTxnNumbers is True
    assert not saved.AccountingInfoPrefs.BookCloseDate
    assert saved.TaxPrefs.UsingSalesTax is False
    assert Preferences.get(qb=qbo).SalesFormsPrefs.CustomTxnNumbers is True
    with pytest.raises(QuickbooksException) as error:
        prefs.save(qb=qbo)  # its SyncToken is now stale
    assert error.value.error_code == 5010
