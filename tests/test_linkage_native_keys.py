"""The native blocking keys (`_native.c`, `block_keys`) against the plain Python ones
(`blocking._keys`): for a party whose name's words and fields are ASCII and who has no trade
name, the same keys in the same order; for every other party, None (Python makes them).
Pure: no database."""

import random

import pytest

from sync.linkage import blocking, names
from sync.linkage.records import Features, Party
from tests.test_linkage_compiled import require_build
from tests.test_linkage_native_names import bench_sets

TRICKY_NAMES = [
    "Bob Smith",
    "Bob",
    "Bob Robert",
    "Robert Bob",
    "Bob Bobby Smith",
    "Bob Jim Al Smith",
    "Al Bo",
    "Ed",
    "Smith Smith",
    "Smith Smith Smith",
    "Smith Smyth Smithe",
    "Smith",
    "B",
    "B C D",
    "A Bob",
    "",
    "   ",
    "&",
    "3ontario Inc",
    "196634 Ontario Ltd",
    "A1 Plumbing 2",
    "42",
    "Smith Residence",
    "The Smith Household",
    "Smith - 12 Oak St",
    "Smith, Robert",
    "Bob & Linda Smith",
    "Acme dba Widgets",
    "Bob Smith dba Bob's Roofing",
    "Hernande zHoldings",
    "Mc Intyre Mechanical",
    "Okafor Bros. Const. Co., L.L.C.",
    "Wh Hw Ahw",
    "Tommy Loery",
    "Kenddra Morrsi",
    "x" * 600,
    ("Acme " * 300).strip(),
    "Müller GmbH",
    "Zoë Café",
    "東京 Sushi",
]

# Fields each tricky name is tried with: none, all, and the short or odd ones.
TRICKY_FIELDS = [
    {},
    {"email": "bob@acme.com", "phone": "+15551234567", "postal_code": "K1A 0B1",
     "city": "Ottawa", "line1": "12 Oak St", "tax_id": "12-3456789",
     "website": "https://www.acme.com/about"},
    {"email": "bob@gmail.com", "phone": "12345", "city": "Ottawa"},
    {"phone": "1234567", "postal_code": "90210"},
    {"phone": "+1 (555) 123-4567 x12", "country": "US"},
    {"city": "Montréal", "line1": "12 Rue Élise", "email": "zoë@café.com"},
    {"given_name": "Bob", "family_name": "Smith"},
    {"given_name": "", "family_name": "Smith", "city": "Ottawa"},
]  # fmt: skip

# Pieces random names are made of: nicknames and their full forms, repeated words, one
# letter, digits, marks, household and trade words.
NAME_PIECES = [
    "Bob", "Bobby", "Robert", "Jim", "James", "Al", "Albert", "Liz", "Lisa", "Nancy", "Anne",
    "Ann", "Smith", "Smyth", "Schmidt", "Hernandez", "Lee", "Li", "O'Brien", "Mc", "Mac",
    "A", "B", "x", "1", "12", "3ontario", "A1", "&", "and", "-", ",", ".", "Inc", "LLC",
    "Roofing", "Plumbing", "Residence", "Home", "dba", "Whh", "Hwang", "Ü", "é", " ", "  ",
]  # fmt: skip
FIELD_PIECES = [*"abcxyz0123456789 .-@+/()", "é", "ß", "gmail.com", "acme.com", "St"]


@pytest.fixture(autouse=True)
def native_core():
    require_build()
    assert blocking.NATIVE_KEYS, "the build's native core was not set up to make keys"


def native_keys(f: Features):
    return blocking._native.block_keys(f.tokens, f.email, f.domain, f.website, f.phone,
                                       f.postal, f.tax, f.line1, f.sounds, f.city,
                                       f.household)  # fmt: skip


def python_keys(f: Features) -> list[str]:
    """`_keys`, with any trade name's keys made by Python too."""
    blocking.NATIVE_KEYS = False
    try:
        return blocking._keys(f)
    finally:
        blocking.NATIVE_KEYS = True


def _ascii(f: Features) -> bool:
    fields = (*f.tokens, f.email, f.domain, f.website, f.phone, f.postal, f.tax, f.line1,
              *f.sounds, f.city, f.household)  # fmt: skip
    return all(text.isascii() for text in fields)


def assert_same(party: Party) -> bool:
    """The party's keys alike both ways; whether the native core made them."""
    f = Features(party)
    expected = python_keys(f)
    ours = native_keys(f)
    natively = f.trade is None and _ascii(f)
    if natively:
        assert ours == expected, party
        assert all(type(key) is str for key in ours)
    elif f.trade is None:
        assert ours is None, party
    found = blocking.keys(Features(party))  # through keys: native, or Python for the rest
    assert found == expected, party
    return natively


@pytest.mark.parametrize("name", TRICKY_NAMES)
def test_it_makes_each_tricky_partys_keys_as_python_does(name):
    """GIVEN a name that exercises one rule (nicknames, repeated words, one letter, digits,
    households, trade names, non-ASCII) with fields full, short or missing WHEN its keys are
    made natively THEN they are the Python keys, in order (or None, and Python makes them)."""
    for fields in TRICKY_FIELDS:
        assert_same(Party("1", name, **fields))
        assert_same(Party("1", "", **{**fields, "given_name": name, "family_name": "Smith"}))


def test_it_makes_random_partys_keys_as_python_does():
    """GIVEN thousands of parties of random names and fields WHEN their keys are made
    natively THEN each is the Python list; most of them made natively."""
    rng = random.Random(30)  # noqa: S311 - test data

    def text(pieces, most):
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, most)))

    natively = 0
    for i in range(5_000):
        name = " ".join(rng.choice(NAME_PIECES) for _ in range(rng.randrange(0, 6)))
        fields = {
            field: text(FIELD_PIECES, 14)
            for field in ("email", "tax_id", "postal_code", "phone", "website", "line1", "city")
            if rng.random() < 0.6
        }
        if "email" in fields and rng.random() < 0.5:
            fields["email"] += "@" + rng.choice(["gmail.com", "acme.com", "x.co"])
        natively += assert_same(Party(str(i), name, **fields))
    assert natively > 2_500


def test_it_makes_equal_words_and_sounds_no_pair():
    """GIVEN a name of one word repeated, and one of words that sound alike WHEN their keys
    are made THEN no word-and-initial key pairs a word with itself, no sound pair one sound
    with itself (as `_name_keys` compares words, and sets the sounds)."""
    twice = native_keys(Features(Party("1", "Smith Smith")))
    assert twice == ["nj:smithsmith", "n:smith", "n:smith"]
    alike = native_keys(Features(Party("1", "Smith Smyth Bob")))
    assert [k for k in alike if k.startswith("ss:")] == ["ss:b100|s530"]


def test_a_nickname_adds_its_full_form_once_per_word():
    """GIVEN Bob and Bobby WHEN the keys are made THEN Robert is added for each (as the
    Python does), before the sounds are heard."""
    f = Features(Party("1", "Bob Bobby"))
    assert native_keys(f)[:5] == ["nj:bobbobby", "n:bob", "n:bobby", "n:robert", "n:robert"]
    assert native_keys(f) == python_keys(f)


def test_a_party_not_of_ascii_is_left_to_python():
    """GIVEN a party whose words or fields are not ASCII WHEN its keys are asked for THEN
    the native core says None, and `keys` gives the Python keys."""
    f = Features(Party("1", "東京 Sushi", city="Ottawa"))
    assert native_keys(f) is None
    assert blocking.keys(f) == python_keys(f)
    plain = ("", "", "", "", "", "", "", "", (), "", "")
    for at, odd in [(0, ("zoë",)), (1, "zoë@x.com"), (9, "café"), (8, ("é",)), (0, ["a"]),
                    (0, ("a",) * 257), (10, None), (3, 3)]:  # fmt: skip
        args = list(plain)
        args[at] = odd
        assert blocking._native.block_keys(*args) is None, (at, odd)


def test_keys_uses_the_native_keys_and_keeps_them():
    """GIVEN the native core WHEN keys is asked twice THEN it makes them once and keeps
    them on the Features."""
    f = Features(Party("1", "Bob Smith", phone="+15551234567"))
    found = blocking.keys(f)
    assert f.block_keys is found
    assert blocking.keys(f) is found
    assert found == python_keys(Features(Party("1", "Bob Smith", phone="+15551234567")))


def test_nicknames_are_read_from_the_table_it_was_given():
    """GIVEN a nicknames table of other shapes WHEN set up THEN a dict's odd full form
    leaves the party to Python, anything but a dict is refused; NICKNAMES again reads
    alike."""
    native = blocking._native
    try:
        native.setup_keys({"bob": 3, "jim": "jimbo"})
        assert native_keys(Features(Party("1", "Bob Smith"))) is None
        assert "n:jimbo" in native_keys(Features(Party("1", "Jim Smith")))
        with pytest.raises(ValueError):
            native.setup_keys([("bob", "robert")])
    finally:
        native.setup_keys(names.NICKNAMES)
    assert_same(Party("1", "Bob Smith"))


def test_it_makes_every_party_of_the_unseen_sets_keys_as_python_does():
    """GIVEN the benchmark's unseen sets (four countries; people and companies) WHEN every
    record's keys are made natively THEN each is the Python list (the non-ASCII ones and
    those with a trade name by Python itself)."""
    unseen = bench_sets("linkage_unseen")["linkage_unseen"]
    for make in unseen.SETS.values():
        books, crm = make()[:2]
        records = [*books, *crm]
        natively = sum(
            assert_same(Party(r["id"], *[r.get(k) or "" for k in Party._fields[1:]]))
            for r in records
        )
        assert natively > len(records) // 2  # most of them
