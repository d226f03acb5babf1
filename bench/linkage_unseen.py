"""An independent data set for customer linkage: small-business customer books as a
bookkeeping firm serving contractors in the US, Canada, the UK and Australia sees them, one
contractor's accounting system (QuickBooks) against its CRM (HubSpot), with the truth.

Written without reading the matcher's internals (only `run_syncfirm` and the package's
public names), so its error processes are not the ones the matcher was tuned on.

World. Each customer is an entity: a business (56 %) or a homeowner (44 %). A contractor's
customers are local: 88 % live in the contractor's metro area (a handful of towns, a few
dozen postcodes, two or three area codes), the rest anywhere in the country, so postcodes
and towns are shared by many customers, as they are in a real book.

Business names come in many shapes: person-named firms ("Dave Smith Plumbing"), "Smith &
Sons", "Smith Bros. Roofing", partners ("Smith & Jones Builders"), DBAs ("Smith Holdings LLC
dba Ace Roofing": the books keep the legal name, the CRM often the trade name), numbered
companies ("1234567 Ontario Inc.", "1234567 B.C. Ltd."), initials ("J.R. Electric"),
Mc/Mac and O' surnames, hyphens, apostrophes ("Bob's Heating & Air"), accents (Quebec),
brand names ("Summit Roofing"), franchise branches ("Mr. Rooter of Austin"), HOAs and
strata corporations ("Oak Hills Homeowners Association", "Strata Plan VR 1234",
"The Owners - Strata Plan 12345"), churches, Australian trusts ("The Trustee for the Smith
Family Trust"), with the locale's legal forms (LLC, Inc., Corp., Ltd, Ltée, LLP, Pty Ltd).

Two systems. The same entity is typed into each system by different people at different
times, with independent errors:
- name: legal form added, dropped or respelled; trade words abbreviated (Construction ->
  Const., Services -> Svcs, Heating & Air Conditioning -> HVAC ...); "&"/"and"; "The";
  punctuation and initials ("J.R." / "JR" / "J R"); accents dropped; "Mc Donald"; keyboard
  typos; OCR errors from scanned invoices (rn/m, l/1, O/0, cl/d); ALL CAPS; QuickBooks
  Desktop's 41-character name (and 30 characters in older imports) truncating the books'
  name; a DBA under one name in each system; a person's customer written "Smith, Robert",
  "Bob & Linda Smith", "Smith Residence" or "Smith - 12 Oak St" in the books while the CRM
  has given and family name; nicknames (Bob/Robert, Bill/William ...); a married name in
  one system; given and family swapped; a middle initial.
- contact fields: a customer who moved (new address, same phone and email), a new phone
  (same email), a shared family email, the books' accounts@ address against the CRM's
  contact email at the same domain, the office line against the owner's mobile, phone
  formats per country (+1, +44, +61, 0161, (02), extensions), postcode formats ("K1A0B1",
  ZIP+4, "SW1A1AA"), region spelled out, country written "US"/"USA"/"United States"/blank,
  fields missing at each system's own rates, and records with only a name.

Non-matches that look alike (the CRM's genuinely new records): another branch of the same
franchise, a parent's subsidiary (same address or domain), the same owner's other business
(same mobile, sometimes the same email), the same business name in another town, a numbered
company one digit away, a spouse with the household's email, a namesake homeowner.

Sets (registered in bench/linkage.py as --sets names; seeded, so the same every run):
- unseen: 10,000 books x 10,000 CRM across the four countries (each around one metro area);
  8,000 true pairs, 2,000 books-only, 2,000 new in the CRM of which about 40 % look alike.
- unseen-small-us, -ca, -uk, -au: 500 x 500 one-country books (400 pairs, 100 new), where
  an unsupervised model has little data.

A record is a dict of the fields the harness maps, plus "_tags" (the error processes
applied, for the examination below, ignored by every system). The truth maps a CRM id to
its books id. `python bench/linkage_unseen.py --examine SET` prints syncfirm's outcomes
per tag with examples.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field

from faker import Faker

Record = dict

# --- places: one metro area per country, postcodes and area codes drawn from it ------------
METROS = {
    "US": {
        "locale": "en_US",
        "towns": ["Austin", "Round Rock", "Cedar Park", "Pflugerville", "Georgetown",
                  "Leander", "Kyle", "Buda", "Lakeway", "Manor", "Hutto", "Dripping Springs"],
        "region": ("TX", "Texas"),
        "areas": ["512", "737"],
        "mobile": ["512", "737"],
    },
    "CA": {
        "locale": "en_CA",
        "towns": ["Toronto", "Mississauga", "Brampton", "Markham", "Vaughan", "Richmond Hill",
                  "Oakville", "Scarborough", "Etobicoke", "North York", "Pickering", "Ajax"],
        "region": ("ON", "Ontario"),
        "areas": ["416", "647", "905", "289"],
        "mobile": ["416", "647", "437"],
    },
    "GB": {
        "locale": "en_GB",
        "towns": ["Manchester", "Salford", "Stockport", "Oldham", "Bolton", "Bury", "Rochdale",
                  "Wigan", "Altrincham", "Sale", "Didsbury", "Stretford"],
        "region": ("", "Greater Manchester"),
        "areas": ["0161"],
        "mobile": ["07"],
    },
    "AU": {
        "locale": "en_AU",
        "towns": ["Sydney", "Parramatta", "Chatswood", "Penrith", "Liverpool", "Blacktown",
                  "Bondi", "Manly", "Hornsby", "Castle Hill", "Sutherland", "Ryde"],
        "region": ("NSW", "New South Wales"),
        "areas": ["02"],
        "mobile": ["04"],
    },
}  # fmt: skip
COUNTRY_WRITTEN = {
    "US": ["US", "USA", "United States", "U.S.A."],
    "CA": ["CA", "Canada", "CAN"],
    "GB": ["GB", "UK", "United Kingdom", "England"],
    "AU": ["AU", "Australia", "AUS"],
}
LEGAL = {  # one legal form in its common spellings: pick one per system
    "US": [["LLC", "L.L.C.", "llc", "Limited Liability Company"], ["Inc", "Inc.",
           "Incorporated"], ["Corp", "Corp.", "Corporation"], ["Co", "Co.", "Company"],
           ["PLLC", "P.L.L.C."], ["LLP"]],
    "CA": [["Inc.", "Inc", "Incorporated"], ["Ltd.", "Ltd", "Limited"], ["Corp.",
           "Corporation"], ["Ltée", "Ltee", "Limitée"]],
    "GB": [["Ltd", "Ltd.", "Limited"], ["LLP"], ["plc", "PLC"], ["& Co", "& Co.",
           "and Company"]],
    "AU": [["Pty Ltd", "Pty. Ltd.", "Pty Limited", "Proprietary Limited", "P/L"],
           ["Ltd", "Limited"]],
}  # fmt: skip
TRADES = {
    "US": ["Plumbing", "Roofing", "Heating & Air", "Electric", "Construction", "Remodeling",
           "Landscaping", "Painting", "Concrete", "Drywall", "Flooring", "Mechanical",
           "Plumbing & Heating", "Builders", "Excavating", "Fencing", "Pool Service",
           "Handyman Services", "Heating and Air Conditioning", "Property Management"],
    "CA": ["Plumbing", "Roofing", "Heating & Cooling", "Electric", "Construction",
           "Renovations", "Landscaping", "Painting", "Contracting", "Drywall", "Flooring",
           "Mechanical", "Builders", "Snow Removal", "Property Management", "Masonry"],
    "GB": ["Plumbing & Heating", "Roofing", "Electrical Services", "Building Services",
           "Joinery", "Plastering", "Landscapes", "Decorators", "Builders", "Gas Services",
           "Property Maintenance", "Brickwork", "Groundworks", "Lettings"],
    "AU": ["Plumbing", "Roofing", "Electrical", "Constructions", "Carpentry", "Tiling",
           "Landscaping", "Painting", "Building", "Air Conditioning", "Concreting",
           "Fencing", "Property Services", "Plastering", "Pools"],
}  # fmt: skip
BRAND_WORDS = ["Summit", "Ace", "Premier", "Elite", "Quality", "Precision", "Apex", "Blue Ridge",
               "Northern", "Coastal", "Heritage", "Reliable", "Allied", "Pro", "First Choice",
               "Green Leaf", "Red Door", "Ironwood", "Oak Hill", "Cornerstone", "Keystone",
               "Pinnacle", "Sunrise", "Metro", "City Wide", "True North", "Southern Cross",
               "Harbour", "Lakeside", "Evergreen", "Golden", "Silver Oak",
               "Maple Leaf"]  # fmt: skip
CUSTOMER_KINDS = ["Property Management", "Property Group", "Realty", "Developments",
                  "Holdings", "Homes", "Dental", "Cafe", "Restaurant", "Auto Repair",
                  "Veterinary Clinic", "Church", "Properties", "Investments", "Hotel"]  # fmt: skip
FRANCHISES = {
    "US": ["Mr. Rooter Plumbing", "ServiceMaster Restore", "Molly Maid", "Two Men and a Truck",
           "Chem-Dry", "Paul Davis Restoration", "Window Genie", "Mosquito Joe"],
    "CA": ["Molly Maid", "Two Men and a Truck", "Chem-Dry", "Paul Davis Restoration",
           "Mr. Rooter Plumbing", "Nurse Next Door"],
    "GB": ["Chem-Dry", "Molly Maid", "Metro Rod", "Dyno-Rod", "Mr Handyman", "Oven Wizards"],
    "AU": ["Jim's Mowing", "Jim's Cleaning", "Hire A Hubby", "Chem-Dry", "Poolwerx",
           "Jim's Electrical"],
}  # fmt: skip
ABBREVIATIONS = {  # a word and the ways people shorten it
    "Construction": ["Const.", "Const", "Constr.", "Cnstr"],
    "Constructions": ["Constr.", "Const"],
    "Services": ["Svcs", "Svc", "Serv.", "Srvcs"],
    "Service": ["Svc", "Serv."],
    "Brothers": ["Bros.", "Bros"],
    "Mechanical": ["Mech.", "Mech"],
    "Electric": ["Elec.", "Elec"],
    "Electrical": ["Elec.", "Elect."],
    "Plumbing": ["Plbg", "Plmbg", "Plumb."],
    "Heating & Air": ["HVAC", "Htg & Air"],
    "Heating and Air Conditioning": ["HVAC", "Heating & A/C", "Htg & AC"],
    "Heating & Cooling": ["HVAC", "Htg & Clg"],
    "Air Conditioning": ["A/C", "Aircon"],
    "Property Management": ["Prop Mgmt", "Property Mgmt", "PM"],
    "Management": ["Mgmt", "Mgt"],
    "Homeowners Association": ["HOA", "Home Owners Assn", "Homeowners Assoc."],
    "Association": ["Assn", "Assoc."],
    "Landscaping": ["Landscape", "Lndscp"],
    "Renovations": ["Reno", "Renos"],
    "Remodeling": ["Remodel", "Remodelling"],
    "Contracting": ["Contr.", "Contracting Co"],
    "International": ["Intl", "Int'l"],
    "Saint": ["St.", "St"],
    "Mount": ["Mt.", "Mt"],
    "Company": ["Co.", "Co"],
    "Development": ["Dev.", "Devt"],
    "Developments": ["Devs", "Dev."],
    "Maintenance": ["Maint.", "Mtce"],
    "Restaurant": ["Rest.", "Restaurant & Bar"],
    "Church": ["Ch."],
    "Veterinary Clinic": ["Vet Clinic", "Vet"],
    "Auto Repair": ["Auto", "Automotive"],
    "North": ["N.", "Nth"],
    "South": ["S.", "Sth"],
}
NICKNAMES = {
    "Robert": ["Bob", "Rob", "Bobby", "Robbie"], "William": ["Bill", "Will", "Billy", "Liam"],
    "Richard": ["Rick", "Dick", "Rich"], "James": ["Jim", "Jimmy", "Jamie"],
    "Michael": ["Mike", "Mick"], "Elizabeth": ["Liz", "Beth", "Betty", "Libby"],
    "Katherine": ["Kate", "Kathy", "Katie"], "Catherine": ["Cathy", "Cat", "Kate"],
    "Thomas": ["Tom", "Tommy"], "Margaret": ["Peggy", "Maggie", "Meg"],
    "Christopher": ["Chris", "Kit"], "David": ["Dave", "Davey"], "Steven": ["Steve"],
    "Stephen": ["Steve"], "Jennifer": ["Jen", "Jenny"], "Susan": ["Sue", "Suzy"],
    "Anthony": ["Tony"], "Matthew": ["Matt"], "Daniel": ["Dan", "Danny"],
    "Joseph": ["Joe", "Joey"], "Patricia": ["Pat", "Patty", "Trish"], "Patrick": ["Pat"],
    "Andrew": ["Andy", "Drew"], "Nicholas": ["Nick"], "Samuel": ["Sam"],
    "Samantha": ["Sam"], "Alexander": ["Alex"], "Edward": ["Ed", "Ted", "Eddie"],
    "Gregory": ["Greg"], "Jeffrey": ["Jeff"], "Kenneth": ["Ken"], "Lawrence": ["Larry"],
    "Ronald": ["Ron"], "Timothy": ["Tim"], "Rebecca": ["Becky"], "Deborah": ["Debbie", "Deb"],
    "Barbara": ["Barb"], "Charles": ["Charlie", "Chuck"], "Benjamin": ["Ben"],
    "Jonathan": ["Jon"], "Donald": ["Don"], "Gerald": ["Jerry"], "Victoria": ["Vicky"],
    "Christine": ["Chris"], "Jessica": ["Jess"], "Joshua": ["Josh"], "Zachary": ["Zach"],
    "Kimberly": ["Kim"], "Pamela": ["Pam"], "Cynthia": ["Cindy"], "Raymond": ["Ray"],
    "Douglas": ["Doug"], "Frederick": ["Fred"], "Alexandra": ["Alex", "Sandy"],
    "Nathaniel": ["Nate"], "Peter": ["Pete"], "Philip": ["Phil"], "Francis": ["Frank"],
    "Gabriel": ["Gabe"], "Jacqueline": ["Jackie"], "Theresa": ["Terry"],
}  # fmt: skip
MAC_SURNAMES = ["McDonald", "MacDonald", "McLeod", "MacLeod", "McKenzie", "MacKenzie",
                "McIntyre", "McGregor", "MacIntosh", "McCarthy", "McNeil", "O'Brien",
                "O'Connor", "O'Neill", "O'Sullivan", "D'Angelo", "Smith-Jones", "Lloyd-Davies",
                "Van der Berg", "De Silva"]  # fmt: skip
QUEBEC_SURNAMES = ["Côté", "Gagné", "Lévesque", "Bélanger", "Bédard", "Gélinas", "Thériault",
                   "Hébert", "Ménard", "Poirier", "Desrosiers", "Séguin", "Pépin"]  # fmt: skip
FREE_MAIL = {
    "US": ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "comcast.net", "att.net",
           "icloud.com"],
    "CA": ["gmail.com", "hotmail.com", "rogers.com", "sympatico.ca", "shaw.ca", "yahoo.ca",
           "outlook.com"],
    "GB": ["gmail.com", "hotmail.co.uk", "btinternet.com", "yahoo.co.uk", "outlook.com",
           "sky.com", "virginmedia.com"],
    "AU": ["gmail.com", "bigpond.com", "hotmail.com", "optusnet.com.au", "outlook.com",
           "icloud.com"],
}  # fmt: skip
STREET_WORDS = {
    "Street": ["St", "St."],
    "Avenue": ["Ave", "Ave."],
    "Road": ["Rd", "Rd."],
    "Drive": ["Dr", "Dr."],
    "Boulevard": ["Blvd"],
    "Lane": ["Ln"],
    "Court": ["Ct"],
    "Crescent": ["Cres", "Cr"],
    "Place": ["Pl"],
    "Highway": ["Hwy"],
    "Parkway": ["Pkwy"],
    "Close": ["Cl"],
    "Terrace": ["Tce"],
}
STREET_TYPES = {
    "US": ["Street", "Avenue", "Road", "Drive", "Lane", "Court", "Boulevard", "Parkway"],
    "CA": ["Street", "Avenue", "Road", "Drive", "Crescent", "Court", "Boulevard"],
    "GB": ["Road", "Street", "Lane", "Close", "Avenue", "Drive", "Crescent", "Terrace"],
    "AU": ["Street", "Road", "Avenue", "Parade", "Crescent", "Place", "Drive", "Terrace"],
}  # fmt: skip
KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


# --- entities ------------------------------------------------------------------------------
@dataclass
class Entity:
    n: int
    country: str
    kind: str  # "business" | "person"
    forms: list[str]  # names the customer goes by: legal first, trade second (DBA)
    given: str = ""
    family: str = ""
    former_family: str = ""  # a married name: one system still has this one
    spouse: str = ""
    contact: tuple[str, str] = ("", "")  # a business's contact person
    email: str = ""
    accounts_email: str = ""  # a business's billing address at the same domain
    website: str = ""
    phone: str = ""  # digits, national
    mobile: str = ""
    old_phone: str = ""
    line1: str = ""
    old_line1: str = ""  # before a move
    town: str = ""
    old_town: str = ""
    postcode: str = ""
    old_postcode: str = ""
    tax_id: str = ""
    shape: str = ""
    tags: list[str] = field(default_factory=list)


class World:
    def __init__(self, seed: int, countries: dict[str, float]) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - benchmark data
        self.countries = countries
        self.fakers = {}
        for i, c in enumerate(["US", "CA", "GB", "AU", "QC"]):
            f = Faker("fr_CA" if c == "QC" else METROS[c]["locale"])
            f.seed_instance(seed * 10 + i)
            self.fakers[c] = f
        self.postcodes = {c: self._postcode_pool(c) for c in METROS}
        self.n = 0
        self.numbered_used: set[str] = set()
        self.taken: set[str] = set()  # emails, domains and unique names: one owner each

    def unique(self, value: str, other: str = "") -> str:
        """value, or value with other (then a number) added, so no two customers share it
        by accident: a mailbox or a domain belongs to one household or firm."""
        name, at, domain = value.partition("@")
        candidates = [value] + ([f"{name}{other}{at}{domain}"] if other else [])
        candidates += [f"{name}{n}{at}{domain}" for n in range(2, 999)]
        for candidate in candidates:
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate
        raise ValueError(value)

    # places
    def _postcode_pool(self, c: str) -> list[str]:
        r = self.rng
        if c == "US":
            return [f"787{r.randint(0, 99):02d}" for _ in range(30)]
        if c == "CA":
            fsas = [f"{a}{r.randint(1, 9)}{r.choice('ABCEGHJKLMNPRSTVWXYZ')}" for a in "MLM"
                    for _ in range(12)]  # fmt: skip
            return [f"{r.choice(fsas)} {r.randint(0, 9)}{r.choice('ABCEGHJKLMNPRSTVWXYZ')}"
                    f"{r.randint(0, 9)}" for _ in range(400)]  # fmt: skip
        if c == "GB":
            outs = [f"M{r.randint(1, 46)}" for _ in range(20)] + [
                f"{p}{r.randint(1, 16)}" for p in ("SK", "OL", "BL", "WA", "WN") for _ in range(3)
            ]
            return [f"{r.choice(outs)} {r.randint(1, 9)}{r.choice('ABDEFGHJLNPQRSTUWXYZ')}"
                    f"{r.choice('ABDEFGHJLNPQRSTUWXYZ')}" for _ in range(500)]  # fmt: skip
        return [str(r.randint(2000, 2234)) for _ in range(60)]

    def place(self, c: str) -> tuple[str, str, str]:
        r, f = self.rng, self.fakers[c]
        street = f"{r.randint(1, 9999) if c != 'GB' else r.randint(1, 240)} "
        street += f"{f.last_name() if r.random() < 0.5 else f.first_name()} "
        street += r.choice(STREET_TYPES[c])
        if r.random() < 0.12:  # a unit or suite
            unit = r.randint(1, 40)
            street = (f"{unit}-{street}" if c == "CA" and r.random() < 0.5
                      else f"Unit {unit}, {street}" if c in ("GB", "AU")
                      else f"{street} Suite {unit * 10}")  # fmt: skip
        if r.random() < 0.88:
            return street, r.choice(METROS[c]["towns"]), r.choice(self.postcodes[c])
        return street, f.city(), f.postcode()

    def phone(self, c: str, mobile: bool = False) -> str:
        r = self.rng
        if c in ("US", "CA"):
            area = r.choice(METROS[c]["mobile" if mobile else "areas"])
            return f"{area}{r.randint(200, 999)}{r.randint(0, 9999):04d}"
        if c == "GB":
            return (f"07{r.randint(100, 999)}{r.randint(0, 999999):06d}" if mobile
                    else f"0161{r.randint(200, 999)}{r.randint(0, 9999):04d}")  # fmt: skip
        return (f"04{r.randint(0, 99):02d}{r.randint(0, 999999):06d}" if mobile
                else f"02{r.randint(8000, 9999)}{r.randint(0, 9999):04d}")  # fmt: skip

    # people
    def person_name(self, c: str) -> tuple[str, str]:
        r = self.rng
        f = self.fakers["QC" if c == "CA" and r.random() < 0.2 else c]
        given = f.first_name()
        if r.random() < 0.35:  # a given name that has nicknames, as common as they are
            given = r.choice(list(NICKNAMES))
        family = f.last_name()
        if r.random() < 0.06:
            family = r.choice(MAC_SURNAMES)
        elif c == "CA" and r.random() < 0.08:
            family = r.choice(QUEBEC_SURNAMES)
        return given, family

    def personal_email(self, c: str, given: str, family: str) -> str:
        r = self.rng
        g, fam = _ascii(given).lower().replace(" ", ""), _ascii(family).lower()
        fam = re.sub(r"[^a-z]", "", fam)
        local = r.choice([f"{g}.{fam}", f"{g[0]}{fam}", f"{g}{fam}{r.randint(1, 99)}",
                          f"{g}_{fam}", f"{fam}{g[0]}", f"the{fam}s", f"{fam}family",
                          f"{g}{r.randint(1960, 2005)}"])  # fmt: skip
        return self.unique(f"{local}@{r.choice(FREE_MAIL[c])}")

    def unique_name(self, make) -> str:
        """A name no other customer of this book has (an HOA, a franchise branch)."""
        for _ in range(50):
            name = make()
            if "name:" + name not in self.taken:
                break
        self.taken.add("name:" + name)
        return name

    def branch_town(self, brand: str, c: str) -> str:
        """A town where the brand has no branch among this book's customers yet."""
        towns = [t for t in METROS[c]["towns"] if f"branch:{brand}|{t}" not in self.taken]
        town = self.rng.choice(towns) if towns else self.fakers[c].city()
        self.taken.add(f"branch:{brand}|{town}")
        return town

    # entities
    def entity(self, country: str | None = None) -> Entity:
        r = self.rng
        c = country or r.choices(list(self.countries), list(self.countries.values()))[0]
        self.n += 1
        e = Entity(self.n, c, "person" if r.random() < 0.44 else "business", [])
        e.line1, e.town, e.postcode = self.place(c)
        if e.kind == "person":
            e.given, e.family = self.person_name(c)
            e.forms = [f"{e.given} {e.family}"]
            if r.random() < 0.35:
                e.spouse = self.person_name(c)[0]
            if r.random() < 0.05:
                e.former_family = self.person_name(c)[1]
            e.email = self.personal_email(c, e.given, e.family) if r.random() < 0.85 else ""
            e.phone = self.phone(c, mobile=r.random() < 0.7)
            e.shape = "person"
        else:
            self.business(e)
        if r.random() < 0.07:  # moved: one system still has the old address
            e.old_line1, e.old_town, e.old_postcode = self.place(c)
        if r.random() < 0.06:  # a new phone: one system still has the old one
            e.old_phone = self.phone(c, mobile=r.random() < 0.5)
        return e

    def business(self, e: Entity) -> None:
        r, c, f = self.rng, e.country, self.fakers[e.country]
        owner = self.person_name(c)
        trade = r.choice(TRADES[c] if r.random() < 0.55 else CUSTOMER_KINDS)
        legal = r.choice(LEGAL[c])
        suffix = legal[0] if r.random() < 0.75 else ""
        shapes = [
            "person_trade",
            "sons",
            "bros",
            "partners",
            "dba",
            "initials",
            "brand",
            "faker",
            "possessive",
            "hoa",
            "church",
            "franchise",
            "numbered",
            "trust",
        ]
        weights = [14, 5, 3, 6, 6, 6, 18, 10, 5, 4, 2, 4, 6 if c == "CA" else 0,
                   5 if c == "AU" else 0]  # fmt: skip
        shape = r.choices(shapes, weights)[0]
        fam = owner[1]
        if shape == "person_trade":
            name = f"{owner[0]} {fam} {trade}" if r.random() < 0.5 else f"{fam} {trade}"
        elif shape == "sons":
            name = f"{fam} & Sons {trade if r.random() < 0.6 else ''}".strip()
        elif shape == "bros":
            name = f"{fam} Brothers {trade}"
        elif shape == "partners":
            name = f"{fam} & {self.person_name(c)[1]} {trade if r.random() < 0.5 else ''}"
        elif shape == "initials":
            a, b = r.choice("ABCDEGJKLMPRST"), r.choice("ABCDEGJKLMPRST")
            name = f"{a}.{b}. {trade}" if r.random() < 0.7 else f"{a}&{b} {trade}"
        elif shape == "possessive":
            name = f"{owner[0]}'s {trade}"
        elif shape == "brand":
            name = f"{r.choice(BRAND_WORDS)} {trade}"
        elif shape == "faker":
            name = f.company()
            suffix = ""
        elif shape == "hoa":
            estate = self.unique_name(
                lambda: (
                    f"{r.choice(BRAND_WORDS)} {r.choice(['Estates', 'Village', 'Park', 'Ridge'])}"
                )
            )
            if c in ("CA", "AU"):
                plan = f"{r.randint(1000, 99999)}"
                name = (f"Strata Plan {r.choice(['VR', 'LMS', 'NW', 'BCS'])} {plan}" if c == "CA"
                        else f"The Owners - Strata Plan {plan}")  # fmt: skip
            else:
                name = f"{estate} Homeowners Association"
            suffix = ""
        elif shape == "church":
            name = self.unique_name(
                lambda: (
                    f"{r.choice(['First Baptist', 'St. Mark', 'Grace', 'St Andrew'])}"
                    f" Church of {r.choice(METROS[c]['towns'])}"
                )
            )
            suffix = ""
        elif shape == "franchise":
            brand = r.choice(FRANCHISES[c])
            town = self.branch_town(brand, c)
            name = f"{brand} of {town}" if r.random() < 0.6 else f"{brand} {town}"
            e.tags.append(f"franchise:{brand}")
            suffix = ""
        elif shape == "numbered":
            num = str(r.randint(1_000_000, 2_999_999))
            self.numbered_used.add(num)
            name = f"{num} {r.choice(['Ontario', 'Ontario', 'B.C.', 'Alberta'])}"
            suffix = r.choice(["Inc.", "Ltd.", "Corp."])
        elif shape == "trust":
            name = f"The Trustee for the {fam} Family Trust"
            suffix = ""
        else:  # dba
            name = f"{fam} {r.choice(['Holdings', 'Enterprises', 'Group', 'Ventures'])}"
        name = re.sub(r"\s+", " ", name).strip()
        legal_name = f"{name} {suffix}".strip() if suffix else name
        e.forms = [legal_name]
        if shape in ("dba", "numbered"):  # the trade or operating name the CRM knows
            e.forms.append(f"{r.choice(BRAND_WORDS)} {r.choice(TRADES[c])}")
        elif shape == "trust" and r.random() < 0.6:
            e.forms.append(f"{owner[0]} {fam} {r.choice(TRADES[c])}")
        e.shape = shape
        e.contact = (
            owner if shape in ("person_trade", "possessive", "sons") else self.person_name(c)
        )
        domain = re.sub(r"[^a-z0-9]", "", _ascii(e.forms[-1]).lower())[:20]
        tld = {"US": ".com", "CA": ".ca", "GB": ".co.uk", "AU": ".com.au"}[c]
        if r.random() < 0.55:
            e.website = self.unique(domain, _slug(e.town)) + tld
            e.email = f"{_ascii(e.contact[0]).lower()}@{e.website}"
            e.accounts_email = f"{r.choice(['accounts', 'office', 'billing', 'ap'])}@{e.website}"
        elif r.random() < 0.8:
            e.email = self.unique(
                f"{domain[:15]}{r.randint(1, 99) if r.random() < 0.3 else ''}@"
                + r.choice(FREE_MAIL[c])
            )
        e.phone = self.phone(c)
        e.mobile = self.phone(c, mobile=True)
        if r.random() < {"US": 0.05, "CA": 0.1, "GB": 0.12, "AU": 0.3}[c]:
            e.tax_id = {
                "US": lambda: f"{r.randint(10, 99)}-{r.randint(1000000, 9999999)}",
                "CA": lambda: f"{r.randint(100000000, 999999999)}RT0001",
                "GB": lambda: f"GB{r.randint(100000000, 999999999)}",
                "AU": lambda: (
                    f"{r.randint(10, 99)} {r.randint(100, 999)} {r.randint(100, 999)}"
                    f" {r.randint(100, 999)}"
                ),
            }[c]()


# --- lookalikes: different customers a person could take for one another -----------------
def lookalike(w: World, base: Entity) -> Entity | None:
    r, c = w.rng, base.country
    e = w.entity(c)
    e.kind = base.kind
    if base.kind == "person":
        if base.spouse and r.random() < 0.5:  # a spouse with the household's email
            e.given, e.family, e.forms = base.spouse, base.family, [f"{base.spouse} {base.family}"]
            e.line1, e.town, e.postcode = base.line1, base.town, base.postcode
            e.email = base.email
            e.phone = base.phone if r.random() < 0.4 else w.phone(c, mobile=True)
            e.old_line1 = e.old_phone = ""
            e.tags = ["lookalike:spouse"]
        else:  # a namesake: same name, another household
            e.given, e.family, e.forms = base.given, base.family, list(base.forms)
            e.email = w.personal_email(c, e.given, e.family) if e.email else ""
            e.tags = ["lookalike:namesake"]
        e.shape, e.spouse, e.former_family = "person", "", ""
        return e
    e.shape = base.shape
    e.contact = w.person_name(c)  # another firm, another contact (unless the same owner)
    franchise = next((t for t in base.tags if t.startswith("franchise:")), None)
    if franchise:
        brand = franchise.split(":", 1)[1]
        town = w.branch_town(brand, c)
        e.forms = [f"{brand} of {town}" if " of " in base.forms[0] else f"{brand} {town}"]
        if base.website:
            e.website = base.website
            e.email = f"{_slug(town)}@{base.website}"
        e.tags = ["lookalike:franchise branch", franchise]
        return e
    if base.shape == "numbered":
        num = re.match(r"\d+", base.forms[0]).group()
        other = str(int(num) + r.choice([-1, 1, 10, -10, 100]))
        e.forms = [base.forms[0].replace(num, other)]
        e.tags = ["lookalike:numbered neighbour"]
        return e
    roll = r.random() if base.shape not in ("hoa", "church", "trust") else 1.0
    if roll < 0.3:  # a subsidiary or parent: same address or domain, other phone
        core = _strip_legal(base.forms[0], c)
        e.forms = [f"{core} {r.choice(['Maintenance', 'Developments', 'Rentals', 'Leasing'])}"
                   f" {r.choice(LEGAL[c])[0]}"]  # fmt: skip
        if r.random() < 0.5:
            e.line1, e.town, e.postcode = base.line1, base.town, base.postcode
        if base.website and r.random() < 0.6:
            e.website, e.email = base.website, f"{r.choice(['admin', 'info'])}@{base.website}"
        e.tags = ["lookalike:subsidiary"]
    elif roll < 0.55:  # the same owner's other business: same mobile, often the same email
        fam = base.contact[1] or base.family
        e.forms = [f"{fam} {r.choice(['Rentals', 'Properties', 'Investments', 'Farms'])}"
                   f" {r.choice(LEGAL[c])[0]}"]  # fmt: skip
        e.contact, e.mobile, e.phone = base.contact, base.mobile, base.mobile
        if r.random() < 0.4:
            e.email = base.email
        e.tags = ["lookalike:same owner"]
    else:  # the same business name in another town
        e.forms = [base.forms[0]]
        line1, _, _ = w.place(c)
        f = w.fakers[c]
        e.line1, e.town, e.postcode = line1, f.city(), f.postcode()
        e.tags = ["lookalike:same name elsewhere"]
    e.shape = "lookalike"
    return e


# --- the two systems' errors --------------------------------------------------------------
def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _ascii(text).lower())


def _strip_legal(name: str, c: str) -> str:
    for group in LEGAL[c]:
        for form in sorted(group, key=len, reverse=True):
            if name.endswith(" " + form):
                return name[: -len(form) - 1]
    return name


def typo(r: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = r.randrange(1, len(text) - 1)
    ch = text[i]
    kind = r.random()
    if kind < 0.35 and ch.isalpha():  # a neighbouring key
        row = next((k for k in KEYBOARD if ch.lower() in k), None)
        if row:
            j = row.index(ch.lower())
            nb = row[j - 1] if j and (r.random() < 0.5 or j == len(row) - 1) else row[j + 1]
            return text[:i] + (nb.upper() if ch.isupper() else nb) + text[i + 1 :]
    if kind < 0.6:
        return text[:i] + text[i + 1 :]  # a dropped letter
    if kind < 0.8:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # transposed
    return text[:i] + ch + text[i:]  # doubled


OCR = [("rn", "m"), ("m", "rn"), ("l", "1"), ("O", "0"), ("cl", "d"), ("e", "c"), ("S", "5"),
       ("I", "l"), ("B", "8"), ("h", "b")]  # fmt: skip


def ocr(r: random.Random, text: str) -> str:
    options = [(a, b) for a, b in OCR if a in text]
    if not options:
        return text
    a, b = r.choice(options)
    spots = [m.start() for m in re.finditer(re.escape(a), text)]
    i = r.choice(spots)
    return text[:i] + b + text[i + len(a) :]


def vary_company(r: random.Random, name: str, c: str, tags: list[str], rate: float) -> str:
    """One person's way of typing a company's name."""
    out = name
    if r.random() < rate * 0.9:  # legal form respelled, dropped or added
        core = _strip_legal(out, c)
        if core != out and r.random() < 0.45:
            out = core
            tags.append("legal form dropped")
        elif core != out:
            group = next(g for g in LEGAL[c] if any(out.endswith(" " + f) for f in g))
            out = f"{core} {r.choice(group)}"
            tags.append("legal form respelled")
        elif r.random() < 0.3:
            out = f"{out} {r.choice(LEGAL[c])[0]}"
            tags.append("legal form added")
    if r.random() < rate * 0.6:
        for word, shorts in ABBREVIATIONS.items():
            if re.search(rf"\b{re.escape(word)}\b", out):
                out = re.sub(rf"\b{re.escape(word)}\b", r.choice(shorts), out, count=1)
                tags.append("abbreviated")
                break
    if r.random() < rate * 0.4:
        if " & " in out:
            out = out.replace(" & ", r.choice([" and ", "&", " + "]), 1)
            tags.append("& / and")
        elif " and " in out:
            out = out.replace(" and ", " & ", 1)
            tags.append("& / and")
    if r.random() < rate * 0.3 and out.startswith("The "):
        out = out[4:]
        tags.append("The dropped")
    if r.random() < rate * 0.5 and re.search(r"[.'\u2019,-]", out):
        out = re.sub(r"\.(?=\w)", r.choice(["", " "]), out)
        out = out.replace("'", r.choice(["", "\u2019", " "])).replace(",", "")
        if r.random() < 0.3:
            out = out.replace("-", " ")
        tags.append("punctuation")
    if r.random() < 0.5 and _ascii(out) != out:
        out = _ascii(out)
        tags.append("accents dropped")
    if r.random() < 0.3 and re.search(r"\bMa?c[A-Z]", out):
        out = re.sub(r"\b(Ma?c)([A-Z])", lambda m: f"{m[1]} {m[2]}", out, count=1)
        tags.append("Mc spacing")
    if r.random() < rate * 0.25:
        out = typo(r, out)
        tags.append("typo")
    if r.random() < rate * 0.08:
        out = ocr(r, out)
        tags.append("OCR")
    return re.sub(r"\s+", " ", out).strip()


def vary_given(r: random.Random, given: str, tags: list[str], rate: float) -> str:
    if given in NICKNAMES and r.random() < 0.4:
        tags.append("nickname")
        return r.choice(NICKNAMES[given])
    if r.random() < rate * 0.06:
        tags.append("middle initial")
        return f"{given} {r.choice('ABCDEFGHJKLMNPRSTW')}."
    if r.random() < rate * 0.15:
        tags.append("typo")
        return typo(r, given)
    return given


def vary_family(r: random.Random, family: str, tags: list[str], rate: float) -> str:
    out = family
    if r.random() < 0.5 and _ascii(out) != out:
        out = _ascii(out)
        tags.append("accents dropped")
    if r.random() < 0.3 and ("'" in out or "-" in out):
        out = out.replace("'", "").replace("-", " ")
        tags.append("punctuation")
    if r.random() < rate * 0.15:
        out = typo(r, out)
        tags.append("typo")
    return out


def phone_text(r: random.Random, digits: str, c: str) -> str:
    if not digits:
        return ""
    if c in ("US", "CA"):
        a, b, d = digits[:3], digits[3:6], digits[6:]
        text = r.choice([f"({a}) {b}-{d}", f"{a}-{b}-{d}", f"{a}.{b}.{d}", f"+1 {a} {b} {d}",
                         digits, f"1-{a}-{b}-{d}"])  # fmt: skip
    elif c == "GB":
        cut = 5 if digits.startswith("07") else 4  # 07700 900123, 0161 496 0123
        text = r.choice([f"{digits[:cut]} {digits[cut:]}", digits,
                         f"+44 {digits[1:cut]} {digits[cut:]}",
                         f"+44 (0){digits[1:cut]} {digits[cut:]}"])  # fmt: skip
    else:
        text = r.choice([f"({digits[:2]}) {digits[2:6]} {digits[6:]}", digits,
                         f"+61 {digits[1:2]} {digits[2:6]} {digits[6:]}",
                         f"{digits[:4]} {digits[4:7]} {digits[7:]}"])  # fmt: skip
    if r.random() < 0.03:
        text += f" x{r.randint(10, 999)}"
    return text


def vary_street(r: random.Random, line1: str, tags: list[str]) -> str:
    out = line1
    for word, shorts in STREET_WORDS.items():
        if re.search(rf"\b{word}\b", out) and r.random() < 0.6:
            out = re.sub(rf"\b{word}\b", r.choice(shorts), out)
            tags.append("street abbreviated")
    if r.random() < 0.08:
        out = typo(r, out)
        tags.append("street typo")
    if r.random() < 0.1:
        out = out.upper()
    return out


def postcode_text(r: random.Random, code: str, c: str) -> str:
    if c in ("CA", "GB") and r.random() < 0.35:
        code = code.replace(" ", "")
    if c == "CA" and r.random() < 0.1:
        code = code.lower()
    if c == "US" and r.random() < 0.15:
        code = f"{code}-{r.randint(0, 9999):04d}"
    return code


def record(w: World, e: Entity, system: str, rid: str, rate: float = 1.0) -> Record:
    """The entity as one system holds it ("books" = QuickBooks, "crm" = HubSpot)."""
    r, c = w.rng, e.country
    tags = list(e.tags)
    books = system == "books"
    out = {"id": rid, "name": "", "given_name": "", "family_name": "", "email": "", "phone": "",
           "website": "", "line1": "", "city": "", "region": "", "postal_code": "",
           "country": "", "tax_id": ""}  # fmt: skip
    # which of two stale values each system holds: decided once per entity
    stale = random.Random(e.n * 7919 + 1).random()  # noqa: S311 < 0.5
    old_here = (books and stale) or (not books and not stale)
    if e.kind == "person":
        family = e.former_family if e.former_family and old_here else e.family
        if e.former_family:
            tags.append("married name")
        given = vary_given(r, e.given, tags, rate)
        family = vary_family(r, family, tags, rate)
        if books:
            roll = r.random()
            if roll < 0.42:
                out["name"] = f"{given} {family}"
            elif roll < 0.68:
                out["name"] = f"{family}, {given}"
                tags.append("Family, Given")
            elif roll < 0.78 and e.spouse:
                out["name"] = f"{given} & {e.spouse} {family}"
                tags.append("couple")
            elif roll < 0.82:
                out["name"] = f"{family} Residence"
                tags.append("Residence")
            elif roll < 0.87:
                out["name"] = f"{family} - {e.old_line1 if old_here and e.old_line1 else e.line1}"
                tags.append("job by address")
            else:
                out["name"] = f"{given} {family}"
            if r.random() < 0.6:
                out["given_name"], out["family_name"] = given, family
        else:
            out["given_name"], out["family_name"] = given, family
            if r.random() < 0.03 * rate:
                out["given_name"], out["family_name"] = family, given
                tags.append("given/family swapped")
    else:
        form = e.forms[0]
        if len(e.forms) > 1:
            roll = random.Random(e.n * 31 + (1 if books else 2)).random()  # noqa: S311
            if books:
                form = e.forms[0] if roll < 0.55 else f"{e.forms[0]} dba {e.forms[1]}"
            else:
                form = e.forms[1] if roll < 0.6 else e.forms[0]
            tags.append("dba/operating name")
        out["name"] = vary_company(r, form, c, tags, rate)
        contact_rate = 0.3
        if r.random() < contact_rate:
            out["given_name"], out["family_name"] = e.contact
            tags.append("contact person")
        if e.website and r.random() < (0.3 if books else 0.7):
            out["website"] = (r.choice(["http://www.", "www.", "https://"]) + e.website
                              if books else e.website)  # fmt: skip
        if e.tax_id and r.random() < (0.8 if books else 0.15):
            out["tax_id"] = e.tax_id if r.random() < 0.7 else re.sub(r"\D", "", e.tax_id)
    if books and r.random() < 0.12:
        out["name"] = out["name"].upper()
        tags.append("ALL CAPS")
    if books and r.random() < 0.3:  # imported from QuickBooks Desktop: 41 (older: 30)
        limit = 30 if r.random() < 0.25 else 41
        if len(out["name"]) > limit:
            out["name"] = out["name"][:limit].rstrip()
            tags.append(f"truncated at {limit}")
    # email
    email = e.email
    if e.kind == "business" and e.accounts_email and books and r.random() < 0.4:
        email = e.accounts_email
        tags.append("accounts@ vs contact email")
    if r.random() < (0.3 if books else 0.1):
        email = ""
    elif r.random() < 0.04 and email:
        email = w.personal_email(c, *(e.contact if e.kind == "business" else (e.given, e.family)))
        tags.append("other email")
    if email and r.random() < 0.1:
        email = email.capitalize() if r.random() < 0.5 else email.upper()
    out["email"] = email
    # phone: the office line against the owner's mobile; an old number in one system
    digits = e.phone
    if e.kind == "business" and not books and r.random() < 0.25:
        digits = e.mobile
        tags.append("office vs mobile")
    if e.old_phone and old_here:
        digits = e.old_phone
        tags.append("new phone")
    if r.random() < (0.2 if books else 0.25):
        digits = ""
    out["phone"] = phone_text(r, digits, c)
    # address
    line1, town, postcode = e.line1, e.town, e.postcode
    if e.old_line1 and old_here:
        line1, town, postcode = e.old_line1, e.old_town, e.old_postcode
        tags.append("moved")
    if not books and r.random() < 0.35:
        line1 = ""
    if books and r.random() < 0.04:
        line1 = f"PO Box {r.randint(10, 9999)}"
        tags.append("PO box")
    out["line1"] = vary_street(r, line1, tags) if line1 else ""
    out["city"] = town if r.random() < (0.92 if books else 0.75) else ""
    out["postal_code"] = (
        postcode_text(r, postcode, c) if r.random() < (0.9 if books else 0.75) else ""
    )
    short, full = METROS[c]["region"]
    if out["city"] and r.random() < 0.85:
        out["region"] = short if (short and r.random() < 0.7) else full
    if r.random() < (0.5 if books else 0.6):
        out["country"] = r.choice(COUNTRY_WRITTEN[c])
    if not books and r.random() < 0.05 * rate:  # only a name: a quick entry in the CRM
        keep = ("id", "name", "given_name", "family_name")
        out = {k: (v if k in keep else "") for k, v in out.items()}
        tags.append("only a name")
    out["_tags"] = sorted(set(tags))
    out["_kind"] = e.kind
    return out


# --- the sets -----------------------------------------------------------------------------
def build(
    size: int, shared: int, countries: dict[str, float], seed: int, lookalike_share: float = 0.4
) -> tuple[list[Record], list[Record], dict[str, str]]:
    """size books and size CRM records; shared of them the same customers; of the CRM's
    new records, lookalike_share look like a books customer."""
    w = World(seed, countries)
    entities = [w.entity() for _ in range(size)]
    books = [record(w, e, "books", f"qb{e.n}") for e in entities]
    both = w.rng.sample(entities, shared)
    crm, truth = [], {}
    for e in both:
        rec = record(w, e, "crm", f"hs{e.n}")
        crm.append(rec)
        truth[rec["id"]] = f"qb{e.n}"
    new = size - shared
    for _ in range(new):
        made = None
        if w.rng.random() < lookalike_share:
            base = w.rng.choice(entities)
            made = lookalike(w, base)
            if made:
                made.tags.append(f"looks like qb{base.n}")
        made = made or w.entity()
        rec = record(w, made, "crm", f"hs{made.n}")
        rec["_tags"] = sorted(set(rec["_tags"]) | {"new"})
        crm.append(rec)
    w.rng.shuffle(crm)
    return books, crm, truth


MIX = {"US": 0.5, "CA": 0.2, "GB": 0.15, "AU": 0.15}


def unseen():
    return build(10_000, 8_000, MIX, seed=16)


def _small(country: str, seed: int):
    return lambda: build(500, 400, {country: 1.0}, seed=seed)


SETS = {
    "unseen": unseen,
    "unseen-small-us": _small("US", 161),
    "unseen-small-ca": _small("CA", 162),
    "unseen-small-uk": _small("GB", 163),
    "unseen-small-au": _small("AU", 164),
}


# --- examination: syncfirm's decisions on a set, per error process, with examples ----------
def _short(r: Record | None) -> str:
    if r is None:
        return "-"
    person = f"{r['given_name']} {r['family_name']}".strip()
    place = ", ".join(v for v in (r["line1"], r["city"], r["postal_code"]) if v)
    parts = [f"{r['id']}: {r['name']!r}" if r["name"] else f"{r['id']}:"]
    parts += [f"person {person!r}" if person else "", r["email"], r["phone"], place,
              r["website"], f"tax {r['tax_id']}" if r["tax_id"] else ""]  # fmt: skip
    return " | ".join(p for p in parts if p)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text.split("x")[0])[-9:]


def _obvious(a: Record, b: Record) -> str:
    """Why a person would call the pair the same customer at a glance, or ''."""
    from rapidfuzz import fuzz

    def name(r: Record) -> str:
        text = r["name"] or f"{r['given_name']} {r['family_name']}"
        return re.sub(r"[^a-z0-9 ]", "", _ascii(text).lower())

    alike = fuzz.token_set_ratio(name(a), name(b))
    same_email = a["email"] and a["email"].lower() == b["email"].lower()
    same_phone = _digits(a["phone"]) and _digits(a["phone"]) == _digits(b["phone"])
    same_street = a["line1"] and a["line1"].lower()[:8] == b["line1"].lower()[:8]
    if same_email and alike >= 70:
        return f"same email, names {alike:.0f} % alike"
    if same_phone and alike >= 80:
        return f"same phone, names {alike:.0f} % alike"
    if same_street and alike >= 85:
        return f"same street address, names {alike:.0f} % alike"
    return ""


def _shared(a: Record, b: Record) -> str:
    """An identifier both records carry: what a person would check before creating a copy."""
    free = {d for ds in FREE_MAIL.values() for d in ds}
    ea, eb = a["email"].lower(), b["email"].lower()
    if ea and ea == eb:
        return "email"
    if _digits(a["phone"]) and _digits(a["phone"]) == _digits(b["phone"]):
        return "phone"

    def domains(r: Record) -> set[str]:
        site = re.sub(r"^(https?://)?(www\.)?", "", r["website"].lower())
        return {r["email"].lower().partition("@")[2], site} - free - {""}

    if domains(a) & domains(b):
        return "company domain"

    def street(r: Record) -> tuple[str, ...]:
        return tuple(re.findall(r"[a-z0-9]+", r["line1"].lower())[:2])

    if a["line1"] and street(a) == street(b) and not a["line1"].upper().startswith("PO BOX"):
        return "street address"
    if a["tax_id"] and re.sub(r"\D", "", a["tax_id"]) == re.sub(r"\D", "", b["tax_id"]):
        return "tax ID"
    return ""


def examine(name: str, examples: int = 6) -> None:
    import linkage

    books, crm, truth = SETS[name]()
    outcome = linkage.run_syncfirm(books, crm, truth)
    matcher = outcome.extra["matcher"]
    decisions = {d.party.external_id: d for d in outcome.extra["decisions"]}
    by_id = {r["id"]: r for r in books}
    new_of = {}

    every = [r["id"] for r in books]

    def explain(crm_rec: Record, books_rec: Record) -> str:
        """The same model's decision with every other customer taken: the true partner's
        own probability."""
        others = [i for i in every if i != books_rec["id"]]
        d = matcher.match(linkage.party(crm_rec), taken=others)
        return f"{d.kind} p={d.probability:.4f}: {d.reason}"

    pair_rows: dict[str, list[int]] = {}  # tag -> [n, sure right, sure wrong, near, miss]
    new_rows: dict[str, list[int]] = {}  # tag -> [n, sure, near, created]
    wrong, dupes, reviews, new_sure = [], [], [], []
    for rec in crm:
        d = decisions[rec["id"]]
        got = d.candidate.external_id if d.candidate else None
        if rec["id"] in truth:
            partner = by_id[truth[rec["id"]]]
            tags = sorted(set(rec["_tags"]) | set(partner["_tags"]))
            tags = [t for t in tags if not t.startswith(("franchise:", "looks like"))]
            col = (
                (1 if got == partner["id"] else 2)
                if d.kind == "sure"
                else (3 if d.kind == "near" else 4)
            )
            for t in [*tags, "(all)", f"({rec['_kind']})"]:
                row = pair_rows.setdefault(t, [0] * 5)
                row[0] += 1
                row[col] += 1
            if col == 2:
                wrong.append((rec, by_id[got], partner, d))
            elif col == 4:
                dupes.append((rec, partner, d, tags))
            elif col == 3 and (why := _obvious(rec, partner)):
                reviews.append((rec, partner, d, why, tags))
        else:
            kind = next((t for t in rec["_tags"] if t.startswith("lookalike:")), "plain new")
            col = {"sure": 1, "near": 2}.get(d.kind, 3)
            for t in (kind, "(all new)"):
                row = new_rows.setdefault(t, [0] * 4)
                row[0] += 1
                row[col] += 1
            if col == 1:
                new_sure.append((rec, by_id[got], d, kind))
            new_of[rec["id"]] = kind
    print(f"## {name}: true pairs by error process (tags of either record)\n")
    print("| process | pairs | sure right | sure wrong | review | created (duplicate) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for t, (n, right, bad, near, miss) in sorted(
        pair_rows.items(), key=lambda kv: -kv[1][4] / kv[1][0]
    ):
        if n >= 5:
            share = f"{miss} ({miss / n:.0%})"
            print(f"| {t} | {n} | {right / n:.2f} | {bad} | {near / n:.2f} | {share} |")
    print("\n| new CRM record | records | sure-linked (wrong) | review | created |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for t, (n, sure, near, created) in sorted(new_rows.items()):
        print(f"| {t} | {n} | {sure} | {near} | {created / n:.2f} |")
    rng = random.Random(1)  # noqa: S311

    def show(title: str, items: list, render) -> None:
        print(f"\n### {title}: {len(items)}\n")
        groups: dict[str, list] = {}
        for item in items:
            groups.setdefault(render(item)[0], []).append(item)
        for cause, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print(f"- **{cause}** ({len(members)})")
            for item in rng.sample(members, min(examples, len(members))):
                for line in render(item)[1]:
                    print(f"    {line}")

    show("Wrong sure links to a new record's lookalike", new_sure,
         lambda x: (x[3], [f"CRM   {_short(x[0])}", f"books {_short(x[1])}",
                           f"  -> sure p={x[2].probability:.3f}: {x[2].reason}"]))  # fmt: skip
    show("Wrong sure links between two customers who both exist", wrong,
         lambda x: (_cause(x[0], x[2]), [f"CRM   {_short(x[0])}", f"linked {_short(x[1])}",
                    f"truth {_short(x[2])}",
                    f"  -> sure p={x[3].probability:.3f}: {x[3].reason}"]))  # fmt: skip
    # a number in one name only (an address in a job's name, a numbered company against its
    # operating name, an OCR 8 for a B): how such pairs end
    digits = {"sure": 0, "near": 0, "miss": 0}
    for rec in crm:
        if rec["id"] in truth:
            partner = by_id[truth[rec["id"]]]
            names = [r["name"] or f"{r['given_name']} {r['family_name']}" for r in (rec, partner)]
            if all(names) and set(re.findall(r"\d+", names[0])) != set(
                re.findall(r"\d+", names[1])
            ):
                digits[decisions[rec["id"]].kind] += 1
    print(f"\nTrue pairs whose names carry different numbers: {digits}")
    checkable = sum(bool(_shared(x[0], x[1])) for x in dupes)
    print(f"\n{checkable} of {len(dupes)} duplicates share an email, phone, company domain, "
          "street address or tax ID with their books record; the rest a person could only "
          "guess from the name")  # fmt: skip
    show("True pairs created as new (duplicates in the books)", dupes,
         lambda x: (_cause(x[0], x[1]), [f"CRM   {_short(x[0])}", f"books {_short(x[1])}",
                    f"  tags: {', '.join(x[3])}; shared: {_shared(x[0], x[1]) or 'nothing'}",
                    f"  -> decided {x[2].kind}: {x[2].reason}",
                    f"  -> against the true partner alone: {explain(x[0], x[1])}"]))  # fmt: skip
    show("True pairs sent to review that a person would call obvious", reviews,
         lambda x: (x[3].split(",")[0], [f"CRM   {_short(x[0])}", f"books {_short(x[1])}",
                    f"  tags: {', '.join(x[4])}",
                    f"  -> near p={x[2].probability:.3f}: {x[2].reason}"]))  # fmt: skip


def _cause(crm_rec: Record, books_rec: Record) -> str:
    """The most telling error process of a pair, for grouping examples."""
    tags = set(crm_rec["_tags"]) | set(books_rec["_tags"])
    for t in ("only a name", "dba/operating name", "married name", "moved", "new phone",
              "job by address", "Residence", "couple", "truncated at 30", "truncated at 41",
              "given/family swapped", "nickname", "Family, Given", "OCR", "typo",
              "abbreviated", "legal form dropped", "ALL CAPS"):  # fmt: skip
        if t in tags:
            return t
    return "other: " + (crm_rec["_kind"])


if __name__ == "__main__":
    import argparse
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    parser = argparse.ArgumentParser(description="syncfirm's decisions on an unseen set")
    parser.add_argument("--examine", nargs="+", choices=list(SETS), default=["unseen-small-us"])
    parser.add_argument("--examples", type=int, default=6)
    for set_name in parser.parse_args().examine:
        examine(set_name, parser.parse_args().examples)
