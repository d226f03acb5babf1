"""The two interfaces the rest of syncfirm talks to: one for accounting systems, one for
CRMs. Sync and reconciliation never import a provider library; they get an adapter here.

Adding Xero means a `connections/xero/` package with an adapter of the same shape.
"""

from decimal import Decimal
from typing import Protocol

from .models import Connection
from .providers import Kind, System, provider
from .records import (
    AccountInfo,
    CreditMemo,
    CrmCompany,
    Customer,
    Item,
    LedgerAccount,
    Page,
    Payment,
    Unreadable,
)


class AccountingAdapter(Protocol):
    connection: Connection
    # Records its reads left out because a value could not be read (`numbers.BadValue`);
    # the run that read them holds each with its reason. (CRM deals carry theirs in
    # `Deal.problems` instead: invoicing holds the deal itself.)
    unreadable: list[Unreadable]

    def account_info(self) -> AccountInfo: ...

    def customers(self, cursor: str | None = None) -> Page[Customer]: ...

    # What the reconciliation reads of money on customers' accounts, and how it applies it.
    def all_customers(self) -> list[Customer]: ...  # with each one's balance

    def payments(self) -> list[Payment]: ...

    def credit_memos(self) -> list[CreditMemo]: ...

    def apply_payment(self, payment_id: str, invoice_id: str, amount: Decimal) -> None: ...

    def apply_credit_memo(self, credit_id: str, invoice_id: str, amount: Decimal) -> None: ...

    # The lists settings are picked from: `patient=False` tries once, for a page.
    def items(self, *, patient: bool = True) -> list[Item]: ...

    def income_accounts(self, *, patient: bool = True) -> list[LedgerAccount]: ...

    def income_account(self, name: str) -> str | None: ...


class CrmAdapter(Protocol):
    connection: Connection

    def account_info(self) -> AccountInfo: ...

    def companies(self, cursor: str | None = None) -> Page[CrmCompany]: ...

    # What a field map may read: (name, label) of each property of companies or contacts.
    def record_properties(
        self, crm_type: str, *, patient: bool = True
    ) -> list[tuple[str, str]]: ...


def accounting_adapter(connection: Connection) -> AccountingAdapter:
    if provider(connection.system).kind != Kind.ACCOUNTING:
        raise ValueError(f"{connection.system} is not an accounting system")
    from .quickbooks.adapter import QuickBooksAdapter

    adapters = {System.QUICKBOOKS: QuickBooksAdapter}
    return adapters[System(connection.system)](connection)


def crm_adapter(connection: Connection) -> CrmAdapter:
    if provider(connection.system).kind != Kind.CRM:
        raise ValueError(f"{connection.system} is not a CRM")
    from .hubspot.adapter import HubSpotAdapter

    adapters = {System.HUBSPOT: HubSpotAdapter}
    return adapters[System(connection.system)](connection)
