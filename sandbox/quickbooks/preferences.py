"""The company's Preferences, as QuickBooks Online exposes them: one object per company, read
with GET /preferences or `SELECT * FROM Preferences` (never listed among the entities: it has
no id of its own to create or delete). Only what syncfirm reads is kept: the books' closing
date (AccountingInfoPrefs.BookCloseDate, absent while the books were never closed), set
through the sandbox control API as a person sets it in QuickBooks' Advanced settings."""

from .models import Company


def preferences(company: Company) -> dict:
    accounting = {
        "TrackDepartments": False,
        "DepartmentTerminology": "Location",
        "ClassTrackingPerTxn": False,
        "ClassTrackingPerTxnLine": True,
        "CustomerTerminology": "Customers",
    }
    if company.book_close_date:
        accounting["BookCloseDate"] = company.book_close_date.isoformat()
    return {
        "AccountingInfoPrefs": accounting,
        "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
        "domain": "QBO",
        "sparse": False,
        "Id": "1",
        "SyncToken": "0",
    }


def query_answer(company: Company) -> dict:
    """What `SELECT * FROM Preferences` answers: the one object, in a QueryResponse."""
    return {
        "QueryResponse": {
            "Preferences": [preferences(company)],
            "startPosition": 1,
            "maxResults": 1,
            "totalCount": 1,
        }
    }
