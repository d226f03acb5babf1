"""Property tests (hypothesis) for the pure core of customer sync: whatever text a CRM
holds, mapping and validation neither crash nor lose it silently, and matching behaves the
way an accountant relies on."""

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from connections.sync.mapping import DEFAULT_COMPANY_MAP, DEFAULT_CONTACT_MAP, map_record
from connections.sync.matching import CustomerIndex, Party, find_duplicates, normalize_name
from connections.sync.plan import merge
from connections.sync.validation import LIMITS, check_customer, strip_control

# Anything a CRM field may hold: emoji, right-to-left scripts, control characters, long runs.
crm_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300
) | st.sampled_from(["", " ", "\u0000", "שלום", "مرحبا", "🏗️ Builders", "x" * 10_000])
properties = st.dictionaries(
    st.sampled_from(
        ["name", "firstname", "lastname", "email", "phone", "zip", "city", "address", "other"]
    ),
    crm_text | st.none() | st.integers(),
)
word = st.text(alphabet=string.ascii_letters, min_size=3, max_size=10)


@given(properties, st.sampled_from([DEFAULT_COMPANY_MAP, DEFAULT_CONTACT_MAP]))
def test_mapping_any_record_gives_every_mapped_field_as_text(props, field_map):
    mapped = map_record(props, field_map)
    assert set(mapped) == set(field_map)
    assert all(isinstance(value, str) for value in mapped.values())


@settings(max_examples=150)
@given(
    st.dictionaries(st.sampled_from(sorted(LIMITS)), crm_text),
    st.sampled_from(["US", "CA", "GB", "AU", "DE"]),
)
def test_validation_never_crashes_and_never_truncates(values, country):
    checked = check_customer(values, country)
    for name, value in checked.values.items():
        limit = LIMITS.get(name)
        if limit and len(value) > limit:
            assert any(p.startswith(f"{name}:") for p in checked.problems), name
    if not any(checked.values.get(n) for n in ("display_name", "company_name", "given_name")):
        assert not checked.ok  # no name: held, not created


@given(crm_text)
def test_control_characters_go_but_letters_and_emoji_stay(text):
    cleaned = strip_control(text)
    assert not any(ch in cleaned for ch in "\u0000\u0007\u001b\r\n\t")
    kept = [ch for ch in text if ch.isalpha() or ch in "🏗"]
    assert all(ch in cleaned for ch in kept)


@given(
    word,
    word,
    st.sampled_from(["", " LLC", " Inc.", " Co", ", Ltd"]),
    st.text("0123456789", min_size=5, max_size=5),
)
def test_case_and_legal_suffix_do_not_hide_a_customer(first, second, suffix, postal):
    name = f"{first} {second}"
    index = CustomerIndex([Party("1", name + suffix, postal_code=postal)])
    found = index.match(Party("crm", name.upper(), postal_code=postal))
    assert found.kind == "sure" and found.candidate.external_id == "1"


@given(st.lists(st.tuples(word, word), min_size=1, max_size=30, unique=True))
def test_every_indexed_customer_finds_itself(names):
    parties = [Party(str(n), f"{a} {b}", postal_code="78701") for n, (a, b) in enumerate(names)]
    index = CustomerIndex(parties)
    for party in parties:
        assert index.match(party).kind == "sure"


@given(st.lists(st.tuples(word, word), min_size=2, max_size=30))
def test_duplicates_within_one_system_are_pairs_of_two_reported_once(names):
    parties = [Party(str(n), f"{a} {b}", postal_code="78701") for n, (a, b) in enumerate(names)]
    pairs = find_duplicates(parties)
    keys = [tuple(sorted((a.external_id, b.external_id))) for a, b, _ in pairs]
    assert all(a != b for a, b in keys)
    assert len(keys) == len(set(keys))


@given(word, word)
def test_a_stranger_is_a_miss(a, b):
    index = CustomerIndex([Party("1", "Cedar Roofing", "office@cedar.example", "", "78701")])
    stranger = Party("crm", f"Zq{a} Xv{b}", f"{a}@{b}.example".lower(), "", "10001")
    assert normalize_name(stranger.name) != normalize_name("Cedar Roofing")
    assert index.match(stranger).kind == "miss"


fields = st.sampled_from(["email", "phone", "city"])
values = st.sampled_from(["", "a", "b", "c"])


@given(st.dictionaries(fields, values), st.dictionaries(fields, values))
def test_after_a_merge_nothing_is_left_to_write(crm, books):
    """A merge's writes applied to both sides, the next merge finds nothing to do: no
    sync loop, whatever the two sides held."""
    names = ["email", "phone", "city"]
    first = merge(crm, books, None, {}, "both", names)
    crm_after = {**crm, **first.to_crm}
    books_after = {**books, **first.to_accounting}
    second = merge(crm_after, books_after, first.baseline, {}, "both", names)
    assert not second.changes and not second.conflicts
