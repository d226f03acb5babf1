"""Customer matching as record linkage (issue 16): names normalised as data, fields compared
in levels, weights learnt by EM, OR-ed blocking, one-to-one links, decisions in words.
Pure: no database, no HTTP."""

import random
from collections import Counter

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sync.linkage import Matcher, Party, Vocabulary, normalize_company
from sync.linkage.blocking import BlockIndex
from sync.linkage.compare import COMPARISONS, levels, levels_one_by_one
from sync.linkage.model import Model, estimate_m, estimate_u
from sync.linkage.records import Features

FIELD = {c.field: k for k, c in enumerate(COMPARISONS)}


def level(a: Party, b: Party, field: str) -> str | None:
    found = levels(Features(a), Features(b))[FIELD[field]]
    return None if found is None else COMPARISONS[FIELD[field]].levels[found]


# --- names ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "written",
    [
        "Okafor Brothers Construction",
        "The Okafor Bros. Const. Co., L.L.C.",
        "OKAFOR BROS CONSTRUCTION INCORPORATED",
        "Okafor Brothers Constr. Limited Liability Company",
        "Okafor Bros Construction Corp.",
        "Okafor Brothers Construction Pty Ltd",
        "Okafor Brothers Construction GmbH",
    ],
)
def test_it_reads_legal_forms_and_trade_abbreviations_as_the_same_name(written):
    assert normalize_company(written) == "okafor brothers construction"


def test_it_ignores_and_ampersand_the_punctuation_and_diacritics():
    assert normalize_company("The Müller & Söhne Plbg, Inc.") == normalize_company(
        "Muller and Sohne Plumbing"
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("2209925 Ontario Limitd", "2209925 Ontario Limited"),  # a typo in the legal form
        ("1103357 Ontario Icorporated", "1103357 Ontario Inc."),
        ("M.A. Investments Proprietary Limited", "MA Investments Pty Ltd"),  # Australia
        ("Heritage Church Ltée", "Heritage Church"),  # Quebec's forms
        ("Premier Village Home Owners Assn Inc", "Premier Village HOA"),
        ("Evergreen Heating & A/C", "Evergreen Heating and Air Conditioning"),
        ("Heritage Htg & Clg", "Heritage Heating & Cooling"),
        ("Summit PM", "Summit Property Management"),
        ("Sunrise Auto Repair", "Sunrise Automotive"),
        ("First Baptist Ch. of Sale", "First Baptist Church of Sale"),
        ("Okafor Ventilation Mtce", "Okafor Ventilation Maintenance"),
    ],
)
def test_names_as_contractors_books_write_them_normalise_alike(one, other):
    assert normalize_company(one) == normalize_company(other)


def test_a_misspelt_legal_form_is_dropped_only_at_the_end_and_when_long():
    assert normalize_company("Acme Compass") == "acme compass"  # a word, not "Company"
    assert normalize_company("Limitd Editions") == "limitd editions"
    assert normalize_company("Limitd") == "limitd"  # all there is to compare


def test_a_name_that_is_only_a_legal_form_keeps_it():
    assert normalize_company("LLC") == "llc"
    assert normalize_company("") == ""


def test_a_client_adds_its_own_words():
    vocabulary = Vocabulary().extended(legal_forms={"SARL"}, abbreviations={"Rmdl": "Remodeling"})
    assert normalize_company("Dupont Rmdl SARL", vocabulary) == "dupont remodeling"


def test_odd_names_do_not_break_normalising():
    assert normalize_company("x" * 10_000) == "x" * 300  # compared by its start
    assert normalize_company("🏗️🔨") == ""
    assert normalize_company('שלום בע"מ') == "שלום בע מ"


# --- comparisons ---------------------------------------------------------------------------
def test_name_levels_run_from_equal_to_different():
    a = Party("a", "Cedar Roofing LLC")
    assert level(a, Party("b", "Cedar Roofing LLC"), "name") == "equal"
    assert level(a, Party("b", "cedar roofing, L.L.C."), "name") == "equal once normalised"
    assert level(a, Party("b", "Roofing Cedar"), "name") == "equal once normalised"
    assert level(a, Party("b", "Cedar Rooffing"), "name") == "nearly equal"
    assert level(a, Party("b", "Granite Paving"), "name") == "differs"
    assert level(a, Party("b", ""), "name") is None  # missing: no evidence either way


def test_names_with_other_numbers_differ():
    assert level(Party("a", "Storage Unit 4"), Party("b", "Storage Unit 5"), "name") == "differs"


def test_a_number_in_one_name_only_leaves_the_pair_to_the_other_fields():
    numbered = Party("q1", "2955264 B.C. Corporation", "office@reliableplbg.ca",
                     phone="604 555 0199",
                     line1="12 Oak Street", postal_code="V5K 0A1")  # fmt: skip
    others = [Party(f"q{n}", f"Reliable Roofing {n}", postal_code="V5K 0A1") for n in range(2, 6)]
    trade = Party("h1", "Reliable Plbg", "office@reliableplbg.ca", phone="(604) 555-0199",
                  line1="12 Oak St", postal_code="V5K0A1")  # fmt: skip
    found = Matcher([numbered, *others]).match(trade)
    assert found.kind != "miss" and found.candidate == numbered, found.reason
    # A space slipped inside the number is the same number; other numbers are other companies.
    assert level(
        Party("a", "196634 3Ontario Inc."), Party("b", "1966343 Ontario Inc."), "name"
    ) != ("differs")
    assert level(
        Party("a", "1966343 Ontario Inc."), Party("b", "1966344 Ontario Inc."), "name"
    ) == ("differs")


@pytest.mark.parametrize(
    ("crm", "books", "expected"),
    [
        ("AM Pool Svc Inc", "Pinnacle Pool Services", "differs"),  # alike only by the trade
        ("Okafor Heating & Air", "Okafor Heating", "somewhat alike"),  # the owner's word agrees
        ("Re1iable Auto Repair", "Reliabe Auto Repair Shop", "somewhat alike"),  # typos
    ],
)
def test_two_names_alike_only_by_their_trade_words_differ(crm, books, expected):
    """Two pool companies of one postcode share "Pool Services": what tells a company from
    its trade (the word it starts with) must agree too before the names count as alike."""
    assert level(Party("h1", crm), Party("q1", books), "name") == expected


def test_a_persons_name_parts_match_in_either_order():
    a = Party("a", given_name="Robbie", family_name="Lowe")
    b = Party("b", given_name="Lowe", family_name="Robie")
    assert level(a, b, "first name") == "nearly equal"
    assert level(a, b, "last name") == "equal"


@pytest.mark.parametrize(
    ("books", "first", "last"),
    [
        ("Smith, Robert", "equal", "equal"),  # family, given
        ("Smith Residence", None, "equal"),  # a person's customer written as the place
        ("The Smith Household", None, "equal"),
        ("Smith - 12 Oak St", None, "equal"),  # a job: the part before the dash
    ],
)
def test_a_persons_name_written_as_books_write_it_is_read_as_the_person(books, first, last):
    crm = Party("h1", given_name="Robert", family_name="Smith")
    assert level(Party("q1", books), crm, "first name") == first
    assert level(Party("q1", books), crm, "last name") == last


@pytest.mark.parametrize("marker", ["dba", "d/b/a", "DBA", "t/a"])
def test_a_trade_name_written_beside_the_legal_one_matches_either(marker):
    books = Party("q1", f"Fuller Group Ltd {marker} Coastal Property Maint.")
    assert level(books, Party("h1", "Coastal Property Maintenance"), "name") == (
        "equal once normalised"
    )
    assert level(books, Party("h1", "Fuller Group Limited"), "name") == "equal once normalised"
    assert level(Party("q1", "Smith Homes LLC"), Party("h1", "Smith"), "name") == "differs"


def test_email_levels():
    a = Party("a", email="annlee@cedarroofing.com")
    assert level(a, Party("b", email="ANNLEE@cedarroofing.com"), "email") == "equal"
    assert level(a, Party("b", email="anlee@cedarroofing.com"), "email") == "one letter apart"
    assert level(a, Party("b", email="info@cedarroofing.com"), "email") == "same company domain"
    # Anyone can have a gmail address: a shared free-mail domain is no evidence.
    assert level(
        Party("a", email="ann.lee@gmail.com"), Party("b", email="bo@gmail.com"), "email"
    ) == ("differs")
    # "info@yahoo.com" is a placeholder typed where the address was unknown: no evidence.
    assert (
        level(Party("a", email="Info@Yahoo.com"), Party("b", email="bo@yahoo.com"), "email") is None
    )


def test_phones_compare_as_e164_whatever_their_format():
    a = Party("a", phone="(303) 555-0100")
    assert level(a, Party("b", phone="+1 303.555.0100"), "phone") == "equal"
    assert level(a, Party("b", phone="720-555-0100"), "phone") == "same last 7 digits"
    assert level(Party("a", phone="+44 20 7946 0018"), Party("b", phone="020 7946 0018"),
                 "phone") is not None  # fmt: skip


@pytest.mark.parametrize(
    "written", ["(737) 908-8762 x281", "737-908-8762 ext. 12", "7379088762 #12"]
)
def test_a_phone_extension_does_not_make_the_number_another(written):
    assert level(Party("a", phone="(737) 908-8762"), Party("b", phone=written), "phone") == "equal"


def test_postal_code_town_and_state_are_one_piece_of_evidence():
    a = Party("a", postal_code="80202", city="Denver", region="CO")
    assert level(a, Party("b", postal_code="80202"), "place") == "same postal code"
    assert level(a, Party("b", city="denver", region="CO"), "place") == "same town"
    assert level(a, Party("b", postal_code="80203", city="Denver"), "place") == (
        "same town, postal code one character apart"
    )
    assert level(a, Party("b", postal_code="10001", city="New York", region="NY"), "place") == (
        "differs"
    )


def test_tax_ids_compare_without_punctuation():
    a = Party("a", tax_id="12-3456789")
    assert level(a, Party("b", tax_id="123456789"), "tax ID") == "equal"
    assert level(a, Party("b", tax_id="12-3456788"), "tax ID") == "one character apart"
    assert level(a, Party("b", tax_id="N/A"), "tax ID") is None  # a placeholder, not an ID


# --- a small world of companies ------------------------------------------------------------
OWNERS = ["Okafor", "Garcia", "Patel", "Nguyen", "Kowalski", "Rossi", "Haddad", "Jensen",
          "Silva", "Novak", "Brown", "Ito", "Lee", "Smith", "Kim"]  # fmt: skip
TRADES = ["Roofing", "Plumbing", "Construction", "Electric", "Paving", "Mechanical"]
RESPELL = {"Construction": "Const.", "Plumbing": "Plbg", "Electric": "Elec.",
           "Mechanical": "Mech.", "Brothers": "Bros"}  # fmt: skip


def world(seed: int = 3, size: int = 240):
    rng = random.Random(seed)  # noqa: S311 - test data
    books, crm, truth = [], [], {}
    for n in range(size):
        owner, trade = rng.choice(OWNERS), rng.choice(TRADES)
        name = f"{owner} {rng.choice(['', 'Brothers '])}{trade} {rng.choice(['Inc.', 'LLC'])}"
        zip_code = f"{80000 + rng.randrange(300)}"
        phone = f"303{rng.randrange(2000000, 9999999)}"
        email = f"{owner.lower()}{n}@{owner.lower()}{trade.lower()}{n}.com"
        books.append(Party(f"q{n}", name, email, postal_code=zip_code, phone=phone,
                           line1=f"{rng.randrange(1, 999)} Main Street"))  # fmt: skip
        if n % 4 == 3:  # a new company of the same vocabulary, other contacts
            crm.append(Party(f"h{n}", f"{rng.choice(OWNERS)} {trade}", f"new{n}@other{n}.com",
                             postal_code=f"{81000 + n}", phone=f"720{rng.randrange(2000000,
                             9999999)}"))  # fmt: skip
            continue
        written = name
        for full, short in RESPELL.items():
            written = written.replace(full, short)
        if n % 3 == 0:
            written = " ".join(reversed(written.split()[:2])) + " " + trade
        written_phone = f"({phone[:3]}) {phone[3:6]}-{phone[6:]}"
        crm.append(Party(f"h{n}", written, "" if n % 5 == 0 else email.upper(),
                         postal_code=zip_code, phone=written_phone))  # fmt: skip
        truth[f"h{n}"] = f"q{n}"
    return books, crm, truth


@pytest.fixture(scope="module")
def fitted():
    books, crm, truth = world()
    matcher = Matcher(books)
    matcher.fit(crm)
    return matcher, crm, truth


def test_blocking_finds_every_true_partner_among_the_candidates(fitted):
    matcher, crm, truth = fitted
    where = {f.party.external_id: i for i, f in enumerate(matcher.features)}
    found = [
        where[truth[p.external_id]] in matcher.index.candidates(matcher.prepare(p))
        for p in crm
        if p.external_id in truth
    ]
    assert sum(found) / len(found) >= 0.995


def test_a_shared_phone_is_never_crowded_out_of_the_candidates_by_common_words():
    lookalikes = [Party(f"q{n}", f"{w} Landscaping Services Corp", postal_code="78701")
                  for n, w in enumerate(OWNERS)]  # fmt: skip
    partner = Party("q-partner", "K.M. Lawn Care", phone="(512) 555-0147")
    index = BlockIndex(Features(p) for p in [*lookalikes, partner])
    crm = Features(Party("h1", "K M Landscaping Services Corp", phone="512 555 0147 x12",
                         postal_code="78701"))  # fmt: skip
    assert len(lookalikes) in index.candidates(crm)


GIVEN = ["Karen", "Kevin", "Sara", "Susan", "Mark", "Maria", "Paul", "Linda", "Brian", "Amy",
         "Jason", "Laura", "Eric", "Helen", "Scott", "Julie", "Frank", "Tina"]  # fmt: skip


def _among_namesakes(partner: Party, family: str = "Martin") -> tuple[BlockIndex, int]:
    """A book where many customers share the partner's common family name and postcode:
    the partner is the last one added."""
    namesakes = [Party(f"q{n}", f"{g} {family}", postal_code="78701", city="Austin")
                 for n, g in enumerate(GIVEN)]  # fmt: skip
    index = BlockIndex(Features(p) for p in [*namesakes, partner])
    return index, len(namesakes)


@pytest.mark.parametrize(
    ("crm", "books"),
    [
        ("MARTIN, KVEIN", "Kevin Martin"),  # a typo in the rare word, the common one intact
        ("Kenddra Martni", "Kendra Martin"),  # typos in both words: they still sound alike
        ("Bob Martin", "Robert Martin"),  # a nickname
        ("Martin Holdings", "Marti nHoldings"),  # a space slipped inside the name
    ],
)
def test_a_misspelt_name_is_found_among_many_of_its_common_word(crm, books):
    """GIVEN 18 Martins in one postcode and the partner, keyed with a typo, a nickname or a
    slipped space, with no email, phone or address to find it by
    WHEN the CRM record searches the book
    THEN its partner is among the few candidates compared in full."""
    index, partner = _among_namesakes(Party("q-partner", books))
    assert partner in index.candidates(Features(Party("h1", crm, postal_code="78701")))


@pytest.mark.parametrize("books", ["Martin Residence", "Martin - 12 Oak St", "The Martin Home"])
def test_a_person_finds_the_household_the_books_keep_for_them(books):
    """A homeowner the books keep as the place or the job ("Martin Residence") is a candidate
    of the CRM's "Sara Martin" however many other Martins live in the same postcode."""
    index, partner = _among_namesakes(Party("q-partner", books))
    sara = Features(Party("h1", given_name="Sara", family_name="Martin", postal_code="78701"))
    assert partner in index.candidates(sara)


def test_the_new_name_keys_keep_the_candidates_few():
    """Typo-tolerant keys must not flood the full comparison: in a book of common names a
    record still brings only a handful of candidates."""
    index, _ = _among_namesakes(Party("q-partner", "Kevin Martin"))
    found = index.candidates(Features(Party("h1", "Kevin Martin", postal_code="78701")))
    assert len(found) <= 8


def test_candidates_tied_at_the_cut_are_ordered_by_how_alike_their_names_are():
    """Ten "Pro ..." companies share one word with the CRM's misspelt "Pro Restauamt" and
    nothing else: the one whose name is nearly it is compared, whatever the books' order."""
    others = ["Renovations", "Roofing", "Remodeling", "Rentals", "Realty", "Repairs", "Rigging",
              "Rooter", "Railings"]  # fmt: skip
    parties = [Party(f"q{n}", f"Pro {w} Ltd") for n, w in enumerate(others)]
    index = BlockIndex(Features(p) for p in [*parties, Party("q-partner", "Pro Restaurant")])
    assert len(others) in index.candidates(Features(Party("h1", "Pro Restauamt")))


def test_each_blocking_key_says_how_many_candidates_it_brings():
    index = BlockIndex([Features(Party("q1", "Cedar Roofing", "a@cedar.com", postal_code="80202"))])
    counts = index.counts_by_kind(Features(Party("h1", "Roofing Cedar", "A@cedar.com")))
    assert counts["e"] == 1 and counts["n"] == 2 and counts["d"] == 1


def test_the_fast_comparison_gives_every_field_the_same_level_as_each_rule(fitted):
    """`levels` is the ten comparisons written out in one for speed: on every candidate pair
    of the small world, and on pairs of people, it says what each comparison says."""
    matcher, crm, _ = fitted
    people = [
        Party("p1", given_name="Robbie", family_name="Lowe", line1="16 Taylor Place",
              city="Sydney", region="NSW", postal_code="2000", tax_id="1234567"),
        Party("p2", given_name="Lowe", family_name="Robbie", line1="16", city="Sidney",
              region="NSW", postal_code="2001", tax_id="1234568"),
        Party("p3", given_name="Robert", family_name="Low", line1="61 Place Taylor",
              city="Sydney", region="VIC", country="AU"),
        Party("p4", "Job site 4", "a@b.com", website="www.b.com", phone="+61 2 9374 4000",
              country="AU"),
    ]  # fmt: skip
    pairs = [(a, b) for a in people for b in people]
    for p in crm:
        f = matcher.prepare(p)
        pairs += [(f, matcher.features[i]) for i in matcher.index.candidates(f, 8)]
    for a, b in pairs:
        a = a if isinstance(a, Features) else Features(a)
        b = b if isinstance(b, Features) else Features(b)
        assert levels(a, b) == levels_one_by_one(a, b), (a.party, b.party)


def test_em_learns_that_equal_emails_mean_the_same_party(fitted):
    matcher, _, _ = fitted
    weights = matcher.model.weights()[FIELD["email"]]
    assert weights[3] > 5  # equal: strong evidence for
    assert weights[0] < 0  # different: evidence against
    assert 0 < matcher.model.prior < 0.01  # two random records are rarely one company


def test_an_equal_name_no_other_customer_has_weighs_more_than_a_shared_one(fitted):
    matcher, _, _ = fitted
    counts = Counter(f.sorted_name for f in matcher.features)
    rare = next(f.party for f in matcher.features if counts[f.sorted_name] == 1)
    common = next(f.party for f in matcher.features if counts[f.sorted_name] >= 3)

    def best(party: Party):
        return matcher.scored(matcher.prepare(Party("new", party.name)))[0]

    assert best(rare).weight > best(common).weight
    decision = matcher.match(Party("new", rare.name, postal_code=rare.postal_code))
    assert "name equal (no other customer has it)" in decision.reason


def test_em_keeps_the_priors_when_there_is_nothing_to_learn_from():
    u = estimate_u([])
    m, expected = estimate_m([], u, {FIELD["email"]})
    assert m == {} and expected == 0.0
    assert Model.default().weights()[FIELD["tax ID"]][2] > 5


def test_the_batch_links_respelled_companies_and_creates_new_ones(fitted):
    matcher, crm, truth = fitted
    decisions = matcher.link_all(crm)
    sure = [d for d in decisions if d.kind == "sure"]
    assert all(truth.get(d.party.external_id) == d.candidate.external_id for d in sure)
    assert len(sure) >= 0.95 * len(truth)
    new = [d for d in decisions if d.party.external_id not in truth]
    assert sum(d.kind == "miss" for d in new) >= 0.9 * len(new)


def test_one_customer_gets_one_partner_and_the_weaker_record_goes_to_review(fitted):
    matcher, crm, truth = fitted
    twin = next(p for p in crm if p.external_id in truth and p.email)
    copy = Party("h-copy", twin.name, twin.email, postal_code=twin.postal_code)
    first, second = matcher.link_all([twin, copy])
    assert first.kind == "sure" and first.candidate.external_id == truth[twin.external_id]
    assert second.kind == "near" and "already another record's partner" in second.reason


def test_an_already_linked_customer_is_never_silently_relinked(fitted):
    matcher, crm, truth = fitted
    record = next(p for p in crm if p.external_id in truth)
    decision = matcher.match(record, taken={truth[record.external_id]})
    assert decision.kind != "sure" or decision.candidate.external_id != truth[record.external_id]


def test_each_decision_says_what_each_field_contributed(fitted):
    matcher, crm, truth = fitted
    record = next(p for p in crm if p.email and p.external_id in truth)
    decision = matcher.match(record)
    assert decision.kind == "sure"
    assert "email equal +" in decision.reason
    assert "phone equal +" in decision.reason
    typo = Party("h-typo", "Okafor Rofing", postal_code="99999")
    words = matcher.match(typo).reason
    assert "% alike" in words or "no field" in words or "differs" in words


def test_a_new_record_says_what_its_closest_customer_s_fields_said(fitted):
    matcher, crm, truth = fitted
    new = next(p for p in crm if p.external_id not in truth)
    decision = matcher.match(new)
    assert decision.kind == "miss" and decision.candidate is None
    assert "no field to compare" not in decision.reason
    assert "closest customer:" in decision.reason and "differs -" in decision.reason


def test_the_share_shown_beside_a_name_level_is_the_one_it_was_decided_on():
    matcher = Matcher([Party("q1", "Okafor Roofing", "ann@okafor.example")])
    # A slip in the first letter reorders the words: the level reads them as written.
    decision = matcher.match(Party("h1", "Tkafor Roofing", "ann@okafor.example"))
    assert "name nearly equal (93 % alike)" in decision.reason, decision.reason


def test_a_record_with_only_a_name_is_not_linked_in_a_book_with_namesakes():
    valerie = Party("q1", "Johnson, Valerie", "val@mail.example", postal_code="80202")
    namesake = Party("q3", "Valerie Johnson", "vj@mail.example", postal_code="10001")
    name_only = Party("h2", given_name="Valerie", family_name="Johnson")
    matcher = Matcher([valerie, namesake, Party("q2", "Okafor Roofing", postal_code="80202")])
    assert matcher.match(Party("h1", "Valerie Johnson", "val@mail.example")).kind == "sure"
    decision = matcher.match(name_only)
    assert decision.kind == "near" and "only the name could be compared" in decision.reason
    # With no namesake in the book, the name is enough.
    alone = Matcher([valerie, Party("q2", "Okafor Roofing", postal_code="80202")])
    assert alone.match(name_only).kind == "sure"


def test_a_lookalike_of_a_customer_another_record_took_is_created_not_queued():
    """GIVEN "Allied Fencing" in the books and, in one run, its CRM record (same email, phone
    and street) and another "Allied Fencing" in another town with another phone
    WHEN the run links them
    THEN the first links and the lookalike is a new customer, not a review item; a second
    record with the customer's own email (a CRM duplicate) still waits for a person."""
    books = [Party("q1", "Allied Fencing", "office@alliedfencing.com", phone="(512) 555-0101",
                   line1="12 Oak St", city="Austin", postal_code="78701"),
             Party("q2", "Cedar Roofing", "bob@cedarroofing.com", city="Austin")]  # fmt: skip
    owner = Party("h1", "Allied Fencing LLC", "office@alliedfencing.com", phone="512-555-0101",
                  line1="12 Oak Street", city="Austin", postal_code="78701")  # fmt: skip
    branch = Party("h2", "Allied Fencing", phone="(737) 555-0444", city="Round Rock",
                   postal_code="78664")  # fmt: skip
    twin = Party("h3", "Allied Fencing", "office@alliedfencing.com", city="Austin")
    assert [d.kind for d in Matcher(books).link_all([owner, branch])] == ["sure", "miss"]
    assert [d.kind for d in Matcher(books).link_all([owner, twin])] == ["sure", "near"]


def test_two_people_of_one_household_are_two_customers():
    harriet = Party("q1", "Jones, Harriet", "jones.family@mail.example", phone="303 555 0101",
                    line1="12 Oak Street", postal_code="80202")  # fmt: skip
    matcher = Matcher([harriet, Party("q2", "Okafor Roofing", postal_code="80202")])
    jade = Party("h1", given_name="Jade", family_name="Jones", email="jones.family@mail.example",
                 line1="12 Oak St", postal_code="80202")  # fmt: skip
    decision = matcher.match(jade)
    assert decision.kind == "near" and "first names differ" in decision.reason
    # One tax ID is one person, whatever the given name says (a mistyped or changed one).
    same = Matcher([Party("q1", "Jones, Harriet", tax_id="123-45-6789", line1="12 Oak Street",
                          postal_code="80202")])  # fmt: skip
    assert same.match(jade._replace(tax_id="123456789")).kind == "sure"
    # A short form of the same given name is the same person.
    bob = Party("h2", given_name="Bob", family_name="Smith", email="bob@smith.example")
    found = Matcher([Party("q1", "Smith, Robert", "bob@smith.example", postal_code="80202")])
    assert level(Party("q1", "Smith, Robert"), bob, "first name") == "nearly equal"
    patty = Party("h3", given_name="Patty", family_name="Smith")
    assert level(Party("q1", "Smith, Patrcia"), patty, "first name") == "nearly equal"
    assert found.match(bob).kind == "sure"


def test_a_conflicting_tax_id_is_not_linked_on_the_name_alone():
    books = [Party(f"q{n}", f"Company {w}", tax_id=f"12-34567{n:02d}", postal_code=f"8{n:04d}")
             for n, w in enumerate(OWNERS * 4)]  # fmt: skip
    crm = [Party(f"h{n}", b.name, tax_id=b.tax_id, postal_code=b.postal_code)
           for n, b in enumerate(books)]  # fmt: skip
    matcher = Matcher(books)
    matcher.fit(crm)
    impostor = Party("h-x", books[0].name, tax_id="98-7654321", postal_code=books[0].postal_code)
    decision = matcher.match(impostor)
    assert decision.kind != "sure"


@pytest.mark.parametrize(
    "name",
    ["", "LLC", "x" * 10_000, "🏗️🔨", "شركة البناء", "   ", "Cedar Roofing\x00"],
)
def test_bad_input_is_matched_held_or_created_never_an_error(fitted, name):
    matcher, _, _ = fitted
    decision = matcher.match(Party("h-bad", name))
    assert decision.kind in ("sure", "near", "miss")
    if not name.strip() or name == "LLC":
        assert decision.kind != "sure"  # nothing links on an empty or legal-form-only name


# --- properties ----------------------------------------------------------------------------
SOME = settings(max_examples=40, deadline=None)
words_ = st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=9)
company = st.lists(words_, min_size=1, max_size=3).map(" ".join)
zip_code = st.from_regex(r"[0-9]{5}", fullmatch=True)
SUFFIXES = ["", " Inc.", " Incorporated", " LLC", " L.L.C.", " Co", " Company", " Ltd"]
case = st.sampled_from([str, str.upper, str.lower, str.title])


@SOME
@given(st.lists(company, min_size=1, max_size=12, unique=True), st.data())
def test_every_customer_matches_itself_sure(names, data):
    books = [
        Party(f"q{n}", name + data.draw(st.sampled_from(SUFFIXES)), f"o{n}@mail{n}.example",
              postal_code=data.draw(zip_code))
        for n, name in enumerate(names)
    ]  # fmt: skip
    matcher = Matcher(books)
    matcher.fit(books)
    for party, decision in zip(books, matcher.link_all(books), strict=True):
        assert (decision.kind, decision.candidate) == ("sure", party), decision.reason


@SOME
@given(company, st.sampled_from(SUFFIXES), st.sampled_from(SUFFIXES), case, case, zip_code)
def test_case_and_legal_form_changes_keep_the_match_sure(name, suffix, other, c1, c2, code):
    books = Party("q1", c1(name) + suffix, postal_code=code)
    matcher = Matcher([books, Party("q2", "Granite Electric 7", postal_code=code)])
    found = matcher.match(Party("h1", c2(name) + other, postal_code=code))
    assert (found.kind, found.candidate) == ("sure", books), found.reason


@SOME
@given(st.lists(company, min_size=1, max_size=20), company, zip_code)
def test_a_stranger_with_another_tax_id_email_and_name_is_never_linked(names, name, code):
    assume(all(normalize_company(name) != normalize_company(n) for n in names))
    matcher = Matcher(
        Party(f"q{n}", each, f"owner{n}@mail.example", f"12-34{n:05d}", code)
        for n, each in enumerate(names)
    )
    stranger = Party("h1", name, "someone@else.example", "98-7654321", code)
    assert matcher.match(stranger).kind != "sure"


@SOME
@given(st.sampled_from(["", "🏗️🔨", "★", "-", "&", ".", "#"]), zip_code)
def test_a_name_without_letters_never_links_anyone(name, code):
    matcher = Matcher([Party("q1", "🏠", "owner@mail.example", "12-3456789", code)])
    found = matcher.match(Party("h1", name, "someone@else.example", "98-7654321", code))
    assert found.kind != "sure", found.reason


# --- mapping and validation at batch speed -------------------------------------------------
def test_the_fast_paths_of_validation_answer_as_the_libraries_do():
    """Common shapes of email, phone and EIN are read without the libraries' full parse;
    on a spread of good, odd and bad values the answers are the libraries' own."""
    import phonenumbers
    from email_validator import EmailNotValidError, validate_email
    from stdnum.us import ein

    from sync.validation import _check_tax_id, e164, normalized_email

    def outcome(check, value, *args):
        try:
            return check(value, *args)
        except (EmailNotValidError, phonenumbers.NumberParseException, ValueError) as error:
            return type(error).__name__

    def library_phone(text, country):
        number = phonenumbers.parse(text, country or None)
        if not phonenumbers.is_valid_number(number):
            raise phonenumbers.NumberParseException(0, "not a valid number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    rng = random.Random(5)  # noqa: S311 - test data
    for _ in range(3000):
        d = rng.choice("23456789") + "".join(rng.choice("0123456789") for _ in range(9))
        a, b, c = d[:3], d[3:6], d[6:]
        shapes = [f"({a}) {b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", d, f"1{d}",
                  f"1 ({a}) {b} {c}", f"({a} {b}-{c}", f"+{d}", f"+1 1{d}", f"+44{d}"]  # fmt: skip
        text = rng.choice(shapes)
        country = rng.choice(["US", "CA", "GB", "", "JM", "us"])
        assert outcome(e164, text, country) == outcome(library_phone, text, country), text
    emails = ["Info@Example.COM", "ann@home.example", "a@b.c", "x@foo.local", "x@ab--cd.com",
              "x@xn--bcher-kva.ch", "x@-a.com", "x..y@a.com", "x@a.123", "Joe <joe@a.com>",
              "a" * 250 + "@a.com", "x@" + "a" * 64 + ".com", "WWW@A.COM", "j oel@a.com",
              "x@a.test", "o'neil+jobs@mail.Roofing.co.uk", "é@a.com", "x@bücher.de"]  # fmt: skip
    for email in emails:
        library = outcome(lambda e: validate_email(e, check_deliverability=False).normalized, email)
        assert outcome(normalized_email, email) == library, email
    for tax_id in ["12-3456789", "123456789", "00-1234567", "07-1234567", "12 3456789", "1-2"]:
        fast = {"tax_id": tax_id}
        problems = _check_tax_id(fast, "US")
        assert (not problems, fast["tax_id"]) == (
            ein.is_valid(tax_id),
            ein.compact(tax_id) if ein.is_valid(tax_id) else tax_id,
        ), tax_id


def test_a_field_map_changed_between_records_is_read_anew():
    """The map is read once per run for speed; a map changed in place is still obeyed, and a
    map broken in place is still refused."""
    from sync.mapping import FieldMapError, map_record

    field_map = {"display_name": {"from": ["name"]}}
    assert map_record({"name": "Cedar", "legal": "Cedar LLC"}, field_map) == {
        "display_name": "Cedar"
    }
    field_map["display_name"]["from"] = ["legal"]
    assert map_record({"name": "Cedar", "legal": "Cedar LLC"}, field_map) == {
        "display_name": "Cedar LLC"
    }
    field_map["display_name"] = {"from": "legal"}
    with pytest.raises(FieldMapError, match="display_name:"):
        map_record({"legal": "Cedar LLC"}, field_map)


def _counted_copies(monkeypatch) -> list:
    """Forked copies counted, each entry the answer one sent back (None: it failed). A copy
    is forked only while this process has one thread (another test's server thread may
    still run: then the work is done here, with the same answers, and none is counted)."""
    from sync.linkage import matcher as matcher_module
    from sync.linkage import parallel

    answers, fork = [], parallel.in_another_process

    def counted(work):
        copy = fork(work)
        answer = copy.answer
        copy.answer = lambda: answers.append(answer()) or answers[-1]
        return copy

    monkeypatch.setenv("SYNCFIRM_LINKAGE_FORK", "1")
    monkeypatch.setattr(matcher_module, "PARALLEL_FROM", 10)
    monkeypatch.setattr(parallel, "in_another_process", counted)
    return answers


def _copy_share(records: int) -> int:
    """How many of a batch's records not yet compared the copy takes: its share, rounded
    down on this side's part."""
    from sync.linkage.matcher import COPY_SHARE

    return records - int(records * (1 - COPY_SHARE))


def _records_in(answer) -> int:
    """How many records a copy's answer holds (where each record's candidates end)."""
    from array import array

    _patterns, _pairs, _weights, ends = answer
    return len(array("i", ends))


def test_a_large_batch_split_over_two_processes_decides_as_one(fitted, monkeypatch):
    """A batch from PARALLEL_FROM records has a share of its records compared by a forked copy
    of the process: the decisions are the ones a single process makes."""
    import threading

    matcher, crm, _ = fitted
    batch = [p._replace() for p in crm]  # not the records fit already compared
    alone = matcher.link_all(batch)
    answers = _counted_copies(monkeypatch)
    split = matcher.link_all([p._replace() for p in crm])
    if threading.active_count() == 1:
        assert len(answers) == 1, "a share of the batch was handed to a copy"
        assert answers[0] is not None and _records_in(answers[0]) == _copy_share(len(crm))
    assert [(d.kind, d.candidate, d.reason) for d in split] == [
        (d.kind, d.candidate, d.reason) for d in alone
    ]


def test_comparing_started_by_the_fit_on_the_other_core_decides_as_one(monkeypatch):
    """GIVEN a batch large enough for the other core WHEN fit starts a forked copy comparing
    a share of the records while it learns the weights, and the batch collects them
    THEN every decision is the one a single process makes; and a copy started before the
    books changed is not used."""
    import threading

    from sync.linkage import matcher as matcher_module

    books, crm, _ = world()
    # fit compares the records it learns from itself: learn from a sample, as in a large run
    monkeypatch.setattr(matcher_module, "TRAINING_RECORDS", len(crm) // 4)
    alone = Matcher(books)
    alone.fit(crm)
    expected = [(d.kind, d.candidate, d.reason) for d in alone.link_all(crm)]
    batch = [p._replace() for p in crm]  # equal records, but not the ones fit started on
    # the single process's answer for them, before copies are counted (with forking on,
    # this matcher would hand a share of them to a copy of its own)
    expected_batch = [d.candidate for d in alone.link_all(batch)]
    answers = _counted_copies(monkeypatch)
    forking = threading.active_count() == 1
    split = Matcher(books)
    split.fit(crm)
    assert [(d.kind, d.candidate, d.reason) for d in split.link_all(crm)] == expected
    if forking:
        assert len(answers) == 1, "the copy fit started was the one used"
        unsampled = len(crm) - len(crm) // 4  # the copy's share of them compared there
        assert answers[0] is not None and _records_in(answers[0]) == _copy_share(unsampled)

    changed = Matcher(books)
    changed.fit(crm)
    changed.add(Party("late", "Late Arrival Plumbing"))  # the copy's candidates are stale
    decided = changed.link_all(crm)
    if forking:
        assert len(answers) == 3, "the stale copy was reaped and a new one compared the batch"
    assert [d.candidate for d in decided] == [candidate for _, candidate, _ in expected]

    other = Matcher(books)
    other.fit(crm)
    decided = other.link_all(batch)
    if forking:
        assert len(answers) == 5, "the copy for other records was reaped and not used"
    assert [d.candidate for d in decided] == expected_batch
