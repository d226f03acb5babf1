"""How pages name each client's systems ("QuickBooks customer", "Xero contact", "HubSpot")
and where its records open, read for a page of clients at once, so no page or message
spells a provider itself."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .models import BOUND_STATUSES, Connection
from .providers import Kind, SystemWords, provider, record_url, system_words


@dataclass(frozen=True)
class Accounts:
    """A client's connected systems: which, and the account (company, organisation,
    portal) its records live in; empty while a system is not connected."""

    books_system: str = ""
    books_account: str = ""
    crm_system: str = ""
    crm_account: str = ""

    @property
    def words(self) -> SystemWords:
        return system_words(self.books_system or None, self.crm_system or None)

    def books_url(self, kind: str, record_id: str) -> str:
        """The record's page in the books ("invoice", "customer"), or "" with none."""
        if not (self.books_system and self.books_account):
            return ""
        return record_url(self.books_system, self.books_account, kind, record_id)

    def crm_url(self, kind: str, record_id: str) -> str:
        """The record's page in the CRM ("deal", "company", "contact"), or ""."""
        if not (self.crm_system and self.crm_account):
            return ""
        return record_url(self.crm_system, self.crm_account, kind, record_id)


def accounts_of(client_ids: Iterable[int]) -> dict[int, Accounts]:
    """Each client's connected systems (one query); a client with none gets empty ones."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for client_id, system, account in Connection.objects.filter(
        client_id__in=set(client_ids), status__in=BOUND_STATUSES
    ).values_list("client_id", "system", "external_id"):
        side = "books" if provider(system).kind == Kind.ACCOUNTING else "crm"
        found[client_id] |= {f"{side}_system": system, f"{side}_account": account}
    return defaultdict(Accounts, {c: Accounts(**fields) for c, fields in found.items()})


def words_of(client_ids: Iterable[int]) -> dict[int, SystemWords]:
    """Each client's systems as pages name them (one query)."""
    return defaultdict(SystemWords, {c: a.words for c, a in accounts_of(client_ids).items()})
