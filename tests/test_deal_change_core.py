"""What counts as a change of an invoiced deal, and which changes the deal itself settles:
the pure core of `sync.invoicing` (no HTTP, no database)."""

from decimal import Decimal

from connections.records import Deal, DealLine, Invoice, InvoiceLine, Money
from sync import invoicing

FRAMING = DealLine("1", "Framing", "FR-1", quantity=Decimal(1), unit_price=Decimal("1500"))
DRYWALL = DealLine("2", "Drywall", "DW-1", quantity=Decimal(1), unit_price=Decimal("900"))
PAINTING = DealLine("3", "Painting", "PT-1", quantity=Decimal(1), unit_price=Decimal("900"))


def deal(*lines: DealLine, amount: str = "") -> Deal:
    money = Money(Decimal(amount), "USD") if amount else None
    return Deal("7", "Kitchen", "closedwon", amount=money, currency="USD", lines=lines)


def test_it_ignores_line_order_ids_and_how_numbers_are_written():
    again = DealLine("9", "Drywall", "DW-1", quantity=Decimal("1.0"), unit_price=Decimal("900.00"))
    first = deal(FRAMING, DRYWALL, amount="2400")
    assert invoicing.deal_fingerprint(first) == invoicing.deal_fingerprint(
        deal(again, FRAMING, amount="2400.00")
    )
    assert invoicing.compare(invoicing.snapshot(first), deal(again, FRAMING, amount="2400")) is None


def test_it_a_line_added_with_the_amount_untouched_is_settled_by_the_deal():
    kept = invoicing.snapshot(deal(FRAMING, DRYWALL, amount="3300"))
    change = invoicing.compare(kept, deal(FRAMING, DRYWALL, PAINTING, amount="3300"))
    assert change.added == ("Painting: 1 x 900.00 USD",) and not change.removed
    assert change.total_before == Decimal("2400.00") and change.total_now == Decimal("3300.00")
    assert change.correctable
    assert change.counts_words() == "1 line added"


def test_it_a_changed_price_reads_as_one_changed_line():
    kept = invoicing.snapshot(deal(FRAMING, DRYWALL))
    dearer = DealLine("2", "Drywall", "DW-1", quantity=Decimal(1), unit_price=Decimal("950"))
    change = invoicing.compare(kept, deal(FRAMING, dearer))
    assert change.changed == ("Drywall: 1 x 900.00 USD → 1 x 950.00 USD",)
    assert not change.added and not change.removed and change.correctable


def test_it_an_amount_raised_alone_is_for_a_person():
    kept = invoicing.snapshot(deal(FRAMING, DRYWALL, amount="2400"))
    change = invoicing.compare(kept, deal(FRAMING, DRYWALL, amount="2880"))
    assert change is not None and not change.lines_changed and not change.correctable
    assert "the lines do not say which is right" in change.reason("SF-7")


def test_it_lines_and_amount_moving_apart_are_for_a_person():
    kept = invoicing.snapshot(deal(FRAMING, DRYWALL, amount="2400"))
    change = invoicing.compare(kept, deal(FRAMING, DRYWALL, PAINTING, amount="2500"))
    assert change.lines_changed and not change.correctable
    assert "which is not what its lines add up to" in change.reason("SF-7")


def test_it_history_is_held_against_the_invoice_total_alone():
    assert invoicing.compare({}, deal(FRAMING, DRYWALL), Decimal("2400.00")) is None
    change = invoicing.compare({}, deal(FRAMING, DRYWALL, PAINTING), Decimal("2400.00"))
    assert change.lines_before is None and change.total_now == Decimal("3300.00")


def test_it_tells_an_invoice_edited_in_the_books():
    first = deal(FRAMING, DRYWALL)
    drafted = invoicing.InvoiceDraft(
        "7", "C1", "SF-7", None, None, "USD",
        (invoicing.DraftLine("I1", "Framing", Decimal(1), Decimal(1500), Decimal("1500.00")),
         invoicing.DraftLine("I2", "Drywall", Decimal(1), Decimal(900), Decimal("900.00"))),
        Decimal("2400.00"), "",
    )  # fmt: skip
    kept = invoicing.snapshot(first, drafted)

    def invoice(*amounts: tuple[str, str]) -> Invoice:
        lines = tuple(InvoiceLine(i, Decimal(1), Decimal(a), Decimal(a)) for i, a in amounts)
        total = sum((Decimal(a) for _, a in amounts), Decimal(0))
        return Invoice("1", "SF-7", "C1", Money(total, "USD"), Money(total, "USD"), lines=lines)

    assert not invoicing.books_edited(kept, invoice(("I2", "900.00"), ("I1", "1500.00")))
    assert invoicing.books_edited(kept, invoice(("I1", "1600.00"), ("I2", "900.00")))
