"""Field by field, how far two parties agree: a level per field, or None when either side
has no value (a missing value is no evidence either way).

Levels run from 0 (different) up to the strongest agreement; their words explain decisions.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein

from . import compiled
from .names import given_form, numbers_differ
from .records import Features

# the native core, only from the stamped build in use (`compiled.py`): the same levels;
# without it, the plain Python below
_native: Any = compiled.native()

TAX_ID = 9  # index of the tax ID comparison below


@dataclass(frozen=True)
class Comparison:
    field: str  # as people read it: "name", "email", "postal code"
    levels: tuple[str, ...]  # words per level, weakest agreement first
    prior_m: tuple[float, ...]  # what matches look like before data: a gentle prior
    level: Callable[[Features, Features], int | None]


def _name(a: Features, b: Features) -> int | None:
    level = _one_name(a, b)
    if level is None or (a.trade is None and b.trade is None):
        return level
    # "X dba Y" against "Y" (or "X"): the legal or the trade name, whichever agrees better
    return max(_one_name(x, y) or 0 for x in (a, a.trade) if x for y in (b, b.trade) if y)


def _one_name(a: Features, b: Features) -> int | None:
    if not a.name or not b.name or (a.family and b.family):
        return None  # people with both name parts are compared part by part
    if numbers_differ(a.numbers, b.numbers):
        return 0  # "Unit 4" is not "Unit 5"
    if a.raw == b.raw:
        return 4
    if a.name == b.name or a.sorted_name == b.sorted_name:
        return 3
    # Words in any order (the sorted words compared: rapidfuzz's token_sort_ratio, its
    # sorting done once per record) or letters as written, whichever is closer.
    alike = _alike(a, b, 78)
    return 2 if alike >= 90 else 1 if alike >= 78 and _heads_agree(a.tokens, b.tokens) else 0


def _heads_agree(x: tuple[str, ...], y: tuple[str, ...]) -> bool:
    """Whether the word a name starts with (what tells it from its trade) is found in the
    other: "AM Pool Services" and "Pinnacle Pool Services" are alike only by their trade."""
    if x[0][0] == y[0][0]:
        return True
    return any(JaroWinkler.similarity(x[0], w) >= 0.8 for w in y) or any(
        JaroWinkler.similarity(y[0], w) >= 0.8 for w in x
    )


def _alike(a: Features, b: Features, cutoff: float = 0) -> float:
    return max(
        fuzz.ratio(a.sorted_name, b.sorted_name, score_cutoff=cutoff),
        fuzz.ratio(a.name, b.name, score_cutoff=cutoff),
    )


def name_alike(a: Features, b: Features) -> float:
    """How alike two names are, in per cent, measured as their level was decided (for "X
    dba Y", its better name): the figure a decision shows beside "nearly equal"."""
    return max(_alike(x, y) for x in (a, a.trade) if x for y in (b, b.trade) if y)


def _part(x: str, y: str) -> int:
    if x == y:
        return 3
    similar = JaroWinkler.similarity(x, y)
    return 2 if similar >= 0.92 else 1 if similar >= 0.8 else 0


def _given_part(x: str, y: str) -> int:
    level = _part(x, y)
    if level >= 2 or not x or not y:
        return level
    return max(level, min(2, _part(given_form(x), given_form(y))))  # Bob, Robert; Patty, Patrcia


def _parts(a: Features, b: Features) -> tuple[int, int]:
    """(first name level, last name level), the parts read straight or swapped ("Lowe
    Robbie" / "Robbie Lowe"), whichever agrees better."""
    straight = (_given_part(a.given, b.given), _part(a.family, b.family))
    if not (a.given and a.family and b.given and b.family):
        return straight
    swapped = (_part(a.given, b.family), _part(a.family, b.given))
    return swapped if sum(swapped) > sum(straight) else straight


def _given(a: Features, b: Features) -> int | None:
    return None if not a.given or not b.given else _parts(a, b)[0]


def _family(a: Features, b: Features) -> int | None:
    return None if not a.family or not b.family else _parts(a, b)[1]


def _email(a: Features, b: Features) -> int | None:
    if not a.email or not b.email:
        return None
    if a.email == b.email:
        return 3
    local_a, _, domain_a = a.email.partition("@")
    local_b, _, domain_b = b.email.partition("@")
    if (
        domain_a == domain_b
        and min(len(local_a), len(local_b)) > 3
        and (Levenshtein.distance(local_a, local_b) <= 1)
    ):
        return 2  # a typo in the mailbox
    if a.domain and a.domain == b.domain:
        return 1  # another mailbox of the same company
    return 0


def _equal(attr: str) -> Callable[[Features, Features], int | None]:
    def level(a: Features, b: Features) -> int | None:
        x, y = getattr(a, attr), getattr(b, attr)
        return None if not x or not y else int(x == y)

    return level


def _phone(a: Features, b: Features) -> int | None:
    if not a.phone or not b.phone:
        return None
    if a.phone == b.phone:
        return 2
    return 1 if a.phone[-7:] == b.phone[-7:] else 0


def _one_edit(attr: str) -> Callable[[Features, Features], int | None]:
    def level(a: Features, b: Features) -> int | None:
        x, y = getattr(a, attr), getattr(b, attr)
        if not x or not y:
            return None
        return 2 if x == y else 1 if Levenshtein.distance(x, y, score_cutoff=1) <= 1 else 0

    return level


def _line1(a: Features, b: Features) -> int | None:
    if not a.line1 or not b.line1:
        return None
    if a.line1 == b.line1:
        return 3
    alike = fuzz.token_sort_ratio(a.line1, b.line1)
    if alike >= 88:
        return 2
    # "16" against "16 taylor place": one is the start of the other, or close to it.
    return 1 if alike >= 70 or fuzz.token_set_ratio(a.line1, b.line1) >= 95 else 0


def _location(a: Features, b: Features) -> int | None:
    """Postal code, town and state as one comparison: they say the same thing, and counted
    three times they would link two firms of one street."""
    postal: int | None = None
    town: bool | None = None
    state: bool | None = None
    if a.postal and b.postal:
        postal = 2 if a.postal == b.postal else int(Levenshtein.distance(a.postal, b.postal) <= 1)
    if a.city and b.city:
        town = a.city == b.city or JaroWinkler.similarity(a.city, b.city) >= 0.9
    if a.region and b.region:
        state = a.region == b.region
    if postal is None and town is None and state is None:
        return None
    if postal == 2:
        return 4
    if town and postal == 1:
        return 3
    if town and state is not False:
        return 2
    return 1 if postal == 1 or (state and town is None) else 0


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "name",
        ("differs", "somewhat alike", "nearly equal", "equal once normalised", "equal"),
        (0.04, 0.06, 0.2, 0.4, 0.3),
        _name,
    ),
    Comparison(
        "first name", ("differs", "alike", "nearly equal", "equal"), (0.05, 0.05, 0.1, 0.8), _given
    ),
    Comparison(
        "last name", ("differs", "alike", "nearly equal", "equal"), (0.05, 0.05, 0.1, 0.8), _family
    ),
    Comparison(
        "email",
        ("differs", "same company domain", "one letter apart", "equal"),
        (0.15, 0.05, 0.05, 0.75),
        _email,
    ),
    Comparison("website", ("differs", "equal"), (0.1, 0.9), _equal("website")),
    Comparison("phone", ("differs", "same last 7 digits", "equal"), (0.15, 0.05, 0.8), _phone),
    Comparison(
        "address", ("differs", "alike", "nearly equal", "equal"), (0.1, 0.1, 0.2, 0.6), _line1
    ),
    Comparison(
        "place",
        (
            "differs",
            "same state, or postal code one character apart",
            "same town",
            "same town, postal code one character apart",
            "same postal code",
        ),
        (0.08, 0.04, 0.08, 0.05, 0.75),
        _location,
    ),
    Comparison("country", ("differs", "equal"), (0.02, 0.98), _equal("country")),
    Comparison(
        "tax ID", ("differs", "one character apart", "equal"), (0.02, 0.08, 0.9), _one_edit("tax")
    ),
)


LEVEL_FUNCTIONS = tuple(c.level for c in COMPARISONS)
_ratio = fuzz.ratio
_token_set_ratio = fuzz.token_set_ratio
_jaro_winkler = JaroWinkler.similarity
_edits = Levenshtein.distance


def _row(f: Features) -> tuple:
    """What the native `levels` reads of a record, in the order `_native.c` reads it."""
    return (
        f.name, f.raw, f.sorted_name, f.numbers, f.tokens, f.given, f.family, f.trade, f.email,
        f.domain, f.website, f.phone, f.line1, f.line1_sorted, f.postal, f.city, f.region,
        f.country, f.tax,
    )  # fmt: skip


def levels(a: Features, b: Features) -> tuple[int | None, ...]:
    """Every comparison of COMPARISONS for one pair, in their order: the functions above
    written out in one (a pair is compared in a few microseconds; 20,000 x 20,000 compares
    some hundred thousand pairs). A test holds the two to the same answers. Where the native
    core is built, it applies the same rules to the strings themselves (`_native.c`)."""
    if NATIVE:
        row_a = a.row
        if row_a is None:
            row_a = a.row = _row(a)
        row_b = b.row
        if row_b is None:
            row_b = b.row = _row(b)
        return _native.levels(row_a, row_b, a, b)
    return python_levels(a, b)


def python_levels(a: Features, b: Features) -> tuple[int | None, ...]:
    """`levels` in Python (what the native one is tested against)."""
    # name (its own function: "X dba Y" and numbers in one name only need the full rules)
    a_family, b_family = a.family, b.family
    name = _name(a, b)
    # first and last name
    a_given, b_given = a.given, b.given
    given: int | None
    family: int | None
    if (a_given and b_given) or (a_family and b_family):
        given, family = _parts(a, b)
        if not (a_given and b_given):
            given = None
        if not (a_family and b_family):
            family = None
    else:
        given = family = None
    # email
    email: int | None
    x, y = a.email, b.email
    if not x or not y:
        email = None
    elif x == y:
        email = 3
    else:
        local_a, _, domain_a = x.partition("@")
        local_b, _, domain_b = y.partition("@")
        if (
            domain_a == domain_b
            and min(len(local_a), len(local_b)) > 3
            and _edits(local_a, local_b, score_cutoff=1) <= 1
        ):
            email = 2
        elif a.domain and a.domain == b.domain:
            email = 1
        else:
            email = 0
    # website
    x, y = a.website, b.website
    website = None if not x or not y else int(x == y)
    # phone
    x, y = a.phone, b.phone
    phone = None if not x or not y else 2 if x == y else int(x[-7:] == y[-7:])
    # address
    x, y = a.line1, b.line1
    if not x or not y:
        address = None
    elif x == y:
        address = 3
    else:
        alike = _ratio(a.line1_sorted, b.line1_sorted)
        address = (
            2 if alike >= 88 else 1 if alike >= 70 or _token_set_ratio(x, y) >= 95 else 0
        )  # fmt: skip
    # place: postal code, town and state as one
    x, y = a.postal, b.postal
    if x and y and x == y:
        place = 4
    else:
        postal = town = state = None
        if x and y:
            postal = int(_edits(x, y, score_cutoff=1) <= 1)
        if a.city and b.city:
            town = a.city == b.city or _jaro_winkler(a.city, b.city) >= 0.9
        if a.region and b.region:
            state = a.region == b.region
        if postal is None and town is None and state is None:
            place = None
        elif town and postal == 1:
            place = 3
        elif town and state is not False:
            place = 2
        else:
            place = 1 if postal == 1 or (state and town is None) else 0
    # country
    x, y = a.country, b.country
    country = None if not x or not y else int(x == y)
    # tax ID
    x, y = a.tax, b.tax
    tax = (
        None if not x or not y else 2 if x == y else int(_edits(x, y, score_cutoff=1) <= 1)
    )  # fmt: skip
    return (name, given, family, email, website, phone, address, place, country, tax)


def levels_one_by_one(a: Features, b: Features) -> tuple[int | None, ...]:
    """The same as `levels`, comparison by comparison (what `levels` is tested against)."""
    return tuple([level(a, b) for level in LEVEL_FUNCTIONS])


# The native levels, given rapidfuzz's scorers and the rules it leaves to Python; off when
# not built, or when this rapidfuzz's C interface is not the one it was written for.
NATIVE = compiled.set_up(
    _native, "setup",
    fuzz.ratio, fuzz.token_set_ratio, JaroWinkler.similarity, Levenshtein.distance,
    _name, _parts, _heads_agree, numbers_differ,
)  # fmt: skip
