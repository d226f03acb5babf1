"""The review card of a possible match: what each field counted, as a table in words. Items
raised before the evidence was kept on them still show their sentence and both records."""

import re

import pytest
from django.urls import reverse

from sync import evidence
from sync.linkage import Decision, Party
from sync.linkage.model import Contribution
from sync.models import SyncConflict

CRM = {"display_name": "Cedar Roofing Inc", "email": "office@cedar.example", "postal_code": "78701"}
BOOKS = {
    "display_name": "Cedar Roofing Incorporated",
    "email": "office@cedar.example",
    "phone": "+15125550101",
    "city": "Austin",
    "postal_code": "78799",
}
DECISION = Decision(
    Party("companies:1", "Cedar Roofing Inc"),
    "near",
    Party("7", "Cedar Roofing Incorporated"),
    probability=0.9612,
    contributions=(
        Contribution("email", "equal", 13.61),
        Contribution("name", "nearly equal (94 % alike)", 14.6),
        Contribution("place", "differs", -10.6),
    ),
)
SUMMARY = (
    "Looks like QuickBooks customer “Cedar Roofing Incorporated”. Same customer, or a new one?"
)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def items(two_firms):
    """One item with its evidence kept, one raised before it was."""
    client = two_firms.client_a
    weighed = SyncConflict.objects.create(
        client=client, kind="near_match", crm_type="companies", crm_id="1", accounting_id="7",
        crm_value=CRM, accounting_value=BOOKS, reason=f"{SUMMARY} (with the weights)",
        evidence=evidence.of_decision(DECISION, "QuickBooks", SUMMARY),
    )  # fmt: skip
    old = SyncConflict.objects.create(
        client=client, kind="near_match", crm_type="companies", crm_id="2", accounting_id="8",
        crm_value={"display_name": "Granite Renovation Co", "postal_code": "78799"},
        accounting_value={"display_name": "Granite Renovations", "postal_code": "78704"},
        reason="Looks like QuickBooks customer “Granite Renovations” (91% likely the same: "
        "name nearly equal (93 % alike) +9.1, postal code differs -2.1).",
    )  # fmt: skip
    return weighed, old


def card_on(page: str, conflict: SyncConflict) -> str:
    start = page.index(f'id="conflict-{conflict.pk}"')
    return page[start : page.index("</article>", start)]


def test_the_card_says_per_field_both_values_how_they_agree_and_what_it_counted(
    client, two_firms, items
):
    weighed, _ = items
    client.force_login(two_firms.accountant_a)

    card = card_on(client.get(reverse("review_conflicts")).content.decode(), weighed)

    words = text_of(card)
    assert SUMMARY in words and "(with the weights)" not in words
    assert "96 % likely the same company" in words
    assert "Field CRM QuickBooks How they agree Counts" in words
    assert (
        "Name Cedar Roofing Inc Cedar Roofing Incorporated nearly equal — 94 % alike for +14.6"
        in words
    )
    assert "Email office@cedar.example office@cedar.example equal for +13.6" in words
    assert "Place 78701 Austin, 78799 differs against \N{MINUS SIGN}10.6" in words
    # A field only one side holds says so, and counts nothing.
    assert "Phone — +15125550101 missing on one side — no evidence nothing" in words
    # The bars: the largest weight full, the others beside it; for in green, against in red.
    assert 'class="bar bar-for bar-10"' in card and 'class="bar bar-against bar-8"' in card
    # On a phone each row is a card whose cells say their column.
    assert 'table class="stack evidence"' in card and 'data-label="How they agree"' in card


def test_an_item_raised_before_the_evidence_was_kept_shows_its_sentence_and_both_records(
    client, two_firms, items
):
    _, old = items
    client.force_login(two_firms.accountant_a)

    page = client.get(reverse("client_sync", args=[two_firms.client_a.slug])).content.decode()

    card = card_on(page, old)
    words = text_of(card)
    assert "name nearly equal (93 % alike) +9.1, postal code differs -2.1" in words
    assert "Granite Renovation Co" in words and "Granite Renovations" in words
    assert "side-by-side" in card and "How they agree" not in card


def test_a_pair_held_just_under_the_threshold_never_reads_as_certain():
    for probability, shown in ((0.9899, "98 %"), (0.9956, "99.5 %"), (0.99999, "99.9 %")):
        stored = evidence.of_decision(
            Decision(Party("a"), "near", Party("b"), probability=probability), "QuickBooks", ""
        )
        assert evidence.card(stored, {}, {}).likely == f"{shown} likely the same company"
    assert evidence.card({}, CRM, BOOKS) is None  # no evidence kept: no table
