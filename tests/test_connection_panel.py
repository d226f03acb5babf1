"""The client page's connection cards (the polled panel)."""

from datetime import UTC, datetime

from django.urls import reverse

from .factories import ConnectionFactory


def test_it_says_until_when_a_connection_is_authorised(client, two_firms):
    """GIVEN a QuickBooks connection whose authorisation lapses on 17 March 2027 unless
    renewed, and a HubSpot one whose authorisation does not lapse
    WHEN an accountant reads the client's connections
    THEN the QuickBooks card says until when it is authorised; the HubSpot card says no date."""
    lapses = datetime(2027, 3, 17, 12, tzinfo=UTC)
    ConnectionFactory(client=two_firms.client_a, refresh_expires_at=lapses)
    ConnectionFactory(client=two_firms.client_a, system="hubspot", refresh_expires_at=None)
    client.force_login(two_firms.accountant_a)

    page = client.get(reverse("connection_panel", args=[two_firms.client_a.slug]))

    text = page.content.decode()
    assert text.count("Authorised until") == 1
    assert "Authorised until</dt><dd>17 Mar 2027" in text
