import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from clients.models import Client, Firm, Membership, Role, StaffInvitation, User
from connections.models import Connection
from sandbox.consent import consent

from .factories import (
    ClientFactory,
    FirmFactory,
    MembershipFactory,
    StaffInvitationFactory,
    UserFactory,
)

_real_connect = socket.socket.connect

pytest_plugins = ["tests.sync_support"]  # the `systems` fixture


def _loopback_only(sock: socket.socket, address):
    """Tests never reach the internet: any host but loopback is refused at once."""
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host!r}")
    return _real_connect(sock, address)


socket.socket.connect = _loopback_only


@dataclass
class TwoFirms:
    """Firm A with an owner, accountant, viewer, a client and an invitation; firm B apart."""

    firm_a: Firm
    owner_a: User
    accountant_a: User
    viewer_a: User
    membership_a: Membership
    client_a: Client
    invitation_a: StaffInvitation
    invitation_token_a: str
    firm_b: Firm
    owner_b: User
    client_b: Client


@pytest.fixture
def two_firms(db) -> TwoFirms:
    firm_a = FirmFactory(name="Alpha Books", slug="alpha")
    owner_a = MembershipFactory(firm=firm_a, role=Role.OWNER, user__email="owner@alpha.test").user
    accountant_membership = MembershipFactory(
        firm=firm_a, role=Role.ACCOUNTANT, user__email="accountant@alpha.test"
    )
    viewer_a = MembershipFactory(
        firm=firm_a, role=Role.VIEWER, user__email="viewer@alpha.test"
    ).user
    client_a = ClientFactory(firm=firm_a, name="Alpha Secret Roofing", slug="alpha-roofing")
    client_a.assigned_staff.add(accountant_membership.user)
    token = "alpha-invitation-token"
    invitation_a = StaffInvitationFactory(
        firm=firm_a, email="newhire@alpha.test", token=token, invited_by=owner_a
    )
    firm_b = FirmFactory(name="Bravo Books", slug="bravo")
    owner_b = MembershipFactory(firm=firm_b, role=Role.OWNER, user__email="owner@bravo.test").user
    client_b = ClientFactory(firm=firm_b, name="Bravo Plumbing", slug="bravo-plumbing")
    return TwoFirms(
        firm_a=firm_a,
        owner_a=owner_a,
        accountant_a=accountant_membership.user,
        viewer_a=viewer_a,
        membership_a=accountant_membership,
        client_a=client_a,
        invitation_a=invitation_a,
        invitation_token_a=token,
        firm_b=firm_b,
        owner_b=owner_b,
        client_b=client_b,
    )


@pytest.fixture
def user(db) -> User:
    return UserFactory()


@pytest.fixture
def sandbox(settings, live_server) -> str:
    """The app's own live server, serving the sandbox emulators; adapters point at it."""
    settings.SANDBOX_BASE_URL = live_server.url
    return live_server.url


def local(url: str) -> str:
    """The path and query of a redirect to this app (the test client has no network)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def start_direct(client, system: str, client_slug: str = "alpha-roofing") -> str:
    """The accountant presses Connect; returns the provider's authorize URL."""
    response = client.post(reverse("connection_connect", args=[client_slug, system]))
    assert response.status_code == 302
    return response["Location"]


def confirm(client, callback_response, confirm: str = ""):
    """After the provider's callback, press the confirmation page's button (what a person
    does: the callback alone stores nothing). Returns the answer to that press."""
    assert callback_response.status_code == 302, callback_response.content[:300]
    page = callback_response["Location"]
    assert "/confirm/" in page, page
    return client.post(page, {"action": "connect", "confirm": pressed(client, page, confirm)})


def pressed(client, page: str, kind: str) -> str:
    """What the confirmation page's button at `page` sends when it confirms `kind` (a change
    or move names what it acts on); "" when `kind` is "" (a press that names nothing)."""
    if not kind:
        return ""
    html = client.get(page).content.decode()
    found = re.search(r'name="confirm" value="([^"]*)"', html)
    assert found and found[1].split(":")[0] == kind, (kind, found and found[1])
    return found[1]


def finish_consent(client, callback: str, confirm_kind: str = ""):
    """Follow a provider redirect back into the app and confirm the page."""
    return confirm(client, client.get(local(callback)), confirm_kind)


@pytest.fixture
def connected(client, two_firms, sandbox):
    """Connect firm A's client to a new sandbox account (QuickBooks company, Xero
    organisation, HubSpot portal) through the real consent flow."""

    def connect(system: str) -> Connection:
        client.force_login(two_firms.accountant_a)
        callback = consent(start_direct(client, system), system, new_account_name="Books")
        finish_consent(client, callback)
        return Connection.objects.get(client=two_firms.client_a, system=system)

    return connect
