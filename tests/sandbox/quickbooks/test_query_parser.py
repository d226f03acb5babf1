"""The QBO query language parser (pure)."""

from decimal import Decimal

import pytest

from sandbox.quickbooks.query import Condition, QuerySyntaxError, parse


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
        "SELECT * FROM Customer ORDER DisplayName",
        "SELECT * FROM Customer MAXRESULTS 10 extra",
        "SELECT * FROM Customer MAXRESULTS 2.5",
        "SELECT * FROM Customer WHERE Id IN ()",
        "SELECT * FROM Customer WHERE",
        "SELECT COUNT(Id) FROM Customer",
    ],
)
def test_it_refuses_what_qbo_refuses(text):
    with pytest.raises(QuerySyntaxError):
        parse(text)


def test_it_reads_operators_negative_numbers_and_booleans():
    q = parse(
        "SELECT * FROM Invoice WHERE Balance != '0' AND TotalAmt <> -5 AND TotalAmt <= 10 "
        "AND TotalAmt >= 1.5 AND TxnDate < '2026-01-01' AND Active = false"
    )
    assert [(c.op, c.value) for c in q.conditions] == [
        ("!=", "0"),
        ("!=", Decimal("-5")),
        ("<=", Decimal("10")),
        (">=", Decimal("1.5")),
        ("<", "2026-01-01"),
        ("=", False),
    ]


def test_it_reads_escaped_backslashes_and_a_trailing_semicolon():
    q = parse("SELECT * FROM Customer WHERE DisplayName = 'a\\\\b';")
    assert q.conditions == (Condition("DisplayName", "=", "a\\b"),)


def test_it_reads_nested_fields_and_orders_by_them():
    q = parse(
        "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2026-01-01T00:00:00-07:00' "
        "ORDERBY MetaData.LastUpdatedTime DESC MAXRESULTS 1000"
    )
    assert q.conditions[0].field == "MetaData.LastUpdatedTime"
    assert (q.order_by, q.descending, q.max_results) == ("MetaData.LastUpdatedTime", True, 1000)
