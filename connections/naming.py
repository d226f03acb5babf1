"""How pages name each client's books ("QuickBooks customer", "Xero contact"), read for a
page of clients at once, so no page or message spells a provider itself."""

from collections import defaultdict
from collections.abc import Iterable

from .models import Connection, Status
from .providers import PROVIDERS, BooksWords, Kind, books_words


def books_words_of(client_ids: Iterable[int]) -> dict[int, BooksWords]:
    """Each client's books as pages name them (one query); a client with no books
    connected gets the neutral words ("the books", "customer")."""
    found: dict[int, BooksWords] = defaultdict(BooksWords)
    accounting = [s for s, p in PROVIDERS.items() if p.kind == Kind.ACCOUNTING]
    for client_id, system in Connection.objects.filter(
        client_id__in=set(client_ids), system__in=accounting, status=Status.ACTIVE
    ).values_list("client_id", "system"):
        found[client_id] = books_words(system)
    return found
