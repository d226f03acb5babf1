"""Properties a user relies on in the pure core of customer sync (hypothesis): whatever a
CRM holds, mapping and validation neither crash nor lose text silently, a record with no
name is held, and matching links what is one customer and nothing else.

`test_sync_hypothesis.py` holds the first properties; these go further: any valid field
map, the whole record through validation, and parties with email, tax ID and postal code.
"""

import string
import unicodedata

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sync.linkage import Matcher, Party
from sync.linkage.duplicates import find_duplicates
from sync.linkage.names import LEGAL_FORMS
from sync.mapping import map_record
from sync.plan import merge
from sync.validation import LIMITS, check_customer, strip_control

FAST = settings(max_examples=60, deadline=None)

# What CRM text holds: any script, emoji (joined ones too), control characters, long runs.
EMOJI = ["🏗️", "🏠", "👨‍👩‍👧", "🏳️‍🌈", "👩🏽‍🔧", "⭐"]
RTL = ["שלום", "مرحبا", "می‌خواهم", "בית"]
any_text = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200),
    st.lists(
        st.sampled_from([*EMOJI, *RTL, "Ann", "Lee", " ", "\x00", "\x07", "\t", "\n", "\x1b"]),
        max_size=12,
    ).map("".join),
    st.integers(1, 10_000).map(lambda n: "x" * n),
)
prop_name = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=8)
sources = st.lists(prop_name, max_size=4)
rule = st.one_of(
    st.fixed_dictionaries({"from": sources}),
    st.fixed_dictionaries({"first_of": sources}),
    st.fixed_dictionaries({"from": sources, "first_of": sources}),
)
field_map = st.dictionaries(st.text(min_size=1, max_size=20), rule, max_size=8)
crm_value = st.one_of(st.none(), st.integers(), any_text)


@FAST
@given(st.dictionaries(prop_name, crm_value, max_size=10), field_map)
def test_mapping_never_raises_and_gives_exactly_the_mapped_fields(properties, fields):
    mapped = map_record(properties, fields)
    assert set(mapped) == set(fields)
    assert all(isinstance(value, str) for value in mapped.values())


@FAST
@given(prop_name, st.one_of(st.integers(), any_text))
def test_mapping_one_property_to_one_field_keeps_its_text(name, value):
    mapped = map_record({name: value}, {"notes": {"from": [name]}})
    assert mapped["notes"] == str(value).strip()


TEXT_FIELDS = ["display_name", "company_name", "given_name", "family_name", "notes", "city"]
any_values = st.dictionaries(
    st.sampled_from([*LIMITS, "tax_id", "country", "region"]), any_text, max_size=8
)


@FAST
@given(any_values, st.sampled_from(["US", "CA", "GB", "AU", "DE", ""]))
def test_validation_never_raises_on_any_text(values, country):
    checked = check_customer(values, country)
    assert set(checked.values) == set(values)
    assert all(isinstance(p, str) for p in checked.problems)


@FAST
@given(st.sampled_from(TEXT_FIELDS), any_text)
def test_validation_never_shortens_a_value_it_reports_it(name, text):
    checked = check_customer({"display_name": "Ann Lee", name: text})
    assert checked.values[name] == strip_control(text), "only control characters go"
    if len(checked.values[name]) > LIMITS[name]:
        assert any(p.startswith(f"{name}: {len(checked.values[name])} characters") for p in
                   checked.problems)  # fmt: skip
        assert not checked.ok


def is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"


@FAST
@given(st.sampled_from(TEXT_FIELDS), any_text)
def test_validation_strips_control_characters_and_keeps_emoji_and_right_to_left_letters(name, text):
    cleaned = check_customer({"display_name": "Ann Lee", name: text}).values[name]
    assert not any(is_control(ch) for ch in cleaned)
    letters = [ch for ch in text if unicodedata.category(ch)[0] in "LNS"]
    assert [ch for ch in cleaned if unicodedata.category(ch)[0] in "LNS"] == letters
    for emoji in [*EMOJI, *RTL]:
        assert text.count(emoji) <= cleaned.count(emoji), "joined emoji stay joined"


@FAST
@given(st.lists(st.text(string.ascii_letters, min_size=1, max_size=8), min_size=2, max_size=4),
       st.sampled_from(["\n", "\r\n", "\t", "\x0b", "\x0c", "\x85", "\u2028"]))  # fmt: skip
def test_validation_keeps_words_apart_when_a_line_break_goes(words, brk):
    assert check_customer({"display_name": brk.join(words)}).values["display_name"] == " ".join(
        words
    )


@FAST
@given(
    st.dictionaries(st.sampled_from(["email", "phone", "notes", "city"]), any_text),
    st.sampled_from(["", " ", "\x00\x07", "\n\t "]),
)
def test_a_record_with_no_name_is_held(values, blank):
    checked = check_customer({**values, "display_name": blank, "company_name": blank})
    assert not checked.ok
    assert any(p.startswith("display_name:") for p in checked.problems)


# Matching. Names are built from words that are not legal words, so that a suffix is one.
word = st.text(string.ascii_lowercase, min_size=3, max_size=10).filter(
    lambda w: w not in LEGAL_FORMS
)
base_name = st.lists(word, min_size=1, max_size=3).map(" ".join)
postal = st.text("0123456789", min_size=5, max_size=5)
SUFFIXES = ["", " Inc", " Inc.", ", Inc.", " LLC", " L.L.C.", " llc", " Co.", " Ltd", " Corp."]
case = st.sampled_from([str.upper, str.lower, str.title, str.swapcase, str.capitalize])


@st.composite
def parties(draw, max_size=25):
    """Indexed parties: distinct names, unique email and tax ID where they have one."""
    names = draw(st.lists(base_name, min_size=1, max_size=max_size, unique=True))
    out = []
    for n, name in enumerate(names):
        email = draw(st.sampled_from(["", f"owner{n}@mail.example"]))
        tax = draw(st.sampled_from(["", f"12-34{n:05d}"]))
        code = draw(st.one_of(st.just(""), postal))
        assume(email or tax or code)
        out.append(Party(f"a{n}", draw(case)(name) + draw(st.sampled_from(SUFFIXES)), email, tax,
                         code))  # fmt: skip
    return out


@FAST
@given(parties())
def test_every_indexed_party_matches_itself_sure(indexed):
    matcher = Matcher(indexed)
    for party in indexed:
        found = matcher.match(party)
        assert (found.kind, found.candidate) == ("sure", party), found


@FAST
@given(base_name, st.sampled_from(SUFFIXES), st.sampled_from(SUFFIXES), case, case, postal)
def test_case_and_legal_suffix_changes_keep_the_match_sure(name, suffix, other, c1, c2, code):
    books = Party("a1", c1(name) + suffix, postal_code=code)
    matcher = Matcher([books, Party("a2", "Granite Electric 7", postal_code=code)])
    found = matcher.match(Party("crm", c2(name) + other, postal_code=code))
    assert (found.kind, found.candidate) == ("sure", books), found


@FAST
@given(parties(max_size=15), st.data())
def test_duplicates_are_never_a_record_with_itself_and_each_pair_is_reported_once(indexed, data):
    # Some records keyed a second time in the same system, spelled another way.
    copies = [
        Party(f"b{n}", data.draw(case)(p.name), p.email, p.tax_id, p.postal_code)
        for n, p in enumerate(indexed)
        if data.draw(st.booleans())
    ]
    everyone = data.draw(st.permutations(indexed + copies))
    pairs = find_duplicates(everyone)
    keys = [frozenset(d.ids) for d in pairs]
    assert all(len(key) == 2 for key in keys)
    assert len(keys) == len(set(keys))
    for copy in copies:
        assert frozenset((copy.external_id, "a" + copy.external_id[1:])) in keys


disjoint = st.lists(st.text("abcdefghijklm", min_size=3, max_size=10), min_size=1, max_size=3)
stranger_name = st.lists(st.text("nopqrstuvwxyz", min_size=3, max_size=10), min_size=1,
                         max_size=3)  # fmt: skip


@FAST
@given(st.lists(disjoint.map(" ".join), min_size=1, max_size=20), stranger_name.map(" ".join),
       postal)  # fmt: skip
def test_a_stranger_with_another_tax_id_email_and_name_is_a_miss(names, name, code):
    matcher = Matcher(
        Party(f"a{n}", name, f"owner{n}@mail.example", f"12-34{n:05d}", code)
        for n, name in enumerate(names)
    )
    stranger = Party("crm", name, "someone@else.example", "98-7654321", code)
    assert matcher.match(stranger).kind == "miss"


no_letters = st.lists(st.sampled_from([*EMOJI, "★", "-", "&", ".", " ", "#"]), min_size=1,
                      max_size=6).map("".join)  # fmt: skip


@FAST
@given(no_letters, no_letters, postal)
def test_names_without_letters_or_digits_never_link_two_strangers(name, other, code):
    matcher = Matcher([Party("a1", name, "owner@mail.example", "12-3456789", code)])
    found = matcher.match(Party("crm", other, "someone@else.example", "98-7654321", code))
    assert found.kind != "sure", found  # never linked (one customer of that postal code: review)


PLACEHOLDERS = ["N/A", "n/a", "-", "--", "none", "TBD", " ", "."]


@FAST
@given(st.sampled_from(PLACEHOLDERS), st.sampled_from(PLACEHOLDERS), postal)
def test_a_placeholder_tax_id_or_a_blank_email_links_nobody(mine, theirs, code):
    matcher = Matcher([Party("a1", "Cedar Roofing", " ", mine, code)])
    found = matcher.match(Party("crm", "Granite Electric", theirs.strip(), theirs, code))
    assert found.kind != "sure", found  # never linked (one customer of that postal code: review)
    assert "tax ID" not in found.reason and "email" not in found.reason  # no evidence at all
    books = [Party("a1", "Cedar Roofing", " ", mine, code),
             Party("a2", "Granite Electric", theirs.strip(), theirs, code)]  # fmt: skip
    twins = find_duplicates(books)
    assert twins == [], "two customers of one postal code with placeholder IDs are not one"


merge_fields = st.sampled_from(["email", "phone", "city"])
merge_values = st.sampled_from(["", "a", "b", "c"])


@given(st.dictionaries(merge_fields, merge_values), st.dictionaries(merge_fields, merge_values))
def test_after_a_merge_nothing_is_left_to_write(crm, books):
    """A merge's writes applied to both sides, the next merge finds nothing to do: no
    sync loop, whatever the two sides held."""
    names = ["email", "phone", "city"]
    first = merge(crm, books, None, {}, "both", names)
    crm_after = {**crm, **first.to_crm}
    books_after = {**books, **first.to_accounting}
    second = merge(crm_after, books_after, first.baseline, {}, "both", names)
    assert not second.changes and not second.conflicts
