"""What the sync settings are picked from, read from the client's books: the income
accounts products are created in. A page reads them once, without waiting out a
provider's trouble; when the books cannot be read it says why and keeps what is set."""

from dataclasses import dataclass

from clients.models import Client

from .. import retries
from ..adapters import accounting_adapter
from ..providers import Kind
from ..refresh import ConnectionUnusable
from ..tokens import OAuthError
from .customers import SyncUnavailable, active_connection


@dataclass(frozen=True)
class BooksChoices:
    # Names of the books' active income accounts; None when the books could not be read.
    income_accounts: tuple[str, ...] | None
    problem: str = ""  # why they could not be read, in words

    @property
    def readable(self) -> bool:
        return self.income_accounts is not None


def read_books_choices(client: Client) -> BooksChoices:
    try:
        books = accounting_adapter(active_connection(client, Kind.ACCOUNTING))
        accounts = books.income_accounts(patient=False)
    except (SyncUnavailable, retries.ProviderError, ConnectionUnusable, OAuthError) as error:
        return BooksChoices(None, str(error))  # not connected, access lost, provider down
    return BooksChoices(tuple(a.name for a in accounts if a.active))
