"""The sync engine's pure core: validation and matching (no HTTP, no database)."""

from hypothesis import given
from hypothesis import strategies as st

from sync.linkage import Matcher, Party, normalize_company
from sync.linkage.duplicates import find_duplicates
from sync.validation import LIMITS, check_customer

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
    fields = ("name", "email", "tax_id", "postal_code")
    return [Party(f"q{n}", **dict(zip(fields, spec, strict=False))) for n, spec in enumerate(specs)]


def test_it_finds_a_customer_by_tax_id_email_or_name_and_postal_code():
    books = parties(
        ("Cedar Roofing Inc.", "office@cedar.example", "12-3456789", "78701"),
        ("Ann Lee", "ann@home.example", "", "78702"),
    )
    by_tax = Matcher(books).match(Party("c1", "Totally Different", tax_id="123456789"))
    # Found by its tax ID alone, but a wholly different name holds it for a person.
    assert (by_tax.kind, by_tax.candidate.external_id) == ("near", "q0")
    assert "tax ID equal" in by_tax.reason and "name differs" in by_tax.reason
    by_email = Matcher(books).match(Party("c2", "Ann Lee", email="ANN@home.example"))
    assert (by_email.kind, by_email.candidate.external_id) == ("sure", "q1")
    by_name = Matcher(books).match(Party("c3", "CEDAR ROOFING", postal_code="78701"))
    assert (by_name.kind, by_name.candidate.external_id) == ("sure", "q0")


def test_it_sends_a_near_name_to_review_and_creates_on_a_clear_miss():
    books = parties(("Harbor Plumbing Services", "", "", "94103"))
    near = Matcher(books).match(Party("c1", "Harbour Plumbing Services", postal_code="94110"))
    assert near.kind == "near" and near.candidate.external_id == "q0"
    stranger = Party("c2", "Granite Electric", email="office@granite.example", postal_code="94107")
    assert Matcher(books).match(stranger).kind == "miss"


def test_it_finds_duplicates_within_one_system():
    pairs = find_duplicates(
        parties(
            ("Maple Homes LLC", "", "", "30301"),
            ("maple homes", "", "", "30301"),
            ("Oak Decks", "", "", "30301"),
        )
    )
    assert [(d.ids, d.kind) for d in pairs] == [(("q0", "q1"), "sure")]
    assert "name equal once normalised" in pairs[0].reason


@given(st.text(max_size=80) | st.sampled_from(["&", "★", "---", "& Co"]))
def test_a_customer_keyed_twice_is_always_a_sure_duplicate(name):
    pairs = find_duplicates(
        [Party("q0", name, postal_code="12345"), Party("q1", name, postal_code="12345")]
    )
    if normalize_company(name) and any(ch.isalnum() for ch in name):
        assert [(d.ids, d.kind) for d in pairs] == [(("q0", "q1"), "sure")]
    else:  # no name to go by ("&", "★"): never linked without a person
        assert all(d.kind != "sure" for d in pairs)
