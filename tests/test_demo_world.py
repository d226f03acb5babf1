"""The demo world (`make demo`): its CRM spells customers of the books another way
("Incorporated" / "Inc", "Const." / "Construction", words swapped, "&" / "and", no email),
and its import creates none of them a second time. The pairs a person must decide wait in
review, each card saying what every field counted."""

from django.urls import reverse

from connections.models import Connection
from connections.quickbooks.adapter import QuickBooksAdapter
from sandbox.demo_books import AMBIGUOUS, RESPELLED, write_demo_book
from sync.customers import run_customer_sync
from sync.models import (
    ConflictKind,
    ConflictStatus,
    CustomerLink,
    RunKind,
    SyncConflict,
)

from .sandbox.conftest import sandbox_db
from .sync_support import connect_written_book

pytestmark = sandbox_db


def customers_in_the_books(connection: Connection) -> int:
    """Counted in the QuickBooks sandbox over HTTP, active or not."""
    qb = QuickBooksAdapter(connection)._client()[0]
    answer = qb.query("SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)")
    return int(answer["QueryResponse"]["totalCount"])


def test_the_demo_import_creates_no_customer_the_books_already_have(two_firms, sandbox, client):
    """GIVEN demo client 1's books, whose CRM spells six customers another way and holds
    two companies that may or may not be customers of the books
    WHEN the accountant previews and approves the historical import
    THEN no customer is created; the respelled ones are linked to theirs; the others wait in
    review (later runs too), with what each field counted on their cards."""
    demo = two_firms.client_a
    book, written = write_demo_book(1, sandbox, "Demo books")
    connect_written_book(demo, sandbox, written)
    books = Connection.objects.get(client=demo, system="quickbooks")
    before = customers_in_the_books(books)
    assert before == len(book.people) + len(AMBIGUOUS)

    preview = run_customer_sync(demo, kind=RunKind.IMPORT_PREVIEW, full=True, dry_run=True)
    done = run_customer_sync(demo, kind=RunKind.IMPORT, full=True, approved_preview=preview)

    assert customers_in_the_books(books) == before
    assert preview.counts.get("created", 0) == done.counts.get("created", 0) == 0
    links = {(link.crm_id, link.accounting_id) for link in CustomerLink.objects.filter(client=demo)}
    for person in RESPELLED:
        pair = (written.ids[person.key], written.ids[f"qbo:{person.key}"])
        assert pair in links, f"{person.name_in_crm} not linked to {person.name}"
    waiting = {
        c.crm_value["display_name"]: c
        for c in SyncConflict.objects.filter(
            client=demo, status=ConflictStatus.OPEN, kind=ConflictKind.NEAR_MATCH
        )
    }
    linked_crm = {crm_id for crm_id, _ in links}
    for person in book.people:  # every CRM record of a customer: linked, or waiting
        assert written.ids[person.key] in linked_crm or person.name_in_crm in waiting
    ambiguous = waiting[AMBIGUOUS[0].crm["name"]]
    assert ambiguous.accounting_value["display_name"] == AMBIGUOUS[0].books["DisplayName"]
    assert {f["field"] for f in ambiguous.evidence["fields"]} >= {"name", "place"}

    # Later runs (a webhook's one record, the scheduled pull) leave the pairs to the person,
    # though one record's weights come out a little surer than the whole import's.
    run_customer_sync(demo, crm_ids={"companies": [c.crm_id for c in waiting.values()]})
    run_customer_sync(demo)
    assert customers_in_the_books(books) == before
    still = SyncConflict.objects.filter(client=demo, status=ConflictStatus.OPEN)
    assert set(still.values_list("pk", flat=True)) >= {c.pk for c in waiting.values()}
    assert not CustomerLink.objects.filter(crm_id__in=[c.crm_id for c in waiting.values()])

    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("review_conflicts")).content.decode()

    card = page[page.index(f"conflict-{ambiguous.pk}") :]
    card = card[: card.index("</article>")]
    for words in (
        "Looks like QuickBooks customer “Riverside Mechanical”",
        "likely the same company",
        "How they agree",
        ">Riverside Mechanical Co<",  # the CRM's value beside the books'
        ">Riverside Mechanical<",
        "equal once normalised",
        ">for +",
        ">Place<",
        "Austin, 78745",
        "Austin, 78704",
        "missing on one side — no evidence",  # the phone: only the books have one
    ):
        assert words in card, words
