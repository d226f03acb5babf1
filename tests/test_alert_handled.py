"""Sync alerts: marking one handled (the sync page's "Mark handled"), and one raised by a
sync reaching the client's health at once."""

from types import SimpleNamespace

from django.urls import reverse

from sync import health_record
from sync.models import Alert, Incident

from .factories import ConnectionFactory


def test_it_ends_the_alerts_incident_at_once(client, two_firms, mailoutbox):
    """GIVEN a connected client degraded only by an alert waiting for a person
    WHEN an accountant marks the alert handled
    THEN its incident is resolved there and then: the dashboard and the client page stop
    saying "degraded" without waiting for the next scheduled health check."""
    books = two_firms.client_a
    ConnectionFactory(client=books)
    alert = Alert.objects.create(client=books, source="payment sync", message="Check it.")
    health_record.record(books)
    incident = Incident.objects.get(client=books, resolved_at=None)
    assert incident.kind == "alerts"
    client.force_login(two_firms.accountant_a)
    assert "Integration degraded" in client.get(reverse("dashboard")).content.decode()

    answer = client.post(
        reverse("client_sync_alert_handled", args=[books.slug, alert.pk]), follow=True
    )

    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert "Alert marked as handled. Integration health: healthy." in answer.content.decode()
    assert "Integration degraded" not in client.get(reverse("dashboard")).content.decode()


def test_it_is_refused_to_a_viewer(client, two_firms):
    alert = Alert.objects.create(client=two_firms.client_a, source="sync", message="Check it.")
    client.force_login(two_firms.viewer_a)
    answer = client.post(
        reverse("client_sync_alert_handled", args=[two_firms.client_a.slug, alert.pk])
    )
    assert answer.status_code == 403
    alert.refresh_from_db()
    assert alert.resolved_at is None


def test_a_sync_that_raises_an_alert_shows_on_the_dashboard_at_once(client, two_firms, monkeypatch):
    """GIVEN a connected client whose sync fails and raises an alert
    WHEN the sync task ends
    THEN the client's health is recorded then: the dashboard says "Integration degraded"
    as the client's page does, without waiting for the scheduled health check."""
    from sync import tasks

    books = two_firms.client_a
    ConnectionFactory(client=books)

    def failing_sync(client_, request):
        Alert.objects.create(client=client_, source="customer sync", message="It failed.")
        return [SimpleNamespace(get_status_display=lambda: "Failed", counts={})]

    monkeypatch.setattr(tasks, "request_sync", failing_sync)
    tasks.sync_client(books.pk)

    assert Incident.objects.filter(client=books, kind="alerts", resolved_at=None).exists()
    client.force_login(two_firms.accountant_a)
    assert "Integration degraded" in client.get(reverse("dashboard")).content.decode()
