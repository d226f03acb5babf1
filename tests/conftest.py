import ipaddress
import socket
from dataclasses import dataclass

import pytest

from clients.models import Client, Firm, Membership, Role, StaffInvitation, User

from .factories import (
    ClientFactory,
    FirmFactory,
    MembershipFactory,
    StaffInvitationFactory,
    UserFactory,
)

_real_connect = socket.socket.connect


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
