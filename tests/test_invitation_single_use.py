"""A contractor's link connects each system it names once, over the real OAuth flow against
the sandbox: a second browser using the same link is refused with a clear page and changes
nothing, even when both complete at the same moment."""

import threading
import time

import pytest
from django.db import connections as db_connections
from django.db import transaction
from django.test import Client as Browser
from django.urls import reverse

from clients.models import AuditEntry
from connections.invitations import link_token
from connections.models import Connection
from sandbox.consent import consent

from .conftest import confirm, finish_consent, local
from .factories import ContractorInvitationFactory
from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def start(browser: Browser, token: str, system: str = "quickbooks") -> str:
    """The contractor presses "Connect"; returns the provider's authorize URL."""
    response = browser.post(reverse("contractor_connect", args=[token, system]))
    assert response.status_code == 302, response.content.decode()[:300]
    return response["Location"]


def test_it_refuses_a_link_used_twice_from_two_anonymous_browsers(two_firms, sandbox):
    """GIVEN one link opened in two anonymous browsers
    WHEN both approve QuickBooks, each choosing a different company
    THEN the first connects, the second sees that the link was used and the client keeps
    the first company."""
    token = link_token(ContractorInvitationFactory(client=two_firms.client_a))
    first, second = Browser(), Browser()
    first_url, second_url = start(first, token), start(second, token)

    done = finish_consent(
        first, consent(first_url, "quickbooks", new_account_name="Alpha Roofing LLC")
    )
    assert done.status_code == 302
    connected = Connection.objects.get(client=two_firms.client_a, system="quickbooks")

    again = second.get(local(consent(second_url, "quickbooks", new_account_name="Another Co")))
    body = again.content.decode()
    assert again.status_code == 400
    assert "This link was already used to connect QuickBooks Online on " in body
    assert "ask Alpha Books for a new link if you need to reconnect" in body
    now = Connection.objects.get(client=two_firms.client_a, system="quickbooks")
    assert (now.external_id, now.external_name) == (connected.external_id, "Alpha Roofing LLC")
    assert now.refresh_token == connected.refresh_token, "the second browser's tokens stored"


def test_it_shows_a_used_system_without_a_consent_button(two_firms, sandbox):
    token = link_token(ContractorInvitationFactory(client=two_firms.client_a))
    first = Browser()
    finish_consent(first, consent(start(first, token), "quickbooks", new_account_name="Alpha LLC"))

    later = Browser()  # a fresh browser, later
    page = later.get(reverse("contractor_invitation", args=[token])).content.decode()
    assert "Connect Alpha Secret Roofing's systems for Alpha Books" in page
    assert "Connected through this link on " in page and "<strong>Alpha LLC</strong>" in page
    assert "Connect QuickBooks" not in page, "no consent button for a spent system"
    assert "Connect HubSpot" in page, "the system not yet connected still has its button"
    refused = later.post(reverse("contractor_connect", args=[token, "quickbooks"]))
    assert refused.status_code == 410
    assert "already used to connect QuickBooks Online" in refused.content.decode()


def test_it_spends_the_whole_link_once_every_system_is_connected(two_firms, sandbox):
    invitation = ContractorInvitationFactory(client=two_firms.client_a, systems=["quickbooks"])
    token = link_token(invitation)
    browser = Browser()
    done = finish_consent(
        browser, consent(start(browser, token), "quickbooks", new_account_name="Alpha LLC")
    )
    done = browser.get(done["Location"])
    thanks = done.content.decode()
    assert "Thank you" in thanks and "connected to <strong>Alpha LLC</strong>" in thanks
    assert "Alpha Secret Roofing" in thanks and "Alpha Books" in thanks
    invitation.refresh_from_db()
    assert invitation.used_at is not None
    use = invitation.uses.get()
    assert use.connection == Connection.objects.get(client=two_firms.client_a)
    assert use.external_name == "Alpha LLC"

    page = Browser().get(reverse("contractor_invitation", args=[token]))
    body = page.content.decode()
    assert page.status_code == 410
    assert "This link was already used" in body and "<form" not in body
    entry = AuditEntry.objects.get(action="invitation.use", object_id=str(invitation.pk))
    assert entry.before == {"used_at": None, "systems_used": []}
    assert entry.after["systems_used"] == ["quickbooks"] and entry.after["used_at"]


def test_two_browsers_completing_at_once_connect_exactly_once(two_firms, sandbox):
    """GIVEN two anonymous browsers holding approvals for the same link, each on its
    confirmation page
    WHEN both confirm at the same moment
    THEN exactly one connects; the other gets the clear page and nothing of it is stored."""
    token = link_token(ContractorInvitationFactory(client=two_firms.client_a))
    browsers = [Browser(), Browser()]
    callbacks = [
        b.get(local(consent(start(b, token), "quickbooks", new_account_name=f"Company {n}")))
        for n, b in enumerate(browsers)
    ]
    answers: dict[int, object] = {}
    barrier = threading.Barrier(2)

    def come_back(n: int) -> None:
        try:
            barrier.wait()
            answers[n] = confirm(browsers[n], callbacks[n])
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=come_back, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(a.status_code for a in answers.values())
    assert statuses == [302, 400]
    winner = next(n for n, a in answers.items() if a.status_code == 302)
    loser = answers[1 - winner]
    assert "already used to connect QuickBooks Online" in loser.content.decode()
    connection = Connection.objects.get(client=two_firms.client_a, system="quickbooks")
    assert connection.external_name == f"Company {winner}"
    assert AuditEntry.objects.filter(action="connection.connect").count() == 1


def test_spend_lets_one_of_two_overlapping_transactions_through(two_firms):
    """The lock itself: the second transaction waits for the first, then finds it spent."""
    from connections.invitations import InvitationUsed, spend

    invitation = ContractorInvitationFactory(client=two_firms.client_a, systems=["quickbooks"])
    connection = Connection.objects.create(
        client=two_firms.client_a, system="quickbooks", external_id="1", external_name="A"
    )
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            with transaction.atomic():
                barrier.wait()
                spend(invitation, "quickbooks", connection)
                time.sleep(0.3)  # keep the transaction open while the other one tries
            outcomes.append("spent")
        except InvitationUsed:
            outcomes.append("refused")
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["refused", "spent"]
    assert invitation.uses.count() == 1


@pytest.mark.parametrize("system", ["quickbooks", "hubspot"])
def test_the_sandbox_chooser_preselects_no_account(two_firms, sandbox, system):
    """Like Intuit's chooser: an account another client connected is not chosen for you."""
    import requests

    token = link_token(ContractorInvitationFactory(client=two_firms.client_a))
    browser = Browser()
    consent(start(browser, token, system), system, new_account_name="Someone else's books")
    page = requests.get(start(Browser(), token, system), timeout=10).text
    assert "Someone else&#x27;s books" in page or "Someone else's books" in page
    assert "checked" not in page
