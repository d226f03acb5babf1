"""A connection is bound to one company (issue 13, finding 1): reconnecting a client to
another company is a deliberate, confirmed "change company" by staff that sets the old
company's data aside; a contractor can neither change the company nor take another client's;
staff move a company between the firm's clients only by confirming it. Real consent flow
against the sandbox, through the official clients."""

from urllib.parse import urlsplit

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from clients.models import AuditEntry
from connections.binding import Holder, Kind, decide
from connections.invitations import link_token
from connections.models import CompanyChange, Connection, Status, WebhookDelivery
from sandbox.consent import consent

from .conftest import local, pressed, start_direct
from .factories import ClientFactory, ConnectionFactory, ContractorInvitationFactory
from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db

SYSTEMS = ["quickbooks", "hubspot", "xero", "jobber"]


def back_in_app(client, callback: str, confirm_kind: str = ""):
    """The provider's redirect back into the app; when the app shows its confirmation page,
    press its button as a person would (with `confirm_kind` when the page asks for one)."""
    response = client.get(local(callback))
    if response.status_code == 302 and "/confirm/" in response["Location"]:
        page = response["Location"]
        return client.post(
            page, {"action": "connect", "confirm": pressed(client, page, confirm_kind)}
        )
    return response


def staff_connect(client, system, slug="alpha-roofing", confirm_kind="", **account):
    return back_in_app(
        client, consent(start_direct(client, system, slug), system, **account), confirm_kind
    )


def contractor_connect(client, invitation, system, **account):
    token = link_token(invitation)
    started = client.post(reverse("contractor_connect", args=[token, system]))
    return back_in_app(client, consent(started["Location"], system, **account))


# -- the rule, as plain data ---------------------------------------------------------------


def test_it_decides_each_case():
    def kind(previous_id="", holder=None, via_invitation=False) -> Kind:
        return decide(
            firm_id=1, external_id="R2", label="company", previous_id=previous_id,
            holder=holder, via_invitation=via_invitation,
        ).kind  # fmt: skip

    same_firm, other_firm = Holder(1, 9, "Other client"), Holder(2, 9, "Elsewhere")
    assert kind(via_invitation=True) == Kind.CONNECT
    assert kind("R2", via_invitation=True) == Kind.RECONNECT
    assert kind("R1") == Kind.CHANGE
    assert kind("R1", via_invitation=True) == Kind.REFUSED
    assert kind(holder=same_firm) == Kind.MOVE
    assert kind(holder=same_firm, via_invitation=True) == Kind.REFUSED
    for by_contractor in (True, False):
        refused = decide(
            firm_id=1, external_id="R2", label="company", previous_id="", holder=other_firm,
            via_invitation=by_contractor,
        )  # fmt: skip
        assert refused.kind == Kind.REFUSED and "another firm" in refused.reason
        assert "Elsewhere" not in refused.reason, "another firm's client is never named"


def test_the_database_refuses_one_company_bound_twice(two_firms):
    ConnectionFactory(client=two_firms.client_a, system="quickbooks", external_id="913")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionFactory(client=two_firms.client_b, system="quickbooks", external_id="913")
    # A revoked (set-aside) connection does not hold its company.
    ConnectionFactory(
        client=ClientFactory(firm=two_firms.firm_b), system="quickbooks", external_id="913",
        status=Status.REVOKED,
    )  # fmt: skip


# -- finding 1: reconnecting to another company is never silent -----------------------------


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_contractor_cannot_change_the_company(client, two_firms, sandbox, system):
    client.force_login(two_firms.accountant_a)
    staff_connect(client, system, new_account_name="First books")
    first = Connection.objects.get(client=two_firms.client_a, system=system)
    client.logout()
    invitation = ContractorInvitationFactory(client=two_firms.client_a, systems=[system])
    answer = contractor_connect(client, invitation, system, new_account_name="Other books")
    assert answer.status_code == 409
    page = answer.content.decode()
    assert "different" in page and "ask your bookkeeper" in page
    after = Connection.objects.get(client=two_firms.client_a, system=system)
    assert (after.external_id, after.refresh_token) == (first.external_id, first.refresh_token)


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_contractor_can_reconnect_the_same_company(client, two_firms, sandbox, system):
    client.force_login(two_firms.accountant_a)
    staff_connect(client, system, new_account_name="First books")
    first = Connection.objects.get(client=two_firms.client_a, system=system)
    client.logout()
    invitation = ContractorInvitationFactory(client=two_firms.client_a, systems=[system])
    answer = contractor_connect(client, invitation, system, account_id=first.external_id)
    assert answer.status_code == 302, answer.content[:400]
    after = Connection.objects.get(client=two_firms.client_a, system=system)
    assert after.external_id == first.external_id and after.refresh_token != first.refresh_token


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_contractor_cannot_connect_another_clients_company(client, two_firms, sandbox, system):
    client.force_login(two_firms.accountant_a)
    staff_connect(client, system, new_account_name="Alpha's books")
    held = Connection.objects.get(client=two_firms.client_a, system=system)
    client.logout()
    neighbour = ClientFactory(firm=two_firms.firm_a, name="Beacon Electric", slug="beacon")
    invitation = ContractorInvitationFactory(client=neighbour, systems=[system])
    answer = contractor_connect(client, invitation, system, account_id=held.external_id)
    assert answer.status_code == 409
    page = answer.content.decode()
    assert "ask your bookkeeper" in page and "Alpha Secret Roofing" not in page
    assert not Connection.objects.filter(client=neighbour).exists()
    held.refresh_from_db()
    assert held.status == Status.ACTIVE


@pytest.mark.parametrize("system", SYSTEMS)
def test_staff_change_the_company_only_by_confirming_what_it_sets_aside(
    client, two_firms, sandbox, system
):
    from decimal import Decimal

    from sync.models import CustomerLink, InvoiceLink, InvoiceState, PaymentLink, PaymentState

    client.force_login(two_firms.accountant_a)
    staff_connect(client, system, new_account_name="First books")
    first = Connection.objects.get(client=two_firms.client_a, system=system)
    CustomerLink.objects.create(
        client=two_firms.client_a, crm_type="companies", crm_id="11", accounting_id="58"
    )
    InvoiceLink.objects.create(
        client=two_firms.client_a, deal_id="7", state=InvoiceState.CREATED, accounting_id="130"
    )
    PaymentLink.objects.create(
        client=two_firms.client_a, direction=PaymentLink.TO_BOOKS, source_id="p1", deal_id="7",
        invoice_id="130", target_id="88", amount=Decimal("40.00"), state=PaymentState.CREATED,
    )  # fmt: skip
    callback = consent(start_direct(client, system), system, new_account_name="Second books")
    answer = client.get(local(callback))
    first.refresh_from_db()
    assert first.external_id and Connection.objects.get(pk=first.pk).status == Status.ACTIVE
    assert Connection.objects.get(pk=first.pk).external_id == first.external_id, (
        "the callback alone changed the company"
    )
    page_url = answer["Location"]
    page = client.get(page_url).content.decode()
    assert "Change Alpha Secret Roofing" in page and first.external_name in page
    assert "<strong>1</strong> customer link" in page and "<strong>1</strong> invoice link" in page
    assert "<strong>1</strong> payment carried between the CRM and the books" in page

    # A press that does not name the change (an old page, a forged post) changes nothing.
    assert client.post(page_url, {"action": "connect"}).status_code == 409
    assert Connection.objects.get(pk=first.pk).external_id == first.external_id

    done = client.post(
        page_url, {"action": "connect", "confirm": pressed(client, page_url, "change")}
    )
    assert done.status_code == 302
    after = Connection.objects.get(pk=first.pk)
    assert after.external_id != first.external_id and after.status == Status.ACTIVE
    assert not CustomerLink.objects.filter(client=two_firms.client_a).exists()
    assert not InvoiceLink.objects.filter(client=two_firms.client_a).exists()
    change = CompanyChange.objects.get(client=two_firms.client_a)
    assert change.old_external_id == first.external_id
    assert change.new_external_id == after.external_id
    assert change.counts["customer_links"] == 1 and change.actor == two_firms.accountant_a
    assert change.archive["invoice_links"][0]["accounting_id"] == "130", "kept as history"
    # A payment carried to the old books names their invoice and payment: set aside too.
    assert not PaymentLink.objects.filter(client=two_firms.client_a).exists()
    assert change.archive["payment_links"][0]["target_id"] == "88"
    entry = AuditEntry.objects.get(action="connection.change_company")
    assert entry.actor == two_firms.accountant_a
    assert entry.before["external_id"] == first.external_id


def test_staff_cancel_a_change_and_nothing_moves(client, two_firms, sandbox):
    client.force_login(two_firms.accountant_a)
    staff_connect(client, "quickbooks", new_account_name="First books")
    first = Connection.objects.get(client=two_firms.client_a, system="quickbooks")
    callback = consent(start_direct(client, "quickbooks"), "quickbooks", new_account_name="No")
    page_url = client.get(local(callback))["Location"]
    answer = client.post(page_url, {"action": "cancel"})
    assert answer["Location"] == reverse("client_detail", args=["alpha-roofing"])
    assert Connection.objects.get(pk=first.pk).external_id == first.external_id
    assert client.post(page_url, {"action": "connect", "confirm": "change"}).status_code == 400


# Its webhook half builds QuickBooks' and HubSpot's delivery formats.
@pytest.mark.parametrize("system", ["quickbooks", "hubspot"])
def test_staff_move_a_company_between_their_clients_only_by_confirming(
    client, two_firms, sandbox, system
):
    client.force_login(two_firms.accountant_a)
    staff_connect(client, system, new_account_name="Shared books")
    held = Connection.objects.get(client=two_firms.client_a, system=system)
    neighbour = ClientFactory(firm=two_firms.firm_a, name="Beacon Electric", slug="beacon")
    callback = consent(start_direct(client, system, "beacon"), system, account_id=held.external_id)
    page_url = client.get(local(callback))["Location"]
    page = client.get(page_url).content.decode()
    assert "Move this" in page and "Alpha Secret Roofing" in page and "Beacon Electric" in page
    assert not Connection.objects.filter(client=neighbour).exists()
    done = client.post(
        page_url, {"action": "connect", "confirm": pressed(client, page_url, "move")}
    )
    assert done["Location"] == reverse("client_detail", args=["beacon"])
    held.refresh_from_db()
    assert held.status == Status.REVOKED and not held.refresh_token
    moved = Connection.objects.get(client=neighbour, system=system)
    assert moved.external_id == held.external_id and moved.status == Status.ACTIVE
    assert AuditEntry.objects.filter(
        action="connection.company_moved_away", actor=two_firms.accountant_a
    ).exists()
    # Its webhooks now reach the client it moved to, and nothing reaches the one it left.
    from .test_webhooks import hubspot_body, intuit_signature, post_hubspot, post_qbo, qbo_body

    if system == "quickbooks":
        body = qbo_body(held.external_id)
        assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    else:
        assert post_hubspot(client, hubspot_body(held.external_id)).status_code == 200
    assert WebhookDelivery.objects.get().connection == moved


def test_a_viewer_cannot_finish_anothers_consent(client, two_firms, sandbox):
    client.force_login(two_firms.accountant_a)
    callback = consent(start_direct(client, "hubspot"), "hubspot", new_account_name="Mine")
    page_url = client.get(local(callback))["Location"]
    client.force_login(two_firms.viewer_a)
    answer = client.post(page_url, {"action": "connect"})
    assert answer.status_code in (400, 404)
    assert not Connection.objects.exists()


def test_the_confirmation_page_holds_no_token(client, two_firms, sandbox):
    client.force_login(two_firms.accountant_a)
    callback = consent(start_direct(client, "quickbooks"), "quickbooks", new_account_name="T")
    page_url = client.get(local(callback))["Location"]
    page = client.get(page_url).content.decode()
    assert "eyJ" not in page and "AB11" not in page  # the sandbox's token prefixes
    assert urlsplit(page_url).query == ""


def test_a_change_page_shown_before_another_change_confirms_nothing(client, two_firms, sandbox):
    """Two tabs: the first page said "change from First books" (and what that sets aside);
    meanwhile the second tab changed the client to Second books. Pressing the first page's
    button must not set aside Second books' data, which that page never mentioned."""
    client.force_login(two_firms.accountant_a)
    staff_connect(client, "quickbooks", new_account_name="First books")
    first = Connection.objects.get(client=two_firms.client_a, system="quickbooks")
    stale = client.get(
        local(
            consent(
                start_direct(client, "quickbooks"), "quickbooks", new_account_name="Third books"
            )
        )
    )["Location"]
    stale_press = pressed(client, stale, "change")
    staff_connect(client, "quickbooks", confirm_kind="change", new_account_name="Second books")
    second = Connection.objects.get(client=two_firms.client_a, system="quickbooks")
    assert second.external_id != first.external_id

    answer = client.post(stale, {"action": "connect", "confirm": stale_press})
    assert answer.status_code == 409, "a stale change page was taken as confirming another change"
    assert "Something changed since this page was shown" in answer.content.decode()
    assert Connection.objects.get(pk=second.pk).external_id == second.external_id
    assert CompanyChange.objects.filter(client=two_firms.client_a).count() == 1
    # The page as it is now names Second books, and confirming that works.
    assert second.external_name in answer.content.decode()
    done = client.post(stale, {"action": "connect", "confirm": pressed(client, stale, "change")})
    assert done.status_code == 302
    assert CompanyChange.objects.filter(client=two_firms.client_a).count() == 2
