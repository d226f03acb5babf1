"""Attacks on the new routes: odd periods posted to 'reconcile a month', a viewer's posts,
and another firm's runs behind one's own client's slug."""

import pytest
from django.urls import reverse

from reconciliation.models import Reconciliation

from .test_api import api  # noqa: F401


@pytest.mark.parametrize(
    "period",
    [
        "2026-11\x00",
        "\x00",
        "9" * 10_000,
        "2026-13",
        "0000-01",
        "9999-12",
        "-1",
        "\uff12\uff10\uff12\uff16-11",
    ],
)
def test_an_odd_period_is_refused_in_words_and_starts_nothing(two_firms, client, period):
    client.force_login(two_firms.accountant_a)
    url = reverse("reconciliation_start", args=[two_firms.client_a.slug])
    answer = client.post(url, {"period": period}, follow=True)
    if "\x00" in period:  # refused at the door (a NUL is never stored)
        assert answer.status_code == 400
    else:
        assert answer.status_code == 200
        assert "Not reconciled:" in answer.content.decode()
    assert not Reconciliation.objects.filter(client=two_firms.client_a).exists()


def test_a_viewer_may_not_reconcile_or_retry(two_firms, client):
    run = Reconciliation.objects.create(client=two_firms.client_a, period="2026-11-01",
                                        status="failed")  # fmt: skip
    client.force_login(two_firms.viewer_a)
    start = client.post(reverse("reconciliation_start", args=[two_firms.client_a.slug]),
                        {"period": "2026-11"})  # fmt: skip
    retry = client.post(reverse("reconciliation_retry", args=[two_firms.client_a.slug, run.pk]))
    assert (start.status_code, retry.status_code) == (403, 403)
    assert Reconciliation.objects.filter(client=two_firms.client_a).count() == 1


def test_another_firms_run_behind_ones_own_slug_is_not_found(two_firms, client):
    theirs = Reconciliation.objects.create(client=two_firms.client_a, period="2026-11-01",
                                           status="failed")  # fmt: skip
    client.force_login(two_firms.owner_b)
    mine = two_firms.client_b.slug
    for name in ("reconciliation_report", "reconciliation_csv"):
        assert client.get(reverse(name, args=[mine, theirs.pk])).status_code == 404
    assert client.post(reverse("reconciliation_retry", args=[mine, theirs.pk])).status_code == 404
    assert Reconciliation.objects.count() == 1


@pytest.mark.parametrize("month", ["2026-11", "0000-01", "9999-99", "x" * 500, "2026-11%00"])
def test_balances_of_any_month_never_fail(two_firms, client, month):
    client.force_login(two_firms.accountant_a)
    page = client.get(f"/clients/{two_firms.client_a.slug}/balances/{month}/")
    csv = client.get(f"/clients/{two_firms.client_a.slug}/balances/{month}/balances.csv")
    assert page.status_code in (200, 400, 404) and csv.status_code in (200, 400, 404)


def test_reconciling_a_month_twice_while_it_runs_starts_it_once(
    two_firms,
    client,
    api,  # noqa: F811
    monkeypatch,
):
    """GIVEN November queued (a worker will pick it up) WHEN the accountant presses
    "Reconcile" for November again (a double click), or the API is asked for it THEN no second
    run of November is queued: it says November is being reconciled already, as retry does.
    Another month may still start."""
    from reconciliation import lifecycle

    monkeypatch.setattr(lifecycle, "async_task", lambda *args: None)  # queued, not yet picked
    client.force_login(two_firms.accountant_a)
    url = reverse("reconciliation_start", args=[two_firms.client_a.slug])
    client.post(url, {"period": "2026-11"})
    again = client.post(url, {"period": "2026-11"}, follow=True)
    wanted = {"client": two_firms.client_a.slug, "period": "2026-11"}
    by_api = api(two_firms.accountant_a).post("/api/v1/reconciliations/", wanted)

    assert "November 2026 is being reconciled already" in again.content.decode()
    assert by_api.status_code == 409, by_api.content
    assert Reconciliation.objects.filter(client=two_firms.client_a).count() == 1
    client.post(url, {"period": "2026-10"})
    assert Reconciliation.objects.filter(client=two_firms.client_a).count() == 2
