"""Attacks on the duplicate_customer fix (decision 0027): approved twice, approved in bulk
after the customer to keep was made inactive or merged in QuickBooks, QuickBooks' answer
lost after it wrote, another firm's finding. Nothing half-written, the reason where the
accountant sees it. The QuickBooks emulator over HTTP."""

import pytest
from django.urls import reverse

from reconciliation.fixes import FixRefused, do_approve
from reconciliation.models import FindingStatus
from reconciliation.run import reconcile
from sync.models import MirroredCustomer

from . import test_duplicate_customers as dup
from .sandbox.conftest import sandbox_db
from .test_duplicate_customers import NOV, active, duplicates

pytestmark = sandbox_db
keyed_twice = dup.keyed_twice  # the books holding Maple Homes twice


def found(books):
    reconcile(books.client, NOV)
    (finding,) = duplicates(books.client)
    assert finding.fix["action"] == "make_inactive"
    return finding


def approved_under(books, **faults):
    """The finding's fix approved while QuickBooks misbehaves as `faults` say."""
    finding = found(books)
    books.faults("quickbooks", **faults)
    try:
        return do_approve(books.accountant, finding)
    finally:
        books.faults("quickbooks")


def test_approved_twice_writes_once_and_the_second_is_refused(keyed_twice):
    books = keyed_twice
    finding = found(books)
    stale = type(finding).objects.get(pk=finding.pk)
    do_approve(books.accountant, finding)
    books.writes()
    with pytest.raises(FixRefused, match="already decided"):
        do_approve(books.accountant, stale)
    assert books.writes() == 0
    assert active(books)["Maple Homes"] is False


def test_approved_in_bulk_after_the_kept_customer_went_inactive_leaves_both_as_they_are(
    keyed_twice, client, two_firms
):
    """Someone merged or inactivated "Maple Homes LLC" in QuickBooks after the run: making
    the copy inactive too would leave the customer with no active record at all."""
    books = keyed_twice
    finding = found(books)
    kept = next(c for c in books.qbo_customers() if c.DisplayName == "Maple Homes LLC")
    kept.Active = False
    kept.save(qb=books.qb)
    client.force_login(two_firms.accountant_a)

    client.post(reverse("findings_bulk"), {"ids": [finding.pk], "action": "approve"})

    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert active(books)["Maple Homes"] is True
    page = client.get(reverse("review_findings")).content.decode()
    assert "is not active in QuickBooks" in page


def test_quickbooks_answer_lost_after_it_wrote_is_settled_by_the_retry(keyed_twice):
    books = keyed_twice
    done = approved_under(books, drop_after_commit_rate=1.0)
    # Whatever the first answer said, the accountant is told something, and a retry settles it.
    assert done.status == FindingStatus.FIXED or done.fix_error, done.evidence
    if done.status != FindingStatus.FIXED:
        done = do_approve(books.accountant, done)
    assert done.status == FindingStatus.FIXED, done.fix_error
    assert active(books)["Maple Homes"] is False
    mirrored = MirroredCustomer.objects.filter(client=books.client, external_id=books.copy)
    assert not mirrored.filter(active=True).exists()


def test_another_firms_finding_cannot_be_approved_in_bulk(keyed_twice, client, two_firms):
    books = keyed_twice
    finding = found(books)
    client.force_login(two_firms.owner_b)
    answer = client.post(reverse("findings_bulk"), {"ids": [finding.pk], "action": "approve"})
    assert answer.status_code in (302, 404)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and active(books)["Maple Homes"] is True


def test_a_copy_linked_to_a_crm_record_since_the_run_is_not_made_inactive(keyed_twice):
    """Sync linked a HubSpot company to the copy after the finding was raised: made
    inactive, that company would be held by every run after."""
    from sync.models import CustomerLink

    books = keyed_twice
    finding = found(books)
    CustomerLink.objects.create(
        client=books.client, crm_type="companies", crm_id="9001", accounting_id=books.copy
    )

    with pytest.raises(FixRefused, match="linked to HubSpot company 9001 since this was found"):
        do_approve(books.accountant, finding)

    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and active(books)["Maple Homes"] is True


def test_a_copy_made_inactive_in_quickbooks_by_hand_settles_the_finding(
    keyed_twice, client, two_firms
):
    """The steps say "or make it inactive there"; or the worker died after QuickBooks wrote.
    Either way the copy is inactive: the finding must not stay open with a fix that refuses
    ("inactive already") and nothing else to do but dismiss it."""
    import re

    books = keyed_twice
    finding = found(books)
    copy = next(c for c in books.qbo_customers() if c.DisplayName == "Maple Homes")
    copy.Active = False
    copy.save(qb=books.qb)
    client.force_login(two_firms.accountant_a)

    panel = client.get(reverse("finding_fix", args=[finding.pk]), HTTP_HX_REQUEST="true")
    seen = re.search(r'name="seen" value="([0-9a-f]+)"', panel.content.decode())
    client.post(
        reverse("finding_approve", args=[finding.pk]),
        {"seen": seen[1] if seen else ""},
        HTTP_HX_REQUEST="true",
    )
    reconcile(books.client, NOV)

    finding.refresh_from_db()
    assert finding.status != FindingStatus.OPEN, (finding.fix_error, finding.evidence)


def test_quickbooks_failing_leaves_the_finding_open_with_the_reason_in_words(
    keyed_twice, client, two_firms
):
    books = keyed_twice
    done = approved_under(books, error_rate=1.0)
    assert done.status == FindingStatus.OPEN
    assert "QuickBooks did not answer" in done.fix_error, done.fix_error
    assert active(books)["Maple Homes"] is True
    mirrored = MirroredCustomer.objects.filter(client=books.client, external_id=books.copy)
    assert not mirrored.filter(active=False).exists()
    client.force_login(two_firms.accountant_a)
    assert done.fix_error in client.get(reverse("review_findings")).content.decode()


def test_script_in_duplicate_crm_names_is_text_on_the_findings_page(systems, client, two_firms):
    evil = "<img src=x onerror=alert(1)>"
    systems.company(name=f"Birch Builders Inc {evil}", phone="(512) 555-0188", zip="78702",
                    domain="birchbuilders.example")  # fmt: skip
    systems.company(name=f"Birch Builders {evil}", phone="512-555-0188", zip="78702",
                    domain="birchbuilders.example")  # fmt: skip
    reconcile(systems.client, NOV)
    assert duplicates(systems.client)
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("review_findings")).content.decode()
    assert "Birch Builders" in page and evil not in page
