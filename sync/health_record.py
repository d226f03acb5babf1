"""A client's integration health, read from the database and kept as incidents.

`facts_for` reads what `health.assess` judges; `record` keeps one open `Incident` per kind
of reason, opens one when a reason appears and resolves it when the reason is gone, and
emails the client's staff once when an incident opens (or turns broken) and once when it
is resolved. It runs after every sync and on a schedule (`tasks.check_health`), so a client
whose syncs stopped altogether is noticed too.
"""

import contextlib
import logging
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clients.names import header_safe
from connections.actions import alert_recipients
from connections.app_checks import app_gaps
from connections.models import BOUND_STATUSES, Connection, WebhookDelivery
from connections.providers import Kind, provider
from connections.ratelimit import usage

from . import health
from .arrival import Change, late_changes
from .mapping import record_name
from .models import (
    FINISHED_STATUSES,
    Alert,
    ArrivalCheck,
    CustomerLink,
    Incident,
    RecordOutcome,
    RunKind,
    RunStatus,
    SyncRun,
    SyncSettings,
)
from .signals import health_told

log = logging.getLogger(__name__)

STRIP_DAYS = 30
PROBE_EVERY = timedelta(days=1)
NAMES_KEPT = 20  # late changes named on the check (the count says how many in all)


def facts_for(client: Client, now=None) -> health.Facts:
    now = now or timezone.now()
    # Read, never made: a page showing health must not write a settings row.
    sync_settings = SyncSettings.objects.filter(client=client).first() or SyncSettings()
    connections = list(client.connections.filter(status__in=BOUND_STATUSES))
    runs = SyncRun.objects.filter(client=client)
    last_success = runs.filter(status__in=FINISHED_STATUSES).aggregate(at=Max("finished_at"))["at"]
    failed = runs.filter(status=RunStatus.FAILED)
    if last_success:
        failed = failed.filter(started_at__gt=last_success)
    failing_since = failed.aggregate(at=Min("started_at"))["at"]
    latest_failure = failed.order_by("-started_at").values_list("error", flat=True).first()
    crm = next((c for c in connections if provider(c.system).kind == Kind.CRM), None)
    last_delivery = (
        WebhookDelivery.objects.filter(connection=crm).aggregate(at=Max("received_at"))["at"]
        if crm
        else None
    )
    # The latest pull that found changes no webhook told of stands until a webhook arrives
    # after it: a later pull with nothing new to find says nothing about the webhooks.
    pulls = runs.filter(
        kind=RunKind.SCHEDULED,
        status__in=FINISHED_STATUSES,
        counts__has_key="missed_by_webhooks",
    )
    if last_delivery:
        pulls = pulls.filter(finished_at__gt=last_delivery)
    pull = pulls.order_by("-finished_at").values("counts", "finished_at").first()
    missed = tuple((pull or {}).get("counts", {}).get("missed_by_webhooks", ()))
    unsubscribed, remedy = app_gaps(crm.system) if crm else ((), "")
    arrivals = ArrivalCheck.objects.filter(client=client, error="").first()
    return health.Facts(
        now=now,
        window=timedelta(minutes=sync_settings.schedule_minutes),
        links=tuple(_link(c) for c in connections),
        last_success=last_success,
        last_failure=(latest_failure or "")[:300],
        failing_since=failing_since,
        crm=provider(crm.system).label if crm else "the CRM",
        missed=missed,
        missed_at=pull["finished_at"] if pull and missed else None,
        last_delivery=last_delivery,
        tz=client.tzinfo,
        started=sync_settings.import_done_at is not None,
        unsubscribed=unsubscribed,
        remedy=remedy,
        late=tuple(
            (c["origin"], c["name"], c["lag_minutes"]) for c in (arrivals.late if arrivals else [])
        ),
        late_of=arrivals.changes if arrivals else 0,
        alerts=tuple(
            Alert.objects.filter(client=client, resolved_at=None)
            .order_by("created_at")
            .values_list("message", flat=True)[:5]
        ),
        quotas=tuple(
            (provider(c.system).label, u.used, u.limit.calls)
            for c in connections
            for u in usage(c.system, c.external_id)
            if u.limit.daily
        ),
    )


def check_arrivals(client: Client, now=None) -> ArrivalCheck | None:
    """The daily probe's second half (`sync.arrival`): the linked customers changed in the
    last day in either system, read through the adapters (nothing written), against the
    runs that looked at them. Once a day per client, after its import."""
    from connections import retries

    now = now or timezone.now()
    done = ArrivalCheck.objects.filter(client=client).first()
    sync_settings = SyncSettings.objects.filter(client=client).first()
    if (done and now - done.checked_at < PROBE_EVERY) or not (
        sync_settings and sync_settings.import_done_at
    ):
        return None
    connections = {provider(c.system).kind: c for c in client.connections.filter(status="active")}
    if Kind.CRM not in connections or Kind.ACCOUNTING not in connections:
        return None
    crm, books = connections[Kind.CRM], connections[Kind.ACCOUNTING]
    since = max(now - PROBE_EVERY, sync_settings.import_done_at)
    try:
        changes, error = _changes(client, crm, books, since, sync_settings.field_map), ""
    except (retries.ProviderError, retries.Transient, retries.RateLimited) as failed:
        changes, error = [], str(failed)[:500]  # said on the connection; half a read not judged
    window = timedelta(minutes=sync_settings.schedule_minutes)
    late = late_changes(changes, _looked(client, since), now, window) if not error else []
    check, _ = ArrivalCheck.objects.update_or_create(
        client=client,
        defaults={
            "checked_at": now,
            "changes": len(changes),
            "error": error,
            "late": [
                {
                    "origin": item.change.origin,
                    "name": item.change.name[:200],
                    "lag_minutes": int(item.lag.total_seconds() // 60) if item.lag else None,
                }
                for item in late[:NAMES_KEPT]
            ],
        },
    )
    return check


def _changes(client: Client, crm: Connection, books: Connection, since, field_map) -> list[Change]:
    """Linked customers changed after `since` in the CRM and in the books, as they say."""
    from connections.adapters import accounting_adapter, crm_adapter

    links = CustomerLink.objects.filter(client=client)
    changes, crm_label = [], provider(crm.system).label
    adapter = crm_adapter(crm)
    for crm_type in ("companies", "contacts"):
        linked = set(links.filter(crm_type=crm_type).values_list("crm_id", flat=True))
        for record in adapter.records_changed_since(crm_type, since):
            if record.external_id in linked and record.updated_at:
                name, key = record_name(record, field_map), f"crm:{record.external_id}"
                changes.append(Change(crm_label, name, key, record.updated_at))
    linked = set(links.values_list("accounting_id", flat=True))
    books_label = provider(books.system).label
    for customer in accounting_adapter(books).customers_changed_since(since):
        if customer.external_id in linked and customer.updated_at:
            key = f"books:{customer.external_id}"
            changes.append(Change(books_label, customer.display_name, key, customer.updated_at))
    return changes


def _looked(client: Client, since) -> dict[str, list]:
    """Record key → when the runs that looked at it (since `since`) finished."""
    looked: dict[str, list] = {}
    outcomes = RecordOutcome.objects.filter(
        run__client=client, run__finished_at__gte=since
    ).values_list("crm_id", "accounting_id", "run__finished_at")
    for crm_id, accounting_id, finished in outcomes:
        if crm_id:
            looked.setdefault(f"crm:{crm_id}", []).append(finished)
        if accounting_id:
            looked.setdefault(f"books:{accounting_id}", []).append(finished)
    return looked


def _link(connection: Connection) -> health.Link:
    return health.Link(
        provider(connection.system).label,
        connection.status,
        connection.refresh_expires_at,
        connection.last_error[:200],
        connection.last_success_at,
        connection.last_error_at,
    )


def probe(client: Client, now=None) -> int:
    """The daily probe: a cheap read (the account's name) through the adapter of each active
    connection nobody has called for a day, so a quiet client's broken connection is found
    before month end. Writes nothing to the client's systems; the answer is recorded on
    the connection like any call's (`connections.calls`). How many it probed."""
    from connections import retries
    from connections.adapters import accounting_adapter, crm_adapter

    now = now or timezone.now()
    # A connection never answered yet is new: its first sync is about to call it.
    due = client.connections.filter(status="active", last_success_at__lt=now - PROBE_EVERY)
    probed = 0
    for connection in due:
        adapter = (
            accounting_adapter(connection)
            if provider(connection.system).kind == Kind.ACCOUNTING
            else crm_adapter(connection)
        )
        # A failure is recorded on the connection; health says it in words.
        with contextlib.suppress(retries.ProviderError, retries.Transient, retries.RateLimited):
            adapter.account_info()
        probed += 1
    return probed


def record(client: Client, now=None) -> health.Health:
    now = now or timezone.now()
    found = health.assess(facts_for(client, now))
    reasons = {r.kind: r for r in found.reasons}
    opened, worse, ended = [], [], []
    with transaction.atomic():
        current = {
            i.kind: i
            for i in Incident.objects.select_for_update().filter(client=client, resolved_at=None)
        }
        for kind, reason in reasons.items():
            incident = current.get(kind)
            if incident is None:
                try:
                    with transaction.atomic():  # a savepoint: another worker may be first
                        opened.append(
                            Incident.objects.create(
                                client=client,
                                kind=kind,
                                level=reason.level,
                                words=reason.words,
                                opened_at=now,
                            )
                        )
                    continue
                except IntegrityError:  # it opened (and told) this one meanwhile: take it
                    incident = Incident.objects.select_for_update().get(
                        client=client, kind=kind, resolved_at=None
                    )
            if (incident.level, incident.words) != (reason.level, reason.words):
                if health.LEVELS[reason.level] > health.LEVELS[incident.level]:
                    worse.append(incident)
                incident.level, incident.words = reason.level, reason.words
                incident.save(update_fields=["level", "words"])
        for kind, incident in current.items():
            if kind not in reasons:
                incident.resolved_at = now
                incident.save(update_fields=["resolved_at"])
                ended.append(incident)
    if opened or worse or ended:
        transaction.on_commit(lambda: _tell(client, found, opened + worse, ended))
    return found


def _tell(client: Client, found: health.Health, news: list, ended: list) -> None:
    page = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("client_detail", args=[client.slug])
    lines = [f"- {i.get_level_display()}: {i.words}" for i in news]
    lines += [f"- Resolved after {_lasted(i)}: {i.words}" for i in ended]
    subject = (
        f"{client.name}: integration {found.status}"
        if news
        else f"{client.name}: integration health restored"
        if found.status == health.HEALTHY
        else f"{client.name}: an integration problem resolved"
    )
    recipients = alert_recipients(client)
    try:
        send_mail(
            subject=header_safe(subject),
            message="\n".join(lines) + f"\n\nThe client's page: {page}\n",
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:  # the mail server down: the notice below still tells them
        log.exception("client %s: the integration health email was not sent", client.pk)
    # The same news in the app (a notice, from the layer above), for whoever missed the email.
    more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
    text = (
        f"{subject}: {news[0].words}{more}"
        if news  # an ended incident's words say the problem as it was, not as it is
        else f"{subject}, after {_lasted(ended[0])}. It was: {ended[0].words}{more}"
    )
    for receiver, answer in health_told.send_robust(
        sender=health.Health, client=client, emails=recipients, text=text
    ):
        if isinstance(answer, Exception):
            log.warning("client %s: %r failed: %r", client.pk, receiver, answer)


def _lasted(incident: Incident) -> str:
    return health.span(incident.resolved_at - incident.opened_at)


def strip(client: Client, today, days: int = STRIP_DAYS) -> list[tuple]:
    """(date, status) for each of the last `days` days, oldest first: the worst level of the
    incidents open at any time that day, in the client's timezone."""
    incidents = Incident.objects.filter(client=client).exclude(
        resolved_at__date__lt=today - timedelta(days=days)
    )
    first = client.connections.aggregate(at=Min("connected_at"))["at"]
    spans = incidents.values_list("opened_at", "resolved_at", "level")
    return _days(spans, first, today, client.tzinfo, days)


def strips(rows: list[dict], now=None, days: int = STRIP_DAYS) -> dict[int, list[tuple]]:
    """`strip` for a page of the dashboard's rows (each with "pk" and "timezone"): two
    queries for the page, however many clients."""
    now = now or timezone.now()
    ids = [r["pk"] for r in rows]
    spans: dict[int, list] = {pk: [] for pk in ids}
    # The earliest "today" of any timezone, a day early: what a client's strip can reach.
    since = now.date() - timedelta(days=days + 1)
    for client_id, *span in (
        Incident.objects.filter(client_id__in=ids)
        .exclude(resolved_at__date__lt=since)
        .values_list("client_id", "opened_at", "resolved_at", "level")
    ):
        spans[client_id].append(span)
    firsts = dict(
        Connection.objects.filter(client_id__in=ids)
        .values("client_id")
        .annotate(at=Min("connected_at"))
        .values_list("client_id", "at")
    )
    found = {}
    for r in rows:
        try:
            tz = zoneinfo.ZoneInfo(r["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            found[r["pk"]] = []  # a name tzdata no longer knows: no strip, not a broken page
            continue
        today = timezone.localtime(now, tz).date()
        found[r["pk"]] = _days(spans[r["pk"]], firsts.get(r["pk"]), today, tz, days)
    return found


def _days(spans, first_connected, today, tz, days: int) -> list[tuple]:
    """The strip from (opened, resolved, level) spans: each day's worst level, "none"
    before the first connection (days before it tell nothing: not "healthy")."""
    start = today - timedelta(days=days - 1)
    worst = {start + timedelta(days=n): 0 for n in range(days)}
    for opened, resolved, level in spans:
        day = max(timezone.localtime(opened, tz).date(), start)
        last = timezone.localtime(resolved, tz).date() if resolved else today
        while day <= min(last, today):
            worst[day] = max(worst[day], health.LEVELS[level])
            day += timedelta(days=1)
    names = {n: s for s, n in health.LEVELS.items()}
    watched = (
        timezone.localtime(first_connected, tz).date()
        if first_connected
        else today + timedelta(days=1)
    )
    return [(day, names[level] if day >= watched else "none") for day, level in worst.items()]


def overview(client: Client, now=None) -> dict:
    """What the client's page shows: the health now (its reasons in words and the facts
    they rest on), the last 30 days as a strip, and the latest incidents."""
    now = now or timezone.now()
    today = timezone.localtime(now, client.tzinfo).date()
    connections = client.connections.filter(status__in=BOUND_STATUSES)
    facts = facts_for(client, now)
    found = health.assess(facts)
    days = strip(client, today)
    if found.status in health.LEVELS and days:
        # Today as the page judges it now, not only as the last recorded check found it.
        day, recorded = days[-1]
        if health.LEVELS[found.status] > health.LEVELS.get(recorded, -1):
            days[-1] = (day, found.status)
    return {
        "integration": found,
        # What the judgement rests on, said even when all is well.
        "integration_facts": {
            "crm": facts.crm,
            "crm_connected": any(provider(c.system).kind == Kind.CRM for c in connections),
            "last_delivery": facts.last_delivery,
            "last_success": facts.last_success,
            "window_words": health.span(facts.window),
        },
        # Headroom under each provider limit, as counted across every worker.
        "rate_limits": [
            (provider(c.system).label, u)
            for c in connections
            for u in usage(c.system, c.external_id)
        ],
        "integration_strip": days,
        "incidents": list(Incident.objects.filter(client=client).order_by("-opened_at")[:10]),
    }
