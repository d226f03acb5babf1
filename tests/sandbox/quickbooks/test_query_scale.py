"""Queries filter, sort and page in SQL, and answer the shapes python-quickbooks reads."""

import time
from datetime import timedelta
from decimal import Decimal

import requests
from django.utils import timezone
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

from sandbox.quickbooks import querying
from sandbox.quickbooks.models import Company, Entity
from tests.sandbox.conftest import sandbox_db

from .conftest import customer, invoice, service_item

pytestmark = sandbox_db
MANY = 5_000


def bulk_invoices(realm_id: str, count: int) -> None:
    """Invoices written straight to the store: the API would take minutes for this many."""
    company = Company.objects.get(realm_id=realm_id)
    now = timezone.now().replace(microsecond=0)  # QBO stamps to the second
    rows = []
    for n in range(1, count + 1):
        total = Decimal(n % 500) + Decimal("0.25")
        data = {
            "DocNumber": f"B-{n}",
            "TxnDate": "2026-01-01",
            "CustomerRef": {"value": str(n % 7 + 1)},
            "Line": [],
            "TotalAmt": total,
            "Balance": total if n % 2 else Decimal("0.00"),
        }
        rows.append(
            Entity(
                company=company,
                entity_type="Invoice",
                entity_id=100_000 + n,
                data=data,
                doc_number=data["DocNumber"],
                customer_ref=data["CustomerRef"]["value"],
                txn_date=data["TxnDate"],
                last_updated=now - timedelta(seconds=count - n),
            )
        )
    Entity.objects.bulk_create(rows, batch_size=5000)


def test_it_renders_only_the_requested_page_of_a_large_company(qbo, monkeypatch):
    bulk_invoices(qbo.realm["realm_id"], MANY)
    rendered = []
    real_render = querying.render
    monkeypatch.setattr(querying, "render", lambda row: rendered.append(1) or real_render(row))
    started = time.monotonic()
    page = Invoice.where(
        "Balance > '400' AND CustomerRef IN ('3', '4')",
        order_by="TotalAmt DESC",
        start_position=11,
        max_results=20,
        qb=qbo,
    )
    count = Invoice.count("Balance > '400' AND CustomerRef IN ('3', '4')", qb=qbo)
    elapsed = time.monotonic() - started
    assert len(page) == 20 and len(rendered) == 20
    amounts = [inv.TotalAmt for inv in page]
    assert amounts == sorted(amounts, reverse=True) and amounts[0] <= Decimal("499.25")
    assert all(inv.Balance > 400 and inv.CustomerRef.value in ("3", "4") for inv in page)
    expected = sum(1 for n in range(1, MANY + 1) if n % 2 and n % 500 > 400 and n % 7 + 1 in (3, 4))
    assert count == expected
    assert elapsed < 3, f"paged query over {MANY} invoices took {elapsed:.2f}s"


def test_it_filters_on_last_updated_time_and_pages_past_the_end(qbo):
    bulk_invoices(qbo.realm["realm_id"], 30)
    cutoff = Invoice.get("100020", qb=qbo).MetaData.LastUpdatedTime
    newer = Invoice.where(
        f"MetaData.LastUpdatedTime > '{cutoff}'", order_by="MetaData.LastUpdatedTime", qb=qbo
    )
    assert [inv.Id for inv in newer] == [str(100_000 + n) for n in range(21, 31)]
    assert Invoice.where("", start_position=31, max_results=10, qb=qbo) == []


def test_it_answers_a_get_query_and_the_exact_page_shape(qbo, sandbox_url):
    who, item = customer(qbo, "Shape Co"), service_item(qbo)
    invoice(qbo, who, item, doc="S-1")
    realm = qbo.realm["realm_id"]
    response = requests.get(
        f"{sandbox_url}/quickbooks/v3/company/{realm}/query",
        params={"query": "select * from Invoice where DocNumber = 'S-1'", "minorversion": "4"},
        headers={"Authorization": f"Bearer {qbo.realm['access_token']}"},
        timeout=10,
    )
    body = response.json()
    assert response.status_code == 200 and "time" in body
    assert set(body["QueryResponse"]) == {"Invoice", "startPosition", "maxResults"}
    assert body["QueryResponse"]["startPosition"] == 1
    assert body["QueryResponse"]["maxResults"] == 1
    assert body["QueryResponse"]["Invoice"][0]["TotalAmt"] == 300.0
    counted = requests.post(
        f"{sandbox_url}/quickbooks/v3/company/{realm}/query",
        data="SELECT COUNT(*) FROM Invoice",
        headers={
            "Authorization": f"Bearer {qbo.realm['access_token']}",
            "Content-Type": "application/text",
        },
        timeout=10,
    ).json()
    assert counted["QueryResponse"] == {"totalCount": 1}


def test_it_lists_items_with_the_sku_column_python_quickbooks_asks_for(qbo):
    service_item(qbo, "Gutter clean")
    assert [i.Name for i in Item.all(qb=qbo)] == ["Gutter clean"]
    assert [i.Name for i in Item.where("Name LIKE '%utter%'", qb=qbo)] == ["Gutter clean"]
    assert Item.where("Name LIKE 'utter%'", qb=qbo) == []
    assert Item.where("Name LIKE 'Gutter_clean'", qb=qbo) == [], "_ is not a wildcard in QBO"
    assert [i.Name for i in Item.where("Name LIKE 'GUTTER%'", qb=qbo)] == ["Gutter clean"]


def test_it_reads_entity_names_and_keywords_in_any_case(qbo, sandbox_url):
    customer(qbo, "Lower Case Co")
    response = requests.get(
        f"{sandbox_url}/quickbooks/v3/company/{qbo.realm['realm_id']}/query",
        params={"query": "select * from customer where displayname like 'lower%' orderby id"},
        headers={"Authorization": f"Bearer {qbo.realm['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    found = response.json()["QueryResponse"]["Customer"]
    assert [c["DisplayName"] for c in found] == ["Lower Case Co"]
