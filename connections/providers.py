"""The external systems syncfirm connects to, and what each asks a contractor to allow."""

from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.db import models


class System(models.TextChoices):
    QUICKBOOKS = "quickbooks", "QuickBooks Online"
    XERO = "xero", "Xero"
    HUBSPOT = "hubspot", "HubSpot"


class Kind(models.TextChoices):
    ACCOUNTING = "accounting", "Accounting"
    CRM = "crm", "CRM"


@dataclass(frozen=True)
class Scope:
    name: str
    meaning: str


@dataclass(frozen=True)
class Provider:
    system: System
    kind: Kind
    scopes: tuple[Scope, ...]
    # How pages and messages name the system and its records: "QuickBooks customer “Acme”",
    # "Xero contact “Acme”", "HubSpot company “Acme”".
    short_name: str
    customer_word: str

    @property
    def label(self) -> str:
        return self.system.label

    def customer(self, name: str = "") -> str:
        """ "QuickBooks customer", or "Xero contact “Acme”" with a name."""
        words = f"{self.short_name} {self.customer_word}"
        return f"{words} “{name}”" if name else words

    @property
    def scope_names(self) -> list[str]:
        return [scope.name for scope in self.scopes]


PROVIDERS: dict[str, Provider] = {
    System.QUICKBOOKS: Provider(
        System.QUICKBOOKS,
        Kind.ACCOUNTING,
        (
            Scope(
                "com.intuit.quickbooks.accounting",
                "Read and write customers, products, invoices, payments and credit memos",
            ),
        ),
        "QuickBooks",
        "customer",
    ),
    System.XERO: Provider(
        System.XERO,
        Kind.ACCOUNTING,
        (
            Scope("offline_access", "Stay connected without asking again every 30 minutes"),
            Scope("accounting.contacts", "Read and write contacts"),
            Scope(
                "accounting.transactions",
                "Read and write invoices, payments, credit notes and items",
            ),
            Scope("accounting.settings.read", "Read the chart of accounts and tax rates"),
        ),
        "Xero",
        "contact",
    ),
    System.HUBSPOT: Provider(
        System.HUBSPOT,
        Kind.CRM,
        (
            Scope("crm.objects.companies.read", "Read companies"),
            Scope("crm.objects.companies.write", "Update companies"),
            Scope("crm.objects.contacts.read", "Read contacts"),
            Scope("crm.objects.contacts.write", "Update contacts"),
            Scope("crm.objects.deals.read", "Read deals and their line items"),
            Scope("crm.objects.deals.write", "Write payment status onto deals"),
            Scope("crm.schemas.deals.write", "Add syncfirm's payment properties to deals"),
        ),
        "HubSpot",
        "company",
    ),
}


def provider(system: str) -> Provider:
    return PROVIDERS[System(system)]


def sandbox_base() -> str:
    """Where the emulators answer when SANDBOX is on (the app's own server)."""
    return settings.SANDBOX_BASE_URL.rstrip("/") + "/sandbox"


def quickbooks_discovery_url() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/intuit/.well-known/openid_configuration"
    return "https://developer.intuit.com/.well-known/openid_configuration/"


def quickbooks_api_base() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/quickbooks/v3"
    return "https://quickbooks.api.intuit.com/v3"


def hubspot_api_base() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/hubspot"
    return "https://api.hubapi.com"


def hubspot_authorize_url() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/hubspot/oauth/authorize"
    return "https://app.hubspot.com/oauth/authorize"


# Where a person opens one record in the provider's own app, in the right company. QuickBooks
# keys its pages by `companyId` (a person signed in to several companies otherwise lands in
# whichever they used last); HubSpot's by the portal in the path. With SANDBOX on, the
# emulators' read-only record pages stand in (sandbox/record_pages.py).
QUICKBOOKS_PAGES = {"invoice": "invoice?txnId", "customer": "customerdetail?nameId"}
HUBSPOT_OBJECT_TYPES = {"deals": "0-3", "companies": "0-2", "contacts": "0-1"}


def quickbooks_record_url(realm_id: str, kind: str, record_id: str) -> str:
    """A QuickBooks invoice's or customer's page in the company `realm_id`."""
    page = QUICKBOOKS_PAGES[kind]
    base = (
        f"{sandbox_base()}/quickbooks/app" if settings.SANDBOX else "https://app.qbo.intuit.com/app"
    )
    return f"{base}/{page}={quote(record_id)}&companyId={quote(realm_id)}"


def hubspot_record_url(portal_id: str, object_type: str, record_id: str) -> str:
    """A HubSpot record's page (deal, company, contact) in the portal `portal_id`."""
    type_id = HUBSPOT_OBJECT_TYPES[object_type]
    base = f"{sandbox_base()}/hubspot/app" if settings.SANDBOX else "https://app.hubspot.com"
    return f"{base}/contacts/{quote(portal_id)}/record/{type_id}/{quote(record_id)}"


@dataclass(frozen=True)
class BooksWords:
    """How pages name a client's books and their customers: "QuickBooks" and "customer",
    "Xero" and "contact", or "the books" and "customer" while none are connected."""

    name: str = "the books"
    customer_word: str = "customer"

    def customer(self, name: str = "") -> str:
        words = f"{self.name} {self.customer_word}"
        return f"{words} “{name}”" if name else words


def books_words(system: str | None) -> BooksWords:
    """The words for an accounting system (None or a CRM: the neutral ones)."""
    if not system or provider(system).kind != Kind.ACCOUNTING:
        return BooksWords()
    found = provider(system)
    return BooksWords(found.short_name, found.customer_word)
