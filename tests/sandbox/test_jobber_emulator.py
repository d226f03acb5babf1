"""The Jobber emulator over HTTP with a plain GraphQL client (requests posting JSON):
OAuth and token rotation, the version header, Relay paging and encoded ids, query-cost
throttling, userErrors, signed webhooks, faults, and a generated book."""

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.conf import settings

from sandbox.consent import consent
from sandbox.generator import generate
from sandbox.jobber.seed_book import write_jobber_book
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db
REDIRECT = "http://127.0.0.1:9/callback"
VERSION = "2025-04-16"


class Jobber:
    """A minimal GraphQL client, as an integrator would write one."""

    def __init__(self, sandbox_url: str, access_token: str, version: str | None = VERSION):
        self.url = f"{sandbox_url}/jobber/api/graphql"
        self.headers = {"Authorization": f"Bearer {access_token}"}
        if version:
            self.headers["X-JOBBER-GRAPHQL-VERSION"] = version

    def post(self, query: str, variables: dict | None = None) -> requests.Response:
        return requests.post(
            self.url,
            json={"query": query, "variables": variables or {}},
            headers=self.headers,
            timeout=30,
        )

    def __call__(self, query: str, variables: dict | None = None) -> dict:
        answer = self.post(query, variables)
        assert answer.status_code == 200, answer.text
        return json.loads(answer.text, parse_float=Decimal)


def _book(sandbox_url: str, account: dict, doc: dict) -> dict:
    answer = requests.post(
        f"{sandbox_url}/control/jobber/accounts/{account['account_id']}/book", json=doc, timeout=30
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["ids"]


def _clients(n: int) -> dict:
    return {
        "clients": [{"key": f"c{i}", "first_name": f"Pat{i}", "last_name": "Lee"} for i in range(n)]
    }


def _token(sandbox_url: str, **fields) -> requests.Response:
    body = {
        "client_id": settings.JOBBER_CLIENT_ID,
        "client_secret": settings.JOBBER_CLIENT_SECRET,
        **fields,
    }
    return requests.post(f"{sandbox_url}/jobber/api/oauth/token", data=body, timeout=10)


def _claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# --- OAuth -------------------------------------------------------------------------------


def test_it_connects_through_consent_and_rotates_refresh_tokens(sandbox_url):
    query = urlencode(
        {
            "client_id": settings.JOBBER_CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "state": "st-7",
        }
    )
    location = consent(
        f"{sandbox_url}/jobber/api/oauth/authorize?{query}",
        "jobber",
        new_account_name="Hill Country Plumbing",
    )
    callback = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert callback["state"] == "st-7"

    first = _token(
        sandbox_url, grant_type="authorization_code", code=callback["code"], redirect_uri=REDIRECT
    )
    assert first.status_code == 200
    tokens = first.json()
    # Jobber answers no expires_in: the access token is a JWT that carries its expiry.
    assert set(tokens) == {"access_token", "refresh_token"}
    claims = _claims(tokens["access_token"])
    assert claims["exp"] - claims["iat"] == 3600

    jobber = Jobber(sandbox_url, tokens["access_token"])
    assert jobber("{ account { name } }")["data"]["account"]["name"] == "Hill Country Plumbing"

    # The code works once.
    again = _token(
        sandbox_url, grant_type="authorization_code", code=callback["code"], redirect_uri=REDIRECT
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    # A refresh hands out a new refresh token; the one used is dead at once.
    refreshed = _token(
        sandbox_url, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    reused = _token(sandbox_url, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    # The newest one still works, and JSON bodies are accepted too.
    body = {
        "client_id": settings.JOBBER_CLIENT_ID,
        "client_secret": settings.JOBBER_CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": new["refresh_token"],
    }
    as_json = requests.post(f"{sandbox_url}/jobber/api/oauth/token", json=body, timeout=10)
    assert as_json.status_code == 200
    assert Jobber(sandbox_url, as_json.json()["access_token"])("{ account { id } }")["data"]


def test_two_refreshes_racing_leave_exactly_one_winner(sandbox_url, make_jobber_account):
    account = make_jobber_account()
    answers: list[requests.Response] = []

    def refresh() -> None:
        answers.append(
            _token(sandbox_url, grant_type="refresh_token", refresh_token=account["refresh_token"])
        )

    racers = [threading.Thread(target=refresh) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert sorted(a.status_code for a in answers) == [200, 400]


def test_it_denies_consent_back_to_the_app(sandbox_url):
    query = urlencode(
        {"client_id": settings.JOBBER_CLIENT_ID, "redirect_uri": REDIRECT, "state": "s"}
    )
    location = consent(f"{sandbox_url}/jobber/api/oauth/authorize?{query}", "jobber", approve=False)
    assert parse_qs(urlsplit(location).query) == {"error": ["access_denied"], "state": ["s"]}


def test_it_returns_the_same_refresh_token_when_rotation_is_off(sandbox_url, make_jobber_account):
    account = make_jobber_account(refresh_token_rotation=False)
    answer = _token(sandbox_url, grant_type="refresh_token", refresh_token=account["refresh_token"])
    body = answer.json()
    assert body["refresh_token"] == account["refresh_token"]
    assert body["warning"].startswith("Refresh token rotation is off")


def test_it_wants_a_token_the_version_header_and_json(sandbox_url, make_jobber_account):
    account = make_jobber_account()
    no_token = Jobber(sandbox_url, "not-a-token").post("{ account { id } }")
    assert no_token.status_code == 401 and no_token.json()["error"] == "invalid_request"

    no_version = Jobber(sandbox_url, account["access_token"], version=None).post(
        "{ account { id } }"
    )
    assert no_version.status_code == 400
    assert "X-JOBBER-GRAPHQL-VERSION" in no_version.json()["errors"][0]["message"]

    form = requests.post(
        f"{sandbox_url}/jobber/api/graphql",
        data={"query": "{ account { id } }"},
        headers={
            "Authorization": f"Bearer {account['access_token']}",
            "X-JOBBER-GRAPHQL-VERSION": VERSION,
        },
        timeout=10,
    )
    assert form.status_code == 415

    # An unknown (removed) version is served as the oldest supported, with a warning.
    old = Jobber(sandbox_url, account["access_token"], version="2021-01-01")
    answer = old.post("{ account { id } }")
    assert answer.status_code == 200
    assert answer.headers["X-JOBBER-GRAPHQL-VERSION"] == "2023-11-15"
    assert "not supported" in answer.json()["extensions"]["versioning"]["warning"]


def test_app_disconnect_ends_every_token(sandbox_url, make_jobber_account):
    account = make_jobber_account()
    jobber = Jobber(sandbox_url, account["access_token"])
    done = jobber("mutation { appDisconnect { userErrors { message } } }")
    assert done["data"]["appDisconnect"]["userErrors"] == []
    assert jobber.post("{ account { id } }").status_code == 401
    refresh = _token(
        sandbox_url, grant_type="refresh_token", refresh_token=account["refresh_token"]
    )
    assert refresh.json()["error"] == "invalid_grant"


# --- paging and ids ----------------------------------------------------------------------


PAGE = """
query Page($first: Int, $after: String) {
  clients(first: $first, after: $after) {
    nodes { id name }
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""


def test_it_pages_clients_relay_style_with_encoded_ids(sandbox_url, make_jobber_account):
    account = make_jobber_account(rate_limits=False)
    _book(sandbox_url, account, _clients(5))
    jobber = Jobber(sandbox_url, account["access_token"])

    names, after, pages = [], None, 0
    while True:
        page = jobber(PAGE, {"first": 2, "after": after})["data"]["clients"]
        pages += 1
        assert page["totalCount"] == 5
        assert [e["node"]["id"] for e in page["edges"]] == [n["id"] for n in page["nodes"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        names += [n["name"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert names == [f"Pat{i} Lee" for i in range(5)]

    first = jobber(PAGE, {"first": 1})["data"]["clients"]["nodes"][0]["id"]
    assert base64.b64decode(first).decode().startswith("gid://Jobber/Client/")
    one = jobber("query($id: EncodedId!) { client(id: $id) { name } }", {"id": first})
    assert one["data"]["client"]["name"] == "Pat0 Lee"

    last_two = jobber("{ clients(last: 2) { nodes { name } pageInfo { hasPreviousPage } } }")
    assert [n["name"] for n in last_two["data"]["clients"]["nodes"]] == ["Pat3 Lee", "Pat4 Lee"]
    assert last_two["data"]["clients"]["pageInfo"]["hasPreviousPage"] is True


def test_it_sees_only_its_own_account(sandbox_url, make_jobber_account):
    mine, theirs = make_jobber_account("Mine"), make_jobber_account("Theirs")
    ids = _book(sandbox_url, theirs, _clients(1))
    jobber = Jobber(sandbox_url, mine["access_token"])
    assert jobber("{ clients { totalCount } }")["data"]["clients"]["totalCount"] == 0
    found = jobber("query($id: EncodedId!) { client(id: $id) { id } }", {"id": ids["c0"]})
    assert found["data"]["client"] is None


# --- query cost ----------------------------------------------------------------------------


def test_it_reports_query_cost_and_throttles_when_the_bucket_is_empty(
    sandbox_url, make_jobber_account
):
    account = make_jobber_account(maximum_available=60, restore_rate=1)
    _book(sandbox_url, account, _clients(3))
    jobber = Jobber(sandbox_url, account["access_token"])

    # 1 for clients, 10 x 2 for the nodes' fields; only 3 clients come back: 1 + 3 x 2.
    answer = jobber("{ clients(first: 10) { nodes { id name } } }")
    cost = answer["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 21
    assert cost["actualQueryCost"] == 7
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 60 and status["restoreRate"] == 1
    assert 53 <= status["currentlyAvailable"] <= 54

    # No page size: 100 assumed, far more than the bucket holds.
    refused = jobber("{ clients { nodes { id } } }")
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert refused["extensions"]["cost"]["requestedQueryCost"] == 101
    assert refused["extensions"]["cost"]["actualQueryCost"] == 0


def test_its_request_guard_answers_429(sandbox_url, make_jobber_account):
    account = make_jobber_account(request_limit=2)
    jobber = Jobber(sandbox_url, account["access_token"])
    assert [jobber.post("{ account { id } }").status_code for _ in range(3)] == [200, 200, 429]


# --- mutations ---------------------------------------------------------------------------


CREATE = """
mutation Create($input: ClientCreateInput!) {
  clientCreate(input: $input) {
    client { id name companyName isCompany emails { address primary } billingAddress { city } }
    userErrors { message path }
  }
}
"""


def test_client_create_and_edit_answer_user_errors(sandbox_url, make_jobber_account):
    account = make_jobber_account()
    jobber = Jobber(sandbox_url, account["access_token"])

    nameless = jobber(CREATE, {"input": {"emails": [{"address": "a@b.example"}]}})
    assert nameless["data"]["clientCreate"]["client"] is None
    assert nameless["data"]["clientCreate"]["userErrors"] == [
        {"message": "Client must have a first name, last name or company name", "path": ["input"]}
    ]

    bad_email = jobber(CREATE, {"input": {"companyName": "Acme", "emails": [{"address": "nope"}]}})[
        "data"
    ]["clientCreate"]
    assert bad_email["userErrors"][0]["path"] == ["input", "emails", "0", "address"]

    made = jobber(
        CREATE,
        {
            "input": {
                "companyName": "Acme Builders",
                "isCompany": True,
                "emails": [{"address": "office@acme.example", "primary": True}],
                "billingAddress": {"city": "Austin"},
            }
        },
    )["data"]["clientCreate"]
    assert made["userErrors"] == []
    assert made["client"]["name"] == "Acme Builders"
    assert made["client"]["billingAddress"] == {"city": "Austin"}

    edit = """
    mutation Edit($id: EncodedId!, $input: ClientEditInput!) {
      clientEdit(clientId: $id, input: $input) { client { name } userErrors { message path } }
    }
    """
    edited = jobber(edit, {"id": made["client"]["id"], "input": {"companyName": "Acme Homes"}})
    assert edited["data"]["clientEdit"] == {"client": {"name": "Acme Homes"}, "userErrors": []}
    unknown = base64.b64encode(b"gid://Jobber/Client/999999").decode()
    missing = jobber(edit, {"id": unknown, "input": {"companyName": "X"}})
    assert missing["data"]["clientEdit"]["userErrors"] == [
        {"message": "Client not found", "path": ["clientId"]}
    ]


# --- records -----------------------------------------------------------------------------


INVOICES = """
{
  invoices(first: 50) {
    nodes {
      invoiceNumber invoiceStatus subject
      amounts { subtotal total paymentsTotal invoiceBalance }
      lineItems(first: 10) { nodes { name quantity unitPrice totalPrice } }
      jobs(first: 1) { nodes { jobNumber title total billingType quote { quoteStatus } } }
      paymentRecords(first: 5) { nodes { amount adjustmentType } }
      client { name balance }
    }
  }
}
"""


def test_a_generated_book_reads_back_with_jobs_invoices_and_payments(sandbox_url):
    book = generate(12, seed=4)
    base = sandbox_url.removesuffix("/sandbox")
    written = write_jobber_book(book, base, "Generated Roofing")
    jobber = Jobber(sandbox_url, written.tokens["access_token"])
    nodes = jobber(INVOICES)["data"]["invoices"]["nodes"]

    won = [d for d in book.deals if d.stage == "closedwon"]
    assert len(nodes) == len(won)
    by_title = {n["jobs"]["nodes"][0]["title"]: n for n in nodes}
    for deal in won:
        invoice = by_title[deal.name]
        job = invoice["jobs"]["nodes"][0]
        assert job["total"] == deal.amount == invoice["amounts"]["total"]
        assert job["billingType"] == "FIXED_PRICE" and job["quote"]["quoteStatus"] == "converted"
        assert sum(line["totalPrice"] for line in invoice["lineItems"]["nodes"]) == deal.amount
        assert invoice["amounts"]["paymentsTotal"] == deal.amount_paid
        assert invoice["amounts"]["invoiceBalance"] == deal.amount - deal.amount_paid
        assert (invoice["invoiceStatus"] == "paid") == (deal.amount_paid == deal.amount)

    # A payment keyed in Jobber: the invoice is paid and the client owes that much less.
    open_one = next(n for n in nodes if n["invoiceStatus"] != "paid")
    invoice_id = jobber(
        "query($n: String) { invoices(filter: {invoiceNumber: $n}) { nodes { id } } }",
        {"n": open_one["invoiceNumber"]},
    )["data"]["invoices"]["nodes"][0]["id"]
    paid = requests.post(
        f"{sandbox_url}/control/jobber/accounts/{written.account_id}/payments",
        json={"invoice": invoice_id, "amount": str(open_one["amounts"]["invoiceBalance"])},
        timeout=10,
    )
    assert paid.status_code == 201 and paid.json()["invoice_status"] == "paid"
    # A refund is a positive amount of adjustment type REFUND: a negative one is refused.
    negative = requests.post(
        f"{sandbox_url}/control/jobber/accounts/{written.account_id}/payments",
        json={"invoice": invoice_id, "amount": "-200.00", "adjustment_type": "REFUND"},
        timeout=10,
    )
    assert negative.status_code == 400 and "greater than zero" in negative.text
    after = jobber(
        "query($id: EncodedId!) {"
        " invoice(id: $id) { amounts { invoiceBalance } client { balance } } }",
        {"id": invoice_id},
    )["data"]["invoice"]
    assert after["amounts"]["invoiceBalance"] == 0
    assert (
        after["client"]["balance"]
        == open_one["client"]["balance"] - open_one["amounts"]["invoiceBalance"]
    )


def test_the_book_refuses_float_money_and_unknown_statuses(sandbox_url, make_jobber_account):
    account = make_jobber_account()
    base = f"{sandbox_url}/control/jobber/accounts/{account['account_id']}/book"
    doc = {
        "clients": [{"key": "c", "first_name": "Al"}],
        "invoices": [{"key": "i", "client": "c", "lines": [{"name": "x", "unit_price": 9.99}]}],
    }
    floats = requests.post(base, json=doc, timeout=10)
    assert floats.status_code == 400 and "decimal string" in floats.json()["error"]
    doc["invoices"][0] |= {"lines": [], "invoice_status": "void"}
    status = requests.post(base, json=doc, timeout=10)
    assert status.status_code == 400 and "invoice_status" in status.json()["error"]


# --- webhooks ----------------------------------------------------------------------------


def _valid(body: bytes, signature: str) -> bool:
    key = settings.JOBBER_CLIENT_SECRET.encode()
    expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature)


class Receiver:
    """A webhook endpoint on loopback; `fail_first` answers 500 to that many deliveries."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: queue.Queue = queue.Queue()
        received, failures = self.received, [fail_first]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signed = _valid(body, self.headers.get("X-Jobber-Hmac-SHA256", ""))
                if failures[0] > 0:
                    failures[0] -= 1
                    status = 500
                else:
                    received.put((signed, json.loads(body)))
                    status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/jobber"

    def next(self) -> tuple[bool, dict]:
        return self.received.get(timeout=10)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_it_signs_webhooks_and_retries_a_failed_delivery(
    sandbox_url, make_jobber_account, receiver
):
    hook = receiver(fail_first=1)
    account = make_jobber_account(webhook_url=hook.url)
    jobber = Jobber(sandbox_url, account["access_token"])
    made = jobber(CREATE, {"input": {"firstName": "Dana", "lastName": "Ruiz"}})
    client_id = made["data"]["clientCreate"]["client"]["id"]

    signed, body = hook.next()  # the first try got a 500; this is the retry
    event = body["data"]["webHookEvent"]
    assert signed
    assert event["topic"] == "CLIENT_CREATE" and event["itemId"] == client_id
    assert (
        base64.b64decode(event["accountId"]).decode()
        == f"gid://Jobber/Account/{account['account_id']}"
    )
    assert event["appId"] == settings.JOBBER_CLIENT_ID and event["occurredAt"].endswith("Z")

    ids = _book(
        sandbox_url,
        account,
        {
            "clients": [{"key": "c", "company_name": "Bee Co", "is_company": True}],
            "invoices": [
                {"key": "i", "client": "c", "lines": [{"name": "Fix", "unit_price": "120.00"}]}
            ],
        },
    )
    topics = [hook.next()[1]["data"]["webHookEvent"] for _ in range(2)]
    assert [(t["topic"], t["itemId"]) for t in topics] == [
        ("CLIENT_CREATE", ids["c"]),
        ("INVOICE_CREATE", ids["i"]),
    ]
    deleted = requests.delete(
        f"{sandbox_url}/control/jobber/accounts/{account['account_id']}/records/{ids['i']}",
        timeout=10,
    )
    assert deleted.status_code == 204
    event = hook.next()[1]["data"]["webHookEvent"]
    assert (event["topic"], event["itemId"]) == ("INVOICE_DESTROY", ids["i"])


def test_webhooks_arrive_at_least_once_under_the_duplicate_fault(
    sandbox_url, make_jobber_account, receiver
):
    hook = receiver()
    account = make_jobber_account(webhook_url=hook.url)
    plan = {
        "system": "jobber",
        "account": str(account["account_id"]),
        "webhook_duplicate_rate": 1.0,
    }
    requests.put(f"{sandbox_url}/control/faults", json=plan, timeout=10).raise_for_status()
    Jobber(sandbox_url, account["access_token"])(CREATE, {"input": {"firstName": "Eli"}})
    first, second = hook.next()[1], hook.next()[1]
    assert first == second and first["data"]["webHookEvent"]["topic"] == "CLIENT_CREATE"


def test_the_fault_plan_answers_graphql_calls_with_server_errors(sandbox_url, make_jobber_account):
    account = make_jobber_account()
    plan = {"system": "jobber", "account": str(account["account_id"]), "error_rate": 1.0}
    requests.put(f"{sandbox_url}/control/faults", json=plan, timeout=10).raise_for_status()
    answer = Jobber(sandbox_url, account["access_token"]).post("{ account { id } }")
    assert answer.status_code == 500 and answer.json()["errors"]
    log = requests.get(
        f"{sandbox_url}/control/requests", params={"system": "jobber"}, timeout=10
    ).json()
    assert any(row["fault"] == "error" for row in log["requests"])


def test_updated_at_filters_give_an_incremental_read(sandbox_url, make_jobber_account):
    account = make_jobber_account()
    ids = _book(sandbox_url, account, _clients(2))
    jobber = Jobber(sandbox_url, account["access_token"])
    since = jobber("{ clients(first: 1) { nodes { updatedAt } } }")["data"]["clients"]["nodes"]
    mark = since[0]["updatedAt"]
    assert mark.endswith("Z")

    edit = """
    mutation($id: EncodedId!) {
      clientEdit(clientId: $id, input: {lastName: "Moved"}) { userErrors { message } }
    }
    """
    time.sleep(1.1)  # updatedAt has whole seconds on the wire
    jobber(edit, {"id": ids["c1"]})
    later = jobber("{ clients(first: 1) { nodes { updatedAt } } }")
    assert later["data"]["clients"]["nodes"][0]["updatedAt"] == mark  # c0 untouched
    changed = jobber(
        "query($after: ISO8601DateTime) {"
        " clients(filter: {updatedAt: {after: $after}}) { nodes { id name } } }",
        {"after": "2000-01-01T00:00:00Z"},
    )["data"]["clients"]["nodes"]
    assert len(changed) == 2
    just_now = jobber(
        "query($after: ISO8601DateTime) {"
        " clients(filter: {updatedAt: {after: $after}}) { nodes { id name } } }",
        {"after": mark.replace("Z", ".999999+00:00")},
    )["data"]["clients"]["nodes"]
    assert just_now == [{"id": ids["c1"], "name": "Pat1 Moved"}]


def test_reset_forgets_jobber_accounts_and_tokens(sandbox_url, make_jobber_account):
    account = make_jobber_account()
    _book(sandbox_url, account, _clients(1))
    requests.post(f"{sandbox_url}/control/reset", timeout=30).raise_for_status()
    gone = requests.get(
        f"{sandbox_url}/control/jobber/accounts/{account['account_id']}", timeout=10
    )
    assert gone.status_code == 404
    after = Jobber(sandbox_url, account["access_token"]).post("{ account { id } }")
    assert after.status_code == 401


def test_it_answers_bad_queries_and_cursors_with_graphql_errors(sandbox_url, make_jobber_account):
    account = make_jobber_account()
    jobber = Jobber(sandbox_url, account["access_token"])
    unknown = jobber.post("{ clients { nodes { nickname } } }")
    assert "nickname" in unknown.json()["errors"][0]["message"]
    bad_cursor = jobber('{ clients(after: "!!") { nodes { id } } }')
    assert bad_cursor["errors"][0]["message"] == "Invalid cursor"


def test_client_archive_marks_it_and_refuses_a_second_time(sandbox_url, make_jobber_account):
    account = make_jobber_account()
    ids = _book(sandbox_url, account, _clients(2))
    jobber = Jobber(sandbox_url, account["access_token"])
    archive = """
    mutation($id: EncodedId!) {
      clientArchive(clientId: $id) { client { isArchived } userErrors { message path } }
    }
    """
    done = jobber(archive, {"id": ids["c0"]})["data"]["clientArchive"]
    assert done == {"client": {"isArchived": True}, "userErrors": []}
    again = jobber(archive, {"id": ids["c0"]})["data"]["clientArchive"]
    assert again["userErrors"] == [{"message": "Client is already archived", "path": ["clientId"]}]
    active = jobber("{ clients(filter: {isArchived: false}) { nodes { id } } }")
    assert active["data"]["clients"]["nodes"] == [{"id": ids["c1"]}]


def test_the_jobber_book_invoices_each_won_job_once_under_its_books_number():
    from sandbox.jobber.seed_book import jobber_document

    book = generate(40, seed=9)
    doc = jobber_document(book)
    won = {d.key for d in book.deals if d.stage == "closedwon"}
    assert {job["key"] for job in doc["jobs"]} == won
    numbers = [invoice["invoice_number"] for invoice in doc["invoices"]]
    assert len(numbers) == len(set(numbers)) == len(won)
    in_books = {i.deal_key: i.doc_number for i in book.invoices if i.deal_key}
    for invoice in doc["invoices"]:
        deal = invoice["jobs"][0]
        if deal in in_books:
            assert in_books[deal] == f"SF-{invoice['invoice_number']}"
    # Money travels as decimal strings, never floats.
    for payment in doc["payments"]:
        assert isinstance(payment["amount"], str) and Decimal(payment["amount"]) > 0


def test_a_simulated_syncs_crm_side_reads_back_invoice_for_invoice(sandbox_url):
    from sandbox.jobber.seed_book import write_audit_on_jobber
    from sandbox.third_party_sync import simulate

    audit = simulate(30, seed=3)
    written = write_audit_on_jobber(audit, sandbox_url.removesuffix("/sandbox"))
    jobber = Jobber(sandbox_url, written.tokens["access_token"])
    query = """
    query($after: String) {
      invoices(first: 20, after: $after) {
        nodes {
          id invoiceNumber amounts { total invoiceBalance } jobs(first: 1) { nodes { total } }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
    """
    read, after = [], None
    while True:
        page = jobber(query, {"after": after})["data"]["invoices"]
        read += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    by_id = {node["id"]: node for node in read}
    assert len(read) == len(audit.crm)
    for invoice in audit.crm:
        node = by_id[written.ids[invoice.external_id]]
        assert node["invoiceNumber"] == invoice.number
        assert node["amounts"]["total"] == invoice.total.amount
        assert node["amounts"]["invoiceBalance"] == invoice.balance.amount
        assert node["jobs"]["nodes"][0]["total"] == invoice.total.amount
