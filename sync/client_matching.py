"""A client's own matching: its words for names, its thresholds, and what its last learnt
run expects of them (decision 0026). Pure: text and numbers in, words and numbers out."""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .linkage.names import DEFAULT, Vocabulary, words

MAX_LINES = 100
MAX_SHORT = 30  # characters of an abbreviation or a legal form
MAX_LONG = 60  # characters of what an abbreviation stands for
MAX_WORDS = 5  # words it stands for ("HVAC = Heating Ventilation Air Conditioning")
EXAMPLE_ABBREVIATION = "write it like: Htg = Heating"
BINS = 1000  # best-pair probabilities kept in steps of 0.1 %, as thresholds are written


class BadLines(ValueError):
    """Each bad line, in words; nothing of the text is used."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _quoted(n: int, line: str) -> str:
    return f"Line {n} (“{line if len(line) <= 60 else line[:60] + '…'}”)"


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _too_many(lines: list) -> list[str]:
    return [f"At most {MAX_LINES} lines; there are {len(lines)}."] if len(lines) > MAX_LINES else []


def parse_abbreviations(text: str) -> dict[str, str]:
    """'Htg = Heating' per line → {"htg": "heating"}; BadLines naming each bad line."""
    lines, found, problems = _lines(text), {}, []
    problems += _too_many(lines)
    for n, line in lines:
        short, equals, long = (part.strip() for part in line.partition("="))
        said = _quoted(n, line)
        short_words, long_words = words(short), words(long)
        if not equals:
            problems.append(f"{said} has no “=”; {EXAMPLE_ABBREVIATION}.")
        elif not short_words or not long_words:
            side = "before" if not short_words else "after"
            problems.append(f"{said} has nothing {side} the “=”; {EXAMPLE_ABBREVIATION}.")
        elif len(short) > MAX_SHORT or len(long) > MAX_LONG:
            problems.append(
                f"{said} is too long: at most {MAX_SHORT} characters before the “=” and "
                f"{MAX_LONG} after."
            )
        elif len(short_words) != 1:
            problems.append(f"{said}: the abbreviation must be one word, as names spell it.")
        elif len(long_words) > MAX_WORDS:
            problems.append(f"{said}: at most {MAX_WORDS} words after the “=”.")
        elif short_words[0].isdigit():
            problems.append(f"{said}: a number is not an abbreviation (it tells customers apart).")
        elif found.get(short_words[0], " ".join(long_words)) != " ".join(long_words):
            problems.append(f"{said} gives “{short}” a second meaning; keep one line for it.")
        else:
            found[short_words[0]] = " ".join(long_words)
    if problems:
        raise BadLines(problems)
    return found


def parse_legal_forms(text: str) -> set[str]:
    """One legal form per line ('Kft', 'S.R.O.') → {"kft", "sro"}; BadLines otherwise."""
    lines, found, problems = _lines(text), set(), []
    problems += _too_many(lines)
    for n, line in lines:
        said = _quoted(n, line)
        found_words = words(line)
        if len(line) > MAX_SHORT:
            problems.append(f"{said} is too long: at most {MAX_SHORT} characters.")
        elif len(found_words) != 1:
            problems.append(f"{said}: one legal form per line, as one word (“Kft”, “S.R.O.”).")
        elif found_words[0].isdigit():
            problems.append(f"{said}: a number is not a legal form (it tells customers apart).")
        else:
            found.add(found_words[0])
    if problems:
        raise BadLines(problems)
    return found


def vocabulary(abbreviations: str, legal_forms: str) -> tuple[Vocabulary, dict]:
    """The client's vocabulary, and the words added as plain data (kept with a learnt
    model). Saved text was checked by the form; should it not parse, the defaults are used."""
    try:
        added = {
            "abbreviations": parse_abbreviations(abbreviations),
            "legal_forms": sorted(parse_legal_forms(legal_forms)),
        }
    except BadLines:
        return DEFAULT, {"abbreviations": {}, "legal_forms": []}
    if not added["abbreviations"] and not added["legal_forms"]:
        return DEFAULT, added
    extended = DEFAULT.extended(
        legal_forms=set(added["legal_forms"]), abbreviations=added["abbreviations"]
    )
    return extended, added


def binned(probabilities: Iterable[float]) -> list[list[float]]:
    """Each record's best probability, in bins of 0.1 %: [[bin, records, sum of p], ...]."""
    bins: dict[int, list[float]] = {}
    for p in probabilities:
        if not math.isfinite(p):
            continue
        b = min(BINS - 1, max(0, int(p * BINS)))
        row = bins.setdefault(b, [b, 0, 0.0])
        row[1] += 1
        row[2] += p
    return [bins[b] for b in sorted(bins)]


@dataclass(frozen=True)
class Expected:
    records: int  # records the run decided
    sure: int  # would link without review
    precision: float | None  # expected share of those links that are right (None: no link)
    review: int  # would go to a person

    @property
    def review_share(self) -> float:
        return self.review / self.records if self.records else 0.0


def expected(best_pairs: list, sure_percent: Decimal, review_percent: Decimal) -> Expected:
    """What the learnt run says of these thresholds: its probabilities are the model's
    own estimate that a pair is right, so the mean over the linked pairs is their expected
    precision."""
    sure_bin, review_bin = int(sure_percent * BINS / 100), int(review_percent * BINS / 100)
    records = linked = review = 0
    right = 0.0
    for b, count, total in _bins(best_pairs):
        records += count
        if b >= sure_bin:
            linked += count
            right += total
        elif b >= review_bin:
            review += count
    return Expected(records, linked, right / linked if linked else None, review)


MOST_RECORDS = 10**9  # more records than any run decides: a damaged count


def _bins(best_pairs: object) -> list[tuple[int, int, float]]:
    """The kept bins that are what `binned` writes; a damaged row (hand-edited, another
    version's shape) is left out, so the page shows the rest rather than failing."""
    good = []
    for row in best_pairs if isinstance(best_pairs, list) else []:
        numbers = isinstance(row, list) and len(row) == 3
        numbers = numbers and all(type(x) in (int, float) for x in row)
        if not numbers:
            continue
        b, count, total = row
        # A bin's p sum over `count` records lies between 0 and `count`.
        if 0 <= b < BINS and b == int(b) and 0 <= count <= MOST_RECORDS and 0 <= total <= count:
            good.append((int(b), int(count), float(total)))
    return good


def settings_stamp(link_sure_percent, review_from_percent, added_words: dict) -> dict:
    """The matching settings a pair was put to a person under, kept with the review item:
    a later run re-decides the item only when they differ (decision 0026)."""
    return {
        "link_sure_percent": f"{Decimal(link_sure_percent):.1f}",
        "review_from_percent": f"{Decimal(review_from_percent):.1f}",
        "words": added_words,
    }


def settings_changed(then: dict | None, now: dict) -> str:
    """What changed between two stamps, in words ("link without review from 95 % to 90 %");
    "" when nothing did, or when `then` is unknown (an item raised before stamps were kept:
    it stays with the person, as before)."""
    if not isinstance(then, dict):
        return ""
    said = [
        f"{what} from {_percent(then.get(key))} to {_percent(now[key])}"
        for key, what in (
            ("link_sure_percent", "link without review"),
            ("review_from_percent", "send to review"),
        )
        if then.get(key) != now[key]
    ]
    if then.get("words") != now["words"]:
        said.append("the client's words for names")
    return "; ".join(said)


def _percent(text) -> str:
    try:
        return f"{Decimal(str(text)).normalize():f} %"
    except ArithmeticError:
        return "(unknown)"
