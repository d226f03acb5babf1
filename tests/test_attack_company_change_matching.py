"""After a change of QuickBooks company, a person's old decision about a possible match
("same customer: link them", "different customer: create it") was about the old books'
customer ids: it must not link the CRM record to whichever customer of the new books
happens to carry that id, nor create it without matching. Sandbox over HTTP."""

import requests

from connections.models import Connection
from sync.customers import run_customer_sync
from sync.models import CustomerLink, LearntMatching, RunKind, SyncConflict
from sync.review import do_resolve_conflict

from .sandbox.conftest import sandbox_db
from .test_company_change_lifecycle import change_company, customer

pytestmark = sandbox_db


def to_new_books(client, systems) -> None:
    change_company(client, "Second books")
    systems.qbo_connection = Connection.objects.get(pk=systems.qbo_connection.pk)
    requests.patch(
        f"{systems.sandbox}/sandbox/control/quickbooks/companies/"
        f"{systems.qbo_connection.external_id}",
        json={"rate_limits": False, "webhook_url": ""},
        timeout=10,
    ).raise_for_status()


def test_a_link_decided_in_the_old_books_does_not_link_a_stranger_in_the_new(
    client, systems, two_firms
):
    old = systems.qbo_customer("Granite Renovations", BillAddr={"PostalCode": "78704"})
    crm_id = systems.company(name="Granite Renovation Co", zip="78799")
    run_customer_sync(systems.client)
    card = SyncConflict.objects.get(client=systems.client, status="open")
    do_resolve_conflict(two_firms.accountant_a, card, "link")  # the run acts at once in tests
    assert CustomerLink.objects.get(client=systems.client).accounting_id == str(old.Id)
    client.force_login(two_firms.owner_a)

    to_new_books(client, systems)
    # The new books: a stranger first, carrying the old customer's id.
    stranger = customer(systems.qb, "Walk-in customer")
    filler = 0
    while int(stranger.Id) < int(old.Id):
        filler += 1
        stranger = customer(systems.qb, f"Walk-in {filler}")
    assert stranger.Id == old.Id
    run = run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)

    link = CustomerLink.objects.filter(client=systems.client, crm_id=crm_id).first()
    assert link is None or link.accounting_id != str(stranger.Id), run.counts
    assert "Walk-in" not in str(list(run.outcomes.values_list("reason", flat=True)))


def test_a_create_decided_in_the_old_books_matches_afresh_in_the_new(client, systems, two_firms):
    systems.qbo_customer("Granite Renovations", BillAddr={"PostalCode": "78704"})
    crm_id = systems.company(name="Granite Renovation Co", zip="78799")
    run_customer_sync(systems.client)
    card = SyncConflict.objects.get(client=systems.client, status="open")
    do_resolve_conflict(two_firms.accountant_a, card, "create")
    client.force_login(two_firms.owner_a)

    to_new_books(client, systems)
    same = customer(systems.qb, "Granite Renovation Co", BillAddr={"PostalCode": "78799"})
    run = run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)

    assert run.counts.get("created", 0) == 0, run.counts
    assert CustomerLink.objects.get(client=systems.client, crm_id=crm_id).accounting_id == str(
        same.Id
    )
    assert [c.DisplayName for c in systems.qbo_customers()] == ["Granite Renovation Co"]


def test_weights_learnt_from_the_old_books_are_set_aside(client, systems, two_firms):
    from sync.linkage import Model

    LearntMatching.objects.create(
        client=systems.client, model=Model.default(0.004).to_dict(), partner_share=0.9,
        books_records=240, crm_records=230,
    )  # fmt: skip
    client.force_login(two_firms.owner_a)
    to_new_books(client, systems)
    assert not LearntMatching.objects.filter(client=systems.client).exists()
