"""The external systems syncfirm connects to, and what each asks a contractor to allow."""

from dataclasses import dataclass, field, replace
from urllib.parse import quote

from django.conf import settings
from django.db import models


class System(models.TextChoices):
    QUICKBOOKS = "quickbooks", "QuickBooks Online"
    XERO = "xero", "Xero"
    HUBSPOT = "hubspot", "HubSpot"
    JOBBER = "jobber", "Jobber"


class Kind(models.TextChoices):
    ACCOUNTING = "accounting", "Accounting"
    CRM = "crm", "CRM"


@dataclass(frozen=True)
class Scope:
    name: str
    meaning: str
    writes: bool = False  # lets syncfirm change records, not only read them


@dataclass(frozen=True)
class Provider:
    system: System
    kind: Kind
    scopes: tuple[Scope, ...]
    # How pages and messages name the system and its records: "QuickBooks customer “Acme”",
    # "Xero contact “Acme”", "HubSpot company “Acme”".
    short_name: str
    customer_word: str
    # What a person does by hand there, in the app's own words, for fixes syncfirm cannot
    # or will not write ({keep} and {copy} are customers' names): see STEP_KEYS.
    steps: dict[str, str] = field(default_factory=dict)
    account_word: str = "Account"  # what one connected account is called: a QuickBooks company
    # A CRM's record that becomes a books invoice: a HubSpot "deal", a Jobber "invoice".
    deal_word: str = "deal"
    # What the consent pages say the firm reaches there, in the system's own words.
    records: str = ""
    # Its account ids are opaque to people (Jobber's base64 GraphQL ids): never shown.
    opaque_ids: bool = False

    @property
    def access(self) -> str:
        """What its scopes let the firm do, in plain words: "read", or "read and update"."""
        return "read and update" if any(s.writes for s in self.scopes) else "read"

    @property
    def label(self) -> str:
        return self.system.label

    def customer(self, name: str = "") -> str:
        """ "QuickBooks customer", or "Xero contact “Acme”" with a name."""
        return system_words(self.system).customer(name)

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
                writes=True,
            ),
        ),
        "QuickBooks",
        "customer",
        {
            "inactive": "inactive",
            "make_inactive": "make {copy} inactive",
            "inactive_steps": "Customers, {copy}, Edit, Make inactive",
            "inactive_rule": "QuickBooks makes a customer inactive only once nothing is open on it",
            "reactivate": "make it active again in QuickBooks (Customers, show inactive ones, "
            "Make active)",
            "move": "open each of them and change its customer to {keep} (a payment applied to "
            "one of its invoices is moved with it: unapply it, move both, apply it again)",
            "unapply": "unlink the payment or credit in QuickBooks",
            "unvoid": "QuickBooks cannot un-void an invoice",
        },
        account_word="Company",
        records="customers, products, invoices, payments and credit memos",
    ),
    System.XERO: Provider(
        System.XERO,
        Kind.ACCOUNTING,
        (
            Scope("offline_access", "Stay connected without asking again every 30 minutes"),
            Scope("accounting.contacts", "Read and write contacts", writes=True),
            Scope(
                "accounting.transactions",
                "Read and write invoices, payments, credit notes and items",
                writes=True,
            ),
            Scope("accounting.settings.read", "Read the chart of accounts and tax rates"),
        ),
        "Xero",
        "contact",
        {
            "inactive": "archived",
            "make_inactive": "archive {copy}",
            "inactive_steps": "Contacts, {copy}, Options, Archive",
            "inactive_rule": "Xero archives a contact only once nothing is outstanding on it",
            "reactivate": "restore it in Xero (Contacts, Archived, select it, Restore)",
            "move": "void or credit each open invoice of {copy} and raise it again to {keep} "
            "(Xero does not move an approved invoice to another contact)",
            "unapply": "remove the allocation in Xero (the credit note, Allocations, Remove)",
            "unvoid": "Xero cannot un-void an invoice",
        },
        account_word="Organisation",
        records="contacts, invoices, payments, credit notes and items",
    ),
    System.HUBSPOT: Provider(
        System.HUBSPOT,
        Kind.CRM,
        (
            Scope("crm.objects.companies.read", "Read companies"),
            Scope("crm.objects.companies.write", "Update companies", writes=True),
            Scope("crm.objects.contacts.read", "Read contacts"),
            Scope("crm.objects.contacts.write", "Update contacts", writes=True),
            Scope("crm.objects.deals.read", "Read deals and their line items"),
            Scope("crm.objects.deals.write", "Write payment status onto deals", writes=True),
            Scope(
                "crm.schemas.deals.write", "Add syncfirm's payment properties to deals", writes=True
            ),
        ),
        "HubSpot",
        "company",
        {
            "merge": "open the company {keep}, choose Actions, Merge, and pick {copy}; its "
            "contacts and deals move to {keep}",
        },
        account_word="Portal",
        records="companies, contacts and deals",
    ),
    # Jobber fixes an app's scopes when the app is made in its Developer Center; none is
    # asked for in the authorize URL (api-facts E2). Listed for the consent pages.
    System.JOBBER: Provider(
        System.JOBBER,
        Kind.CRM,
        (
            Scope("read_clients", "Read clients, their addresses, emails and phones"),
            Scope("read_jobs", "Read jobs"),
            Scope("read_invoices", "Read invoices, their lines and balances"),
            Scope("read_payments", "Read payments recorded on invoices"),
        ),
        "Jobber",
        "client",
        {
            "merge": "open the client {copy} in Jobber, move its properties, jobs and invoices "
            "to {keep}, then archive {copy} (Jobber has no merge)",
        },
        account_word="Account",
        deal_word="invoice",
        records="clients, jobs, invoices and payments",
        opaque_ids=True,
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


def xero_api_base() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/xero/api.xro/2.0"
    return "https://api.xero.com/api.xro/2.0"


def hubspot_api_base() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/hubspot"
    return "https://api.hubapi.com"


def hubspot_authorize_url() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/hubspot/oauth/authorize"
    return "https://app.hubspot.com/oauth/authorize"


def xero_authorize_url() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/xero/identity/connect/authorize"
    return "https://login.xero.com/identity/connect/authorize"


def xero_token_url() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/xero/identity/connect/token"
    return "https://identity.xero.com/connect/token"


def xero_revocation_url() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/xero/identity/connect/revocation"
    return "https://identity.xero.com/connect/revocation"


def xero_connections_url() -> str:
    if settings.SANDBOX:
        return f"{sandbox_base()}/xero/connections"
    return "https://api.xero.com/connections"


def jobber_api_base() -> str:
    """Jobber's API root: /graphql and /oauth/{authorize,token} below it."""
    if settings.SANDBOX:
        return f"{sandbox_base()}/jobber/api"
    return "https://api.getjobber.com/api"


def jobber_graphql_url() -> str:
    return f"{jobber_api_base()}/graphql"


def jobber_authorize_url() -> str:
    return f"{jobber_api_base()}/oauth/authorize"


def jobber_token_url() -> str:
    return f"{jobber_api_base()}/oauth/token"


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


# Xero opens a record by its id in the organisation the person last used; the tenant is
# kept in the link for the sandbox's pages (and for a future organisation switch).
XERO_PAGES = {"invoice": "AccountsReceivable/View.aspx?InvoiceID", "customer": "Contacts/View"}


def xero_record_url(tenant_id: str, kind: str, record_id: str) -> str:
    """A Xero invoice's or contact's page."""
    if settings.SANDBOX:
        return f"{sandbox_base()}/xero/app/{kind}/{quote(tenant_id)}/{quote(record_id)}"
    if kind == "customer":
        return f"https://go.xero.com/Contacts/View/{quote(record_id)}"
    return f"https://go.xero.com/{XERO_PAGES[kind]}={quote(record_id)}"


# Jobber's web app keys its pages by the record's number inside its encoded id; "deals"
# are Jobber invoices (connections/jobber/adapter.py). The sandbox's pages stand in for them.
JOBBER_PAGES = {
    "companies": "clients", "contacts": "clients", "customer": "clients", "client": "clients",
    "deals": "invoices", "deal": "invoices", "invoice": "invoices", "job": "work_orders",
    "jobs": "work_orders",
}  # fmt: skip


def jobber_record_url(account_id: str, kind: str, record_id: str) -> str:
    """A Jobber client's, invoice's or job's page (`kind` neutral or the CRM type)."""
    import base64
    import binascii

    page = JOBBER_PAGES.get(kind, "clients")
    if settings.SANDBOX:
        return f"{sandbox_base()}/jobber/app/{page}/{quote(account_id)}/{quote(record_id)}"
    try:  # gid://Jobber/<Type>/<number>
        number = base64.b64decode(record_id, validate=True).decode().rsplit("/", 1)[-1]
    except (binascii.Error, UnicodeDecodeError, ValueError):
        number = record_id
    return f"https://secure.getjobber.com/{page}/{quote(number)}"


# Neutral kinds of record → HubSpot's object types.
CRM_KINDS = {"deal": "deals", "company": "companies", "contact": "contacts"}


def record_url(system: str, account_id: str, kind: str, record_id: str) -> str:
    """Where a person opens a record ("invoice", "customer"; "deal", "company", "contact")
    in its own system, in the account (company, organisation, portal) `account_id`."""
    if system == System.QUICKBOOKS:
        return quickbooks_record_url(account_id, kind, record_id)
    if system == System.XERO:
        return xero_record_url(account_id, kind, record_id)
    if system == System.JOBBER:
        return jobber_record_url(account_id, kind, record_id)
    return hubspot_record_url(account_id, CRM_KINDS.get(kind, kind), record_id)


@dataclass(frozen=True)
class SystemWords:
    """How pages name a client's two systems and the books' customers: "QuickBooks" and
    "customer", "Xero" and "contact", "HubSpot"; "the books", "customer" and "the CRM"
    while a system is not connected."""

    books: str = "the books"
    customer_word: str = "customer"
    crm: str = "the CRM"
    deal_word: str = "deal"  # the CRM's record an invoice comes from ("invoice": Jobber's)
    books_steps: dict[str, str] = field(default_factory=dict)
    crm_steps: dict[str, str] = field(default_factory=dict)

    @property
    def deal_label(self) -> str:
        """ "Deal", or "Jobber invoice" where the CRM's own invoices stand for deals."""
        return "Deal" if self.deal_word == "deal" else f"{self.crm} {self.deal_word}"

    @property
    def inactive(self) -> str:
        """What the books call a customer kept but set aside: "inactive", "archived"."""
        return self.books_steps.get("inactive", "inactive")

    def customers(self, count: int) -> str:
        """ "220 QuickBooks customers", "1 Xero contact", "3 customers in the books"."""
        plural = "" if count == 1 else "s"
        if self.books == SystemWords.books:
            return f"{count:,} {self.customer_word}{plural} in the books"
        return f"{count:,} {self.books} {self.customer_word}{plural}"

    def step(self, name: str, **names: str) -> str:
        """A step by hand in the books or the CRM, with the customers' names filled in."""
        text = self.books_steps.get(name) or self.crm_steps.get(name) or GENERIC_STEPS[name]
        return text.format(**names)

    def customer(self, name: str = "") -> str:
        """ "QuickBooks customer", or "Xero contact “Acme”" with a name."""
        words = f"{self.books} {self.customer_word}"
        return f"{words} “{name}”" if name else words


def system_words(books: str | None = None, crm: str | None = None) -> SystemWords:
    """The words for a client's accounting system and CRM (None: not connected)."""
    found = SystemWords()
    if books:
        known = provider(books)
        found = replace(
            found, books=known.short_name, customer_word=known.customer_word,
            books_steps=known.steps,
        )  # fmt: skip
    if crm:
        known = provider(crm)
        found = replace(
            found, crm=known.short_name, crm_steps=known.steps, deal_word=known.deal_word
        )
    return found


# The steps in words while a system is not connected (or says nothing of its own).
GENERIC_STEPS = {
    "inactive": "inactive",
    "make_inactive": "make {copy} inactive",
    "inactive_steps": "make {copy} inactive in the books",
    "inactive_rule": "the books set a customer aside only once nothing is open on it",
    "reactivate": "make it active again in the books",
    "move": "move each of them to {keep}",
    "unapply": "unlink the payment or credit in the books",
    "unvoid": "the books cannot un-void an invoice",
    "merge": "merge {copy} into {keep} in the CRM",
}
