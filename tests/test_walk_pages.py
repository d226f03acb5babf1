"""What a new accountant read wrong on a first walk through the demo (issue 14), kept right:
the client page's "Last reconciliation" agrees with the dashboard, a report of the month in
progress does not claim a month end that has not come, the settings brief names fields in
words, and the report counts what it compared in plain English."""

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from reconciliation.models import Reconciliation
from sync.models import SyncSettings

from .factories import ConnectionFactory


def _this_month(customer) -> date:
    return timezone.localtime(timezone.now(), customer.tzinfo).date().replace(day=1)


def test_client_page_names_the_latest_month_like_the_dashboard(two_firms, client):
    """GIVEN the month in progress failed to reconcile WHEN last month is re-run afterwards
    THEN the client page's card still says this month failed, with its retry button, as the
    dashboard does — not "last month, done", which hides the failure."""
    customer = two_firms.client_a
    this_month = _this_month(customer)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    Reconciliation.objects.create(
        client=customer,
        period=this_month,
        status="failed",
        error="The books did not answer.",
        started_at=timezone.now() - timedelta(hours=1),
    )
    Reconciliation.objects.create(client=customer, period=last_month, status="done")
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("client_detail", args=[customer.slug])).content.decode()
    assert f"{this_month:%B %Y} failed to reconcile: The books did not answer." in page
    assert f"Start {this_month:%B %Y} again" in page
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert f"{this_month:%B %Y} failed to reconcile" in dashboard


def test_a_report_of_the_month_in_progress_says_on_which_day_it_was_judged(two_firms, client):
    """GIVEN this month reconciled today and last month reconciled after it ended THEN this
    month's report says "on <day>" and that the month was not over, and last month's says
    "at month end"."""
    customer = two_firms.client_a
    this_month = _this_month(customer)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    counts = {"invoices": 1, "credits": 0, "won_deals": 2}
    now = Reconciliation.objects.create(
        client=customer, period=this_month, status="done", counts=counts
    )
    then = Reconciliation.objects.create(
        client=customer, period=last_month, status="done", counts=counts
    )
    client.force_login(two_firms.accountant_a)
    today = timezone.localtime(now.started_at, customer.tzinfo).date()

    page = client.get(reverse("reconciliation_report", args=[customer.slug, now.pk]))
    html = page.content.decode()
    last_day = (this_month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if today != last_day:  # on a month's last day both readings agree
        assert f"At stake on {today.day} {today:%B}" in html
        assert f"{this_month:%B} was not over when this ran" in html
        assert "at month end" not in html.lower().replace("open at month end</th>", "")
    assert "1 invoice and 0 credit memos from the books; 2 won deals from the CRM" in html

    html = client.get(reverse("reconciliation_report", args=[customer.slug, then.pk])).content
    html = html.decode()
    assert "At stake at month end" in html
    assert f"No open findings at the end of {last_month:%B %Y}" in html


def test_client_page_names_who_owns_each_field_in_words(two_firms, client):
    customer = two_firms.client_a
    SyncSettings.objects.create(client=customer)
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("client_detail", args=[customer.slug])).content.decode()
    assert "Display name: books" in page and "Postal code: CRM" in page
    assert "Tax ID: CRM" in page and "Address line 1: CRM" in page
    assert "Displayname" not in page and "Postalcode" not in page


def test_connection_card_says_less_than_a_minute_like_the_dashboard(two_firms, client):
    """A call a few seconds ago reads "less than a minute ago", as on the dashboard, never
    "0 minutes ago"."""

    customer = two_firms.client_a
    ConnectionFactory(client=customer, last_success_at=timezone.now())
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("client_detail", args=[customer.slug])).content.decode()
    assert "less than a minute ago" in page
    assert "0\xa0minutes ago" not in page and "0 minutes ago" not in page


def test_a_jobber_clients_page_names_its_systems_and_its_clients(two_firms, client):
    customer = two_firms.client_a
    ConnectionFactory(client=customer, system="quickbooks")
    ConnectionFactory(client=customer, system="jobber")
    SyncSettings.objects.create(client=customer, posting="audit")
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("client_detail", args=[customer.slug])).content.decode()
    assert "Display name: QuickBooks" in page and "Postal code: Jobber" in page
    assert "from Jobber's clients" in page and "contacts with no company" not in page
    # Audit only, said at the top, and on the sync page instead of a direction it has not.
    head = page.split("At a glance")[0]
    assert "Audit only" in head and "Another integration posts Jobber's invoices" in head
    sync = client.get(reverse("client_sync", args=[customer.slug])).content.decode()
    assert "Audit only:" in sync and "Direction: Both ways" not in sync
    assert "Customers are: Jobber's clients" in sync


def test_switching_a_jobber_client_to_syncfirm_posting_says_to_turn_off_jobbers_own_sync(
    two_firms,
):
    """The message after saving the switch: the one thing to do at once, named."""
    from sync.views import _took_over

    customer = two_firms.client_a
    ConnectionFactory(client=customer, system="quickbooks")
    ConnectionFactory(client=customer, system="jobber")
    said = _took_over(customer, {"posting": "audit"}, {"posting": "syncfirm"})
    assert "turn off Jobber's own sync to the books now, or both will post" in said
    assert _took_over(customer, {"posting": "syncfirm"}, {"posting": "syncfirm"}) == ""
    assert _took_over(customer, {"posting": "syncfirm"}, {"posting": "audit"}) == ""
