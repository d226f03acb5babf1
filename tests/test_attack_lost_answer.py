"""A create whose answer is lost, for a CRM record whose name an already linked customer
holds (two different companies of one name): looking the name up finds that customer, which
belongs to another CRM record. The run must not link it a second time (the unique link would
fail the whole batch, and the batch's other creates would lose their links). Sandbox over
HTTP."""

from connections import retries
from connections.quickbooks.adapter import QuickBooksAdapter
from sync.customers import run_customer_sync
from sync.models import CustomerLink, RunStatus, SyncSettings

from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def test_a_lost_create_whose_name_is_held_by_another_records_customer_is_not_linked_to_it(
    systems, monkeypatch
):
    systems.qbo_customer("Cedar Roofing", BillAddr={"PostalCode": "78701", "City": "Austin"},
                         PrimaryPhone={"FreeFormNumber": "512-555-0101"})  # fmt: skip
    austin = systems.company(name="Cedar Roofing", zip="78701", city="Austin",
                             phone="512-555-0101")  # fmt: skip
    assert run_customer_sync(systems.client).counts.get("linked") == 1
    dallas = systems.company(name="Cedar Roofing", zip="75201", city="Dallas",
                             phone="214-555-0177", domain="cedar-dallas.example")  # fmt: skip
    other = systems.company(name="Zephyr Plumbing", zip="75202", city="Dallas")
    # This client sends to review only from 40 %: the namesake in Dallas (33 %) is new.
    SyncSettings.objects.filter(client=systems.client).update(review_from_percent=40)
    write = QuickBooksAdapter.write_customers

    def lost(self, writes, request_id):
        # QuickBooks writes what it can (not the taken name), and the answer never comes.
        writes = list(writes)
        write(self, [w for w in writes if w[1].get("display_name") != "Cedar Roofing"], request_id)
        raise retries.Transient("the answer was lost")

    monkeypatch.setattr(QuickBooksAdapter, "write_customers", lost)

    run = run_customer_sync(systems.client)

    assert run.status != RunStatus.FAILED, run.error
    assert CustomerLink.objects.get(client=systems.client, crm_id=austin)
    assert not CustomerLink.objects.filter(client=systems.client, crm_id=dallas).exists()
    assert CustomerLink.objects.filter(client=systems.client, crm_id=other).exists()
    held = run.outcomes.get(crm_id=dallas)
    assert held.outcome == "held" and f"linked to another CRM company (id {austin})" in held.reason
