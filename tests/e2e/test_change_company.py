"""Staff change a client's QuickBooks company in the browser: after Intuit's consent the page
says what the change sets aside, and nothing changes until they press "Change company"."""

from connections.models import CompanyChange, Connection
from sync.models import CustomerLink, InvoiceLink, InvoiceState
from tests.sandbox.conftest import sandbox_db

from .conftest import expect, screenshot

pytestmark = sandbox_db


def connect_quickbooks(page, company: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Alpha Secret Roofing").click()
    card = (
        page.get_by_role("region", name="Connections")
        .get_by_role("article")
        .filter(has_text="QuickBooks")
    )
    card.get_by_role("button", name="Connect QuickBooks Online").or_(
        card.get_by_role("button", name="Reconnect")
    ).click()
    page.get_by_label("Or create a new company named").fill(company)
    page.get_by_role("button", name="Connect", exact=True).click()


def test_staff_see_what_a_change_of_company_sets_aside_before_it_happens(
    accountant_page, two_firms, sandbox
):
    page = accountant_page
    connect_quickbooks(page, "First Books LLC")
    screenshot(page, "staff-confirm-connect")
    page.get_by_role("button", name="Connect QuickBooks Online", exact=True).click()
    expect(page.get_by_role("main")).to_contain_text("Connected QuickBooks Online (First Books")
    first = Connection.objects.get(client=two_firms.client_a, system="quickbooks")
    for n in range(3):
        CustomerLink.objects.create(
            client=two_firms.client_a, crm_type="companies", crm_id=str(n), accounting_id=str(n)
        )
    InvoiceLink.objects.create(
        client=two_firms.client_a, deal_id="7", state=InvoiceState.CREATED, accounting_id="130"
    )

    connect_quickbooks(page, "Second Books LLC")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Change Alpha Secret Roofing's QuickBooks company?"
    )
    main = page.get_by_role("main")
    expect(main).to_contain_text("First Books LLC")
    expect(main).to_contain_text("Second Books LLC")
    expect(main).to_contain_text("3 customer links")
    expect(main).to_contain_text("1 invoice link")
    screenshot(page, "staff-change-company")
    assert Connection.objects.get(pk=first.pk).external_id == first.external_id

    page.get_by_role("button", name="Change company").click()
    expect(page.get_by_role("main")).to_contain_text("Connected QuickBooks Online (Second Books")
    change = CompanyChange.objects.get(client=two_firms.client_a)
    assert change.counts["customer_links"] == 3
    assert not CustomerLink.objects.filter(client=two_firms.client_a).exists()


def test_a_contractor_choosing_another_company_is_told_to_ask_their_bookkeeper(
    new_context, accountant_page, two_firms, sandbox
):
    from connections.invitations import invitation_path

    from ..factories import ContractorInvitationFactory

    page = accountant_page
    connect_quickbooks(page, "First Books LLC")
    page.get_by_role("button", name="Connect QuickBooks Online", exact=True).click()
    first = Connection.objects.get(client=two_firms.client_a, system="quickbooks")

    contractor = new_context().new_page()
    contractor.goto(invitation_path(ContractorInvitationFactory(client=two_firms.client_a)))
    contractor.get_by_role("button", name="Connect QuickBooks Online again").click()
    contractor.get_by_label("Or create a new company named").fill("Somebody Else's Books")
    contractor.get_by_role("button", name="Connect", exact=True).click()
    expect(contractor.get_by_role("heading", level=1)).to_contain_text("was not connected")
    expect(contractor.get_by_role("main")).to_contain_text("ask your bookkeeper")
    screenshot(contractor, "contractor-other-company-refused")
    assert Connection.objects.get(pk=first.pk).external_id == first.external_id


def test_staff_move_a_company_to_another_client_of_the_firm(accountant_page, two_firms, sandbox):
    from ..factories import ClientFactory

    beacon = ClientFactory(firm=two_firms.firm_a, name="Beacon Electric", slug="beacon")
    beacon.assigned_staff.add(two_firms.accountant_a)
    page = accountant_page
    connect_quickbooks(page, "Shared Books LLC")
    page.get_by_role("button", name="Connect QuickBooks Online", exact=True).click()
    held = Connection.objects.get(client=two_firms.client_a, system="quickbooks")

    page.goto("/clients/beacon/")
    page.get_by_role("region", name="Connections").get_by_role("article").filter(
        has_text="QuickBooks"
    ).get_by_role("button", name="Connect QuickBooks Online").click()
    page.get_by_label(f"Shared Books LLC ({held.external_id})").check()
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Move this QuickBooks company to Beacon Electric?"
    )
    expect(page.get_by_role("main")).to_contain_text("connected to Alpha Secret Roofing")
    screenshot(page, "staff-move-company")
    page.get_by_role("button", name="Move it to Beacon Electric").click()
    expect(page.get_by_role("main")).to_contain_text("Connected QuickBooks Online (Shared Books")
    assert Connection.objects.get(client=beacon, system="quickbooks").external_id == (
        held.external_id
    )
