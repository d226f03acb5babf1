"""Bad input is a clear 400 or a form error, never a 500 (issue 13, finding 6): NUL bytes,
lone surrogates, malformed ids, non-object, unstorable or absurdly nested JSON — on the
pages, the API and both webhook receivers; names with line breaks; a blank slug beside
another form error; and CSV cells a spreadsheet would run."""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from clients import actions
from clients.models import Client, Firm
from clients.names import header_safe
from connections.models import WebhookDelivery
from reconciliation.models import CustomerBalance, Finding, Reconciliation
from reconciliation.report import findings_csv, send_report
from syncfirm.csv_cells import safe_cell
from syncfirm.json_limits import BadJson, load_json, nesting_depth

from .test_api import api, finding  # noqa: F401 - the fixture
from .test_webhooks import (  # noqa: F401 - the fixtures
    hubspot_body,
    hubspot_connection,
    intuit_signature,
    post_hubspot,
    post_qbo,
    qbo_body,
    qbo_connection,
)

pytestmark = pytest.mark.django_db

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000


# -- pages --------------------------------------------------------------------------------
@pytest.fixture
def accountant(client, two_firms):
    client.force_login(two_firms.accountant_a)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/reports/?client=%00",
        "/reports/?month=2026-11%00",
        "/review/findings/?code=%00",
        "/review/findings/?client=alpha%00roofing",
        "/review/conflicts/?kind=%00",
        "/?q=%00",
    ],
)
def test_a_nul_byte_in_a_filter_is_a_400_that_says_where(accountant, path):
    answer = accountant.get(path)
    assert answer.status_code == 400
    assert "holds a NUL character" in answer.content.decode()


def test_a_nul_byte_in_a_form_is_a_400(accountant, two_firms):
    answer = accountant.post(
        reverse("client_edit", args=[two_firms.client_a.slug]),
        {"name": "Alpha\x00Roofing", "timezone": "America/Chicago", "country": "US"},
    )
    assert answer.status_code == 400 and "form field “name”" in answer.content.decode()
    assert Client.objects.get(pk=two_firms.client_a.pk).name == "Alpha Secret Roofing"


def test_a_blank_slug_beside_another_form_error_is_a_form_error(accountant, two_firms):
    answer = accountant.post(
        reverse("client_edit", args=[two_firms.client_a.slug]),
        {"name": "", "slug": "", "timezone": "America/Chicago", "country": "1A"},
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "This field is required." in page and "two-letter country code" in page
    assert f'href="/clients/{two_firms.client_a.slug}/"' in page  # the way back still works


# -- names in email headers ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["Acme\r\nBcc: all@example.com", "Acme\nRoofing", "Acme\tLLC"])
def test_a_client_name_with_a_line_break_is_refused_by_the_form(accountant, name):
    answer = accountant.post(
        reverse("client_create"), {"name": name, "timezone": "America/Chicago", "country": "US"}
    )
    assert answer.status_code == 200 and "may not contain line breaks" in answer.content.decode()
    assert not Client.objects.filter(name__startswith="Acme").exists()


def test_a_client_name_with_a_line_break_is_refused_by_the_api(api, two_firms):  # noqa: F811
    answer = api(two_firms.accountant_a).post(
        "/api/v1/clients/", {"name": "Acme\r\nBcc: x@example.com"}, format="json"
    )
    assert answer.status_code == 400 and "may not contain line breaks" in answer.json()["name"][0]


def test_a_name_with_a_line_break_is_refused_by_the_actions(two_firms):
    with pytest.raises(ValidationError, match="line breaks"):
        actions.do_create_firm(two_firms.owner_a, "Books\r\nBcc: x@example.com")
    client = Client(firm=two_firms.firm_a, name="Acme\nRoofing")
    with pytest.raises(ValidationError, match="line breaks"):
        actions.do_save_client(two_firms.owner_a, client, [])
    assert not Firm.objects.filter(name__startswith="Books").exists()


def test_a_name_saved_before_the_rule_still_gets_its_emails(two_firms, mailoutbox):
    Client.objects.filter(pk=two_firms.client_a.pk).update(name="Alpha\r\nBcc: x@example.com")
    made = Reconciliation.objects.create(client=two_firms.client_a, period=date(2026, 11, 1))
    assert send_report(Reconciliation.objects.get(pk=made.pk)) == 1
    assert mailoutbox[0].subject == "Alpha Bcc: x@example.com: reconciliation for November 2026"
    assert header_safe("a\u2028b\x00c") == "a b c"


# -- the API ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query, param",
    [
        ("/api/v1/findings/?reconciliation=abc", "reconciliation"),
        ("/api/v1/findings/?reconciliation=1x", "reconciliation"),
    ],
)
def test_a_malformed_id_in_an_api_filter_is_a_400(api, two_firms, query, param):  # noqa: F811
    answer = api(two_firms.accountant_a).get(query)
    assert answer.status_code == 400 and "is not a valid" in answer.json()[param]


def test_well_formed_filters_still_filter(api, two_firms):  # noqa: F811
    kept = finding(two_firms.client_a)
    answer = api(two_firms.accountant_a).get(
        f"/api/v1/findings/?reconciliation={kept.reconciliation_id}&client=alpha-roofing"
    )
    assert [f["id"] for f in answer.json()["results"]] == [kept.pk]
    assert api(two_firms.accountant_a).get("/api/v1/findings/?client=1x").json()["count"] == 0


def test_a_nul_byte_in_an_api_filter_is_a_400(api, two_firms):  # noqa: F811
    answer = api(two_firms.accountant_a).get("/api/v1/clients/?client=%00")
    assert answer.status_code == 400 and "NUL" in answer.json()["detail"]


@pytest.mark.parametrize(
    "body, words",
    [
        (b'["alpha-roofing", "2026-11"]', "expected an object, not list"),
        (b'"alpha-roofing"', "expected an object, not str"),
        (b'{"name": "Acme \\ud800 Roofing"}', "lone UTF-16 surrogate"),
        (b'{"name": "Acme \\u0000 Roofing"}', "NUL character"),
        (b'{"name": NaN}', "NaN is not a JSON number"),
        (DEEP, "nested deeper than 32 levels"),
        (DEEP_OBJECT, "nested deeper than 32 levels"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_an_unusable_json_body_is_a_400_that_says_why(api, two_firms, body, words):  # noqa: F811
    for path in ("/api/v1/clients/", "/api/v1/reconciliations/"):
        answer = api(two_firms.accountant_a).post(path, body, content_type="application/json")
        assert answer.status_code == 400, path
        assert words in answer.json()["detail"]
    assert Client.objects.count() == 2 and not Reconciliation.objects.exists()


def test_a_json_object_body_still_works(api, two_firms):  # noqa: F811
    answer = api(two_firms.accountant_a).post(
        "/api/v1/clients/",
        {"name": "Acme Roofing ☂", "country": "CA", "timezone": "America/Toronto"},
        format="json",
    )
    assert answer.status_code == 201 and answer.json()["slug"] == "acme-roofing"


def test_json_limits_are_pure_and_skip_strings():
    assert nesting_depth(b'{"a": "[[[[[[[[{{{{", "b": [[1]]}') == 3
    assert nesting_depth(b'["\\"[[[["]') == 1
    assert load_json(b'{"a": [1, {"b": "\\ud83d\\ude00"}]}') == {"a": [1, {"b": "😀"}]}
    with pytest.raises(BadJson, match=r"\$\.a\[1\]\.b holds a lone"):
        load_json(b'{"a": [1, {"b": "\\udc00"}]}')


@pytest.mark.parametrize(
    "body",
    [
        b'"' + b'\\"' * 100_000,  # an escaped quote after another, never closed
        b'"' + b'\\"' * 100_000 + b"\\",  # and a lone backslash at the very end
        b"[" * 10 + b'"a' * 100_000,
    ],
)
def test_a_body_of_unclosed_strings_is_read_in_linear_time(body):
    """Skipping strings rescanned from every quote to the end when a string never closed:
    a 200 kB API body from any accountant's token held a worker for minutes."""
    import time

    started = time.monotonic()
    with pytest.raises(BadJson):
        load_json(body)
    assert time.monotonic() - started < 2


# -- the webhook receivers ----------------------------------------------------------------
@pytest.mark.parametrize(
    "body, words",
    [
        (DEEP, "nested deeper"),
        (b'"just a string"', "expected an object or an array"),
        (b"12", "expected an object or an array"),
        (b'{"eventNotifications": [{"realmId": "\\u0000"}]}', "NUL character"),
        (b"not json\x00", "not JSON"),
    ],
)
def test_the_quickbooks_receiver_refuses_an_unusable_signed_body(
    client,
    qbo_connection,  # noqa: F811
    body,
    words,
):
    answer = post_qbo(client, body, intuit_signature(body))
    assert answer.status_code == 400 and words in answer.json()["reason"]
    assert not WebhookDelivery.objects.exists()


def test_the_quickbooks_receiver_checks_the_signature_first(client, qbo_connection):  # noqa: F811
    assert post_qbo(client, DEEP, "bm90IGl0").status_code == 401


@pytest.mark.parametrize(
    "body, words",
    [
        (DEEP, "nested deeper"),
        (DEEP_OBJECT, "nested deeper"),
        (b"null", "expected an object or an array"),
        (b'[{"portalId": "\\ud800"}]', "lone UTF-16 surrogate"),
    ],
)
def test_the_hubspot_receiver_refuses_an_unusable_signed_body(
    client,
    hubspot_connection,  # noqa: F811
    body,
    words,
):
    answer = post_hubspot(client, body)
    assert answer.status_code == 400 and words in answer.json()["reason"]
    assert not WebhookDelivery.objects.exists()


def test_the_receivers_still_take_good_deliveries(client, qbo_connection, hubspot_connection):  # noqa: F811
    body = qbo_body(qbo_connection.external_id)
    assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    assert post_hubspot(client, hubspot_body(hubspot_connection.external_id)).status_code == 200
    assert WebhookDelivery.objects.count() == 2


# -- CSV ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, cell",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-cmd", "'-cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        (' =HYPERLINK("http://x")', '\' =HYPERLINK("http://x")'),  # trimmed before parsing
        ("\n=1+1", "'\n=1+1"),
        ("\uff1d1+1", "'\uff1d1+1"),  # a full-width equals sign
        (" 12.50", " 12.50"),
        ("-123.45", "-123.45"),  # a negative amount stays a number
        ("+5", "+5"),
        ("123.45", "123.45"),
        ("Roof repair", "Roof repair"),
        (None, ""),
    ],
)
def test_csv_cells_are_neutralised_against_formulas(value, cell):
    assert safe_cell(value) == cell


def test_the_findings_csv_neutralises_text_and_keeps_amounts_numeric(two_firms):
    kept = finding(two_firms.client_a)
    Finding.objects.filter(pk=kept.pk).update(
        amount=-123.45, decision_note='=HYPERLINK("http://evil","open")', customer_id="c1",
        records={"names": {"customers": {"c1": "@SUM(A1:A9)"}}},
    )  # fmt: skip
    shown = findings_csv(kept.reconciliation, Finding.objects.all())
    row = next(csv.DictReader(io.StringIO(shown)))
    assert row["Amount"] == "-123.45"
    assert row["Note"].startswith("'=HYPERLINK") and row["Customer"] == "'@SUM(A1:A9)"


def test_the_customer_balances_csv_neutralises_text_and_keeps_amounts_numeric(
    accountant, two_firms
):
    """GIVEN a customer named and explained in words from both systems that start formulas
    WHEN the month's balances are downloaded THEN those cells are text, the amounts
    numbers (a negative one keeps its sign)."""
    CustomerBalance.objects.create(
        client=two_firms.client_a, period=date(2026, 11, 1), customer_id="-2+3",
        name='=HYPERLINK("http://evil","open")', currency="USD", crm_owed=Decimal("100.00"),
        books_owed=Decimal("223.45"), explained=Decimal("0.00"), unexplained=Decimal("-123.45"),
        explained_by=[{"code": "x", "effect": "-10.00", "words": "@SUM(A1:A9)"}],
    )  # fmt: skip
    download = accountant.get(
        reverse("customer_balances_csv", args=[two_firms.client_a.slug, "2026-11"])
    )
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    [row] = csv.DictReader(io.StringIO(download.content.decode()))
    assert row["customer"] == '\'=HYPERLINK("http://evil","open")'
    assert row["customer_id"] == "'-2+3" and row["explained_by"] == "'@SUM(A1:A9) (-10.00)"
    amounts = (row["crm_owes"], row["difference"], row["unexplained"])
    assert amounts == ("100.00", "-123.45", "-123.45")


def test_json_bodies_with_odd_but_valid_text_are_kept(api, two_firms):  # noqa: F811
    body = json.dumps(
        {"name": "Zoë Électricité «Nord»", "country": "FR", "timezone": "Europe/Paris"}
    ).encode()
    answer = api(two_firms.accountant_a).post(
        "/api/v1/clients/", body, content_type="application/json"
    )
    assert answer.status_code == 201


def test_an_id_past_any_id_finds_nothing(api, two_firms):  # noqa: F811
    finding(two_firms.client_a)
    answer = api(two_firms.accountant_a).get("/api/v1/findings/?reconciliation=" + "9" * 30)
    assert answer.status_code == 200 and answer.json()["count"] == 0


# -- properties: whatever arrives, one clear refusal or a storable value -----------------
@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda children: (
                st.lists(children, max_size=3)
                | st.dictionaries(st.text(max_size=5), children, max_size=3)
            ),
            max_leaves=40,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_load_json_refuses_clearly_or_returns_something_storable(body):
    try:
        value = load_json(body, shapes=(dict, list))
    except BadJson as refused:
        assert str(refused)
        return
    stored = json.dumps(value, allow_nan=False)  # PostgreSQL's jsonb takes it
    assert "\\u0000" not in stored
    stored.encode("utf-8")


@given(st.text(max_size=20))
def test_no_csv_cell_starts_a_formula_unless_it_is_a_plain_number(text):
    cell = safe_cell(text)
    if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
        float(cell)  # only a number may keep its sign
    assert cell.removeprefix("'") == text or cell == text


def test_an_oversized_webhook_body_is_a_400_before_anything_reads_it(client, qbo_connection):  # noqa: F811
    body = b'{"pad": "' + b"x" * 3_000_000 + b'"}'  # past DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
    assert post_qbo(client, body, intuit_signature(body)).status_code == 400
    assert not WebhookDelivery.objects.exists()
