"""The pages work in Chromium under the Content-Security-Policy: the dashboard, a client page
(its htmx reconcile button and polling), the findings queue (approve and dismiss in place)
and the API docs, with no violation reported on any of them."""

import re

from reconciliation.models import Finding, FindingStatus
from tests.sandbox.conftest import sandbox_db

from .conftest import expect, screenshot
from .test_findings_queue import CLIENT, books, confirm_fix, finding_item  # noqa: F401 - `books` is a fixture

pytestmark = sandbox_db

# Runs in every document before its own scripts: any refusal is reported to the test.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportViolation(`${location.pathname}: ${e.violatedDirective} ${e.blockedURI}`);
});
"""


def test_pages_and_htmx_work_under_the_policy(accountant_page, two_firms, books):  # noqa: F811
    page, violations = accountant_page, []
    page.expose_function("reportViolation", lambda text: violations.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )

    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_role("link", name=CLIENT)).to_be_visible()
    page.get_by_role("link", name=CLIENT).click()
    expect(page.get_by_role("heading", name=CLIENT, level=1)).to_be_visible()
    page.get_by_label("Month").select_option(index=0)  # the month in progress
    page.get_by_role("button", name="Reconcile", exact=True).click()  # htmx
    expect(page.get_by_role("link", name="Report", exact=True)).to_have_count(1)
    screenshot(page, "csp-client-page")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Findings").click()
    expect(page.get_by_role("heading", name="Findings to review")).to_be_visible()
    open_findings = Finding.objects.filter(client=two_firms.client_a, status=FindingStatus.OPEN)
    approved = open_findings.get(code="duplicate_invoice")
    dismissed = open_findings.exclude(pk=approved.pk).first()
    item = finding_item(page, approved)
    item.get_by_role("button", name="Approve fix").click()  # htmx: the preview in place
    confirm_fix(item, "Void invoice")
    item.get_by_role("button", name=re.compile("^Confirm: Void invoice")).click()
    expect(item).to_contain_text("Fixed")
    item = finding_item(page, dismissed)
    item.get_by_role("textbox", name="Why dismiss").fill("Checked with the contractor")
    item.get_by_role("button", name="Dismiss").click()
    expect(item.get_by_role("button", name="Undo dismissal")).to_be_visible()
    screenshot(page, "csp-findings-queue")

    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name="syncfirm API")).to_be_visible()
    expect(page.get_by_text("/api/v1/findings/").first).to_be_visible()
    screenshot(page, "csp-api-docs")

    assert violations == []
