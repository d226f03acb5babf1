"""The real OAuth authorization-code flow, end to end against the sandbox emulators over HTTP:
the accountant connects directly, the contractor connects from an invitation, consents are
denied, codes replayed and states forged."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from connections.invitations import link_token
from connections.models import Connection, Status
from sandbox.consent import consent

from .conftest import confirm, finish_consent, local, start_direct
from .factories import ContractorInvitationFactory
from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db

SYSTEMS = ["quickbooks", "hubspot", "xero"]


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_connects_a_system_for_the_accountant(client, two_firms, sandbox, system):
    client.force_login(two_firms.accountant_a)
    authorize_url = start_direct(client, system)
    assert authorize_url.startswith(f"{sandbox}/sandbox/")
    callback = consent(authorize_url, system, new_account_name="Alpha Roofing Books")
    answer = client.get(local(callback))
    assert not Connection.objects.exists(), "nothing is stored before the person confirms"
    page = client.get(answer["Location"]).content.decode()
    assert "Alpha Secret Roofing" in page
    assert ("sandbox.hubspot" if system == "hubspot" else "Alpha Roofing Books") in page
    response = confirm(client, answer)
    assert response.status_code == 302
    assert response["Location"] == reverse("client_detail", args=["alpha-roofing"])
    connection = Connection.objects.get(client=two_firms.client_a, system=system)
    assert connection.status == Status.ACTIVE
    assert connection.external_id
    assert connection.connected_by == two_firms.accountant_a
    assert connection.access_token and connection.refresh_token
    page = client.get(reverse("connection_panel", args=["alpha-roofing"])).content.decode()
    assert 'data-status="active"' in page
    assert connection.access_token not in page


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_connects_from_the_contractors_invitation(client, two_firms, sandbox, system):
    invitation = ContractorInvitationFactory(
        client=two_firms.client_a, systems=sorted({"quickbooks", "hubspot", system})
    )
    token = link_token(invitation)
    page = client.get(reverse("contractor_invitation", args=[token]))
    assert page.status_code == 200
    response = client.post(reverse("contractor_connect", args=[token, system]))
    callback = consent(response["Location"], system, new_account_name="Contractor's own")
    page = client.get(local(callback), follow=True)
    shown = page.content.decode()
    assert "Alpha Secret Roofing" in shown and "Alpha Books" in shown
    assert not Connection.objects.exists(), "nothing is stored before the contractor confirms"
    done = client.post(page.redirect_chain[-1][0], {"action": "connect"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("contractor_done", args=[token])
    assert "Thank you" in done.content.decode()
    connection = Connection.objects.get(client=two_firms.client_a, system=system)
    assert connection.status == Status.ACTIVE and connection.connected_via_invitation
    assert connection.connected_by is None


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_changes_nothing_when_consent_is_denied(client, two_firms, sandbox, system):
    client.force_login(two_firms.accountant_a)
    callback = consent(start_direct(client, system), system, approve=False)
    assert parse_qs(urlsplit(callback).query)["error"] == ["access_denied"]
    response = client.get(local(callback))
    assert response.status_code == 400
    assert "declined" in response.content.decode()
    assert not Connection.objects.filter(client=two_firms.client_a).exists()


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_refuses_a_code_used_twice(client, two_firms, sandbox, system):
    client.force_login(two_firms.accountant_a)
    callback = consent(start_direct(client, system), system, new_account_name="Once")
    assert client.get(local(callback)).status_code == 302
    replay = client.get(local(callback))
    assert replay.status_code == 400
    assert "Nothing was changed" in replay.content.decode()


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_refuses_a_state_from_another_session(
    client, django_user_model, two_firms, sandbox, system
):
    client.force_login(two_firms.accountant_a)
    callback = consent(start_direct(client, system), system, new_account_name="Elsewhere")
    client.logout()
    client.force_login(two_firms.owner_b)  # another browser session, another firm
    response = client.get(local(callback))
    assert response.status_code == 400
    assert "did not start in this browser" in response.content.decode()
    assert not Connection.objects.exists()


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_refuses_a_callback_after_the_accountant_left_the_firm(
    client, two_firms, sandbox, system
):
    client.force_login(two_firms.accountant_a)
    callback = consent(start_direct(client, system), system, new_account_name="Left")
    two_firms.accountant_a.memberships.all().delete()
    response = client.get(local(callback))
    assert response.status_code == 400
    assert not Connection.objects.exists()


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_disconnects_revoking_at_the_provider(client, two_firms, sandbox, system):
    client.force_login(two_firms.accountant_a)
    finish_consent(client, consent(start_direct(client, system), system, new_account_name="Bye"))
    connection = Connection.objects.get(client=two_firms.client_a, system=system)
    old_refresh = connection.refresh_token
    response = client.post(
        reverse("connection_disconnect", args=["alpha-roofing", system]), follow=True
    )
    assert "Disconnected" in response.content.decode()
    connection.refresh_from_db()
    assert connection.status == Status.REVOKED
    assert connection.access_token == "" and connection.refresh_token == ""
    from connections.flows import flow_for
    from connections.tokens import RefreshRefused

    with pytest.raises(RefreshRefused):
        flow_for(system).refresh(old_refresh)


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_connects_from_the_command_line(two_firms, sandbox, system):
    from django.core.management import call_command

    call_command("connect_sandbox", "alpha-roofing", only=system)
    first = Connection.objects.get(client=two_firms.client_a, system=system)
    assert first.status == Status.ACTIVE
    # Again, onto the same sandbox account by id: still one connection, same account.
    option = {"quickbooks": "realm_id", "hubspot": "portal_id", "xero": "tenant_id"}[system]
    call_command("connect_sandbox", "alpha-roofing", only=system, **{option: first.external_id})
    again = Connection.objects.get(client=two_firms.client_a, system=system)
    assert (again.pk, again.external_id) == (first.pk, first.external_id)
    assert again.refresh_token != first.refresh_token


def test_it_points_the_sandbox_accounts_webhooks_at_this_app(two_firms, sandbox, settings):
    import requests
    from django.core.management import call_command

    settings.PUBLIC_BASE_URL = "http://books.example.test"
    call_command("connect_sandbox", "alpha-roofing")
    realm = Connection.objects.get(client=two_firms.client_a, system="quickbooks").external_id
    portal = Connection.objects.get(client=two_firms.client_a, system="hubspot").external_id
    company = requests.get(f"{sandbox}/sandbox/control/quickbooks/companies/{realm}", timeout=10)
    assert company.json()["webhook_url"] == "http://books.example.test/webhooks/quickbooks/"
    hub = requests.get(f"{sandbox}/sandbox/control/hubspot/portals/{portal}", timeout=10)
    assert hub.json()["webhook_url"] == "http://books.example.test/webhooks/hubspot/"


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_refuses_a_callback_for_a_client_of_another_firm(client, two_firms, sandbox, system):
    from clients.models import Role

    from .factories import MembershipFactory

    MembershipFactory(firm=two_firms.firm_b, user=two_firms.accountant_a, role=Role.OWNER)
    client.force_login(two_firms.accountant_a)
    client.post(reverse("firm_switch"), {"firm_id": two_firms.firm_a.pk})
    callback = consent(start_direct(client, system), system, new_account_name="Crossed")
    client.post(reverse("firm_switch"), {"firm_id": two_firms.firm_b.pk})
    response = client.get(local(callback))
    assert response.status_code == 400
    assert "not in your current firm" in response.content.decode()
    assert not Connection.objects.exists()


def _contractor_confirm_page(client, token: str, system: str, name: str):
    response = client.post(reverse("contractor_connect", args=[token, system]))
    callback = consent(response["Location"], system, new_account_name=name)
    return client.get(local(callback), follow=True)


def test_it_tells_the_contractor_in_plain_words_what_jobber_allows(client, two_firms, sandbox):
    invitation = ContractorInvitationFactory(
        client=two_firms.client_a, systems=["quickbooks", "jobber"]
    )
    token = link_token(invitation)
    page = _contractor_confirm_page(client, token, "jobber", "Alpha Secret Roofing")
    shown = page.content.decode()
    assert (
        "Alpha Books will be able to read Alpha Secret Roofing's Jobber account: "
        "clients, jobs, invoices and payments." in shown
    )
    assert "update" not in shown.lower()
    assert ">Connect Jobber</button>" in shown
    client.post(page.redirect_chain[-1][0], {"action": "connect"})
    connection = Connection.objects.get(client=two_firms.client_a, system="jobber")
    assert connection.external_id not in shown, "Jobber's encoded ids mean nothing to a person"

    books = _contractor_confirm_page(client, token, "quickbooks", "Alpha Roofing Books")
    assert (
        "Alpha Books will be able to read and update Alpha Secret Roofing's QuickBooks company: "
        "customers, products, invoices, payments and credit memos." in books.content.decode()
    )
    assert ">Connect QuickBooks Online</button>" in books.content.decode()


def test_it_says_already_connected_when_the_confirmation_is_shown_again(client, two_firms, sandbox):
    invitation = ContractorInvitationFactory(
        client=two_firms.client_a, systems=["quickbooks", "jobber"]
    )
    token = link_token(invitation)
    page = _contractor_confirm_page(client, token, "jobber", "Alpha Secret Roofing")
    confirm_url = page.redirect_chain[-1][0]
    client.post(confirm_url, {"action": "connect"})
    for back in (
        client.get(confirm_url, follow=True),
        client.post(confirm_url, {"action": "connect"}, follow=True),
    ):
        shown = back.content.decode()
        assert back.redirect_chain[-1][0] == reverse("contractor_done", args=[token])
        assert "Jobber is already connected through this link." in shown
        assert "was not connected" not in shown and "too old" not in shown
    assert Connection.objects.filter(client=two_firms.client_a, system="jobber").count() == 1


def test_it_offers_the_way_back_to_the_link_after_declining(client, two_firms, sandbox):
    invitation = ContractorInvitationFactory(client=two_firms.client_a, systems=["jobber"])
    token = link_token(invitation)
    response = client.post(reverse("contractor_connect", args=[token, "jobber"]))
    callback = consent(response["Location"], "jobber", approve=False)
    page = client.get(local(callback))
    shown = page.content.decode()
    assert page.status_code == 400 and "You declined the connection" in shown
    assert f'href="{reverse("contractor_invitation", args=[token])}"' in shown
    assert "Back to the invitation" in shown
    assert not Connection.objects.exists()
