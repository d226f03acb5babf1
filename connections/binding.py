"""Which client a consented company may be bound to, and what binding it would do.

A company (QuickBooks realm, Xero organisation, HubSpot portal) proven by the provider is
bound to one client at a time, across every firm. `decide` is the rule, over plain data;
`holder_of` and `previous_of` read what it needs.
"""

from dataclasses import dataclass
from enum import StrEnum

from clients.models import Client

from .models import BOUND_STATUSES, Connection
from .providers import PROVIDERS


class Kind(StrEnum):
    CONNECT = "connect"  # no company before, nobody else holds this one
    RECONNECT = "reconnect"  # the same company as before (fresh tokens)
    CHANGE = "change"  # staff: another company than before; the old one's data set aside
    MOVE = "move"  # staff: a company another client of this firm holds; it moves here
    REFUSED = "refused"
    CHOOSE = "choose"  # the token reaches several companies: the person picks one first


@dataclass(frozen=True)
class Holder:
    """A connection that already holds the company (another client's)."""

    firm_id: int
    client_id: int
    client_name: str


@dataclass(frozen=True)
class Binding:
    kind: Kind
    reason: str = ""
    previous_id: str = ""
    holder: Holder | None = None

    @property
    def needs_confirmation(self) -> bool:
        return self.kind in (Kind.CHANGE, Kind.MOVE)

    @property
    def confirmation(self) -> str:
        """What the page's button sends to confirm this binding: the kind and what it acts
        on (the company set aside, the client a company is taken from), so a page shown
        before another change or move of the same kind confirms nothing."""
        if self.kind == Kind.CHANGE:
            return f"{self.kind}:{self.previous_id}"
        if self.kind == Kind.MOVE and self.holder is not None:
            return f"{self.kind}:{self.holder.client_id}"
        return str(self.kind)


ASK_BOOKKEEPER = "Nothing was connected. Please ask your bookkeeper: they can sort this out."


def decide(
    *,
    firm_id: int,
    external_id: str,
    label: str,
    previous_id: str,
    holder: Holder | None,
    via_invitation: bool,
) -> Binding:
    """What connecting `external_id` to a client would do, or why it may not.

    `previous_id` is the company the client's connection of this system last held (any
    status), `holder` another client's connection that holds this company now.
    """
    if holder is not None and holder.firm_id != firm_id:
        return Binding(
            Kind.REFUSED,
            f"This {label} is already connected to a client of another firm, so it cannot be "
            "connected here. Nothing was stored.",
        )
    changed = bool(previous_id) and previous_id != external_id
    if changed and via_invitation:
        return Binding(
            Kind.REFUSED,
            f"You chose a different {label} than the one connected before. Only the same "
            f"{label} can be reconnected from this link. {ASK_BOOKKEEPER}",
            previous_id,
            holder,
        )
    if holder is not None:
        if via_invitation:
            return Binding(
                Kind.REFUSED,
                f"This {label} is already connected to another of your bookkeeper's clients. "
                f"{ASK_BOOKKEEPER}",
                previous_id,
                holder,
            )
        return Binding(Kind.MOVE, "", previous_id, holder)
    if changed:
        return Binding(Kind.CHANGE, "", previous_id)
    return Binding(Kind.RECONNECT if previous_id else Kind.CONNECT, "", previous_id)


def holder_of(system: str, external_id: str, client: Client) -> Holder | None:
    """Another client's connection holding this company, in any firm (deliberately not
    firm-scoped: the point is to find the company bound elsewhere)."""
    found = (
        Connection.objects.filter(system=system, external_id=external_id, status__in=BOUND_STATUSES)
        .exclude(client=client)
        .select_related("client")
        .first()
    )
    if found is None:
        return None
    return Holder(found.client.firm_id, found.client_id, found.client.name)


def previous_of(client: Client, system: str) -> Connection | None:
    return Connection.objects.filter(client=client, system=system).exclude(external_id="").first()


def other_books(client: Client, system: str) -> Connection | None:
    """The client's books in another accounting system, when `system` is one: a client keeps
    one set of books, so connecting a second is refused until the first is disconnected."""
    from .providers import Kind as ProviderKind
    from .providers import provider

    if provider(system).kind != ProviderKind.ACCOUNTING:
        return None
    others = [s for s, p in PROVIDERS.items() if p.kind == ProviderKind.ACCOUNTING and s != system]
    return Connection.objects.filter(
        client=client, system__in=others, status__in=BOUND_STATUSES
    ).first()


def binding_for(
    client: Client, system: str, external_id: str, label: str, *, via_invitation: bool
) -> Binding:
    if (books := other_books(client, system)) is not None:
        from .providers import provider

        kept, wanted = provider(books.system).label, provider(system).label
        return Binding(
            Kind.REFUSED,
            f"{client.name} keeps its books in {kept}. A client has one set of books: to move "
            f"them to {wanted}, disconnect {kept} from the client's page first. Nothing was "
            "changed.",
        )
    previous = previous_of(client, system)
    return decide(
        firm_id=client.firm_id,
        external_id=external_id,
        label=label,
        previous_id=previous.external_id if previous else "",
        holder=holder_of(system, external_id, client),
        via_invitation=via_invitation,
    )
