"""The sync engine's pure core: validation and matching (no HTTP, no database)."""

from hypothesis import given
from hypothesis import strategies as st

from connections.sync.matching import CustomerIndex, Party, find_duplicates, normalize_name
from connections.sync.validation import LIMITS, check_customer

GOOD = {
    "display_name": "Ann Lee",
    "email": "Ann.Lee@Example.com",
    "phone": "(512) 555-0134",
    "postal_code": "78701",
    "tax_id": "12-3456789",
}


def test_it_normalises_good_values():
    checked = check_customer(GOOD, "US")
    assert checked.ok
    assert checked.values["phone"] == "+15125550134"
    assert checked.values["email"] == "Ann.Lee@example.com"
    assert checked.values["tax_id"] == "123456789"


def test_it_holds_bad_values_with_reasons():
    checked = check_customer(
        {
            "display_name": "",
            "email": "not-an-email",
            "phone": "12",
            "postal_code": "ABCDE",
            "tax_id": "00",
        }
    )
    reasons = " ".join(checked.problems)
    for field in ("display_name", "email", "phone", "postal_code", "tax_id"):
        assert f"{field}:" in reasons


def test_it_checks_tax_ids_by_country():
    assert check_customer({"display_name": "Maple Ltd", "tax_id": "GB 980 7806 84"}, "GB").ok
    assert not check_customer({"display_name": "Maple Ltd", "tax_id": "GB 980 7806 85"}, "GB").ok
    assert check_customer({"display_name": "Bondi Pty", "tax_id": "51 824 753 556"}, "AU").ok


def test_it_never_truncates_silently():
    checked = check_customer({"display_name": "x" * 10_000})
    assert checked.values["display_name"] == "x" * 10_000
    assert any("10000 characters" in p for p in checked.problems)


def test_it_keeps_emoji_and_right_to_left_names_but_drops_control_characters():
    checked = check_customer({"display_name": "בית 🏠\x07 Builders"})
    assert checked.ok and checked.values["display_name"] == "בית 🏠 Builders"
    assert checked.notes == ["display_name: control characters removed"]


@given(st.dictionaries(st.sampled_from([*sorted(LIMITS), "tax_id"]), st.text(max_size=300)))
def test_it_never_raises_on_any_text(values):
    checked = check_customer(values, "US")
    assert isinstance(checked.problems, list)


def parties(*specs) -> list[Party]:
    return [Party(f"q{n}", *spec) for n, spec in enumerate(specs)]


def test_it_matches_cheapest_evidence_first():
    index = CustomerIndex(
        parties(
            ("Cedar Roofing Inc.", "office@cedar.example", "12-3456789", "78701"),
            ("Ann Lee", "ann@home.example", "", "78702"),
        )
    )
    assert index.match(Party("c1", "Totally Different", tax_id="123456789")).reason == "same tax ID"
    assert index.match(Party("c2", "Ann Lee", email="ANN@home.example")).kind == "sure"
    by_name = index.match(Party("c3", "CEDAR ROOFING", postal_code="78701"))
    assert (by_name.kind, by_name.candidate.external_id) == ("sure", "q0")


def test_it_sends_a_near_name_to_review_and_creates_on_a_clear_miss():
    index = CustomerIndex(parties(("Harbor Plumbing Services", "", "", "94103")))
    near = index.match(Party("c1", "Harbour Plumbing Services", postal_code="94110"))
    assert near.kind == "near" and near.candidate.external_id == "q0"
    assert index.match(Party("c2", "Granite Electric", postal_code="94103")).kind == "miss"


def test_it_finds_duplicates_within_one_system():
    pairs = find_duplicates(
        parties(
            ("Maple Homes LLC", "", "", "30301"),
            ("maple homes", "", "", "30301"),
            ("Oak Decks", "", "", "30301"),
        )
    )
    assert [(a.external_id, b.external_id) for a, b, _ in pairs] == [("q0", "q1")]


@given(st.text(max_size=80))
def test_it_always_matches_a_record_to_itself(name):
    index = CustomerIndex([Party("q0", name, postal_code="12345")])
    found = index.match(Party("c0", name, postal_code="12345"))
    if normalize_name(name):
        assert found.kind == "sure" and found.candidate.external_id == "q0"
