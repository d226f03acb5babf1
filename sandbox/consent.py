"""Drives the emulators' consent pages the way a person would: open the authorize URL, pick
(or create) the account, press approve or deny; returns where the provider redirects.

Used by `manage.py connect_sandbox` and by the tests, so that both run the real
authorization-code flow over HTTP instead of minting tokens behind the app's back.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

# The emulators' form field names: which account to use, or a name for a new one.
ACCOUNT_FIELDS = {
    "quickbooks": ("realm_id", "new_company_name"),
    "hubspot": ("portal_id", "new_portal_name"),
    "xero": ("tenant_id", "new_organisation_name"),
    "jobber": ("account_id", "new_account_name"),
}


class _FormFields(HTMLParser):
    """The inputs of the first form on a page: hidden values and a checked radio, if any."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done:
            self._in_form, self.action = True, a.get("action", "")
        elif tag == "input" and self._in_form:
            kind = a.get("type", "text")
            if kind == "hidden" or (kind == "radio" and "checked" in a):
                self.fields[a.get("name", "")] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


class ConsentPageError(RuntimeError):
    """The emulator's authorize page did not answer as expected; the message says how."""


def consent(
    authorize_url: str,
    system: str,
    *,
    account_id: str | list[str] | None = None,
    new_account_name: str | None = None,
    approve: bool = True,
    session: requests.Session | None = None,
) -> str:
    """Answer the emulator's consent page; returns the redirect URL with code/state or error."""
    if approve and not (account_id or new_account_name):
        # Like Intuit's chooser, the emulators preselect no account: say which one.
        raise ConsentPageError("approving needs an account_id or a new_account_name")
    http = session or requests.Session()
    page = http.get(authorize_url, timeout=30)
    if page.status_code != 200:
        raise ConsentPageError(
            f"authorize page answered HTTP {page.status_code}: {page.text[:200]}"
        )
    form = _FormFields()
    form.feed(page.text)
    if form.action is None:
        raise ConsentPageError(f"authorize page has no form: {page.text[:200]}")
    data = dict(form.fields)
    account_field, new_name_field = ACCOUNT_FIELDS[system]
    if new_account_name:
        data.pop(account_field, None)
        data[new_name_field] = new_account_name
    elif isinstance(account_id, list):
        data[account_field] = account_id  # Xero's page: several organisations ticked
    elif account_id:
        data[account_field] = _form_value(system, str(account_id))
    data["decision"] = "approve" if approve else "deny"
    answer = http.post(
        urljoin(page.url, form.action or page.url),
        data=data,
        headers={"Referer": page.url},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code not in (301, 302, 303):
        raise ConsentPageError(f"consent answered HTTP {answer.status_code}: {answer.text[:200]}")
    return answer.headers["Location"]


def _form_value(system: str, account_id: str) -> str:
    """Jobber's page lists accounts by number; a connection keeps Jobber's encoded id."""
    if system == "jobber":
        from sandbox.jobber.ids import decode_id

        found = decode_id(account_id, "Account")
        return str(found[1]) if found else account_id
    return account_id
