"""CRM records whose numeric-looking fields hold what no number should: NaN, 1e309,
Infinity, a phone with a 20-digit extension, a postal code of emoji. A run finishes, each
such record is created once or held with its reason, and a re-run and a replayed webhook
create nothing. Sandbox over HTTP."""

from sync.customers import run_customer_sync
from sync.models import CustomerLink, RunStatus

from .sandbox.conftest import sandbox_db
from .test_customer_odd_records import tax_id_property

pytestmark = sandbox_db
ODD = {
    "Ext Builders": {"phone": "+1 (555) 555-5555 ext 12345678901234567890"},
    "Nan Roofing": {"phone": "NaN", "zip": "NaN", "tax_id": "NaN"},
    "Huge Paving": {"phone": "1e309", "zip": "1e309", "tax_id": "1e309"},
    "Inf Decks": {"phone": "Infinity", "zip": "-Infinity", "tax_id": "inf"},
    "Emoji Glass": {"zip": "🏗🏗🏗", "phone": "☎️"},
    "Long Phone Co": {"phone": "5" * 10_000},
    "Rtl Tiles": {"zip": "\u202e78701", "city": "\u202eAustin"},
}


def test_odd_numbers_in_crm_fields_finish_the_run_and_create_nothing_twice(systems):
    tax_id_property(systems)
    for name, fields in ODD.items():
        systems.company(name=name, **fields)

    first = run_customer_sync(systems.client)
    again = run_customer_sync(systems.client, full=True)

    assert first.status in (RunStatus.SUCCEEDED, RunStatus.ATTENTION), first.error
    reasons = dict(first.outcomes.values_list("name", "reason"))
    done = dict(first.outcomes.values_list("name", "outcome"))
    assert set(done) == set(ODD), reasons
    for name, outcome in done.items():
        assert outcome in ("created", "held"), (name, outcome, reasons[name])
        if outcome == "held":
            assert reasons[name], name
    assert again.status in (RunStatus.SUCCEEDED, RunStatus.ATTENTION), again.error
    assert again.counts.get("created", 0) == 0, again.counts
    names = [c.DisplayName for c in systems.qbo_customers()]
    assert len(names) == len(set(names)) == CustomerLink.objects.count()


def test_one_company_keyed_twice_in_the_crm_arriving_by_two_webhooks_is_one_customer(systems):
    """The second record comes alone (a webhook's run), after the first was created: it is
    linked or held for a person, never a second customer; the same webhook replayed
    changes nothing."""
    from sync.models import RunKind

    first = systems.company(name="Cedar Roofing Inc", phone="512-555-0101", zip="78701",
                            domain="cedarroofing.example")  # fmt: skip
    run_customer_sync(systems.client, kind=RunKind.MANUAL, crm_ids={"companies": [first]})
    second = systems.company(name="Cedar Roofing LLC", phone="(512) 555-0101", zip="78701",
                             domain="cedarroofing.example")  # fmt: skip
    runs = [
        run_customer_sync(systems.client, kind=RunKind.MANUAL, crm_ids={"companies": [second]})
        for _ in range(2)
    ]

    assert [c.DisplayName for c in systems.qbo_customers()] == ["Cedar Roofing Inc"]
    assert all(r.counts.get("created", 0) == 0 for r in runs), [r.counts for r in runs]
    assert runs[0].counts.get("held") == 1, runs[0].counts
    said = runs[0].outcomes.get(crm_id=second).reason
    assert "a duplicate in the CRM?" in said, list(runs[0].outcomes.values_list("crm_id", "reason"))
