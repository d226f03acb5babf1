"""The isolation walk's public doors (issue 13, finding 2): OAuth callbacks and webhooks,
tried with another firm's company ids. `test_isolation_routes.py` exempts them because a
session state or a signature guards them; here firm B edits its callback to firm A's realm,
connects firm A's HubSpot portal, and firm A's signed webhooks are followed to their client.
Real consent flow against the sandbox, through the official clients."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from connections.models import Connection, Status, WebhookDelivery
from sandbox.consent import consent
from sandbox.hubspot.models import Portal
from sandbox.jobber.ids import decode_id, encode_id
from sandbox.jobber.webhooks import payload as jobber_payload

from .conftest import local, start_direct
from .factories import ClientFactory
from .sandbox.conftest import sandbox_db
from .test_jobber_webhooks import post as post_jobber
from .test_webhooks import hubspot_body, intuit_signature, post_hubspot, post_qbo, qbo_body
from .test_xero_connect import post_xero, xero_body

pytestmark = sandbox_db


def back_in_app(client, callback: str):
    """The provider's redirect back into the app, and the confirmation page's button when
    the app shows one (what a person does)."""
    response = client.get(local(callback))
    if response.status_code == 302 and "/confirm/" in response["Location"]:
        return client.post(response["Location"], {"action": "connect"})
    return response


def firm_a_connects(client, two_firms, system: str) -> Connection:
    client.force_login(two_firms.accountant_a)
    back_in_app(client, consent(start_direct(client, system), system, new_account_name="A's"))
    client.logout()
    return Connection.objects.get(client=two_firms.client_a, system=system)


@pytest.fixture
def firm_b_client(two_firms):
    """A client of firm B whose name sorts before firm A's: routing that took the first of
    several matching connections (by client name) would pick it."""
    return ClientFactory(firm=two_firms.firm_b, name="Aardvark Builders", slug="aardvark")


def with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {name: value}
    return parts._replace(query=urlencode(query)).geturl()


def test_firm_b_cannot_bind_firm_as_realm_by_editing_its_callback(
    client, two_firms, sandbox, firm_b_client
):
    firm_a = firm_a_connects(client, two_firms, "quickbooks")
    client.force_login(two_firms.owner_b)
    callback = consent(
        start_direct(client, "quickbooks", "aardvark"), "quickbooks", new_account_name="B's"
    )
    edited = with_param(callback, "realmId", firm_a.external_id)
    answer = back_in_app(client, edited)
    assert answer.status_code == 400
    assert "did not confirm which company" in answer.content.decode()
    assert not Connection.objects.filter(client=firm_b_client).exists()

    body = qbo_body(firm_a.external_id)
    assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    assert WebhookDelivery.objects.get().connection == firm_a


@pytest.mark.parametrize("system", ["quickbooks", "hubspot", "xero", "jobber"])
def test_a_company_connected_in_firm_a_is_refused_to_firm_b(
    client, two_firms, sandbox, firm_b_client, system
):
    """Two firms connecting the same account, without any tampering: the second is refused
    and firm A's events keep reaching firm A's client only. (Jobber's callback names no
    account: the one connected is what its API answers with the new token.)"""
    firm_a = firm_a_connects(client, two_firms, system)
    client.force_login(two_firms.owner_b)
    chosen = firm_a.external_id
    if system == "jobber":  # its consent page lists accounts by number, not encoded id
        chosen = str(decode_id(firm_a.external_id)[1])
    callback = consent(start_direct(client, system, "aardvark"), system, account_id=chosen)
    answer = back_in_app(client, callback)
    assert answer.status_code == 409
    page = answer.content.decode()
    assert "another firm" in page and "Alpha" not in page
    assert not Connection.objects.filter(client=firm_b_client).exists()
    firm_a.refresh_from_db()
    assert firm_a.status == Status.ACTIVE

    if system == "quickbooks":
        body = qbo_body(firm_a.external_id)
        assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    elif system == "xero":
        assert post_xero(client, xero_body(firm_a.external_id)).status_code == 200
    elif system == "jobber":
        body = jobber_payload(int(chosen), "CLIENT_UPDATE", encode_id("Client", 1))
        assert post_jobber(client, body).status_code == 200
    else:
        assert post_hubspot(client, hubspot_body(firm_a.external_id)).status_code == 200
    assert WebhookDelivery.objects.get().connection == firm_a


def test_a_released_company_sends_its_webhooks_nowhere_else(client, two_firms, sandbox):
    """Once firm A disconnects, its company's webhooks are acknowledged and dropped: no
    connection of any firm receives them."""
    firm_a = firm_a_connects(client, two_firms, "hubspot")
    firm_a.status = Status.REVOKED
    firm_a.save()
    assert post_hubspot(client, hubspot_body(firm_a.external_id)).status_code == 200
    assert not WebhookDelivery.objects.exists()


def test_of_two_firms_confirming_one_portal_at_once_only_the_first_binds_it(
    client, two_firms, sandbox, firm_b_client
):
    """Both firms reach the confirmation page for the same portal; the one that confirms
    second is refused (decided again at the press, and by the database under a race)."""
    from django.test import Client as Browser

    client.force_login(two_firms.accountant_a)
    callback_a = consent(start_direct(client, "hubspot"), "hubspot", new_account_name="Shared")
    page_a = client.get(local(callback_a))["Location"]
    assert not Connection.objects.exists()
    portal_id = str(Portal.objects.get(name="Shared").pk)  # what firm B's contractor picks

    firm_b = Browser()
    firm_b.force_login(two_firms.owner_b)
    callback_b = consent(
        start_direct(firm_b, "hubspot", "aardvark"), "hubspot", account_id=portal_id
    )
    page_b = firm_b.get(local(callback_b))["Location"]
    assert firm_b.post(page_b, {"action": "connect"}).status_code == 302
    assert Connection.objects.get(client=firm_b_client).external_id == portal_id

    late = client.post(page_a, {"action": "connect"})
    assert late.status_code == 409
    assert "another firm" in late.content.decode()
    assert not Connection.objects.filter(client=two_firms.client_a).exists()
