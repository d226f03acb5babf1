"""Customer matching kept per client (issue 16, decision 0026), end to end over the sandbox:
a run with enough records learns the client's weights and keeps them; a webhook's single
record is then matched with them and the client's thresholds, instead of the priors."""

import random

import pytest
from django.urls import reverse
from quickbooks.batch import batch_create
from quickbooks.objects.customer import Customer as QboCustomer

from sync.customers import run_customer_sync
from sync.models import (
    ConflictKind,
    ConflictStatus,
    CustomerLink,
    LearntMatching,
    RunKind,
    SyncConflict,
    SyncSettings,
)

from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db

PAIRS = 230  # past the 200 records on each side the matcher needs to learn from
TRADES = ["Roofing", "Builders", "Renovations", "Homes", "Construction", "Plumbing", "Electric"]
TOWNS = ["Austin", "Round Rock", "Cedar Park", "Pflugerville", "Georgetown"]


def _names() -> list[str]:
    rng = random.Random(7)  # noqa: S311 - test data
    words: set[str] = set()
    while len(words) < PAIRS:
        words.add("".join(rng.choice("bcdfghjklmnprstvwz") + rng.choice("aeiou") for _ in "abc"))
    return [f"{w.capitalize()} {TRADES[n % 7]}" for n, w in enumerate(sorted(words))]


def a_client_with_history(systems) -> QboCustomer:
    """The books hold 230 contractors and Hollister Heating; the CRM the same 230, half
    with a letter missing from the name and 3 in 10 with the postal code one character off
    (this client's CRM is typed in a hurry). Returns Hollister Heating, which the CRM does
    not have yet."""
    rng = random.Random(3)  # noqa: S311 - test data
    customers, companies = [], []
    for n, name in enumerate(_names()):
        town, postal = TOWNS[n % 5], f"787{n % 50:02d}"
        books = QboCustomer()
        books.DisplayName = f"{name} LLC"
        books.BillAddr = {"City": town, "PostalCode": postal}
        customers.append(books)
        cut = rng.randrange(1, len(name) - 1)
        companies.append(
            {
                "name": name[:cut] + name[cut + 1 :] if n % 2 else name,
                "city": town,
                "zip": postal if n % 10 < 7 else f"786{n % 50:02d}",
            }
        )
    target = QboCustomer()
    target.DisplayName = "Hollister Heating LLC"
    target.PrimaryPhone = {"FreeFormNumber": "512-555-0199"}
    target.BillAddr = {"Line1": "1200 Ranch Road 620", "City": "Georgetown", "PostalCode": "78626"}
    customers.append(target)
    for start in range(0, len(customers), 30):
        made = batch_create(customers[start : start + 30], qb=systems.qb)
        assert not made.faults
    for start in range(0, len(companies), 100):
        inputs = [{"properties": p} for p in companies[start : start + 100]]
        systems.hubspot.crm.companies.batch_api.create({"inputs": inputs})
    run = run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    # Most linked, the rest for review (a postal code off and a letter missing): few created.
    assert run.counts["linked"] > PAIRS * 0.6 and run.counts.get("created", 0) < 5, run.counts
    return made.successes[-1]


def respelled(systems) -> str:
    """Hollister Heating as the CRM writes it: another name for the same firm, its phone and
    street, the postal code one character off. Its id."""
    return systems.company(
        name="Hollister HVAC", phone="(512) 555-0199", address="1200 Ranch Road 620",
        city="Georgetown", zip="78628",
    )  # fmt: skip


def webhook_run(systems, crm_id: str, *, dry_run: bool = False):
    return run_customer_sync(
        systems.client, kind=RunKind.WEBHOOK, crm_ids={"companies": [crm_id]}, dry_run=dry_run
    )


def open_reviews(systems, crm_id: str) -> list[SyncConflict]:
    """The review queue's items about this CRM record."""
    return list(
        SyncConflict.objects.filter(
            client=systems.client,
            status=ConflictStatus.OPEN,
            kind=ConflictKind.NEAR_MATCH,
            crm_id=crm_id,
        )
    )


def settings_of(systems, **changes) -> None:
    SyncSettings.objects.filter(client=systems.client).update(**changes)


def test_a_full_run_keeps_what_it_learnt_and_a_webhook_links_with_it(systems, client, two_firms):
    target = a_client_with_history(systems)
    kept = LearntMatching.objects.get(client=systems.client)
    assert (kept.books_records, kept.crm_records) == (PAIRS + 1, PAIRS)
    assert sum(count for _, count, _ in kept.best_pairs) == PAIRS
    crm_id = respelled(systems)

    # Without the kept weights (the priors, as every webhook run had before) it would wait
    # for a person: the name alone says another firm. (A dry run: a pair once put to a
    # person stays with the person, whatever a later run's weights say.)
    kept.delete()
    held = webhook_run(systems, crm_id, dry_run=True)
    assert held.counts.get("held") == 1 and held.counts.get("linked", 0) == 0, held.counts

    # With them, this client's own data speak: its CRM's postal codes are often a character
    # off, and the phone and street agree. Linked by the webhook's run, nothing to review.
    kept.save()
    run = webhook_run(systems, crm_id)
    assert run.counts.get("linked") == 1 and run.counts.get("held", 0) == 0, run.counts
    link = CustomerLink.objects.get(client=systems.client, crm_id=crm_id)
    assert link.accounting_id == str(target.Id)
    assert open_reviews(systems, crm_id) == []
    assert run.counts.get("created", 0) == 0

    client.force_login(two_firms.owner_a)
    page = client.get(reverse("client_sync_settings", args=[systems.client.slug])).content
    text = page.decode()
    assert f"from {PAIRS + 1} QuickBooks customers and {PAIRS} CRM records" in text
    assert "expected to be" in text and "to review" in text


def test_thresholds_changed_between_two_runs_change_the_outcome(systems):
    a_client_with_history(systems)
    crm_id = respelled(systems)

    settings_of(systems, link_sure_percent=99)
    strict = webhook_run(systems, crm_id, dry_run=True)
    assert strict.counts.get("held") == 1, strict.counts
    assert strict.counts.get("linked", 0) == 0, strict.counts

    settings_of(systems, link_sure_percent=90)
    relaxed = webhook_run(systems, crm_id)
    assert relaxed.counts.get("linked") == 1, relaxed.counts
    assert open_reviews(systems, crm_id) == []

    # Review only from 99 %: below it the record would be new, so nothing links or waits.
    other = systems.company(name="Hollister Heating Supply", city="Dallas", zip="75201")
    settings_of(systems, link_sure_percent=99.9, review_from_percent=99)
    loose = webhook_run(systems, other)
    assert loose.counts.get("created") == 1 and loose.counts.get("held", 0) == 0, loose.counts


@pytest.mark.parametrize(
    "damage",
    [
        {"m": [[0.5, 0.5]]},  # a row per field missing: learnt for another comparison set
        {"fingerprint": "0123456789abcdef"},  # fields or levels changed since
        {"prior": 2.0},  # no probability (NaN cannot even be stored in PostgreSQL's JSON)
    ],
    ids=["shape", "fingerprint", "prior"],
)
def test_a_stored_model_that_does_not_fit_is_ignored(systems, damage, client, two_firms):
    a_client_with_history(systems)
    kept = LearntMatching.objects.get(client=systems.client)
    kept.model = kept.model | damage
    kept.save()
    crm_id = respelled(systems)

    run = webhook_run(systems, crm_id)

    # As with the priors alone: held for a person, the run finished, no link made.
    assert run.finished_at is not None and run.error == ""
    assert run.counts.get("held") == 1, run.counts
    assert not CustomerLink.objects.filter(client=systems.client, crm_id=crm_id).exists()
    client.force_login(two_firms.owner_a)
    page = client.get(reverse("client_sync_settings", args=[systems.client.slug])).content
    assert "for an older way of comparing records and are not used" in page.decode()


def test_the_clients_own_abbreviation_links_a_customer_it_would_have_sent_to_review(
    systems, client, two_firms
):
    books = systems.qbo_customer("Okafor Ventilation LLC", BillAddr={"PostalCode": "78701"})
    systems.company(name="Okafor Vnt", zip="78701")
    preview = run_customer_sync(systems.client, kind=RunKind.IMPORT_PREVIEW, dry_run=True)
    assert preview.counts.get("held") == 1, preview.counts  # "Vnt" means nothing yet

    client.force_login(two_firms.owner_a)
    settings_url = reverse("client_sync_settings", args=[systems.client.slug])
    form = client.get(settings_url).context["form"]
    as_shown = {name: form[name].value() for name in form.fields}
    posted = {k: v for k, v in as_shown.items() if v not in (None, False)}
    posted["match_abbreviations"] = "Vnt = Ventilation"
    assert client.post(settings_url, posted).status_code == 302

    run = run_customer_sync(systems.client)
    assert run.counts.get("linked") == 1 and run.counts.get("created", 0) == 0, run.counts
    assert CustomerLink.objects.get(client=systems.client).accounting_id == str(books.Id)
