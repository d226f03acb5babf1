"""The company's Preferences, as QuickBooks exposes them: read with the official client's
`Preferences.get` and with a query; the books' closing date set through the control API."""

import requests
from quickbooks.objects.preferences import Preferences

from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def test_it_reads_the_closing_date_once_the_books_are_closed(qbo, sandbox_url):
    company = f"{sandbox_url}/control/quickbooks/companies/{qbo.realm['realm_id']}"
    never_closed = Preferences.get(qb=qbo).AccountingInfoPrefs
    assert never_closed.BookCloseDate == ""  # absent: the books were never closed

    closed = requests.patch(company, json={"book_close_date": "2026-11-30"}, timeout=10)
    assert closed.json()["book_close_date"] == "2026-11-30"

    assert Preferences.get(qb=qbo).AccountingInfoPrefs.BookCloseDate == "2026-11-30"
    rows = qbo.query("SELECT * FROM Preferences")["QueryResponse"]["Preferences"]
    assert rows[0]["AccountingInfoPrefs"]["BookCloseDate"] == "2026-11-30"
    bad = requests.patch(company, json={"book_close_date": "30/11/2026"}, timeout=10)
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["error"]
    requests.patch(company, json={"book_close_date": None}, timeout=10).raise_for_status()
    assert Preferences.get(qb=qbo).AccountingInfoPrefs.BookCloseDate == ""
