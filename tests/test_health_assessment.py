"""A client's integration health from its facts: each reason in words a person can act on,
the worst one setting the status; a condition that passes leaves no reason behind."""

from datetime import UTC, datetime, timedelta

from sync.health import BROKEN, DEGRADED, HEALTHY, NOT_CONNECTED, Facts, Link, assess

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
BOTH = (Link("HubSpot", "active"), Link("QuickBooks Online", "active"))


def facts(**changes) -> Facts:
    base = {"now": NOW, "window": WINDOW, "links": BOTH, "last_success": NOW - timedelta(minutes=5),
            "crm": "HubSpot", "tz": UTC}  # fmt: skip
    return Facts(**(base | changes))


def test_a_client_in_step_is_healthy():
    assert assess(facts()).status == HEALTHY and assess(facts()).reasons == ()


def test_changes_no_webhook_told_of_make_it_degraded_until_a_webhook_arrives_again():
    missed = facts(missed=("Acme Roofing", "Birch Homes"), missed_at=NOW - timedelta(minutes=3),
                   last_delivery=NOW - timedelta(hours=2))  # fmt: skip
    health = assess(missed)
    assert health.status == DEGRADED
    assert health.reasons[0].kind == "webhooks"
    assert health.reasons[0].words == (
        "HubSpot sent no webhook for 2 changes syncfirm found on its own at 14:57 (Acme "
        "Roofing, Birch Homes): changes reach the books up to 15 minutes late until HubSpot's "
        "webhooks work again."
    )
    again = facts(missed=("Acme Roofing",), missed_at=NOW - timedelta(minutes=3),
                  last_delivery=NOW - timedelta(minutes=1))  # fmt: skip
    assert assess(again).status == HEALTHY


def test_a_connection_to_reconnect_is_broken_and_a_lapse_coming_is_degraded():
    gone = facts(links=(Link("HubSpot", "active"), Link("QuickBooks Online", "needs_reauth")))
    assert assess(gone).status == BROKEN
    assert assess(gone).reasons[0].words.startswith("QuickBooks Online needs reconnecting:")
    lapsing = facts(links=(Link("HubSpot", "active", NOW + timedelta(days=3)), BOTH[1]))
    reason = assess(lapsing).reasons[0]
    assert assess(lapsing).status == DEGRADED
    assert (
        reason.words == "HubSpot's authorisation lapses on 8 Dec 15:00: reconnect it before then."
    )


def test_one_failed_run_is_not_a_condition_but_failing_past_the_window_is():
    once = facts(failing_since=NOW - timedelta(minutes=4), last_failure="HubSpot answered 502")
    assert assess(once).status == HEALTHY
    lasting = facts(failing_since=NOW - timedelta(minutes=40), last_failure="HubSpot answered 502")
    assert assess(lasting).status == DEGRADED
    assert assess(lasting).reasons[0].words == (
        "Syncs have failed since 14:20 (40 minutes). The last one: HubSpot answered 502"
    )
    day = facts(failing_since=NOW - timedelta(hours=30))
    assert assess(day).status == BROKEN


def test_no_sync_finishing_for_twice_the_window_is_said_with_the_time():
    quiet = facts(last_success=NOW - timedelta(hours=3))
    assert assess(quiet).reasons[0].words == "No sync has finished since 12:00 (3 hours)."
    assert assess(facts(last_success=None)).status == HEALTHY  # nothing ran yet
    assert assess(facts(last_success=NOW - timedelta(hours=3), started=False)).status == HEALTHY


def test_a_connection_whose_calls_fail_past_the_window_is_said_with_its_last_answer():
    failing = Link("QuickBooks Online", "active", error="QuickBooks answered 503",
                   last_success_at=NOW - timedelta(hours=2),
                   last_error_at=NOW - timedelta(minutes=1))  # fmt: skip
    health = assess(facts(links=(BOTH[0], failing)))
    assert health.status == DEGRADED
    assert health.reasons[0].words == (
        "QuickBooks Online has not answered since 13:00 (2 hours); its last answer: "
        "QuickBooks answered 503."
    )
    blip = Link("QuickBooks Online", "active", error="503",
                last_success_at=NOW - timedelta(minutes=6),
                last_error_at=NOW - timedelta(minutes=1))  # fmt: skip
    assert assess(facts(links=(BOTH[0], blip))).status == HEALTHY  # within the window
    mended = Link("QuickBooks Online", "active", error="503",
                  last_success_at=NOW - timedelta(minutes=1),
                  last_error_at=NOW - timedelta(hours=2))  # fmt: skip
    assert assess(facts(links=(BOTH[0], mended))).status == HEALTHY


def test_a_client_with_no_connection_is_not_connected_yet_not_healthy():
    health = assess(facts(links=(), last_success=None, started=False))
    assert health.status == NOT_CONNECTED and health.reasons == ()


def test_a_daily_allowance_nearly_used_up_is_said_before_syncs_stop():
    near = assess(facts(quotas=(("Xero", 4_200, 5_000),)))
    assert near.status == DEGRADED
    assert near.reasons[0].kind == "quota:Xero"
    assert near.reasons[0].words.startswith(
        "Xero has used 4,200 of the 5,000 calls a day it allows this account"
    )
    assert assess(facts(quotas=(("Xero", 3_000, 5_000),))).status == HEALTHY
