"""What the pages show of a client's connections: one row per system, connected or not."""

from dataclasses import dataclass

from clients.models import Client

from .invitations import default_systems, known_systems, sent_invitations
from .models import BOUND_STATUSES, Connection, Status
from .providers import PROVIDERS, Provider

BADGE = {
    Status.ACTIVE: "ok",
    Status.PENDING: "",
    Status.NEEDS_REAUTH: "bad",
    Status.ERROR: "bad",
    Status.REVOKED: "warn",
}


@dataclass(frozen=True)
class ConnectionRow:
    provider: Provider
    connection: Connection | None

    @property
    def status(self) -> str:
        return self.connection.status if self.connection else Status.PENDING

    @property
    def status_label(self) -> str:
        if self.connection is None:
            return "Not connected"
        return Status(self.connection.status).label  # get_status_display() costs 10x

    @property
    def badge(self) -> str:
        return BADGE[Status(self.status)]

    @property
    def connected(self) -> bool:
        return self.status == Status.ACTIVE

    @property
    def bound(self) -> bool:
        """Connected once and still held (active, or waiting to be reconnected)."""
        return self.status in BOUND_STATUSES


def connection_rows(client: Client, connections=None) -> list[ConnectionRow]:
    """One row per system the client uses or may connect: the books it keeps and the CRM it
    runs (one of each), or every system of a kind while none of it is connected;
    `connections` may be prefetched."""
    if connections is None:
        connections = client.connections.select_related("connected_by")
    by_system = {c.system: c for c in connections}
    bound = {
        system: PROVIDERS[system].kind
        for system, c in by_system.items()
        if system in PROVIDERS and c.status in BOUND_STATUSES
    }
    kinds = set(bound.values())
    return [
        ConnectionRow(p, by_system.get(system))
        for system, p in PROVIDERS.items()
        if p.kind not in kinds or system in bound
    ]


def panel_context(client: Client) -> dict:
    """What the connections panel shows; the client page includes the same panel."""
    rows = connection_rows(client)
    return {
        "rows": rows,
        "invite_systems": default_systems(
            {r.provider.system: r.connected for r in rows}, known_systems(client)
        ),
        "sent_links": sent_invitations(client),
    }
