"""What a change of company sets aside, gathered from the layers that keep data about the
old pair of companies.

The sync engine and reconciliation sit above connections. Each registers a `SetAside` in its
AppConfig.ready(); connections asks every registered one without importing them, so imports
keep pointing down (README, "Layout").
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from clients.models import Client, User

from .providers import Kind, provider


@dataclass(frozen=True)
class Change:
    """One change of company being carried out: who, when, the note closed items carry, and
    whether it was the books that changed (their mirror then goes too)."""

    client: Client
    system: str
    actor: User
    at: datetime
    note: str
    change_id: int
    books_changed: bool


class SetAside(Protocol):
    def counts(self, client: Client, books_changed: bool) -> dict[str, int]:
        """How many of this layer's rows the change would set aside (the confirmation page)."""

    def set_aside(self, change: Change) -> dict[str, list]:
        """Archive this layer's rows about the old pair, clear them, and return the archive."""


_layers: list[SetAside] = []


def register(layer: SetAside) -> None:
    if all(type(kept) is not type(layer) for kept in _layers):
        _layers.append(layer)


def books_change(system: str) -> bool:
    return provider(system).kind == Kind.ACCOUNTING


def counts(client: Client, system: str) -> dict[str, int]:
    books_changed = books_change(system)
    total: dict[str, int] = {}
    for layer in _layers:
        total |= layer.counts(client, books_changed)
    return total


def set_aside(change: Change) -> dict[str, list]:
    archive: dict[str, list] = {}
    for layer in _layers:
        archive |= layer.set_aside(change)
    return archive
