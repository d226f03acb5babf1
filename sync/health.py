"""A client's integration health, in words: healthy, degraded (still in sync, but something
is wearing thin) or broken (changes no longer arrive), with each reason a person can act on;
or not connected yet, when the client has no connection and there is nothing to judge.

Pure: facts read from the database in (`sync/health_record.py` reads and keeps them), reasons
out. Each reason has a kind: one incident per kind is open at a time, so a condition that
lasts is one incident, told once, and its end is told too.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.formats import date_format
from django.utils.timezone import localtime

HEALTHY, DEGRADED, BROKEN = "healthy", "degraded", "broken"
LEVELS = {HEALTHY: 0, DEGRADED: 1, BROKEN: 2}
# No connection yet: no level at all, so no claim that changes arrive or syncs finish.
NOT_CONNECTED = "not_connected"
LAPSE_WARNING = timedelta(days=7)  # an authorisation lapsing this soon is said
QUOTA_WARNING = 0.8  # share of a daily allowance used that is said before it runs out
BROKEN_AFTER = timedelta(hours=24)  # no sync finished for this long: changes stopped arriving


@dataclass(frozen=True)
class Link:
    """One of the client's connections, as health reads it."""

    label: str  # "HubSpot", "QuickBooks Online"
    status: str  # connections.models.Status
    refresh_expires_at: datetime | None = None
    error: str = ""
    last_success_at: datetime | None = None  # its last answered call (a sync's or the probe's)
    last_error_at: datetime | None = None


@dataclass(frozen=True)
class Facts:
    now: datetime
    window: timedelta  # how late a change may arrive: the client's batched pull interval
    links: tuple[Link, ...] = ()
    last_success: datetime | None = None  # the last sync that finished
    last_failure: str = ""  # the error of the latest run, when it failed
    failing_since: datetime | None = None  # the first failure after the last success
    crm: str = "CRM"
    missed: tuple[str, ...] = ()  # changes a scheduled pull found that no webhook told of
    missed_at: datetime | None = None
    last_delivery: datetime | None = None  # the CRM's latest webhook
    tz: object = None  # the client's timezone, for the times in the words
    unsubscribed: tuple[str, ...] = ()  # CRM events syncfirm's app is not subscribed to
    remedy: str = ""  # how that is mended, in the provider's words
    started: bool = True  # the historical import is done: syncs are expected
    # The daily arrival check: changes made in the last day (`late_of` of them checked) that
    # reached the other system late: (where made, name, minutes it took or None: not yet).
    late: tuple[tuple[str, str, int | None], ...] = ()
    late_of: int = 0
    # Alerts a person has not marked handled (a payment changed after it was carried …).
    alerts: tuple[str, ...] = ()
    # Daily allowances: (provider label, calls used in the last day, allowed a day).
    quotas: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True)
class Reason:
    kind: str
    level: str
    words: str


@dataclass(frozen=True)
class Health:
    status: str
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


def _when(facts: Facts, moment: datetime) -> str:
    local = localtime(moment, facts.tz) if facts.tz else moment
    if local.date() == (localtime(facts.now, facts.tz) if facts.tz else facts.now).date():
        return date_format(local, "H:i")
    return date_format(local, "j M H:i")


def span(delta: timedelta) -> str:
    """A stretch of time as a person says it: minutes, then hours, then days."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 120:
        return f"{minutes} minute{'s' * (minutes != 1)}"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


def assess(facts: Facts) -> Health:
    if not facts.links:
        return Health(NOT_CONNECTED)
    reasons = [
        *_connections(facts),
        *_syncs(facts),
        *_webhooks(facts),
        *_subscriptions(facts),
        *_quotas(facts),
        *_arrivals(facts),
        *_alerts(facts),
    ]
    worst = max((LEVELS[r.level] for r in reasons), default=0)
    status = next(s for s, n in LEVELS.items() if n == worst)
    return Health(status, tuple(reasons))


def _connections(facts: Facts):
    for link in facts.links:
        if link.status in ("needs_reauth", "revoked", "error"):
            why = f" ({link.error})" if link.error else ""
            yield Reason(
                f"connection:{link.label}",
                BROKEN,
                f"{link.label} needs reconnecting{why}: nothing is read from it or written to "
                "it until someone with access reconnects it.",
            )
        elif _unanswered(link, facts):
            since = link.last_success_at or link.last_error_at
            yield Reason(
                f"answers:{link.label}",
                DEGRADED,
                f"{link.label} has not answered since {_when(facts, since)} "
                f"({span(facts.now - since)}); its last answer: {link.error or 'an error'}.",
            )
        elif link.refresh_expires_at and link.refresh_expires_at - facts.now < LAPSE_WARNING:
            yield Reason(
                f"lapse:{link.label}",
                DEGRADED,
                f"{link.label}'s authorisation lapses on {_when(facts, link.refresh_expires_at)}: "
                "reconnect it before then.",
            )


def _unanswered(link: Link, facts: Facts) -> bool:
    """Its calls have failed for longer than the window: the latest answer is an error, and
    the last good one (if any) is older than the window."""
    if link.last_error_at is None:
        return False
    if link.last_success_at and link.last_success_at >= link.last_error_at:
        return False
    since = link.last_success_at or link.last_error_at
    return facts.now - since > facts.window


def _syncs(facts: Facts):
    """Runs failing for longer than the window (one failure the next run mends is not a
    condition), or none finished for twice the window."""
    if not facts.started or not facts.links:
        return
    failing = facts.now - facts.failing_since if facts.failing_since else None
    quiet = facts.now - facts.last_success if facts.last_success else None
    if failing is not None and failing >= facts.window:
        last = f" The last one: {facts.last_failure}" if facts.last_failure else ""
        level = BROKEN if failing > BROKEN_AFTER else DEGRADED
        since = _when(facts, facts.failing_since)
        yield Reason("sync", level, f"Syncs have failed since {since} ({span(failing)}).{last}")
    elif failing is None and quiet is not None and quiet > facts.window * 2:
        level = BROKEN if quiet > BROKEN_AFTER else DEGRADED
        since = _when(facts, facts.last_success)
        yield Reason("sync", level, f"No sync has finished since {since} ({span(quiet)}).")


def _first_three(names: tuple[str, ...]) -> str:
    """ "a, b, c and 4 more": enough to recognise, short enough to read in an email."""
    more = len(names) - 3
    return ", ".join(names[:3]) + (f" and {more} more" if more > 0 else "")


def _webhooks(facts: Facts):
    if not facts.missed or facts.missed_at is None:
        return
    if facts.last_delivery and facts.last_delivery > facts.missed_at:
        return  # webhooks arrive again
    named = _first_three(facts.missed)
    yield Reason(
        "webhooks",
        DEGRADED,
        f"{facts.crm} sent no webhook for {len(facts.missed)} change"
        f"{'s' * (len(facts.missed) != 1)} syncfirm found on its own at "
        f"{_when(facts, facts.missed_at)} ({named}): changes reach the books up to "
        f"{span(facts.window)} late until {facts.crm}'s webhooks work again.",
    )


def _subscriptions(facts: Facts):
    """syncfirm's app at the CRM is not subscribed to some of the events it needs (paused
    or deleted at the provider): those changes wait for the scheduled pull. Said before
    any change goes missing, from the provider's own list."""
    if not facts.unsubscribed:
        return
    named = _first_three(facts.unsubscribed)
    yield Reason(
        "subscriptions",
        DEGRADED,
        f"syncfirm's app at {facts.crm} is not subscribed to {named}: those changes reach "
        f"the books only at the scheduled pull, up to {span(facts.window)} late. {facts.remedy}",
    )


def _quotas(facts: Facts):
    """A provider's daily allowance nearly used up: said before syncs stop for the day."""
    for label, used, allowed in facts.quotas:
        if allowed and used >= allowed * QUOTA_WARNING:
            yield Reason(
                f"quota:{label}",
                DEGRADED,
                f"{label} has used {used:,} of the {allowed:,} calls a day it allows this "
                "account (the last 24 hours): when none are left, syncs stop until calls "
                "made a day earlier age out.",
            )


def _arrivals(facts: Facts):
    """Changes made in the last day that reached the other system later than the window."""
    if not facts.late:
        return
    named = _first_three(
        tuple(
            f"{name} (in {origin}, "
            + (f"took {span(timedelta(minutes=lag))})" if lag is not None else "not yet)")
            for origin, name, lag in facts.late
        )
    )
    count = len(facts.late)
    yield Reason(
        "arrival",
        DEGRADED,
        f"{count} of the {facts.late_of} customer changes made in the last day took longer "
        f"than {span(facts.window)} to reach the other system: {named}.",
    )


def _alerts(facts: Facts):
    """Alerts waiting for a person: the client is not healthy until someone acts on them."""
    if not facts.alerts:
        return
    count = len(facts.alerts)
    yield Reason(
        "alerts",
        DEGRADED,
        f"{count} alert{'s' * (count != 1)} on the sync page wait{'s' * (count == 1)} for "
        f"someone to act and mark {'them' if count != 1 else 'it'} handled: {facts.alerts[0]}",
    )
