"""The native name reading (`_native.c`, `read_name`) against the plain Python one
(`records.python_read_name`): for names of printable ASCII, the same NameReading, field by
field; for every other name, None (Python reads it).
Pure: no database."""

import random
import sys
from pathlib import Path

import pytest

from sync.linkage import names, records
from sync.linkage.names import DEFAULT, Vocabulary
from sync.linkage.records import NameReading, python_read_name
from tests.test_linkage_compiled import require_build

BENCH = Path(__file__).resolve().parent.parent / "bench"

TRICKY = [
    "Okafor Bros. Const. Co., L.L.C.",
    "L.L.C.",
    "l.l.c",
    "A.B.3 Holdings",
    "a. b",
    "a.bc",
    "x.a.b",
    "a.b.cd",
    "a.bc.d.",
    "a..b",
    "a._b",
    "J.R.R. Tolkien & Sons",
    "U.S.A. Roofing",
    "Smith & Wesson",
    "&",
    "& &",
    "O'Brien's Plumbing",
    "'",
    "a'&'b",
    "Acme dba Widgets",
    "Acme DBA Widgets",
    "Acme d/b/a Widgets",
    "Acme D.B.A. Widgets",
    "Acme a.k.a. Widgets",
    "Acme A.K.A.  Widgets",
    "Acme Trading As Widgets",
    "Acme trading  as Widgets",
    "Acme t/a  Widgets ",
    "Acme o/a Widgets",
    "Acme Operating As Widgets",
    "Acme Doing Business As Widgets",
    "Acme aka",
    " dba Widgets",
    "Acme dba ",
    "Acme   dba   Widgets dba Gadgets",
    "Acme dbaWidgets",
    "Smith, Robert",
    "Smith,Robert",
    "Smith, Robert James",
    "Van Der Berg, Anna Maria",
    "Smith, Robert, Jr",
    "Smith, Plumbing",
    "Smith2, Robert",
    ", Robert",
    "Smith,",
    "Smith Residence",
    "The Smith Household",
    "John Smith Home",
    "Smith Plumbing Home",
    "Residence",
    "Anderson - 38 Ann Street",
    "Anderson -  38 Ann Street",
    "Anderson - Ann Street 38",
    "Molly Maid - Markham",
    "Anderson / 12 Oak St",
    " - 12 Oak St",
    "The Anderson - 38 Ann St",
    "Smith, Robert - 12 Oak St",
    "Acme dba Widgets - 12 Oak St",
    "Plumbing - 12 Oak St",
    "Unit 4 Holdings",
    "3ontario Inc",
    "196634 3Ontario",
    "foo_bar baz_",
    "___",
    "LLC",
    "Inc.",
    "The Company",
    "Limited Liability Company",
    "Smith Limited Liability Partnership",
    "Pty Ltd",
    "2209925 Ontario Limitd",
    "Acme Icorporated",
    "Acme Corporatoin",
    "Acme Limitd Plumbing",
    "Limitd",
    "Acme Co Ltd",
    "Home Owners Association of Cedar Creek",
    "Cedar Homeowners Assn",
    "Air Conditioning & Heating",
    "A/C Pros",
    "Auto Repair",
    "St. Mary's Church",
    "N. E. W. Co",
    "",
    " ",
    "   ",
    "  Acme  ",
    "Acme  Plumbing",
    "!!!",
    '~`^*()[]{}|\\"<>?;:@#$%+=',
    "x" * 10_000,
    ("Acme " * 2_000).strip(),
    "Acme dba " + "W" * 10_000,
    " " * 299 + "Acme",
    "!" * 300 + "Acme",
    "a." * 200,
    "a.b." * 100 + "c",
    "&" * 300,
    "Smith, " + "R" * 400,
    "x" * 298 + "&, Robert",
]

# Pieces random names are made of: marks every rule reads, words of every table.
PIECES = list(" .,&'_-/") + list("aAbBcCzZ019") + [
    " dba ", " DBA ", " d/b/a ", " D.B.A. ", " a.k.a. ", " Trading As ", " t/a ", "aka",
    " - ", " / ", " -  3", "12 ", ", ", "L.L.C.", "l.l.c", "Inc", "Ltd.", "Limited",
    "Limitd", "Icorporated", "Corporatoin", "Liability", "Company", "Partnership", "Pty", "Co",
    "Professional", "Corporation", "the", "The", "and", "of", "Residence", "Home", "Household",
    "Homeowners", "Home Owners", "Association", "Assn", "Air", "Conditioning", "A/C", "Auto",
    "Repair", "Property", "Management", "Smith", "Bob", "Plbg", "St.", "N.", "Const.", "Bros",
    "O'Brien", "3ontario", "4", "a.b", "x_y", "  ",
]  # fmt: skip


@pytest.fixture(autouse=True)
def native_core():
    require_build()
    assert records.NATIVE_NAMES, "the build's native core was not set up to read names"


def native(name: str, given: str = "", family: str = "", vocabulary: Vocabulary = DEFAULT):
    return records._native.read_name(name, given, family, vocabulary)


def assert_same(name: str, given: str = "", family: str = "", vocabulary=DEFAULT) -> None:
    ours = native(name, given, family, vocabulary)
    assert type(ours) is NameReading
    expected = python_read_name(name, given, family, vocabulary)
    assert ours == expected, (name, given, family)
    for field, value in zip(NameReading._fields, ours, strict=True):  # str, not a subclass
        assert type(value) is type(getattr(expected, field)), field


@pytest.mark.parametrize("name", TRICKY)
def test_it_reads_each_tricky_name_as_python_does(name):
    """GIVEN a name that exercises one rule WHEN read natively THEN the Python reading."""
    assert_same(name)
    assert_same(name, "Robert", "")
    assert_same(name, "", "Smith")
    assert_same("", name, name)


def test_it_reads_random_names_as_python_does():
    """GIVEN thousands of names of random pieces (marks, legal forms, trade markers, place
    words) WHEN read natively THEN each is the Python reading."""
    rng = random.Random(28)  # noqa: S311 - test data
    for _ in range(20_000):
        name = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 12)))
        given = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 3)))
        family = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 3)))
        assert_same(name)
        assert_same(name, given, family)


def test_it_reads_random_printable_ascii_as_python_does():
    """GIVEN strings of any printable ASCII characters WHEN read THEN the Python reading."""
    rng = random.Random(29)  # noqa: S311 - test data
    printable = [chr(c) for c in range(0x20, 0x7F)]
    for _ in range(5_000):
        assert_same("".join(rng.choices(printable, k=rng.randrange(0, 40))))


def test_an_extended_vocabulary_is_the_one_read():
    """GIVEN a client's own legal forms and abbreviations WHEN a name is read with them
    THEN they are used (not the default ones), as in Python."""
    client = DEFAULT.extended(
        legal_forms={"Gesellschaft", "Plumbing"},
        abbreviations={"acme": "acme widgets", "wdg": "Widgets", "x": "", "nr": "no 7b"},
    )
    read = ["Acme Plumbing", "Wdg Gesellschaft", "Smith, Plumbing", "X", "X Y", "Nr 5 Ltd",
            "Plumbing", "Smith Plumbing Residence", "Acme Wdg Limitd"]  # fmt: skip
    for name in read:
        assert_same(name, vocabulary=client)
        assert_same(name)
    assert native("Acme Plumbing", vocabulary=client).tokens == ("acme widgets",)
    assert native("Acme Plumbing").tokens == ("acme", "plumbing")


def test_an_abbreviation_of_another_script_is_left_to_python():
    """GIVEN an abbreviation written in another script WHEN a name uses it THEN Python reads
    the name (read_name says None); a name that does not use it is read natively."""
    client = DEFAULT.extended(abbreviations={"gmbh2": "gesellschaft mbH ö"})
    assert native("Acme Gmbh2", vocabulary=client) is None
    assert records.read_name("Acme Gmbh2", vocabulary=client).tokens == (
        "acme", "gesellschaft mbh ö",
    )  # fmt: skip
    assert_same("Acme Gmbh", vocabulary=client)


@pytest.mark.parametrize(
    "name", ["Müller GmbH", "Smith\tPlumbing", "Acme\nInc", "Zoë, Anna", "ÆON dba X", "\x7f"]
)
def test_a_name_not_of_printable_ascii_gets_the_python_answer(name):
    """GIVEN a name with a character outside printable ASCII WHEN read THEN the native core
    leaves it (None) and read_name gives the Python reading."""
    assert native(name) is None
    assert native("Acme", name, "") is None
    assert native("Acme", "", name) is None
    assert records._read_name(name, "", "", DEFAULT) == python_read_name(name, "", "", DEFAULT)


def test_read_name_uses_the_native_reading_and_keeps_it():
    """GIVEN the native core WHEN a name is read through read_name THEN the reading is the
    native one, kept for the next read of that name."""
    vocabulary = DEFAULT.extended()
    first = records.read_name("Okafor Bros. Const. Co., L.L.C.", vocabulary=vocabulary)
    assert first.name == "okafor brothers construction"
    assert records.read_name("Okafor Bros. Const. Co., L.L.C.", vocabulary=vocabulary) is first


def bench_sets(*modules: str) -> dict:
    """The benchmark's data modules, by name (loaded from bench/, as the benchmark does)."""
    sys.path.insert(0, str(BENCH))
    try:
        loaded = {m: __import__(m) for m in modules}
    finally:
        sys.path.remove(str(BENCH))
    return loaded


def _printable(text: str) -> bool:
    return all(" " <= ch <= "~" for ch in text)


def _assert_set_read_alike(books, crm) -> None:
    natively = 0
    for r in [*books, *crm]:
        fields = (r.get("name") or "", r.get("given_name") or "", r.get("family_name") or "")
        if all(_printable(field) for field in fields):
            assert_same(*fields)
            natively += 1
        else:
            assert native(*fields) is None
    assert natively > len(books)  # most of them


def test_it_reads_every_name_of_the_unseen_sets_as_python_does():
    """GIVEN the benchmark's unseen sets (four countries; people and companies) WHEN every
    record's name fields are read natively THEN each is the Python reading (the non-ASCII
    ones by Python itself)."""
    unseen = bench_sets("linkage_unseen")["linkage_unseen"]
    for make in unseen.SETS.values():
        _assert_set_read_alike(*make()[:2])


def test_the_module_tables_are_read_as_names_py_holds_them():
    """GIVEN names.py's tables WHEN they are of a shape the native core cannot read THEN it
    refuses them (the records module then reads every name in Python)."""
    args = [NameReading, names.MAX_CHARS, names.LEGAL_PHRASES, names.TRADE_PHRASES,
            names.LONG_LEGAL_FORMS, names.LEGAL_INITIALS, names.PLACE_WORDS,
            names.JOB_SEPARATORS, names.TRADE_NAME_MARKERS, names.SOUND]  # fmt: skip
    for at, bad in [(1, 10_000), (2, ((),)), (8, (" dba",)),
                    (7, ("",)), (9, {"b": 10}), (0, names.NameForm)]:  # fmt: skip
        wrong = list(args)
        wrong[at] = bad
        with pytest.raises(ValueError):
            records._native.setup_names(*wrong)
    records._native.setup_names(*args)  # the right ones, again: still read alike
    assert_same("Okafor Bros. Const. Co., L.L.C.")
