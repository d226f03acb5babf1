import pytest
import requests

from connections import retries
from connections.adapters import accounting_adapter, crm_adapter
from sync.models import SyncSettings

from ..sync_support import Systems
from .worlds import ACCOUNTING_SYSTEMS, BOOKS, CRM_SYSTEMS, CRMS, JobberCrm


class World(Systems):
    """Firm A's client with HubSpot and one accounting system, connected through the real
    consent flow; `books` acts in that system as its own user would."""

    def __init__(self, client, books_connection, hub, sandbox):
        super().__init__(client, books_connection, hub, sandbox)
        self.books = BOOKS[books_connection.system](books_connection, sandbox)

    @property
    def adapter(self):
        return accounting_adapter(self.qbo_connection)

    def faults(self, system: str, **plan) -> None:
        """A fault plan for the books ("books") or HubSpot ("hubspot")."""
        books = system == "books"
        account = (self.qbo_connection if books else self.hub_connection).external_id
        requests.put(
            f"{self.sandbox}/sandbox/control/faults",
            json={"system": self.books.system if books else system, "account": account, **plan},
            timeout=10,
        ).raise_for_status()


@pytest.fixture(params=ACCOUNTING_SYSTEMS)
def world(request, connected, sandbox, two_firms, monkeypatch) -> World:
    books, hub = connected(request.param), connected("hubspot")
    control = f"{sandbox}/sandbox/control"
    made = World(two_firms.client_a, books, hub, sandbox)
    for path in (made.books.control_path, f"hubspot/portals/{hub.external_id}"):
        # Limits lifted and no webhooks: each run is the one the test starts.
        requests.patch(
            f"{control}/{path}", json={"rate_limits": False, "webhook_url": ""}, timeout=10
        ).raise_for_status()
    monkeypatch.setattr(retries, "_wait", lambda state: 0.01)
    monkeypatch.setattr("sandbox.emulation.PLAN_CACHE_SECONDS", 0)
    SyncSettings.objects.filter(pk=SyncSettings.for_client(made.client).pk).update(
        income_account=made.books.income_account
    )
    return made


class CrmWorld:
    """Firm A's client with one CRM connected through the real consent flow; `crm` acts in
    it as its own user would."""

    def __init__(self, client, connection, sandbox):
        self.client, self.connection, self.sandbox = client, connection, sandbox
        self.crm = CRMS[connection.system](connection, sandbox)

    @property
    def adapter(self):
        return crm_adapter(self.connection)


@pytest.fixture(params=CRM_SYSTEMS)
def crm_world(request, connected, sandbox, two_firms, monkeypatch) -> CrmWorld:
    made = CrmWorld(two_firms.client_a, connected(request.param), sandbox)
    quick_and_quiet(sandbox, monkeypatch, made.crm.control_path)
    return made


def quick_and_quiet(sandbox: str, monkeypatch, *control_paths: str) -> None:
    """The sandbox accounts' rate limits lifted and webhooks off, waits kept short, fault
    plans read afresh: a contract test sets what it wants on top."""
    for path in control_paths:
        requests.patch(
            f"{sandbox}/sandbox/control/{path}",
            json={"rate_limits": False, "webhook_url": ""},
            timeout=10,
        ).raise_for_status()
    monkeypatch.setattr(retries, "_wait", lambda state: 0.01)
    monkeypatch.setattr("sandbox.emulation.PLAN_CACHE_SECONDS", 0)


@pytest.fixture(params=ACCOUNTING_SYSTEMS)
def jobber_and_books(request, connected, sandbox, two_firms, monkeypatch):
    """Firm A's client running Jobber with each accounting system in turn."""
    return _jobber_with(request.param, connected, sandbox, two_firms, monkeypatch)


@pytest.fixture
def jobber_and_quickbooks(connected, sandbox, two_firms, monkeypatch):
    return _jobber_with("quickbooks", connected, sandbox, two_firms, monkeypatch)


def _jobber_with(system: str, connected, sandbox, two_firms, monkeypatch):
    """Firm A's client running Jobber with `system`'s books, both connected through the real
    consent flow, limits lifted, no webhooks unless a test asks."""
    books_connection, crm_connection = connected(system), connected("jobber")
    books, crm = BOOKS[system](books_connection, sandbox), JobberCrm(crm_connection, sandbox)
    quick_and_quiet(sandbox, monkeypatch, books.control_path, crm.control_path)
    client = two_firms.client_a
    SyncSettings.objects.filter(pk=SyncSettings.for_client(client).pk).update(
        income_account=books.income_account
    )
    books.add_item("Roof inspection", "RF-INSP")
    books.add_item("Gutter clean", "GT-CLN")
    return client, books, crm
