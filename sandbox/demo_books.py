"""The demo's sandbox books: a generated contractor's book, plus customers the CRM spells
another way than the books (the import must link them, never create them twice) and pairs a
person has to look at (the review queue then shows what each field counted).

Used by `serve_demo` (what `make demo` starts) and by the tests of that demo world.
"""

from dataclasses import dataclass

from hubspot import HubSpot
from quickbooks.objects.customer import Customer

from sandbox.generator import Book, Person, generate
from sandbox.seed_book import Written, quickbooks_client, write_book, write_book_on_xero

DEMO_INVOICES = 40

# In both systems, spelled as people do: the books' name first, then the CRM's.
RESPELLED = (
    Person("demo-C1", "Hartwell Roofing Incorporated", True, "office@hartwell-roofing.example",
           "+1 512 555 0301", "78731", crm_name="Hartwell Roofing Inc"),
    Person("demo-C2", "Delgado Construction", True, "office@delgado-construction.example",
           "+1 512 555 0302", "78732", crm_name="Delgado Const."),
    Person("demo-C3", "Kowalski Morgan Builders", True, "office@km-builders.example",
           "+1 512 555 0303", "78733", crm_name="Morgan Kowalski Builders"),
    Person("demo-C4", "Baker & Sons Plumbing", True, "office@bakerandsons.example",
           "+1 512 555 0304", "78734", crm_name="Baker and Sons Plumbing"),
    Person("demo-C5", "Nguyen Brothers Mechanical LLC", True, "office@nguyen-mech.example",
           "+1 512 555 0305", "78735", crm_name="Nguyen Bros. Mech."),
    Person("demo-C6", "Rosa Alvarez", False, "rosa.alvarez@home.example",
           "+1 512 555 0306", "78736", crm_email=""),  # the CRM has no email for her
)  # fmt: skip


@dataclass(frozen=True)
class Pair:
    """A customer of the books and a CRM company that may or may not be the same one."""

    books: dict  # QuickBooks customer fields
    crm: dict  # HubSpot company properties


# Genuinely ambiguous: one name once "Co" is dropped, one town, but another postal code and
# no phone to tell. A person decides.
AMBIGUOUS = (
    Pair(
        {"DisplayName": "Riverside Mechanical", "CompanyName": "Riverside Mechanical",
         "PrimaryPhone": {"FreeFormNumber": "+1 512 555 0307"},
         "BillAddr": {"City": "Austin", "PostalCode": "78704", "Country": "US"}},
        {"name": "Riverside Mechanical Co", "city": "Austin", "zip": "78745"},
    ),
)  # fmt: skip


def demo_book(number: int) -> Book:
    """The generated book of demo client `number`, with the respelled customers added (they
    have no jobs: the planted findings stay the generator's)."""
    book = generate(DEMO_INVOICES, seed=number)
    book.people.extend(RESPELLED)
    return book


def write_demo_book(
    number: int, base: str, name: str, books: str = "quickbooks"
) -> tuple[Book, Written]:
    """Demo client `number`'s books written into a new sandbox portal and company (a Xero
    organisation when `books` is "xero")."""
    book = demo_book(number)
    written = (write_book_on_xero if books == "xero" else write_book)(book, base, name)
    plant_ambiguous(book, written, base)
    return book, written


def plant_ambiguous(book: Book, written: Written, base: str) -> None:
    """The pairs a person decides: the ambiguous ones above, and a CRM company that is
    probably a customer already in the books (same name with "Co", another postal code)."""
    api = HubSpot(
        access_token=written.hubspot_tokens["access_token"], host=f"{base}/sandbox/hubspot"
    )
    for pair in AMBIGUOUS:
        _books_customer(written, base, pair.books)
        api.crm.companies.basic_api.create({"properties": pair.crm})
    company = next(p for p in book.people if p.is_company)
    api.crm.companies.basic_api.create(
        {"properties": {"name": f"{company.name} Co", "zip": "78799", "city": "Austin"}}
    )


def _books_customer(written: Written, base: str, fields: dict) -> None:
    """A customer of the demo's books, written as its own user would (QuickBooks fields)."""
    if written.books == "xero":
        from sandbox.xero.seed_book import xero_api

        address = fields.get("BillAddr", {})
        contact = {
            "Name": fields["DisplayName"],
            "Phones": [{"PhoneType": "DEFAULT",
                        "PhoneNumber": fields["PrimaryPhone"]["FreeFormNumber"]}],
            "Addresses": [{"AddressType": "POBOX", "City": address.get("City", ""),
                           "PostalCode": address.get("PostalCode", ""),
                           "Country": address.get("Country", "")}],
        }  # fmt: skip
        api = xero_api(base, written.quickbooks_tokens)
        api.create_contacts(written.realm_id, {"Contacts": [contact]}, _preload_content=False)
        return
    customer = Customer()
    for field, value in fields.items():
        setattr(customer, field, value)
    customer.save(qb=quickbooks_client(base, written.realm_id, written.quickbooks_tokens))


def write_jobber_audit_book(number: int, base: str, name: str) -> tuple[Book, Written]:
    """Demo client `number` as a contractor on Jobber whose own QuickBooks integration posts
    its invoices: the generated book's jobs and invoices in a new Jobber account, the books
    side (with the generator's planted problems) in a new QuickBooks company, posted the way
    such an integration does — its own number style, no note naming the CRM, credits filed
    under their job ("Job #7"). The answer key names each finding's Jobber invoice."""
    from sandbox.jobber.seed_book import job_number, write_jobber_book
    from sandbox.seed_book import _control, _write_quickbooks

    book = generate(DEMO_INVOICES, seed=number)
    for invoice in book.invoices:
        if invoice.deal_key:  # the integration's style: INV-1005 for Jobber's 1005
            invoice.doc_number = "INV-" + "".join(c for c in invoice.doc_number if c.isdigit())
    jobber = write_jobber_book(book, base, name)
    company = _control(base, "POST", "quickbooks/companies", {"name": name})
    realm = company["realm_id"]
    written = Written(realm, company, str(jobber.account_id), jobber.tokens)
    written.ids.update(jobber.ids)
    deals = {d.key: d for d in book.deals}
    _control(base, "PATCH", f"quickbooks/companies/{realm}", {"rate_limits": False})
    try:
        _write_quickbooks(
            book,
            quickbooks_client(base, realm, company),
            written,
            reference=lambda key: f"Job #{job_number(deals[key])}",
        )
    finally:
        _control(base, "PATCH", f"quickbooks/companies/{realm}", {"rate_limits": True})
    written.answer_key = [
        {
            "code": p.code,
            "amount": str(p.amount),
            "currency": "USD",
            # In an audit a finding is about the CRM's invoice, not a deal.
            "deal_id": written.ids.get(f"{p.deal_key}/invoice", ""),
            "invoice_ids": [written.ids[k] for k in p.invoice_keys if k in written.ids],
            "customer_id": written.ids.get(f"qbo:{p.customer_key}", ""),
        }
        for p in book.answer_key
    ]
    return book, written
