"""Words a new accountant met walking the demo's Xero client: its page counts Xero contacts,
not customers, and the findings queue filtered to fixed ones says how many it shows."""

import re

from django.conf import settings
from django.urls import reverse

from connections.invitations import link_token
from connections.models import Connection
from reconciliation.models import Finding
from sandbox.consent import consent
from sync.models import RunKind, RunStatus, SyncRun, SyncSettings

from .conftest import local
from .factories import ClientFactory, ConnectionFactory, ContractorInvitationFactory
from .sandbox.conftest import sandbox_db
from .test_company_binding import contractor_connect, staff_connect
from .test_query_counts import fill


def test_a_xero_clients_page_counts_xero_contacts_not_customers(client, two_firms):
    """GIVEN a client whose books are Xero and a sync run that created two contacts
    WHEN its page is opened THEN the run table and the settings say "contacts"."""
    client.force_login(two_firms.accountant_a)
    summit = ClientFactory(firm=two_firms.firm_a, name="Summit Landscaping")
    ConnectionFactory(client=summit, system="xero", external_id="tenant-1")
    SyncSettings.objects.get_or_create(client=summit)
    SyncRun.objects.create(
        client=summit, kind=RunKind.MANUAL, status=RunStatus.SUCCEEDED, counts={"created": 2}
    )
    text = client.get(reverse("client_detail", args=[summit.slug])).content.decode()
    assert "Contacts created" in text and "Customers created" not in text
    assert "<dt>Xero contacts</dt>" in text


def test_a_quickbooks_clients_page_still_says_customers(client, two_firms):
    client.force_login(two_firms.accountant_a)
    oak = ClientFactory(firm=two_firms.firm_a, name="Oakridge Builders")
    ConnectionFactory(client=oak, system="quickbooks")
    SyncSettings.objects.get_or_create(client=oak)
    SyncRun.objects.create(
        client=oak, kind=RunKind.MANUAL, status=RunStatus.SUCCEEDED, counts={"created": 1}
    )
    text = client.get(reverse("client_detail", args=[oak.slug])).content.decode()
    assert "Customers created" in text and "<dt>QuickBooks customers</dt>" in text


def test_the_queue_filtered_to_fixed_findings_says_how_many_it_shows(client, two_firms):
    """GIVEN one fixed finding among open ones WHEN the queue is filtered to Fixed
    THEN besides the open count it says one fixed finding is shown, not only "0 open"."""
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 2)
    fixed = Finding.objects.order_by("pk").first()
    Finding.objects.filter(pk=fixed.pk).update(status="fixed")
    text = client.get(reverse("review_findings"), {"status": "fixed"}).content.decode()
    assert "Shown below: <strong>1</strong> fixed finding." in text
    opened = client.get(reverse("review_findings")).content.decode()
    assert "Shown below" not in opened


def test_the_evidence_bars_height_does_not_squash_the_charts_bars():
    """The match evidence's little bars (a span of .6rem) and the client page's chart (SVG
    rects, class "bar") share a class: a bare `.bar { height }` rule overrides each rect's
    height attribute, and a month's 43,847.50 USD showed as a 10-pixel sliver at the top."""
    css = (settings.BASE_DIR / "static" / "css" / "app.css").read_text()
    rules = re.findall(r"(?m)^([^{}@/]+)\{([^}]*)\}", css)
    for selectors, body in rules:
        for selector in selectors.split(","):
            if re.fullmatch(r"\.bar", selector.strip()) and "height" in body:
                raise AssertionError(f"{selector.strip()} sets height on the chart's SVG bars")
    assert any(sel.strip() == "span.bar" and "height" in body for sel, body in rules)


def test_a_link_copied_rather_than_emailed_says_so_in_the_links_sent(client, two_firms):
    """The "To" column of a link created without an email said "copied link", as if that
    were the address it went to."""
    client.force_login(two_firms.accountant_a)
    summit = ClientFactory(firm=two_firms.firm_a, name="Summit Landscaping")
    ContractorInvitationFactory(client=summit, email="", systems=["xero"])
    text = client.get(reverse("client_detail", args=[summit.slug])).content.decode()
    assert "not emailed: link copied" in text
    assert '<table class="stack">' in text, "stacked on a phone: the Revoke button stays on screen"
    assert "<td>copied link</td>" not in text


@sandbox_db
def test_a_refused_company_tells_the_contractor_how_to_choose_another(client, two_firms, sandbox):
    """GIVEN a company connected to one client WHEN the contractor of another client picks it
    on the provider's page THEN the refusal says nothing was stored and how to try another
    (it was a dead end: no link, no next step), naming the provider's word for it."""
    client.force_login(two_firms.accountant_a)
    staff_connect(client, "quickbooks", new_account_name="Alpha's books")
    held = Connection.objects.get(client=two_firms.client_a, system="quickbooks")
    client.logout()
    neighbour = ClientFactory(firm=two_firms.firm_a, name="Beacon Electric", slug="beacon")
    invitation = ContractorInvitationFactory(client=neighbour, systems=["quickbooks"])
    answer = contractor_connect(client, invitation, "quickbooks", account_id=held.external_id)
    assert answer.status_code == 409
    page = answer.content.decode()
    assert "Nothing was stored" in page
    assert "choose another QuickBooks Online company, open the link you were sent" in page


@sandbox_db
def test_the_thank_you_page_does_not_claim_a_crm_that_is_not_connected(client, two_firms, sandbox):
    """GIVEN a link for Xero only, the client's HubSpot not connected WHEN the contractor
    connects Xero THEN the thank-you page says the link's work is done, not that the firm
    "can now keep your books and your CRM in agreement"."""
    invitation = ContractorInvitationFactory(client=two_firms.client_a, systems=["xero"])
    token = link_token(invitation)
    started = client.post(reverse("contractor_connect", args=[token, "xero"]))
    callback = consent(started["Location"], "xero", new_account_name="Contractor's own")
    page = client.get(local(callback), follow=True)
    done = client.post(page.redirect_chain[-1][0], {"action": "connect"}, follow=True)
    text = done.content.decode()
    assert "Thank you" in text and "everything this link asked for" in text
    assert "your CRM in agreement" not in text
