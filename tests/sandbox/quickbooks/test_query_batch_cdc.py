"""Queries, batch and change data capture, as python-quickbooks sends them."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from sandbox.emulation import FaultPlan
from tests.sandbox.conftest import sandbox_db

from .conftest import customer, invoice, service_item

pytestmark = sandbox_db


def new_customers(names: list[str]) -> list[Customer]:
    made = []
    for name in names:
        c = Customer()
        c.DisplayName = name
        made.append(c)
    return made


def test_it_pages_with_startposition_and_maxresults(qbo):
    result = batch_create(new_customers([f"Customer {n:02}" for n in range(25)]), qb=qbo)
    assert len(result.successes) == 25 and not result.faults
    first = Customer.where("", order_by="DisplayName", start_position=1, max_results=10, qb=qbo)
    third = Customer.where("", order_by="DisplayName", start_position=21, max_results=10, qb=qbo)
    assert [c.DisplayName for c in first][:2] == ["Customer 00", "Customer 01"]
    assert len(third) == 5
    assert Customer.where("", start_position=26, max_results=10, qb=qbo) == []
    assert Customer.count(qb=qbo) == 25


def test_it_filters_with_like_in_and_quotes(qbo):
    batch_create(new_customers(["O'Brien Roofing", "O'Neil Decks", "Adams Paving"]), qb=qbo)
    found = Customer.filter(DisplayName="O'Brien Roofing", qb=qbo)
    assert [c.DisplayName for c in found] == ["O'Brien Roofing"]
    liked = Customer.where("DisplayName LIKE 'O%'", qb=qbo)
    assert sorted(c.DisplayName for c in liked) == ["O'Brien Roofing", "O'Neil Decks"]
    ids = [c.Id for c in liked]
    chosen = Customer.choose(ids, qb=qbo)
    assert sorted(c.Id for c in chosen) == sorted(ids)
    desc = Customer.where("", order_by="DisplayName DESC", qb=qbo)
    assert desc[0].DisplayName == "O'Neil Decks"


def test_it_filters_on_amounts_and_references(qbo):
    who, other, item = customer(qbo, "Big Spender"), customer(qbo, "Small Fry"), service_item(qbo)
    invoice(qbo, who, item, qty="10", price="100.00")
    invoice(qbo, other, item, qty="1", price="10.00")
    big = Invoice.where("TotalAmt > '500'", qb=qbo)
    assert [i.CustomerRef.value for i in big] == [who.Id]
    mine = Invoice.where(f"CustomerRef = '{other.Id}'", qb=qbo)
    assert [i.TotalAmt for i in mine] == [10]
    assert Invoice.count("TotalAmt >= '10'", qb=qbo) == 2


def test_it_hides_inactive_names_unless_asked(qbo):
    gone = customer(qbo, "Gone Away")
    gone.Active = False
    gone.save(qb=qbo)
    customer(qbo, "Still Here")
    assert [c.DisplayName for c in Customer.all(qb=qbo)] == ["Still Here"]
    assert len(Customer.where("Active IN (true, false)", qb=qbo)) == 2


def test_it_refuses_a_malformed_query(qbo):
    with pytest.raises(ValidationException) as error:
        Customer.where("DisplayName = 'a' OR Id = '1'", qb=qbo)
    assert error.value.error_code == 4000


def test_it_answers_a_batch_item_by_item_with_faults(qbo):
    customer(qbo, "Taken Name")
    result = batch_create(new_customers(["Fresh One", "Taken Name", "Fresh Two"]), qb=qbo)
    assert sorted(c.DisplayName for c in result.successes) == ["Fresh One", "Fresh Two"]
    assert len(result.faults) == 1
    assert result.faults[0].Error[0].code == "6240"


def test_it_refuses_a_batch_over_30_items(qbo, sandbox_url):
    items = [
        {"bId": str(n), "operation": "create", "Customer": {"DisplayName": f"C{n}"}}
        for n in range(31)
    ]
    response = requests.post(
        f"{sandbox_url}/quickbooks/v3/company/{qbo.realm['realm_id']}/batch",
        json={"BatchItemRequest": items},
        headers={"Authorization": f"Bearer {qbo.realm['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["code"] == "1040"


def test_it_reports_changes_and_deletions_through_cdc(qbo):
    since = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    who, item = customer(qbo), service_item(qbo)
    kept = invoice(qbo, who, item)
    dropped = invoice(qbo, who, item)
    Invoice.get(dropped.Id, qb=qbo).delete(qb=qbo)
    changes = change_data_capture([Invoice, Customer], since, qb=qbo)
    invoices = {i.Id: i for i in changes.Invoice}
    assert kept.Id in invoices and dropped.Id in invoices
    assert invoices[dropped.Id].status == "Deleted"
    assert [c.Id for c in changes.Customer] == [who.Id]


def test_it_refuses_cdc_older_than_30_days(qbo):
    long_ago = (datetime.now(UTC) - timedelta(days=31)).strftime("%Y-%m-%d")
    with pytest.raises(QuickbooksException):
        change_data_capture([Invoice], long_ago, qb=qbo)


def api_post(qbo, sandbox_url: str, path: str, body: dict, **params) -> requests.Response:
    return requests.post(
        f"{sandbox_url}/quickbooks/v3/company/{qbo.realm['realm_id']}/{path}",
        params={"minorversion": "75", **params},
        json=body,
        headers={"Authorization": f"Bearer {qbo.realm['access_token']}"},
        timeout=10,
    )


def test_it_replays_a_repeated_requestid_without_creating_twice(qbo, sandbox_url):
    first = new_customers(["Once Only"])[0].save(qb=qbo, request_id="req-123")
    again = new_customers(["Once Only"])[0].save(qb=qbo, request_id="req-123")
    assert again.Id == first.Id
    assert again.MetaData["CreateTime"] == first.MetaData["CreateTime"]
    assert Customer.count("DisplayName = 'Once Only'", qb=qbo) == 1
    body = {"DisplayName": "Raw Replay"}
    one = api_post(qbo, sandbox_url, "customer", body, requestid="raw-1")
    two = api_post(qbo, sandbox_url, "customer", body, requestid="raw-1")
    assert one.status_code == two.status_code == 200
    assert one.content == two.content, "the very first answer, time stamp included"
    other = api_post(qbo, sandbox_url, "customer", {"DisplayName": "Other"}, requestid="raw-2")
    assert other.json()["Customer"]["Id"] != one.json()["Customer"]["Id"]


def test_it_replays_a_batch_with_a_repeated_requestid(qbo, sandbox_url):
    batch = {
        "BatchItemRequest": [
            {"bId": "b1", "operation": "create", "Customer": {"DisplayName": "Batch Once"}}
        ]
    }
    one = api_post(qbo, sandbox_url, "batch", batch, requestid="batch-1")
    two = api_post(qbo, sandbox_url, "batch", batch, requestid="batch-1")
    assert one.content == two.content
    assert "Customer" in one.json()["BatchItemResponse"][0]
    assert Customer.count("DisplayName = 'Batch Once'", qb=qbo) == 1


def test_it_lets_a_client_retry_a_lost_response_safely_with_its_requestid(qbo, monkeypatch):
    from sandbox import emulation

    monkeypatch.setattr(
        emulation, "fault_plan", lambda system, account: FaultPlan(drop_after_commit_rate=1.0)
    )
    with pytest.raises((requests.ConnectionError, QuickbooksException)):
        new_customers(["Lost Reply"])[0].save(qb=qbo, request_id="retry-1")
    monkeypatch.undo()
    retried = new_customers(["Lost Reply"])[0].save(qb=qbo, request_id="retry-1")
    assert retried.Id and retried.DisplayName == "Lost Reply"
    assert Customer.count("DisplayName = 'Lost Reply'", qb=qbo) == 1


def test_it_runs_a_repeated_requestid_again_when_the_fault_plan_ignores_it(
    qbo, sandbox_url, monkeypatch
):
    from sandbox.quickbooks import api_views

    plan = FaultPlan(ignore_requestid=True)
    monkeypatch.setattr(api_views, "fault_plan", lambda system, account: plan)
    item = service_item(qbo)
    who = customer(qbo)
    first = invoice(qbo, who, item)
    again = Invoice.get(first.Id, qb=qbo)
    again.Id, again.SyncToken, again.DocNumber = None, 0, ""
    a = again.save(qb=qbo, request_id="dup-1")
    again.Id = None
    b = again.save(qb=qbo, request_id="dup-1")
    assert a.Id != b.Id, "the sandbox created a second invoice, as real QBO sometimes does"
    assert Invoice.count(qb=qbo) == 3


def test_it_runs_each_batch_operation_and_answers_by_bid(qbo, sandbox_url):
    who, item = customer(qbo, "Batch Buyer"), service_item(qbo)
    doomed, voided, kept = (invoice(qbo, who, item, qty="1", price="5.00") for _ in range(3))
    items = [
        {"bId": "upd", "operation": "update", "Customer": {
            "Id": who.Id, "SyncToken": who.SyncToken, "sparse": True, "CompanyName": "BB Ltd"}},
        {"bId": "del", "operation": "delete", "Invoice": {"Id": doomed.Id, "SyncToken": "0"}},
        {"bId": "void", "operation": "update", "optionsData": "void",
         "Invoice": {"Id": voided.Id, "SyncToken": "0"}},
        {"bId": "stale", "operation": "update", "Invoice": {
            "Id": kept.Id, "SyncToken": "7", "sparse": True, "PrivateNote": "late"}},
        {"bId": "q", "Query": f"SELECT * FROM Invoice WHERE Id = '{kept.Id}'"},  # noqa: S608 - QBO query text sent to the emulator, not SQL
        {"bId": "bad", "Query": "SELECT FROM"},
    ]  # fmt: skip
    response = api_post(qbo, sandbox_url, "batch", {"BatchItemRequest": items})
    answers = {a["bId"]: a for a in response.json()["BatchItemResponse"]}
    assert answers["upd"]["Customer"]["CompanyName"] == "BB Ltd"
    assert answers["upd"]["Customer"]["DisplayName"] == "Batch Buyer", "sparse keeps the rest"
    assert answers["del"]["Invoice"]["status"] == "Deleted"
    assert answers["void"]["Invoice"]["TotalAmt"] == 0
    assert answers["stale"]["Fault"]["Error"][0]["code"] == "5010"
    assert answers["q"]["QueryResponse"]["Invoice"][0]["Id"] == kept.Id
    assert answers["bad"]["Fault"]["Error"][0]["code"] == "4000"
    assert Invoice.get(kept.Id, qb=qbo).PrivateNote != "late"


def test_it_throttles_past_the_per_minute_limit(make_company, sandbox_url, monkeypatch):
    from sandbox.quickbooks import ratelimit

    monkeypatch.setattr(ratelimit, "PER_MINUTE", 5)
    company = make_company()
    realm = company["realm_id"]
    url = f"{sandbox_url}/quickbooks/v3/company/{realm}/companyinfo/{realm}"
    headers = {"Authorization": f"Bearer {company['access_token']}"}
    statuses = [requests.get(url, headers=headers, timeout=10).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = requests.get(url, headers=headers, timeout=10).json()
    assert limited["Fault"]["Error"][0]["code"] == "3001"
    assert limited["Fault"]["type"] == "SERVICE"


def test_it_meters_each_batch_item_as_a_call(make_company, sandbox_url, monkeypatch):
    from sandbox.quickbooks import ratelimit

    monkeypatch.setattr(ratelimit, "PER_MINUTE", 5)
    company = make_company()
    url = f"{sandbox_url}/quickbooks/v3/company/{company['realm_id']}/batch"
    headers = {"Authorization": f"Bearer {company['access_token']}"}

    def batch_of(size: int) -> requests.Response:
        items = [{"bId": str(n), "Query": "SELECT * FROM Customer"} for n in range(size)]
        return requests.post(url, json={"BatchItemRequest": items}, headers=headers, timeout=10)

    assert batch_of(3).status_code == 200
    refused = batch_of(3)
    assert refused.status_code == 429
    assert refused.json()["Fault"]["Error"][0]["code"] == "3001"
    assert batch_of(2).status_code == 200, "a refused batch used up nothing"


def test_it_throttles_past_the_batch_limit(make_company, sandbox_url, monkeypatch):
    from sandbox.quickbooks import ratelimit

    monkeypatch.setattr(ratelimit, "BATCH_PER_MINUTE", 2)
    company = make_company()
    url = f"{sandbox_url}/quickbooks/v3/company/{company['realm_id']}/batch"
    headers = {"Authorization": f"Bearer {company['access_token']}"}
    body = {"BatchItemRequest": [{"bId": "1", "Query": "SELECT * FROM Customer"}]}
    statuses = [
        requests.post(url, json=body, headers=headers, timeout=10).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_it_forces_throttle_bursts_when_the_fault_plan_says(qbo, monkeypatch):
    from quickbooks.exceptions import ValidationException

    from sandbox import emulation

    monkeypatch.setattr(emulation, "fault_plan", lambda system, account: FaultPlan(throttle=True))
    codes = []
    for _ in range(emulation.THROTTLE_PERIOD):
        try:
            Customer.all(qb=qbo)
            codes.append(200)
        except ValidationException as error:
            codes.append(error.error_code)
    assert 3001 in codes and 200 in codes


def test_it_throttles_past_ten_concurrent_requests(make_company, sandbox_url, monkeypatch):
    import time

    from sandbox.quickbooks import api_views, ratelimit

    monkeypatch.setattr(ratelimit, "CONCURRENT", 2)
    slow_run = api_views.querying.run

    def slowly(*args, **kwargs):
        time.sleep(0.5)  # hold the request slot, as a slow query would
        return slow_run(*args, **kwargs)

    monkeypatch.setattr(api_views.querying, "run", slowly)
    company = make_company()
    url = f"{sandbox_url}/quickbooks/v3/company/{company['realm_id']}/query"
    headers = {
        "Authorization": f"Bearer {company['access_token']}",
        "Content-Type": "application/text",
    }
    statuses = []

    def ask() -> None:
        statuses.append(
            requests.post(
                url, data="SELECT * FROM Customer", headers=headers, timeout=10
            ).status_code
        )

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 429, 429]


def test_it_refuses_an_unknown_token(qbo, sandbox_url):
    from quickbooks.exceptions import AuthorizationException

    qbo.session.token = {"access_token": "forged", "token_type": "Bearer"}
    qbo.session.access_token = "forged"
    with pytest.raises(AuthorizationException):
        Customer.all(qb=qbo)
