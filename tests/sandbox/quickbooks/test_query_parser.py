"""The QBO query language parser (pure)."""

from decimal import Decimal

import pytest

from sandbox.quickbooks.query import Condition, QuerySyntaxError, like_regex, parse


def test_it_parses_what_all_sends():
    q = parse("SELECT * FROM Customer MAXRESULTS 100")
    assert (q.entity, q.max_results, q.start_position, q.conditions) == ("Customer", 100, 1, ())


def test_it_parses_where_orderby_and_paging():
    q = parse(
        "SELECT * FROM Customer WHERE Active = true ORDERBY DisplayName "
        "STARTPOSITION 11 MAXRESULTS 10"
    )
    assert q.conditions == (Condition("Active", "=", True),)
    assert (q.order_by, q.descending, q.start_position, q.max_results) == (
        "DisplayName",
        False,
        11,
        10,
    )


def test_it_accepts_order_by_in_two_words_and_desc():
    q = parse("select * from Invoice order by TxnDate DESC")
    assert (q.order_by, q.descending) == ("TxnDate", True)


def test_it_unescapes_backslash_quotes_and_reads_in_lists():
    q = parse("SELECT * FROM Customer WHERE DisplayName = 'O\\'Brien' AND Id IN ('1', '2')")
    assert q.conditions == (
        Condition("DisplayName", "=", "O'Brien"),
        Condition("Id", "in", ("1", "2")),
    )


def test_it_reads_counts_numbers_and_extra_fields():
    assert parse("SELECT COUNT(*) FROM Invoice WHERE TotalAmt > 300.50").conditions == (
        Condition("TotalAmt", ">", Decimal("300.50")),
    )
    assert parse("SELECT *, Sku FROM Item").extra_fields == ("Sku",)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM Customer WHERE Id = '1' OR Id = '2'",
        "SELECT Id FROM Customer",
        "SELECT * FROM Customer MAXRESULTS 1001",
        "SELECT * FROM Customer STARTPOSITION 0",
        "SELECT * FROM Customer WHERE DisplayName LIKE 5",
        "DELETE FROM Customer",
        "SELECT * FROM Customer WHERE Name = 'unterminated",
    ],
)
def test_it_refuses_what_qbo_refuses(text):
    with pytest.raises(QuerySyntaxError):
        parse(text)


def test_it_matches_like_with_percent_only():
    assert like_regex("O%").match("o'brien")
    assert like_regex("%Roof%").match("Hartley Roofing")
    assert not like_regex("Roof_").match("Roofs")
