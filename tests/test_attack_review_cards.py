"""Attacks on the review cards of customer matching: script in CRM names and emails, two
decisions racing for one card, two cards linked to one customer before the worker runs,
another firm's card ids, a decided card replayed. Real runs against the sandbox."""

import pytest
from django.urls import reverse

from sync import review
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
SCRIPT = "<script>alert(1)</script>"


def near_match(
    systems, name: str = "Granite Renovation Co", books: str = "Granite Renovations", **fields
) -> SyncConflict:
    systems.qbo_customer(books, BillAddr={"PostalCode": "78704"})
    systems.company(name=name, zip="78799", **fields)
    run_customer_sync(systems.client)
    return SyncConflict.objects.get(client=systems.client, status=ConflictStatus.OPEN)


def test_script_in_a_crm_name_and_email_is_shown_as_text_on_every_card(systems, client, two_firms):
    conflict = near_match(
        systems, f"Granite Renovation Co {SCRIPT}", f"Granite Renovations {SCRIPT}"
    )
    assert conflict.kind == ConflictKind.NEAR_MATCH and conflict.evidence
    client.force_login(two_firms.accountant_a)
    for page in (
        client.get(reverse("client_sync", args=[systems.client.slug])),
        client.get(reverse("review_conflicts")),
        client.post(
            reverse("client_sync_conflict", args=[systems.client.slug, conflict.pk]),
            {"decision": "nonsense"},
            HTTP_HX_REQUEST="true",
        ),
    ):
        assert page.status_code == 200
        assert SCRIPT.encode() not in page.content
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.content


def test_a_second_decision_on_a_card_already_decided_is_refused_even_from_a_stale_copy(
    systems, monkeypatch, two_firms
):
    """Two tabs, or a double click: both loaded the card while it was open."""
    monkeypatch.setattr(review, "queue_sync", lambda *a, **k: None)
    conflict = near_match(systems)
    first, second = (SyncConflict.objects.get(pk=conflict.pk) for _ in range(2))

    review.do_resolve_conflict(two_firms.accountant_a, first, "create")
    with pytest.raises(review.DecisionRefused, match="already decided"):
        review.do_resolve_conflict(two_firms.owner_a, second, "link")

    decided = SyncConflict.objects.get(pk=conflict.pk)
    assert (decided.resolution, decided.resolved_by) == ("create", two_firms.accountant_a)


def test_two_cards_linked_to_one_customer_before_the_worker_runs_link_one_and_ask_again(
    systems, monkeypatch, two_firms
):
    """Two CRM companies that are one, both near the same QuickBooks customer: the person
    says "link" to both before any run acts. One is linked; the other waits again with
    the reason; the run does not fail and no customer is created."""
    systems.qbo_customer("Granite Renovations", BillAddr={"PostalCode": "78704"})
    a = systems.company(name="Granite Renovation Co", zip="78799")
    b = systems.company(name="Granite Renovation Company", zip="78798")
    run_customer_sync(systems.client)
    cards = SyncConflict.objects.filter(client=systems.client, status=ConflictStatus.OPEN)
    assert {c.crm_id for c in cards} == {a, b}, [(c.crm_id, c.reason) for c in cards]
    monkeypatch.setattr(review, "queue_sync", lambda *a, **k: None)
    for card in cards:
        review.do_resolve_conflict(two_firms.accountant_a, card, "link")

    run = run_customer_sync(systems.client, full=True)

    assert run.status != RunStatus.FAILED, run.error
    assert run.finished_at is not None
    assert CustomerLink.objects.filter(client=systems.client).count() == 1
    assert len(systems.qbo_customers()) == 1
    held = run.outcomes.filter(outcome="held")
    assert held.count() == 1, list(held.values_list("reason", flat=True))
    assert "already linked to another CRM company" in held.get().reason
    again = SyncConflict.objects.get(client=systems.client, status=ConflictStatus.OPEN)
    assert "decide again" in again.reason and again.evidence


def test_another_firms_card_ids_are_not_found(systems, client, two_firms):
    conflict = near_match(systems)
    client.force_login(two_firms.owner_b)
    answer = client.post(
        reverse("client_sync_conflict", args=[two_firms.client_b.slug, conflict.pk]),
        {"decision": "link"},
    )
    bulk = client.post(reverse("conflicts_bulk"), {"ids": [conflict.pk], "decision": "link"})
    assert answer.status_code == bulk.status_code == 404
    assert SyncConflict.objects.get(pk=conflict.pk).status == ConflictStatus.OPEN


def test_a_link_decided_before_the_customer_was_made_inactive_is_asked_again(
    systems, monkeypatch, two_firms
):
    """The card said "link", then (before the run) the customer was made inactive in
    QuickBooks, as the duplicate fix does: no link to a customer nobody uses."""
    conflict = near_match(systems)
    monkeypatch.setattr(review, "queue_sync", lambda *a, **k: None)
    review.do_resolve_conflict(two_firms.accountant_a, conflict, "link")
    books = systems.qbo_customers()[0]
    books.Active = False
    books.save(qb=systems.qb)

    run = run_customer_sync(systems.client, full=True)

    assert not CustomerLink.objects.filter(client=systems.client).exists()
    again = SyncConflict.objects.get(client=systems.client, status=ConflictStatus.OPEN)
    assert "no longer an active customer in QuickBooks; decide again" in again.reason
    assert run.counts.get("created", 0) == 0 and run.counts["held"] == 1


def test_a_card_gone_stale_after_its_record_was_created_is_closed_and_cannot_link(
    systems, monkeypatch, two_firms
):
    """The card asked about "Granite Renovation Co"; the CRM record was then renamed and the
    next run created it. The card is closed by that run, and a "link" from a page loaded
    before is refused: the record has its customer already."""
    conflict = near_match(systems)
    systems.hubspot.crm.companies.basic_api.update(
        conflict.crm_id, {"properties": {"name": "Zephyr Plumbing", "zip": "10001"}}
    )
    run = run_customer_sync(systems.client, full=True)
    assert run.counts.get("created") == 1, run.counts

    stale = SyncConflict.objects.get(pk=conflict.pk)
    assert stale.status != ConflictStatus.OPEN
    monkeypatch.setattr(review, "queue_sync", lambda *a, **k: None)
    conflict.status = ConflictStatus.OPEN  # as the page loaded before saw it
    with pytest.raises(review.DecisionRefused, match="already decided"):
        review.do_resolve_conflict(two_firms.accountant_a, conflict, "link")
    # A card such a run left open (before this fix) is refused all the same.
    SyncConflict.objects.filter(pk=conflict.pk).update(status=ConflictStatus.OPEN)
    with pytest.raises(review.DecisionRefused, match="since linked this record to the acc"):
        review.do_resolve_conflict(two_firms.accountant_a, conflict, "link")
    link = CustomerLink.objects.get(client=systems.client, crm_id=conflict.crm_id)
    assert link.accounting_id != conflict.accounting_id


def test_link_on_a_card_about_another_crm_record_is_refused_not_silently_dropped(
    systems, two_firms, client
):
    """Held "also in this run": the card compares two CRM records, there is no customer
    to link to. "Link them" would be recorded and then ignored by every run."""
    systems.company(name="Granite & Sons Construction", zip="78705", phone="512-555-0199")
    systems.company(name="Granite and Sons Const.", zip="78705", phone="512-555-0199")
    run_customer_sync(systems.client)
    card = SyncConflict.objects.get(client=systems.client, status=ConflictStatus.OPEN)
    assert card.accounting_id == ""

    with pytest.raises(
        review.DecisionRefused, match="there is no customer in the books to link it to"
    ):
        review.do_resolve_conflict(two_firms.accountant_a, card, "link")
    card.refresh_from_db()
    assert card.status == ConflictStatus.OPEN
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("client_sync", args=[systems.client.slug])).content.decode()
    assert "Same customer: link them" not in page.split(f'id="conflict-{card.pk}"')[-1][:4000]
