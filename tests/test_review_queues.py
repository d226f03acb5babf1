"""The review queues as an accountant works them: many findings or sync decisions at once,
the totals updating in place, filters that narrow the dashboard."""

from datetime import date
from decimal import Decimal

from django.urls import reverse

from connections.models import Connection, Status
from reconciliation import detectors
from reconciliation.models import Finding, OpenTotals
from reconciliation.run import reconcile_records
from sync.models import SyncConflict

from .factories import ClientFactory
from .test_query_counts import fill


def test_it_dismisses_the_ticked_findings_and_updates_the_totals_in_place(client, two_firms):
    """GIVEN three clients' findings WHEN two are ticked and dismissed with a reason
    THEN both are dismissed, the third is untouched and the totals drop by their amounts."""
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 3)
    ticked = list(Finding.objects.filter(code="missing_invoice").order_by("pk")[:2])
    answer = client.post(
        reverse("findings_bulk"),
        {"ids": [f.pk for f in ticked], "action": "dismiss", "reason": "invoiced by hand"},
        HTTP_HX_REQUEST="true",
    )
    text = answer.content.decode()
    assert answer.status_code == 200
    assert all(f'id="finding-{f.pk}"' in text for f in ticked) and 'hx-swap-oob="true"' in text
    assert text.count("Dismissed") == 2 and "invoiced by hand" in text
    assert Finding.objects.filter(status="dismissed").count() == 2
    assert Finding.objects.filter(status="open").count() == 4
    open_left = sum(f.amount for f in Finding.objects.filter(status="open"))
    assert 'id="queue-summary"' in text and "<strong>4</strong> open findings" in text
    assert f"{open_left:,.2f} USD" in text


def test_a_bulk_dismissal_without_a_reason_changes_nothing_and_says_why(client, two_firms):
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 2)
    ids = list(Finding.objects.values_list("pk", flat=True))
    answer = client.post(
        reverse("findings_bulk"), {"ids": ids, "action": "dismiss", "reason": " "},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert answer.content.decode().count("Say why it is dismissed.") == len(ids)
    assert not Finding.objects.exclude(status="open").exists()


def test_a_bulk_approval_refuses_findings_with_no_automatic_fix_one_by_one(client, two_firms):
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 1)
    ids = list(Finding.objects.values_list("pk", flat=True))
    answer = client.post(
        reverse("findings_bulk"), {"ids": ids, "action": "approve"}, HTTP_HX_REQUEST="true"
    )
    assert answer.content.decode().count("No safe automatic fix") == 2
    assert not Finding.objects.exclude(status="open").exists()


def test_a_bulk_decision_never_reaches_another_firms_findings(client, two_firms):
    fill(two_firms.firm_b, 1)
    theirs = list(Finding.objects.values_list("pk", flat=True))
    client.force_login(two_firms.accountant_a)
    answer = client.post(
        reverse("findings_bulk"), {"ids": theirs, "action": "dismiss", "reason": "x"}
    )
    assert answer.status_code == 404
    assert not Finding.objects.exclude(status="open").exists()


def test_a_viewer_may_not_decide_in_bulk(client, two_firms):
    fill(two_firms.firm_a, 1)
    client.force_login(two_firms.viewer_a)
    ids = list(Finding.objects.values_list("pk", flat=True))
    answer = client.post(reverse("findings_bulk"), {"ids": ids, "action": "dismiss", "reason": "x"})
    assert answer.status_code == 403
    assert "Approve ticked fixes" not in client.get(reverse("review_findings")).content.decode()


def test_it_decides_the_ticked_sync_items_each_as_it_fits(client, two_firms):
    """GIVEN near matches WHEN ticked and dismissed with a note THEN each is decided and the
    waiting count drops; "keep the CRM's value" does not fit a near match and is refused."""
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 3)
    ids = list(SyncConflict.objects.order_by("pk").values_list("pk", flat=True))
    refused = client.post(
        reverse("conflicts_bulk"), {"ids": ids[:1], "decision": "keep_crm"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert "is not a decision for this item" in refused.content.decode()
    done = client.post(
        reverse("conflicts_bulk"), {"ids": ids[:2], "decision": "dismiss", "note": "not ours"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    text = done.content.decode()
    assert text.count("Leave it unsynced") == 2 and "not ours" in text
    assert 'id="conflicts-waiting"' in text and ">1</span>" in text
    assert SyncConflict.objects.filter(status="open").count() == 1


def test_the_dashboard_shows_only_the_clients_needing_attention(client, two_firms):
    client.force_login(two_firms.viewer_a)
    fill(two_firms.firm_a, 1)  # load-1 has findings and a waiting decision
    quiet = ClientFactory(firm=two_firms.firm_a, name="Quiet Carpentry", slug="quiet")
    broken = ClientFactory(firm=two_firms.firm_a, name="Broken Electric", slug="broken")
    Connection.objects.create(client=broken, system="quickbooks", status=Status.NEEDS_REAUTH)
    everyone = client.get(reverse("dashboard")).content.decode()
    assert quiet.name in everyone and '2 <small class="muted">of 4</small>' in everyone
    # Worst first: a connection that stopped working outranks money at stake.
    assert everyone.index(broken.name) < everyone.index("Load Client 1")
    shown = client.get(reverse("dashboard"), {"show": "attention"}).content.decode()
    assert broken.name in shown and "Load Client 1" in shown and quiet.name not in shown
    # Each row names its assigned staff, and says so when nobody is.
    alpha_row = everyone[everyone.index(two_firms.client_a.name) :]
    assert alpha_row[: alpha_row.index("</tr>")].count("accountant@alpha.test") == 1
    quiet_row = everyone[everyone.index(quiet.name) :]
    assert "Nobody yet" in quiet_row[: quiet_row.index("</tr>")]
    only_broken = client.get(reverse("dashboard"), {"show": "connections"}).content.decode()
    assert broken.name in only_broken and "Load Client 1" not in only_broken


def live_totals(client) -> tuple[int, Decimal]:
    open_ = Finding.objects.filter(client=client, status="open")
    return open_.count(), sum((f.amount for f in open_), Decimal("0.00"))


def kept_totals(client) -> tuple[int, Decimal]:
    kept = OpenTotals.objects.filter(client=client).first()
    return (kept.count, kept.amount) if kept else (0, Decimal("0.00"))


def test_the_totals_kept_for_the_dashboard_follow_every_change_to_findings(client, two_firms):
    """GIVEN findings WHEN they are dismissed, undone, carried in bulk by a reconciliation
    (one new, two no longer seen), or their reconciliation is deleted THEN the kept totals
    equal a fresh count each time."""
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 2)
    target = two_firms.firm_a.clients.get(slug="load-1")
    assert kept_totals(target) == live_totals(target) and live_totals(target)[0] == 2
    finding = Finding.objects.filter(client=target).first()
    client.post(reverse("finding_dismiss", args=[finding.pk]), {"reason": "seen"})
    assert kept_totals(target) == live_totals(target) and live_totals(target)[0] == 1
    client.post(reverse("finding_undo", args=[finding.pk]))
    assert kept_totals(target) == live_totals(target) and live_totals(target)[0] == 2
    recon = finding.reconciliation
    stale = detectors.SnapInvoice("old-1", "OLD-1", "c1", date(2026, 1, 5), Decimal("12.34"),
                                  Decimal("12.34"))  # fmt: skip
    reconcile_records(recon, {"invoices": [stale], "credits": [], "deals": []}, date(2026, 10, 31))
    assert kept_totals(target) == live_totals(target) == (1, Decimal("12.34"))
    page = client.get(reverse("dashboard")).content.decode()
    assert f"{live_totals(target)[1]:,.2f} USD" in page
    recon.delete()  # the ledger outlives the run that last changed it
    assert kept_totals(target) == live_totals(target) == (1, Decimal("12.34"))
    target_pk = target.pk
    target.delete()  # the client's own totals go with it, and nothing is left behind
    assert not OpenTotals.objects.filter(client_id=target_pk).exists()


def test_a_bulk_approval_says_at_the_top_what_it_did_and_what_is_left_to_do(client, two_firms):
    """GIVEN ticked findings, two with no automatic fix WHEN their fixes are approved in bulk
    THEN one line above the queue says none were approved and how to deal with the two; the
    page without htmx says the same at the top."""
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 1)
    ids = list(Finding.objects.values_list("pk", flat=True))
    answer = client.post(
        reverse("findings_bulk"), {"ids": ids, "action": "approve"}, HTTP_HX_REQUEST="true"
    )
    text = answer.content.decode()
    assert 'id="bulk-outcome"' in text and 'hx-swap-oob="true"' in text
    said = (
        "None approved; 2 have no automatic fix — correct them by hand, then dismiss them "
        "saying so."
    )
    assert said in text

    page = client.post(
        reverse("findings_bulk"), {"ids": ids, "action": "approve"}, follow=True
    ).content.decode()
    assert said in page and page.index(said) < page.index('id="queue"')


def test_bulk_outcome_counts_each_kind_in_words():
    from collections import Counter

    from reconciliation.bulk_outcome import outcome

    assert outcome("approve", 2, Counter(no_fix=3)) == (
        "warning",
        "2 approved; 3 have no automatic fix — correct them by hand, then dismiss them saying so.",
    )
    assert outcome("dismiss", 4, Counter()) == ("success", "4 dismissed.")
    level, words = outcome("approve", 0, Counter(large=1, failed=2))
    assert level == "error" and "1 is above your firm's amount" in words
    assert words.endswith("2 fixes failed — each error is on its finding.")
