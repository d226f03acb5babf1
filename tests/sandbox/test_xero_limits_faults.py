"""Xero rate limits and the sandbox's fault switches, as xero-python sees them."""

import pytest
import requests
import urllib3
from xero_python.accounting import AccountingApi, Contact, Contacts, Invoice, Invoices, LineItem
from xero_python.exceptions import HTTPStatusException, RateLimitException

from sandbox.xero import ratelimit
from sandbox.xero.models import Record
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def faults(sandbox_url: str, tenant: str, **plan) -> None:
    answer = requests.put(
        f"{sandbox_url}/control/faults",
        json={"system": "xero", "account": tenant, **plan},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def invoice(reference: str = "deal 1") -> Invoices:
    line = LineItem(description="Roof", quantity=1, unit_amount="100", tax_type="NONE")
    one = Invoice(
        type="ACCREC", contact=Contact(name="Ann Lee"), reference=reference, line_items=[line]
    )
    return Invoices(invoices=[one])


def contacts() -> Contacts:
    return Contacts(contacts=[Contact(name="Ann Lee")])


@pytest.fixture
def limited(sandbox_url, make_xero_org, xero_client) -> AccountingApi:
    org = make_xero_org()
    api = AccountingApi(xero_client(org), base_url=f"{sandbox_url}/xero/api.xro/2.0")
    api.tenant, api.org = org["tenant_id"], org
    return api


def test_it_counts_down_and_answers_429_with_retry_after_past_60_a_minute(limited):
    _, status, headers = limited.get_contacts(limited.tenant, _return_http_data_only=False)
    assert status == 200 and headers["X-MinLimit-Remaining"] == "59"
    assert headers["X-DayLimit-Remaining"] == "4999" and "X-AppMinLimit-Remaining" in headers
    for _ in range(59):
        limited.get_contacts(limited.tenant)
    # A POST: urllib3 under xero-python would sleep out Retry-After on a GET and retry.
    with pytest.raises(RateLimitException) as refused:
        limited.update_or_create_contacts(limited.tenant, contacts())
    assert refused.value.rate_limit == "minute"
    assert 0 < int(refused.value.headers["Retry-After"]) <= 60
    assert refused.value.headers["X-MinLimit-Remaining"] == "0"


def test_it_stops_an_organisation_at_its_daily_allowance(sandbox_url, limited):
    requests.patch(
        f"{sandbox_url}/control/xero/organisations/{limited.tenant}",
        json={"day_limit": 2},
        timeout=10,
    ).raise_for_status()
    limited.get_contacts(limited.tenant)
    limited.get_contacts(limited.tenant)
    with pytest.raises(RateLimitException) as refused:
        limited.update_or_create_contacts(limited.tenant, contacts())
    assert refused.value.rate_limit == "day"
    assert int(refused.value.headers["Retry-After"]) > 3600


@pytest.fixture
def fresh_windows():
    yield
    ratelimit._forget_all()


def test_it_allows_five_calls_at_once_per_organisation(fresh_windows):
    with ratelimit.admitted("t1", limited=True, day_limit=5000):
        holds = [ratelimit.admitted("t1", limited=True, day_limit=5000) for _ in range(4)]
        for hold in holds:
            hold.__enter__()
        with pytest.raises(ratelimit.Throttled) as refused:
            ratelimit.admitted("t1", limited=True, day_limit=5000).__enter__()
        assert refused.value.problem == "concurrent"
        with ratelimit.admitted("t2", limited=True, day_limit=5000):
            pass  # another organisation has its own slots
        for hold in holds:
            hold.__exit__(None, None, None)


def test_it_answers_a_server_fault_with_500_and_saves_nothing(sandbox_url, xero):
    faults(sandbox_url, xero.tenant, error_rate=1.0)
    with pytest.raises(HTTPStatusException) as raised:
        xero.create_invoices(xero.tenant, invoice())
    assert raised.value.status == 500
    assert Record.objects.filter(kind="Invoice").count() == 0


def test_it_throttles_with_retry_after_when_the_switch_is_on(sandbox_url, xero):
    faults(sandbox_url, xero.tenant, throttle=True)
    with pytest.raises(RateLimitException) as refused:
        xero.update_or_create_contacts(xero.tenant, contacts())
    assert refused.value.rate_limit == "minute" and refused.value.headers["Retry-After"]


def test_it_keeps_one_invoice_when_the_answer_is_lost_and_the_key_is_reused(sandbox_url, xero):
    faults(sandbox_url, xero.tenant, drop_after_commit_rate=1.0)
    # urllib3 under xero-python retries the cut PUT itself; the key makes each retry a replay.
    with pytest.raises((urllib3.exceptions.HTTPError, ConnectionError)):
        xero.create_invoices(xero.tenant, invoice(), idempotency_key="deal-1")
    faults(sandbox_url, xero.tenant)
    (again,) = xero.create_invoices(xero.tenant, invoice(), idempotency_key="deal-1").invoices
    assert [r.record_id for r in Record.objects.filter(kind="Invoice")] == [again.invoice_id]


def test_it_duplicates_the_invoice_when_the_key_is_ignored(sandbox_url, xero):
    faults(sandbox_url, xero.tenant, ignore_requestid=True)
    (first,) = xero.create_invoices(xero.tenant, invoice(), idempotency_key="deal-1").invoices
    (second,) = xero.create_invoices(xero.tenant, invoice(), idempotency_key="deal-1").invoices
    assert first.invoice_id != second.invoice_id
    assert (first.invoice_number, second.invoice_number) == ("INV-0001", "INV-0002")
