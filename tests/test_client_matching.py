"""A client's own matching, the pure parts (decision 0026): a learnt model as plain JSON and
back, the client's words for names read line by line, and what a threshold would do."""

import json
import math
from decimal import Decimal

import pytest

from sync.client_matching import (
    BadLines,
    binned,
    expected,
    parse_abbreviations,
    parse_legal_forms,
    settings_changed,
    settings_stamp,
    vocabulary,
)
from sync.linkage import Matcher, Party
from sync.linkage.model import Model, StoredModelUnusable


def a_learnt_model() -> Model:
    books = [Party(f"q{n}", f"Okafor Roofing {n}", postal_code=f"{80000 + n}") for n in range(40)]
    matcher = Matcher(books)
    matcher.fit(
        [Party(f"c{n}", f"Okafor Roofng {n}", postal_code=f"{80000 + n}") for n in range(40)]
    )
    return matcher.model


def test_a_model_goes_to_json_and_back_scoring_the_same():
    model = a_learnt_model()
    back = Model.from_dict(json.loads(json.dumps(model.to_dict())))
    pattern = (3, None, None, None, None, None, None, 4, None, None)
    assert back.score(pattern) == pytest.approx(model.score(pattern))
    assert back.explain(pattern) == model.explain(pattern)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda d: d["m"].pop(), "no row per compared field"),
        (lambda d: d["u"][2].append(0.1), "u of last name has not one value per level"),
        (lambda d: d["m"][0].__setitem__(1, math.nan), "m of name holds a value that is no prob"),
        (lambda d: d["u"][3].__setitem__(0, math.inf), "u of email holds a value that is no prob"),
        (lambda d: d["m"][7].__setitem__(0, "0.5"), "m of place holds a value"),
        (lambda d: d.__setitem__("prior", 1.0), "the prior is not a probability"),
        (lambda d: d.__setitem__("fingerprint", "old"), "another set of compared fields"),
    ],
)
def test_a_stored_model_of_another_shape_or_with_no_numbers_is_refused_in_words(change, said):
    data = a_learnt_model().to_dict()
    change(data)
    with pytest.raises(StoredModelUnusable, match=said):
        Model.from_dict(data)


def test_a_model_is_refused_when_it_is_not_a_model_at_all():
    with pytest.raises(StoredModelUnusable, match="not a stored model"):
        Model.from_dict([1, 2, 3])


def test_the_clients_abbreviations_and_legal_forms_are_read_line_by_line():
    words = parse_abbreviations("Htg = Heating\n\n  Rfg=Roofing  \nHVAC = Heating Ventilation Air")
    assert words == {"htg": "heating", "rfg": "roofing", "hvac": "heating ventilation air"}
    assert parse_legal_forms("Kft\nS.R.O.\n") == {"kft", "sro"}


def test_each_bad_line_is_named_with_what_is_wrong():
    with pytest.raises(BadLines) as found:
        parse_abbreviations(
            "Htg = Heating\nRfg Roofing\n = Heating\nHtg =\nHtg = Hot\nBig Co = X\n"
            + "4 = Four\n"
            + "Zz = "
            + "word " * 20
        )
    assert found.value.problems == [
        "Line 2 (“Rfg Roofing”) has no “=”; write it like: Htg = Heating.",
        "Line 3 (“= Heating”) has nothing before the “=”; write it like: Htg = Heating.",
        "Line 4 (“Htg =”) has nothing after the “=”; write it like: Htg = Heating.",
        "Line 5 (“Htg = Hot”) gives “Htg” a second meaning; keep one line for it.",
        "Line 6 (“Big Co = X”): the abbreviation must be one word, as names spell it.",
        "Line 7 (“4 = Four”): a number is not an abbreviation (it tells customers apart).",
        "Line 8 (“Zz = word word word word word word word word word word word …”) is too long: "
        "at most 30 characters before the “=” and 60 after.",
    ]
    with pytest.raises(BadLines, match=r"Line 1 .*one legal form per line"):
        parse_legal_forms("Pty Ltd")
    with pytest.raises(BadLines, match="At most 100 lines"):
        parse_legal_forms("\n".join(f"x{n}" for n in range(101)))


def test_the_clients_words_make_two_spellings_one_name():
    words, added = vocabulary("Vnt = Ventilation", "Kft")
    books = [Party("q1", "Okafor Ventilation", postal_code="78701")]
    assert Matcher(books, vocabulary=words).prepare(Party("c1", "Okafor Vnt Kft")).name == (
        "okafor ventilation"
    )
    assert added == {"abbreviations": {"vnt": "ventilation"}, "legal_forms": ["kft"]}


def test_what_a_threshold_would_do_is_read_from_the_kept_probabilities():
    best = binned([0.999, 0.98, 0.95, 0.91, 0.5, 0.3, 0.1, 0.0])
    at_90 = expected(best, Decimal(90), Decimal(20))
    assert (at_90.records, at_90.sure, at_90.review) == (8, 4, 2)
    assert at_90.precision == pytest.approx((0.999 + 0.98 + 0.95 + 0.91) / 4)
    at_99 = expected(best, Decimal("99.9"), Decimal(20))
    assert (at_99.sure, at_99.review, at_99.review_share) == (1, 5, 5 / 8)
    assert expected(binned([0.5, 0.2]), Decimal(90), Decimal(20)).precision is None


def test_what_changed_in_the_matching_settings_is_said_in_words():
    words = {"abbreviations": {}, "legal_forms": []}
    then = settings_stamp(Decimal("90.0"), Decimal("20"), words)
    assert settings_changed(then, settings_stamp(Decimal("90"), Decimal("20.0"), words)) == ""
    now = settings_stamp(Decimal("99.5"), Decimal("30"), words | {"legal_forms": ["kft"]})
    assert settings_changed(then, now) == (
        "link without review from 90 % to 99.5 %; send to review from 20 % to 30 %; "
        "the client's words for names"
    )
    # An item raised before the settings were kept with it: nothing to say they changed.
    assert settings_changed(None, now) == ""
