"""A pair put to a person stays with the person while the record is unchanged, however a
later run's weights lean; when the client changes its matching settings (thresholds, words)
on the settings page, the next sync decides the open item again under them (decision 0026):
now sure, it links; now below review, it is created; either way the run says which setting
changed, the item closes saying so, and an audit entry records it. A person's answer stands.
Real runs against the sandbox over HTTP."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from clients.models import AuditEntry
from sync.customers import run_customer_sync
from sync.linkage import Model
from sync.models import (
    ConflictKind,
    ConflictStatus,
    CustomerLink,
    LearntMatching,
    SyncConflict,
)
from sync.review import do_resolve_conflict

from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


@pytest.fixture
def okafor(systems, two_firms):
    """The books' Okafor Ventilation LLC, and in the CRM "Okafor Vnt" of the same postal
    code: about 80 % likely the same, so a person is asked. And an unrelated customer."""
    systems.qbo_customer("Oak Decks", BillAddr={"PostalCode": "30301"})
    systems.books_id = str(systems.qbo_customer("Okafor Ventilation LLC",
                                                BillAddr={"PostalCode": "78701"}).Id)  # fmt: skip
    systems.crm_id = systems.company(name="Okafor Vnt", zip="78701")
    systems.owner = two_firms.owner_a
    return systems


def keep_weights(systems, partner_share: float = 0.5) -> None:
    """Weights kept from an earlier learnt run (here the priors' own), so the client's
    thresholds apply as they are written (decision 0026)."""
    LearntMatching.objects.update_or_create(
        client=systems.client,
        defaults={"model": Model.default().to_dict(), "partner_share": partner_share,
                  "books_records": 300, "crm_records": 300},
    )  # fmt: skip


def change_settings(client, systems, **changes) -> str:
    """As an owner does it: the settings page, as shown, with these values changed. What
    the page then says."""
    client.force_login(systems.owner)
    url = reverse("client_sync_settings", args=[systems.client.slug])
    form = client.get(url).context["form"]
    shown = {name: form[name].value() for name in form.fields}
    posted = {k: v for k, v in shown.items() if v not in (None, False)} | changes
    response = client.post(url, posted)
    assert response.status_code == 302, response.context["form"].errors
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def open_item(systems) -> SyncConflict:
    return SyncConflict.objects.get(
        client=systems.client, kind=ConflictKind.NEAR_MATCH, status=ConflictStatus.OPEN
    )


def outcome_of(run, crm_id: str):
    """The record's decision in the run (a link's first merge is a line of its own)."""
    return run.outcomes.exclude(outcome="updated").get(crm_id=crm_id)


def test_a_lowered_link_threshold_links_the_waiting_pair_and_says_why(okafor, client):
    """GIVEN kept weights, and Okafor Vnt waiting for a person at about 80 %
    WHEN the owner lowers "link without review" to 75 % and the next sync runs
    THEN it is linked; the run's line, the closed item and an audit entry say the link
    threshold went from 90 % to 75 %."""
    books = okafor
    keep_weights(books)
    first = run_customer_sync(books.client)
    assert first.counts.get("held") == 1, first.counts
    item = open_item(books)
    assert 0.75 < item.evidence["probability"] < 0.90

    said = change_settings(client, books, link_sure_percent="75")
    assert said == (
        "Sync settings saved; the next run uses them. The pair waiting for review (link "
        "without review from 90 % to 75 %) will be decided again: linked if now sure, created "
        "if now below review, left waiting otherwise."
    )
    run = run_customer_sync(books.client, full=True)

    assert run.counts.get("linked") == 1 and run.counts.get("held", 0) == 0, run.counts
    assert CustomerLink.objects.get(crm_id=books.crm_id).accounting_id == books.books_id
    said = outcome_of(run, books.crm_id).reason
    assert said.startswith("matched: ")
    assert (
        "re-decided: the matching settings changed since it was put to a person "
        "(link without review from 90 % to 75 %)"
    ) in said
    item.refresh_from_db()
    assert item.status == ConflictStatus.RESOLVED and item.resolution == "settled by sync"
    assert "link without review from 90 % to 75 %" in item.note
    entry = AuditEntry.objects.get(action="sync.review_redecided", object_id=str(item.pk))
    assert entry.after["decision"] == "link" and entry.after["accounting_id"] == books.books_id
    assert entry.before["settings"]["link_sure_percent"] == "90.0"
    assert entry.after["settings"]["link_sure_percent"] == "75.0"


def test_a_raised_review_threshold_creates_the_waiting_record_and_says_why(okafor, client):
    """GIVEN Okafor Vnt waiting for a person at about 80 %
    WHEN the owner sends pairs to review only from 85 % and the next sync runs
    THEN it is created in QuickBooks as a new customer, and the run and the item say the
    review threshold changed."""
    books = okafor
    run_customer_sync(books.client)
    item = open_item(books)

    change_settings(client, books, review_from_percent="85")
    run = run_customer_sync(books.client, full=True)

    assert run.counts.get("created") == 1 and run.counts.get("held", 0) == 0, run.counts
    names = sorted(c.DisplayName for c in books.qbo_customers())
    assert names == ["Oak Decks", "Okafor Ventilation LLC", "Okafor Vnt"]
    said = outcome_of(run, books.crm_id).reason
    assert said == (
        "created; re-decided: the matching settings changed since it was put to a person "
        "(send to review from 20 % to 85 %)"
    )
    item.refresh_from_db()
    assert item.status == ConflictStatus.RESOLVED and "send to review from 20 %" in item.note
    entry = AuditEntry.objects.get(action="sync.review_redecided", object_id=str(item.pk))
    assert entry.after["decision"] == "create"


def test_while_record_and_settings_are_unchanged_the_pair_stays_with_the_person(okafor, client):
    """GIVEN a link threshold of 75 %, and Okafor Vnt (about 80 %) waiting for a
    person because no weights were kept yet (the priors link only from 99 %)
    WHEN later runs' kept weights make it less likely than review, then surer than 75 %,
    the record and the settings unchanged
    THEN it is neither created nor linked: it still waits, saying why."""
    books = okafor
    change_settings(client, books, link_sure_percent="75")
    run_customer_sync(books.client)
    asked = open_item(books)

    keep_weights(books, partner_share=0.0001)  # a partner now far less likely: a "miss"
    unlikely = run_customer_sync(books.client, full=True)
    assert unlikely.counts.get("created", 0) == 0 and unlikely.counts.get("held") == 1
    assert outcome_of(unlikely, books.crm_id).reason == f"for review: {asked.reason}"

    keep_weights(books)  # now 80 %, past the client's 75 %
    surer = run_customer_sync(books.client, full=True)
    assert surer.counts.get("linked", 0) == 0 and surer.counts.get("held") == 1, surer.counts
    assert not CustomerLink.objects.filter(crm_id=books.crm_id).exists()
    item = open_item(books)
    assert item.pk == asked.pk
    assert item.evidence["note"] == (
        "put to a person, and neither the record nor the matching settings changed since"
    )


def test_a_person_s_answer_stands_after_the_settings_change(okafor, client):
    """GIVEN Okafor Vnt left unsynced by a person from the review queue
    WHEN the owner lowers the link threshold below the pair's probability and sync runs
    THEN it stays unsynced, as the person said."""
    books = okafor
    keep_weights(books)
    run_customer_sync(books.client)
    do_resolve_conflict(books.owner, open_item(books), "dismiss", "Another firm, same trade")

    change_settings(client, books, link_sure_percent="75")
    run = run_customer_sync(books.client, full=True)

    assert not CustomerLink.objects.filter(crm_id=books.crm_id).exists()
    assert run.counts.get("linked", 0) == 0 and run.counts.get("created", 0) == 0, run.counts
    assert "left unsynced by owner@alpha.test: Another firm" in outcome_of(run, books.crm_id).reason


def test_the_clients_new_words_link_a_pair_waiting_for_a_person(okafor, client):
    """GIVEN "Okafor Vnt" waiting for a person beside the books' Okafor Ventilation LLC
    WHEN the owner adds "Vnt = Ventilation" to the client's words and sync runs
    THEN the pair is linked, the run saying the words changed."""
    books = okafor
    first = run_customer_sync(books.client)
    assert first.counts.get("held") == 1, first.counts

    change_settings(client, books, match_abbreviations="Vnt = Ventilation")
    run = run_customer_sync(books.client, full=True)

    assert run.counts.get("linked") == 1, run.counts
    assert CustomerLink.objects.get(crm_id=books.crm_id).accounting_id == books.books_id
    assert "(the client's words for names)" in outcome_of(run, books.crm_id).reason


def test_an_item_raised_before_settings_were_kept_with_it_stays_with_the_person(okafor, client):
    """GIVEN an item whose settings of then are unknown (raised before they were kept)
    WHEN the review threshold is raised past it and sync runs
    THEN it still waits: nothing says the settings changed since it was asked."""
    books = okafor
    run_customer_sync(books.client)
    item = open_item(books)
    item.evidence = {k: v for k, v in item.evidence.items() if k != "settings"}
    item.save()

    change_settings(client, books, review_from_percent="85")
    run = run_customer_sync(books.client, full=True)

    assert run.counts.get("created", 0) == 0 and run.counts.get("held") == 1, run.counts
    assert open_item(books).pk == item.pk
