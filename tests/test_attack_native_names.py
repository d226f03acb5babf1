"""Attacks on the native name reading (`_native.c`, `read_name`, commits 91e5042, 922dd29,
9ba95f7), on Party as a named tuple (3835a3e), Decision as a plain dataclass (4b6b9ff) and
the decisions' rarity words kept per (pattern, rarities, counts) (c8af87d).

BREAKS (these tests fail on the code they were written against, c60709f):
- a name holding a long run of spaces that the native core does not read (a tab, a letter
  outside ASCII) is split on its trade markers by TRADE_SPLIT, whose `\\s+` is tried again
  from every space of the run: quadratic, 40,000 spaces take 54 s, a 1,000,000-character
  name hours (the native core reads an ASCII one in 0.2 ms);
- a phone of a long run of spaces (a books' customer, not validated) loses its extension by
  PHONE_EXTENSION, whose two `\\s*` around an optional comma split the run every way from
  every start: cubic, 2,000 spaces take 39 s;
- a name of many trade markers ("A dba B dba B ...") made one nested Features a marker, each
  holding the rest of the name: plain Python raises RecursionError from 1,000 markers (a
  6 kB name fails the sync), compiled 100,000 (600 kB) filled the memory;
- the native core reads `vocabulary.business` later than `name_form` does (only once a
  person's words are all letters): a vocabulary whose business words cannot be worked out
  (an abbreviation written as a list) made the Python reading raise TypeError on "Smith1,
  Bob" and "12 Residence", where the native one answered a reading. Fixed where the
  vocabulary is made: its words must be str.

HELD (these pass): the native reading equals `python_read_name` on 130,000 random names of
the rules' words and punctuation (dotted letters, "&", apostrophes, commas, job separators,
every trade marker in every case; 500,000 more and 200,000 of random characters by hand),
at every length around MAX_CHARS and up to 1,000,000 characters, with given and family
names of 300 characters and more; on eight odd vocabularies (empty keys and values, values
that are legal forms, filler, several words, upper case, a tab, non-ASCII); re-entrant
reads from a legal form's `__eq__`; threads. `party_of` and `SnapParty.party` put each
value in its field of the named tuple Party; a fitted matcher's rarity words kept per
(pattern, rarities, counts) are those worked out afresh, before and after `add` changes the
counts (the test fails if the key is the pattern alone).
By hand, not kept: no growth of memory over three million calls (every path: SLOW, raising,
each rule); Party and Decision's other uses (see the report).
Pure: no database.
"""

import os
import random
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sync.linkage import names, records
from sync.linkage.names import DEFAULT, Vocabulary
from sync.linkage.records import python_read_name
from tests.test_linkage_compiled import require_build

ROOT = Path(__file__).resolve().parent.parent


def native():
    require_build()
    if not records.NATIVE_NAMES:
        pytest.fail("the build's native core does not read names")
    from sync.linkage import _native

    return _native


def run(code: str, timeout: float = 20, env: dict | None = None) -> str:
    """`code` in a fresh interpreter; "" if it ended in time, else what went wrong."""
    try:
        out = subprocess.run(  # noqa: S603 - this interpreter, our own fixed script
            [sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ) | (env or {}),
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"still running after {timeout} s"
    return "" if out.returncode == 0 else f"exit {out.returncode}\n{out.stderr[-1500:]}"


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - test data, not secrecy


def outcome(read, *args):
    try:
        return tuple(read(*args))
    except Exception as error:
        return type(error).__name__


WORDS = [
    "a",
    ".",
    "a.",
    "b.",
    "l.l.c.",
    "L.L.C",
    "&",
    " & ",
    "'",
    ",",
    " , ",
    " ",
    "  ",
    " - ",
    " / ",
    "-",
    "/",
    "_",
    "1",
    "12",
    "3b",
    "dba",
    "DBA",
    "d/b/a",
    "D.B.A.",
    "t/a",
    "T/A",
    "trading as",
    "Trading  As",
    "doing business as",
    "o/a",
    "operating as",
    "aka",
    "a.k.a.",
    "A.K.A",
    "smith",
    "Robert",
    "residence",
    "Household",
    "home",
    "the",
    "The",
    "and",
    "of",
    "inc",
    "llc",
    "ltd",
    "co",
    "limited",
    "Limitd",
    "icorporated",
    "corporatio",
    "pty",
    "limited liability company",
    "limited partnership",
    "pty ltd",
    "co ltd",
    "professional corporation",
    "homeowners association",
    "home owners assn",
    "a c",
    "A/C",
    "air conditioning",
    "property management",
    "auto repair",
    "auto",
    "const",
    "bros",
    "st",
    "n",
    "s",
    "x",
    "O'Brien",
    "9",
    "00",
    "a.b.c.d.e.f",
    "a.bc",
    "x.",
    ".x",
    "proprietary",
    "ltee",
    "hoa",
    "ab",
    "acme",
    "zz",
    "yy",
    "ww",
    "vv",
    "q",
    "tab",
    "foo",
]


def random_name(rng: random.Random) -> str:
    n = rng.choice([0, 1, 2, 3, 4, 6, 10, 30, 80, 200])
    return rng.choice(["", " "]).join(rng.choice(WORDS) for _ in range(n))


# --- BREAKS ----------------------------------------------------------------------------------
def test_a_name_with_a_long_run_of_spaces_read_in_python_is_read_at_once():
    """BREAK. GIVEN a name the native core leaves to Python (a tab in it, or a letter outside
    ASCII) holding 200,000 spaces WHEN it is read THEN at once, as the native core reads an
    ASCII one. On c60709f TRADE_SPLIT (`\\s+marker`) is tried from every space of the run
    and each try runs to its end: 40,000 spaces take 54 s, this one hours."""
    native()
    for name in ("Acme\t" + " " * 200_000 + "x", "Café" + " " * 200_000 + "x"):
        code = (
            "from sync.linkage.records import read_name\n"
            f"assert read_name({name[:5]!r} + ' ' * 200_000 + 'x').raw.endswith(' x')\n"
        )
        assert not (failed := run(code)), f"{name[:5]!r}: {failed}"


def test_a_phone_of_a_long_run_of_spaces_is_read_at_once():
    """BREAK. GIVEN a books' customer whose phone holds 20,000 spaces (the books' side is not
    validated) WHEN its features are made THEN at once. On c60709f PHONE_EXTENSION
    (`\\s*(?:,|;)?\\s*x...`) splits the run between its two `\\s*` every way, from every
    start: cubic, 2,000 spaces take 39 s."""
    code = (
        "from sync.linkage.records import Features, Party, phone_key\n"
        "phone = '1' + ' ' * 20_000 + 'a'\n"
        "assert phone_key(phone, 'US') == '1'\n"
        "Features(Party('a1', 'Acme', phone='303 ' + ' ' * 20_000 + ', x'))\n"
    )
    assert not (failed := run(code)), failed


def test_a_name_of_many_trade_markers_reads_a_few_trade_names():
    """BREAK. GIVEN a name of 2,000 trade markers ("A dba B dba B ...", 12,000 characters)
    WHEN its features are made, compiled and in plain Python THEN they are, with a few trade
    names within each other (MAX_TRADE_NAMES). On c60709f each marker made one more
    nested Features holding the rest of the name: plain Python raises RecursionError from
    1,000 markers (the sync fails), compiled 100,000 markers (600 kB) filled the memory."""
    code = (
        "from sync.linkage.records import Features, Party\n"
        "f, depth = Features(Party('a', 'A ' + 'dba B ' * 2000)), 0\n"
        "while f.trade is not None:\n"
        "    f, depth = f.trade, depth + 1\n"
        "assert 1 <= depth <= 16, depth\n"
    )
    for compiled in ("1", "0"):
        failed = run(code, env={"SYNCFIRM_LINKAGE_COMPILED": compiled})
        assert not failed, f"SYNCFIRM_LINKAGE_COMPILED={compiled}: {failed}"


def test_an_unworkable_vocabulary_is_refused_where_it_is_made():
    """BREAK. GIVEN a vocabulary whose business words cannot be worked out (an abbreviation
    written as a list: `business` raises TypeError) WHEN names that read `business` in
    `name_form` ("Smith1, Bob": a comma; "12 Residence": a place word) are read THEN the
    native core and `python_read_name` must not part ways. On c60709f the native core read
    `business` only once a person's words are all letters, and answered a reading where the
    Python one raised. Now such a vocabulary is refused when it is made: no reading sees it."""
    for odd in ({"abbreviations": {"svc": ["services"]}}, {"legal_forms": frozenset({1})},
                {"filler": frozenset({None})}, {"abbreviations": {2: "two"}}):  # fmt: skip
        with pytest.raises(TypeError):
            Vocabulary(**odd)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DEFAULT.extended(abbreviations={"svc": ["services"]})  # type: ignore[dict-item]


# --- HELD ------------------------------------------------------------------------------------
OLD_TRADE_SPLIT = re.compile(
    r"\s+(?:" + "|".join(re.escape(m) for m in names.TRADE_NAME_MARKERS) + r")(?=\s)\s*", re.I
)
OLD_PHONE_EXTENSION = re.compile(
    r"\s*(?:,|;)?\s*(?:x|ext\.?|extn?|extension|#)\s*\d{1,6}\s*$", re.I
)


def test_the_patterns_split_and_strip_as_before():
    """GIVEN random names and phones of spaces, tabs, newlines, commas, markers in any case
    WHEN split by TRADE_SPLIT and stripped by PHONE_EXTENSION THEN as the patterns before
    (a match only ever started where its run of spaces starts: nothing else changed)."""
    rng = seeded(7)
    parts = [" ", "  ", "\t", "\n", "\u00a0", ",", ";", "x", "X", "ext", "Ext.", "extn",
             "extension", "#", "1", "12", "1234567", "a", "dba", "DBA", "d/b/a", "t/a",
             "trading as", "aka", "a.k.a.", "é", "-"]  # fmt: skip
    for _ in range(30_000):
        text = "".join(rng.choice(parts) for _ in range(rng.randrange(12)))
        assert names.TRADE_SPLIT.split(text, maxsplit=1) == OLD_TRADE_SPLIT.split(
            text, maxsplit=1
        ), text
        assert records.PHONE_EXTENSION.sub("", text) == OLD_PHONE_EXTENSION.sub("", text), text


def test_random_names_read_natively_as_in_python():
    """GIVEN 60,000 random names of the rules' words, punctuation and markers, some with
    given and family names WHEN read natively THEN as `python_read_name` reads them."""
    read_name = native().read_name
    rng = seeded(11)
    for _ in range(60_000):
        name = random_name(rng)
        given = random_name(rng) if rng.random() < 0.2 else ""
        family = random_name(rng) if rng.random() < 0.2 else ""
        got = read_name(name, given, family, DEFAULT)
        assert got is None or got == python_read_name(name, given, family, DEFAULT), name


@pytest.mark.parametrize(
    "name",
    ["a." * 500_000, "&" * 1_000_000, "Acme " + "dba " * 250_000, ", " * 500_000,
     "Smith - " * 100_000 + "12", "'" * 1_000_000, "ab " * 300_000, "." * 1_000_000,
     "L.L.C. & Sons, dba O'Brien - / " * 30_000, "a" * 299 + "&", "a " * 150 + "&&&",
     "a." * 150 + "b", "b" + "a." * 150, "a" * 300 + ", Bob", "A" + " " * 3000 + "dba  b"],
    ids=lambda n: f"{n[:12]!r}x{len(n)}",
)  # fmt: skip
def test_long_names_read_natively_as_in_python(name):
    """GIVEN names around MAX_CHARS and up to 1,000,000 characters (dotted letters, "&",
    markers, commas, job separators), alone or beside long given and family names WHEN read
    natively THEN as in Python."""
    read_name = native().read_name
    for given, family in (("", ""), ("Bob " * 1000, "&" * 5000), ("a." * 200, "")):
        assert read_name(name, given, family, DEFAULT) == python_read_name(
            name, given, family, DEFAULT
        )


ODD = [
    {"abbreviations": {"": "x", "x": ""}},
    {
        "abbreviations": {
            "acme": "limited liability company",
            "zz": "llc",
            "yy": "the",
            "ww": "a b c",
            "vv": "Inc",
        }
    },
    {"legal_forms": {"", "acme", "a b", "X"}},
    {"abbreviations": {"acme": "açme", "foo": "ﬀ"}},
    {
        "abbreviations": {
            "limitd": "limited",
            "ltd": "corp",
            "hoa": "homeowners association",
            "ac": "limited",
            "acme": "limitedd",
        }
    },
]


@pytest.mark.parametrize("extra", ODD)
def test_odd_vocabularies_read_natively_as_in_python(extra):
    """GIVEN a vocabulary extended with odd words (empty ones, legal forms and filler as
    expansions, several words, upper case, non-ASCII) WHEN names are read natively THEN as
    in Python (or left to it)."""
    read_name = native().read_name
    vocabulary = DEFAULT.extended(**extra)
    rng = seeded(3)
    for _ in range(10_000):
        name = random_name(rng)
        got = read_name(name, "", "", vocabulary)
        assert got is None or got == python_read_name(name, "", "", vocabulary), name


def test_plain_tables_read_natively_as_in_python():
    """GIVEN vocabularies of tables built directly (upper-case and tab expansions, no legal
    forms nor filler, filler that is a legal form) WHEN names are read THEN as in Python."""
    read_name = native().read_name
    rng = seeded(4)
    for vocabulary in (
        Vocabulary(abbreviations={"acme": "LLC", "q": "Q1", "zz": "x" * 1000, "tab": "a\tb"}),
        Vocabulary(legal_forms=frozenset(), filler=frozenset()),
        Vocabulary(legal_forms=frozenset({"and"}), filler=frozenset({"llc", ""})),
    ):
        for _ in range(10_000):
            name = random_name(rng)
            got = read_name(name, "", "", vocabulary)
            assert got is None or got == python_read_name(name, "", "", vocabulary), name


def test_reading_again_from_a_legal_forms_eq_keeps_the_outer_reading():
    """GIVEN legal forms holding words whose `__eq__` reads other names natively (the spare
    work space is then in use) WHEN names are read THEN each reading, inner and outer, is
    Python's."""
    read_name = native().read_name
    inner = ["Okafor Bros. Const. Co., L.L.C.", "Smith, Robert", "Nicholson Residence",
             "Anderson - 38 Ann St", "A dba B"]  # fmt: skip
    depth, calls = [0], [0]

    class Reads(str):  # a vocabulary's words are str (`Vocabulary`): a str that reads
        def __hash__(self) -> int:
            return str.__hash__(self)

        def __eq__(self, other) -> bool:
            calls[0] += 1
            if depth[0] < 2:
                depth[0] += 1
                for n in inner:
                    assert read_name(n, "", "", DEFAULT) == python_read_name(n, "", "", DEFAULT)
                depth[0] -= 1
            return False

    odd = ["acme", "smith", "robert", "and", "residence", "anderson", "okafor", "b"]
    vocabulary = Vocabulary(legal_forms=names.LEGAL_FORMS | {Reads(w) for w in odd})
    rng = seeded(5)
    natively = 0
    for i in range(300):
        name = rng.choice(inner) if i % 2 else random_name(rng)
        got = read_name(name, "", "", vocabulary)
        assert got is None or got == python_read_name(name, "", "", vocabulary), name
        natively += got is not None
    assert calls[0] and natively  # the words' __eq__ ran, from native readings


def test_threads_reading_names_read_them_as_python():
    """GIVEN four threads reading random names natively, switching every microsecond WHEN
    they are done THEN every reading was Python's."""
    read_name = native().read_name
    wrong: list[str] = []

    def reads(seed: int) -> None:
        rng = seeded(seed)
        for _ in range(5_000):
            name = random_name(rng)
            got = read_name(name, "", "", DEFAULT)
            if got is not None and got != python_read_name(name, "", "", DEFAULT):
                wrong.append(name)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=reads, args=(s,)) for s in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not wrong, wrong[:3]


def test_every_party_built_by_position_puts_each_value_in_its_field():
    """GIVEN a CRM record's values and a reconciliation's customer, each field a value of its
    own WHEN `party_of` and `SnapParty.party` build their Party by position (a named tuple)
    THEN each value is in the field of its name: a field added to Party, or its order
    changed, cannot move a phone into the website."""
    from reconciliation.duplicate_customers import SnapParty
    from sync.customers import MATCHED_FIELDS, party_of
    from sync.linkage import Party

    values = {f: f"<{f}>" for f in MATCHED_FIELDS}
    party = party_of("key", "Acme", values)
    assert party.external_id == "key" and party.name == "Acme"
    assert all(getattr(party, f) == f"<{f}>" for f in MATCHED_FIELDS)
    assert set(MATCHED_FIELDS) == set(Party._fields) - {"external_id", "name"}
    snap = SnapParty(**{f: f"<{f}>" for f in Party._fields if f != "external_id"}, id="<id>")
    party = snap.party()
    assert party.external_id == "<id>"
    assert all(getattr(party, f) == f"<{f}>" for f in Party._fields if f != "external_id")


def test_rarity_words_kept_per_pattern_are_those_worked_out_afresh():
    """GIVEN a fitted matcher whose names repeat (so equal names are weighed by rarity) WHEN
    its decisions are made with the words kept per (pattern, rarities, counts), then again
    each with an empty cache, before and after customers of those names are added (counts
    change) THEN every decision is the same."""
    from sync.linkage import Matcher, Party

    rng = seeded(9)
    stems = ["Cedar Roofing", "Maple Homes", "Granite Paving", "Oak Decks", "Birch Plumbing"]

    def party(key: str, n: int) -> Party:
        return Party(key, f"{rng.choice(stems)} {n % 40}", postal_code=f"{30300 + n % 7}",
                     given_name=rng.choice(["Ann", "Bob", ""]), family_name=rng.choice(["Lee", ""]),
                     city=rng.choice(["Atlanta", "Austin"]))  # fmt: skip

    books = [party(f"a{n}", n) for n in range(400)]
    incoming = [party(f"c{n}", n) for n in range(300)]
    matcher = Matcher(books)
    matcher.fit(incoming)
    for round_ in range(2):
        kept = matcher.link_all(incoming)
        fresh = []
        for p in incoming:
            matcher._explained = (matcher.model, {}, {})
            fresh.append(matcher.link_all([p])[0])
        weighed = [d for d in kept if "customers have it" in d.reason or "no other" in d.reason]
        assert weighed, "no decision was weighed by rarity: the test tests nothing"
        by_party = {d.party.external_id: d for d in fresh}
        for d in kept:
            alone = by_party[d.party.external_id]
            if alone.candidate == d.candidate:  # a batch links one to one: compare like pairs
                assert alone.contributions == d.contributions, (round_, d.party)
        for n in range(round_ * 50, round_ * 50 + 50):
            matcher.add(party(f"x{n}", n))  # the names' counts change
