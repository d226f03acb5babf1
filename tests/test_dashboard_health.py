"""The dashboard's integration health per client: the open incident in words and the last
30 days, as the client's page shows them."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from sync.models import Incident

from .factories import ConnectionFactory


def test_each_row_says_the_incident_in_words_and_shows_thirty_days(client, two_firms):
    """GIVEN a client degraded three days ago and still, and another firm's client broken
    WHEN an accountant opens the dashboard
    THEN the degraded client's row says why in words and shows 30 days with the last three
    (today included) degraded; the other firm's incident appears nowhere."""
    books = two_firms.client_a
    ConnectionFactory(client=books, connected_at=timezone.now() - timedelta(days=40))
    now = timezone.now()
    Incident.objects.create(
        client=books, kind="webhooks", level="degraded", opened_at=now - timedelta(days=2),
        words="HubSpot sent no webhook for 2 changes syncfirm found on its own.",
    )  # fmt: skip
    Incident.objects.create(
        client=books, kind="answers", level="broken", opened_at=now - timedelta(days=9),
        resolved_at=now - timedelta(days=9) + timedelta(minutes=5), words="QuickBooks refused.",
    )  # fmt: skip
    other = two_firms.client_b
    ConnectionFactory(client=other)
    Incident.objects.create(client=other, kind="answers", level="broken", opened_at=now,
                            words="Another firm's secret trouble.")  # fmt: skip
    client.force_login(two_firms.accountant_a)

    board = client.get(reverse("dashboard")).content.decode()

    row = board[board.index(books.name) :]
    row = row[: row.index("</tr>")]
    assert "Integration degraded" in row
    assert "HubSpot sent no webhook for 2 changes syncfirm found on its own." in row
    days = re.findall(r'<li class="day-(\w+)"', row)
    assert len(days) == 30
    assert days[-3:] == ["degraded"] * 3 and days[-10] == "broken"
    assert days.count("healthy") == 30 - 4
    assert "Another firm's secret trouble" not in board


def test_a_client_never_connected_has_no_strip(client, two_firms):
    client.force_login(two_firms.accountant_a)
    board = client.get(reverse("dashboard")).content.decode()
    row = board[board.index(two_firms.client_a.name) :]
    assert "Not connected yet" in row[: row.index("</tr>")]
    assert "mini-strip" not in row[: row.index("</tr>")]


def test_staff_in_the_demo_find_the_sandbox_page_from_every_page(client, two_firms, settings):
    """The Done-when's demo steps (stop webhooks, key an invoice by hand) start from a link
    staff see on every page while the sandbox is on; signed out, nobody is shown it."""
    assert settings.SANDBOX
    assert "Act as them" not in client.get(reverse("account_login")).content.decode()
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("sandbox_controls")}">Act as them</a>' in page
