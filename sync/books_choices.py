"""What the sync settings are picked from, read from the client's systems: the books' income
accounts and items, and the CRM's properties a field map may read. A page reads them once,
without waiting out a provider's trouble; when a system cannot be read it says why and keeps
what is set."""

from dataclasses import dataclass

from clients.models import Client
from connections import retries
from connections.adapters import accounting_adapter, crm_adapter
from connections.providers import Kind, provider
from connections.refresh import ConnectionUnusable
from connections.tokens import OAuthError

from .customers import SyncUnavailable, active_connection
from .invoices import books_of
from .invoicing import Books


@dataclass(frozen=True)
class BooksChoices:
    # Names of the books' active income accounts; None when the books could not be read.
    income_accounts: tuple[str, ...] | None
    problem: str = ""  # why they could not be read, in words
    items: tuple[str, ...] = ()  # names of the books' active items (products and services)
    # The provider's name and longest invoice number; None while no books are connected.
    invoicing: Books | None = None
    # Where these books can file a posted invoice's job (`Capabilities.job_references`),
    # known without reading them.
    job_references: tuple[str, ...] = ("note",)
    # The books' active tracking categories and how many they may keep active (Xero: 2);
    # None when the books keep no categories or these could not be read.
    tracking_categories: tuple[str, ...] | None = None
    tracking_limit: int | None = None

    @property
    def readable(self) -> bool:
        return self.income_accounts is not None


def read_books_choices(client: Client) -> BooksChoices:
    facts, jobs = None, ("note",)
    try:
        books = accounting_adapter(active_connection(client, Kind.ACCOUNTING))
        facts, jobs = books_of(books), books.capabilities.job_references
        accounts = books.income_accounts(patient=False)
        items = books.items(patient=False)
        limit = books.capabilities.active_tracking_categories
        categories = tuple(books.tracking_categories(patient=False)) if limit else None
    except (SyncUnavailable, retries.ProviderError, ConnectionUnusable, OAuthError) as error:
        # Not connected, access lost, provider down.
        return BooksChoices(None, str(error), invoicing=facts, job_references=jobs)
    return BooksChoices(
        tuple(a.name for a in accounts if a.active),
        items=tuple(sorted((i.name for i in items if i.active), key=str.casefold)),
        invoicing=facts,
        job_references=jobs,
        tracking_categories=categories,
        tracking_limit=limit,
    )


@dataclass(frozen=True)
class CrmChoices:
    # (name, label) of the properties of companies and of contacts; None when unreadable.
    properties: dict[str, tuple[tuple[str, str], ...]] | None
    problem: str = ""
    crm: str = ""  # its name ("HubSpot"), for the words of the field map; "" unknown
    bills: bool = False  # the CRM issues its own invoices (who posts them is a setting)

    @property
    def readable(self) -> bool:
        return self.properties is not None

    def names(self, crm_type: str) -> set[str] | None:
        """The property names `crm_type` records have; None when the CRM could not be read."""
        if self.properties is None:
            return None
        return {name for name, _ in self.properties.get(crm_type, ())}


def read_crm_choices(client: Client) -> CrmChoices:
    name = ""
    try:
        crm = crm_adapter(active_connection(client, Kind.CRM))
        name = provider(crm.connection.system).short_name
        found = {
            crm_type: tuple(crm.record_properties(crm_type, patient=False))
            for crm_type in ("companies", "contacts")
        }
    except (SyncUnavailable, retries.ProviderError, ConnectionUnusable, OAuthError) as error:
        return CrmChoices(None, str(error), name)
    return CrmChoices(found, crm=name, bills=crm.crm_capabilities.issues_invoices)
