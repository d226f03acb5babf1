"""The daily probe's second half: a change made in one system reaching the other within the
client's window, measured on changes made anyway; late ones said by name, in health."""

from datetime import UTC, datetime, timedelta

import requests
from django.utils import timezone

from sync.arrival import RUN_TIME, Change, late_changes
from sync.customers import run_customer_sync
from sync.health import DEGRADED, Facts, Link, assess
from sync.health_record import check_arrivals, facts_for
from sync.models import ArrivalCheck, RunKind, SyncSettings

from .sandbox.conftest import sandbox_db

T = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_a_change_is_late_when_no_run_looked_at_it_within_the_window_and_a_runs_time():
    acme = Change("HubSpot", "Acme", "crm:1", T)
    birch = Change("QuickBooks Online", "Birch", "books:7", T)
    cedar = Change("HubSpot", "Cedar", "crm:3", T)
    looked = {
        "crm:1": [T - timedelta(minutes=5), T + timedelta(minutes=12)],  # in time
        "books:7": [T + WINDOW + RUN_TIME + timedelta(minutes=1)],  # late
    }
    late = late_changes([acme, birch, cedar], looked, T + timedelta(hours=2), WINDOW)
    assert [(x.change.name, x.lag) for x in late] == [
        ("Birch", WINDOW + RUN_TIME + timedelta(minutes=1)),
        ("Cedar", None),  # no run has looked at it since
    ]
    # A change too recent to judge is not late yet.
    assert late_changes([cedar], {}, T + timedelta(minutes=20), WINDOW) == []


def test_late_changes_degrade_the_client_with_their_names_in_words():
    facts = Facts(
        now=T, window=WINDOW, links=(Link("HubSpot", "active"),), last_success=T, tz=UTC,
        late=(("HubSpot", "Cedar Roofing", None), ("QuickBooks Online", "Birch Homes", 95)),
        late_of=14,
    )  # fmt: skip
    health = assess(facts)
    assert health.status == DEGRADED
    assert health.reasons[0].words == (
        "2 of the 14 customer changes made in the last day took longer than 15 minutes to "
        "reach the other system: Cedar Roofing (in HubSpot, not yet), Birch Homes (in "
        "QuickBooks Online, took 95 minutes)."
    )


@sandbox_db
def test_the_probe_finds_a_change_no_sync_carried_and_clears_once_one_does(systems, sandbox):
    """Webhooks off and no pull: a HubSpot company renamed stays behind; the probe reads
    HubSpot's changes (writing nothing) and says so. The next sync carries it, and the next
    day's check finds nothing late."""
    client = systems.client
    company = systems.company(name="Quiet Builders", zip="78701")
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    SyncSettings.objects.filter(client=client).update(
        import_done_at=timezone.now() - timedelta(hours=1)
    )
    requests.patch(
        f"{sandbox}/sandbox/control/hubspot/portals/{systems.hub_connection.external_id}",
        json={"webhook_url": ""},
        timeout=10,
    ).raise_for_status()
    systems.hubspot.crm.companies.basic_api.update(
        company, {"properties": {"name": "Quiet Builders Inc"}}
    )
    later = timezone.now() + WINDOW + RUN_TIME + timedelta(minutes=1)
    check = check_arrivals(client, now=later)
    # The customer the import made in the books changed too, and the import looked at it.
    assert check.error == "" and check.changes == 2
    assert check.late == [{"origin": "HubSpot", "name": "Quiet Builders Inc", "lag_minutes": None}]
    said = assess(facts_for(client, now=later))
    assert "Quiet Builders Inc (in HubSpot, not yet)" in said.reasons[-1].words
    assert check_arrivals(client, now=later) is None  # once a day

    run_customer_sync(client, kind=RunKind.SCHEDULED)
    ArrivalCheck.objects.filter(client=client).update(checked_at=later - timedelta(days=2))
    again = check_arrivals(client, now=timezone.now() + timedelta(minutes=1))
    assert again.late == [] and again.changes >= 1
    assert "arrival" not in {r.kind for r in assess(facts_for(client)).reasons}
