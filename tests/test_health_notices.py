"""Integration health in the app: a notice when it changes, and the client page's strip
agreeing with the status above it."""

from django.urls import reverse

from notices.models import Notice
from sync import health_record
from sync.models import Alert

from .factories import ConnectionFactory


def test_it_tells_the_assigned_staff_when_health_turns_and_when_it_is_restored(
    client, two_firms, mailoutbox, django_capture_on_commit_callbacks
):
    """GIVEN a connected client with an assigned accountant
    WHEN an alert turns its integration degraded, and later its end restores it
    THEN the accountant gets a notice each time, beside the email, linked to the client's
    health section; nobody else in the firm does."""
    books = two_firms.client_a
    ConnectionFactory(client=books)
    alert = Alert.objects.create(client=books, source="payment sync", message="Check it.")
    with django_capture_on_commit_callbacks(execute=True):
        health_record.record(books)
    Alert.objects.filter(pk=alert.pk).update(resolved_at=alert.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        health_record.record(books)

    degraded, restored = Notice.objects.order_by("created_at", "pk")
    assert {degraded.user, restored.user} == {two_firms.accountant_a}
    assert degraded.text.startswith(f"{books.name}: integration degraded: 1 alert on the sync")
    assert restored.text.startswith(
        f"{books.name}: integration health restored, after less than a minute. It was: 1 alert"
    )
    assert degraded.link == reverse("client_detail", args=[books.slug]) + "#health-title"
    assert degraded.timezone_name == books.timezone
    assert len(mailoutbox) == 2
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("notice_list")).content.decode()
    assert "integration health restored" in page


def test_the_strips_today_agrees_with_the_status_above_it(client, two_firms):
    """GIVEN a client an alert has just turned degraded, before any health check recorded it
    WHEN an accountant opens the client's page
    THEN the strip's today is degraded like the status above it, not healthy."""
    books = two_firms.client_a
    ConnectionFactory(client=books)
    Alert.objects.create(client=books, source="payment sync", message="Check it.")
    client.force_login(two_firms.accountant_a)

    page = client.get(reverse("client_detail", args=[books.slug])).content.decode()

    assert "Degraded" in page
    assert page.count('class="day day-degraded"') == 1
    assert 'class="day day-healthy"' not in page
