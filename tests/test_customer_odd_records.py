"""Customer sync with records people really have: empty names, names that are only a legal
form, 10,000-character fields, emoji, right-to-left scripts, one company twice in a batch, a
tax ID that contradicts the name, and a namesake whose every other field disagrees. Each is
linked, held or sent to review with a reason the accountant reads; none is a second
customer. Real runs against the sandbox over HTTP."""

from sync.customers import run_customer_sync
from sync.models import (
    ConflictKind,
    ConflictStatus,
    CustomerLink,
    RunStatus,
    SyncConflict,
)

from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def tax_id_property(systems) -> None:
    """HubSpot companies have no tax ID property until someone adds one."""
    definition = {"name": "tax_id", "label": "Tax ID", "type": "string", "fieldType": "text"}
    systems.hubspot.crm.properties.core_api.create(
        "companies", definition | {"groupName": "companyinformation"}
    )


def test_names_nobody_could_find_the_customer_by_are_held_with_the_reason(systems):
    """GIVEN CRM companies named "", "LLC", "Inc.", "🏗🏗🏗", 10,000 letters, and one with a
    10,000-character description, beside a customer of the books named "LLC"
    WHEN sync runs
    THEN none is created or linked; each is held with a reason saying what is wrong."""
    systems.qbo_customer("LLC", CompanyName="LLC", BillAddr={"PostalCode": "78702"})
    for name in ("", "LLC", "Inc.", "🏗🏗🏗", "H" * 10_000):
        systems.company(name=name, zip="78702")
    systems.company(name="Harbor Builders", zip="78702", description="x" * 10_000)

    run = run_customer_sync(systems.client)

    assert run.status == RunStatus.ATTENTION
    held = {o.name: o.reason for o in run.outcomes.filter(outcome="held")}
    assert held[""] == "display_name: a name is required (display, company or given name)"
    assert "“LLC” is only a legal form; the company's own name is missing" in held["LLC"]
    assert "“Inc.” is only a legal form" in held["Inc."]
    assert "“🏗🏗🏗” has no letter or digit" in held["🏗🏗🏗"]
    assert "display_name: 10000 characters, the accounting system allows 500" in held["H" * 500]
    assert "notes: 10000 characters, the accounting system allows 2000" in held["Harbor Builders"]
    assert len(held) == 6 and run.counts.get("created", 0) == run.counts.get("linked", 0) == 0
    assert not CustomerLink.objects.filter(client=systems.client).exists()
    assert [c.DisplayName for c in systems.qbo_customers()] == ["LLC"]
    invalid = SyncConflict.objects.filter(kind=ConflictKind.INVALID, status=ConflictStatus.OPEN)
    assert invalid.count() == 6  # each waits in review with its reason


def test_right_to_left_and_emoji_names_are_created_once_and_found_again(systems):
    """GIVEN an Arabic customer in the books, and in the CRM the same company, a new Hebrew
    one and a new one with emoji, all in the postal code of an unrelated customer
    WHEN sync runs twice
    THEN the Arabic one is linked, the two new ones are created once; the unrelated
    neighbour is not offered as a match for names it shares nothing with."""
    arabic = systems.qbo_customer(
        "شركة البناء", CompanyName="شركة البناء", BillAddr={"PostalCode": "78701"}
    )
    systems.qbo_customer(
        "Cedar Roofing", CompanyName="Cedar Roofing", BillAddr={"PostalCode": "78701"}
    )
    same = systems.company(name="شركة البناء", zip="78701")
    systems.company(name="שלום בנייה", zip="78701")
    systems.company(name="Émile Ω Builders 🏗", zip="78701")

    run = run_customer_sync(systems.client)
    again = run_customer_sync(systems.client, full=True)

    assert run.status == RunStatus.SUCCEEDED, list(run.outcomes.values_list("reason", flat=True))
    assert run.counts["linked"] == 1 and run.counts["created"] == 2
    assert CustomerLink.objects.get(crm_id=same).accounting_id == str(arabic.Id)
    assert again.counts.get("created", 0) == 0
    names = sorted(c.DisplayName for c in systems.qbo_customers())
    assert names == sorted(["شركة البناء", "Cedar Roofing", "שלום בנייה", "Émile Ω Builders 🏗"])
    assert not SyncConflict.objects.filter(client=systems.client).exists()


def test_one_company_twice_in_a_batch_is_created_once_and_the_second_names_the_first(systems):
    """GIVEN two CRM records of one company ("&"/"and", "Const."/"Construction") and no
    customer in the books
    WHEN sync runs
    THEN one customer is created; the other waits in review naming the first, its card
    comparing the two CRM records field by field."""
    first = systems.company(name="Granite & Sons Construction", zip="78705", phone="512-555-0199")
    second = systems.company(name="Granite and Sons Const.", zip="78705", phone="512-555-0199")

    run = run_customer_sync(systems.client)

    assert run.counts["created"] == 1 and run.counts["held"] == 1
    assert [c.DisplayName for c in systems.qbo_customers()] == ["Granite & Sons Construction"]
    conflict = SyncConflict.objects.get(client=systems.client, status=ConflictStatus.OPEN)
    assert conflict.crm_id == second and conflict.kind == ConflictKind.NEAR_MATCH
    assert (
        f"looks like CRM company “Granite & Sons Construction” (id {first}), also in this run"
        in conflict.reason
    )
    assert "held so that one customer is created, not two" in conflict.reason
    assert conflict.evidence["other"] == "CRM company “Granite & Sons Construction”"
    assert conflict.accounting_value["display_name"] == "Granite & Sons Construction"
    fields = {f["field"]: f["level"] for f in conflict.evidence["fields"]}
    assert fields["name"] == "equal once normalised" and fields["phone"] == "equal"


def test_a_tax_id_that_contradicts_the_name_is_not_linked_and_says_so(systems):
    """GIVEN a customer of the books and a CRM company of the same name and postal code
    whose tax ID is another
    WHEN sync runs
    THEN they are not linked: the pair waits in review, its reason saying the tax IDs differ,
    and the books' tax ID is left as it was."""
    tax_id_property(systems)
    books = systems.qbo_customer(
        "Summit Builders",
        CompanyName="Summit Builders",
        BillAddr={"PostalCode": "78703"},
        PrimaryTaxIdentifier="12-3456789",
    )
    systems.company(name="Summit Builders", zip="78703", tax_id="98-7654321")

    run = run_customer_sync(systems.client)

    assert run.counts.get("linked", 0) == 0 and run.counts["held"] == 1
    assert not CustomerLink.objects.filter(client=systems.client).exists()
    conflict = SyncConflict.objects.get(client=systems.client, status=ConflictStatus.OPEN)
    assert conflict.accounting_id == str(books.Id)
    assert "the tax IDs differ" in conflict.reason and "tax ID differs" in conflict.reason
    assert conflict.evidence["note"] == "the tax IDs differ"
    assert [c.PrimaryTaxIdentifier for c in systems.qbo_customers()] == ["12-3456789"]


def test_a_namesake_whose_stronger_fields_all_disagree_is_never_linked(systems):
    """GIVEN a homeowner in the books, and a CRM contact of the same name whose email domain,
    phone, address and town are all others; and a company likewise
    WHEN sync runs
    THEN neither is linked: each waits in review, the reason saying what disagreed."""
    place = {"Line1": "12 Oak Street", "City": "Austin", "PostalCode": "78704"}
    systems.qbo_customer(
        "Ann Lee",
        GivenName="Ann",
        FamilyName="Lee",
        PrimaryEmailAddr={"Address": "ann@leefamily.example"},
        PrimaryPhone={"FreeFormNumber": "512-555-0177"},
        BillAddr=place,
    )
    oak = systems.qbo_customer(
        "Oak Ridge Homes",
        CompanyName="Oak Ridge Homes",
        PrimaryEmailAddr={"Address": "office@oakridgehomes.example"},
        PrimaryPhone={"FreeFormNumber": "512-555-0178"},
        BillAddr=place,
    )
    elsewhere = {"address": "900 Market St", "city": "San Francisco", "zip": "94103"}
    systems.contact(
        firstname="Ann", lastname="Lee", email="ann@othermail.example", phone="415-555-0100",
        **elsewhere,
    )  # fmt: skip
    systems.company(name="Oak Ridge Homes", phone="415-555-0101", **elsewhere)

    run = run_customer_sync(systems.client)

    assert run.counts.get("linked", 0) == 0 and run.counts.get("created", 0) == 0
    assert not CustomerLink.objects.filter(client=systems.client).exists()
    held = {o.crm_type: o.reason for o in run.outcomes.filter(outcome="held")}
    assert held["contacts"].startswith("for review: Looks like QuickBooks customer “Ann Lee”")
    for words in ("email differs", "phone differs", "address differs", "place differs"):
        assert words in held["contacts"], words
    # The company would be new, but QuickBooks keeps one customer per name: it waits too.
    assert held["companies"] == (
        f"for review: QuickBooks already has a customer named 'Oak Ridge Homes' (id {oak.Id}) "
        "that does not look like the same one: link to it, or rename one of them"
    )
    assert len(systems.qbo_customers()) == 2
