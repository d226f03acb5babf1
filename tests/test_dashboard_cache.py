"""The dashboard's figures may be reused for a few seconds, but never past a change made
through the app: a decision, a sync run, a new connection shows on the next view."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from connections.models import Connection, Status
from reconciliation.models import Finding
from sync.models import SyncConflict, SyncRun

from .test_query_counts import fill, queries


@pytest.fixture
def cached(settings):
    cache.clear()
    with override_settings(DASHBOARD_CACHE_SECONDS=60):
        yield
    cache.clear()


def test_a_second_view_reuses_the_figures(client, two_firms, cached):
    client.force_login(two_firms.viewer_a)
    fill(two_firms.firm_a, 3)
    first = queries(client, reverse("dashboard"))
    assert queries(client, reverse("dashboard")) == first - 1  # the figures' query


def test_every_change_through_the_app_shows_on_the_next_view(client, two_firms, cached):
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 1)
    target = two_firms.firm_a.clients.get(slug="load-1")

    def row() -> str:
        page = client.get(reverse("dashboard")).content.decode()
        start = page.index(f"/clients/{target.slug}/")
        return page[start : page.index("</tr>", start)]

    assert "2 open findings" in row()
    finding = Finding.objects.filter(client=target).first()
    client.post(reverse("finding_dismiss", args=[finding.pk]), {"reason": "seen"})
    assert "1 open findings" in row()
    SyncConflict.objects.filter(client=target).update(status="dismissed")  # a bare update...
    SyncRun.objects.create(client=target, kind="manual", status="failed")  # ...then a save
    assert "sync decisions waiting" not in row() and "failed" in row()
    Connection.objects.create(client=target, system="hubspot", status=Status.NEEDS_REAUTH)
    assert "HubSpot: Needs re-authorisation" in row()


def test_one_firms_figures_never_show_to_another(client, two_firms, cached):
    fill(two_firms.firm_a, 2)
    client.force_login(two_firms.accountant_a)
    client.get(reverse("dashboard"))
    client.force_login(two_firms.owner_b)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Load Client" not in page and two_firms.client_b.name in page


def test_the_queue_totals_follow_a_decision_with_the_cache_on(client, two_firms, cached):
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 2)
    queue = reverse("review_findings")
    assert "<strong>4</strong> open findings" in client.get(queue).content.decode()
    finding = Finding.objects.first()
    answer = client.post(
        reverse("finding_dismiss", args=[finding.pk]), {"reason": "seen"}, HTTP_HX_REQUEST="true"
    )
    assert "<strong>3</strong> open findings" in answer.content.decode()
    assert "<strong>3</strong> open findings" in client.get(queue).content.decode()
