"""A review card's stored evidence (`SyncConflict.evidence`) that is not what the matcher
writes — damaged, from another version, or huge — never fails the review queue: the card
shows what it can, every other card stays."""

import pytest
from django.urls import reverse

from sync import evidence
from sync.models import ConflictKind, SyncConflict

GOOD = {"field": "name", "level": "equal", "alike": None, "weight": 5.0}
BAD = [
    {"fields": "not a list"},
    {"fields": [None, 3, "x"]},
    {"fields": [{"field": "name"}]},
    {"fields": [{"field": "name", "level": None, "weight": "heavy"}]},
    {"fields": [GOOD | {"weight": "NaN"}]},  # PostgreSQL's JSON holds no NaN itself
    {"fields": [GOOD | {"weight": 1e308}, GOOD | {"field": "email", "weight": -1e308}]},
    {"fields": [GOOD], "probability": "NaN"},
    {"fields": [GOOD], "probability": 1e308},
    {"fields": [GOOD], "probability": "not a number"},
    {"fields": [GOOD] * 10_000, "probability": 0.5},
    {"fields": [GOOD | {"alike": "lots"}]},
    {"fields": [GOOD], "also": "not a list"},
    {"fields": [GOOD], "also": [None, {"fields": "x"}, {"fields": [GOOD], "values": "x"}]},
    {"fields": [GOOD], "also": [{"fields": [GOOD | {"weight": "x"}], "probability": "NaN"}]},
]


@pytest.mark.parametrize("stored", BAD, ids=range(len(BAD)))
def test_a_damaged_evidence_still_makes_a_card(stored):
    card = evidence.card(stored, {"display_name": "A"}, {"display_name": "B"})
    assert card is None or card.likely


def test_the_review_queue_shows_every_card_whatever_one_holds(client, two_firms):
    for n, stored in enumerate(BAD):
        SyncConflict.objects.create(
            client=two_firms.client_a, kind=ConflictKind.NEAR_MATCH, crm_type="companies",
            crm_id=str(n), reason=f"card {n}", evidence=stored,
            crm_value={"display_name": f"CRM {n}"}, accounting_value={"display_name": "B"},
        )  # fmt: skip
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("review_conflicts"))
    assert page.status_code == 200
    assert all(f"CRM {n}".encode() in page.content for n in range(len(BAD)))


def test_a_card_holds_one_row_per_field_and_damaged_numbers_count_for_nothing():
    stored = {"fields": [GOOD] * 10_000 + [GOOD | {"field": "email", "weight": "x"}],
              "probability": "NaN"}  # fmt: skip
    card = evidence.card(stored, {"display_name": "A", "email": "a@x.example"}, {})
    assert [r.field for r in card.rows] == ["name", "email"]
    assert card.rows[1].counts == "nothing" and card.likely == "0 % likely the same company"


def test_bulk_decisions_with_odd_or_foreign_ids_decide_only_this_firms_items(client, two_firms):
    mine = SyncConflict.objects.create(
        client=two_firms.client_a, kind=ConflictKind.NEAR_MATCH, crm_type="companies",
        crm_id="1", reason="mine",
    )  # fmt: skip
    theirs = SyncConflict.objects.create(
        client=two_firms.client_b, kind=ConflictKind.NEAR_MATCH, crm_type="companies",
        crm_id="1", reason="theirs",
    )  # fmt: skip
    client.force_login(two_firms.accountant_a)
    url = reverse("conflicts_bulk")
    for ids in (["99999999999999999999999"], ["-1"], ["1e3"], [str(theirs.pk)]):
        answer = client.post(url, {"ids": ids, "decision": "dismiss", "note": "x"})
        assert answer.status_code in (302, 400, 404), ids
    client.post(url, {"ids": [mine.pk, theirs.pk], "decision": "dismiss", "note": "two branches"})
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("dismissed", "open")
