"""Customer sync for one client: the shell around the pure core (mapping, validation,
matching, plan). It reads both sides through the adapters, decides per record, writes in
batches, and records the run with every record's outcome.

Never a duplicate customer: an unlinked CRM record is matched against the local mirror of
the accounting side first; only a clear miss is created, and two records of one run that
are one customer never both create. Books that keep names unique back
this up: a name taken makes us look harder, and so does a create whose answer was lost.
Batch size, the change feed's limits and the words shown come from the adapter's
capabilities and the provider registry: nothing here names a provider.
"""

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from clients.actions import audit
from clients.models import Client
from connections import retries
from connections.adapters import accounting_adapter, crm_adapter, webhook_changes
from connections.contract import Refusal
from connections.models import Connection, Status, WebhookDelivery
from connections.providers import Kind, Provider, provider
from connections.records import CrmRecord, Customer, WriteResult

from . import evidence, learnt, plan
from .alerts import raise_alert, resolve_alerts
from .checking import check_all_meanwhile
from .client_matching import settings_changed, settings_stamp, vocabulary
from .invoices import InvoiceStep
from .leases import WAITING_STAGE, Lease, LeaseLost, client_lease
from .linkage import Decision as LinkDecision
from .linkage import Matcher, Party
from .linkage.collector import collector_paused
from .linkage.duplicates import find_duplicates
from .linkage.matcher import ONLY_NAME
from .mapping import accounting_values, map_record, record_name
from .models import (
    CRM_LABELS,
    ConflictKind,
    ConflictStatus,
    CrmSource,
    CustomerLink,
    Direction,
    MirroredCustomer,
    Outcome,
    Posting,
    RecordOutcome,
    RunKind,
    RunStatus,
    SyncConflict,
    SyncCursor,
    SyncRun,
    SyncSettings,
)
from .posting import default_posting
from .validation import check_customer

log = logging.getLogger(__name__)

CURSOR_OVERLAP = timedelta(minutes=2)  # re-read a little: clocks differ, merges are idempotent
WEBHOOK_DELAY = timedelta(minutes=2)  # a webhook may come this long after its change
ACCOUNTING_GROUP = "customers"
# Neither way: records are matched and linked, never created or changed (an audit).
AUDIT_DIRECTION = "audit"


STAYS = "put to a person, and neither the record nor the matching settings changed since"
SETTLED = "settled by sync"


class SyncUnavailable(Exception):
    """The run cannot start (a system not connected); said in plain words."""


@dataclass
class Prepared:
    """One CRM record, mapped and validated, ready to be decided."""

    record: CrmRecord
    values: dict[str, str]
    problems: list[str]

    @property
    def key(self) -> str:
        return f"{self.record.crm_type}:{self.record.external_id}"

    @property
    def name(self) -> str:
        v = self.values
        return v.get("display_name") or v.get("company_name") or v.get("given_name") or ""

    def party(self) -> Party:
        return party_of(self.key, self.name, self.values)


# The mapped fields matching weighs (every one the field map can carry), in Party's order:
# `party_of` passes them by position.
MATCHED_FIELDS = Party._fields[2:]


def party_of(key: str, name: str, values: dict) -> Party:
    return Party(key, name, *[str(values.get(f) or "") for f in MATCHED_FIELDS])


@dataclass(frozen=True)
class Asked:
    """An open "possible existing customer" item: the pair put to a person, the record's
    values then, the matching settings then (None for items raised before they were kept),
    and what the person was told."""

    accounting_id: str
    values: dict
    settings: dict | None
    reason: str


@dataclass
class LinkChange:
    """A linked pair's writes in flight: its new baseline is kept only once every side it
    writes to has taken the change, so a half-done pair is merged again next time."""

    link: CustomerLink
    baseline: dict
    waiting: set[str]
    failed: bool = False


@dataclass
class PendingWrite:
    prepared: Prepared
    values: dict[str, str]  # what to write (all fields on create, the changed ones on update)
    current: Customer | None = None
    change: LinkChange | None = None


LEASE_BUSY = (
    "Another sync of this client kept running; this one did not start. "
    "The next scheduled pull covers its changes."
)


def run_customer_sync(
    client: Client,
    *,
    kind: str = RunKind.MANUAL,
    full: bool = False,
    crm_ids: dict[str, list[str]] | None = None,
    dry_run: bool = False,
    user=None,
    wait_seconds: float = 120,
    approved_preview: SyncRun | None = None,
    invoice_dates: dict[str, date] | None = None,
) -> SyncRun:
    """Run one customer sync now and return its SyncRun; a failure is recorded, alerted and
    returned in the run, never raised past here. For a person's command: it waits up to
    `wait_seconds` for the client's lease. Workers go through `sync.pending` instead, which
    never waits. `invoice_dates` (deal id → day) dates those deals' invoices: an approved
    reconciliation fix writes outside a closed period; normal sync never passes it."""
    options = {"kind": kind, "full": full, "crm_ids": crm_ids, "dry_run": dry_run, "user": user}
    options["invoice_dates"] = invoice_dates
    with client_lease(client, wait_seconds) as lease:
        if lease is None:
            run = SyncRun.objects.create(client=client, kind=kind, started_by=user)
            return _finish(run, RunStatus.FAILED, LEASE_BUSY)
        return run_under_lease(lease, client, approved_preview=approved_preview, **options)


def run_under_lease(
    lease: Lease,
    client: Client,
    *,
    kind: str,
    full: bool = False,
    crm_ids: dict[str, list[str]] | None = None,
    dry_run: bool = False,
    user=None,
    approved_preview: SyncRun | None = None,
    invoice_dates: dict[str, date] | None = None,
) -> SyncRun:
    """One run of the client whose lease the caller holds."""
    run = SyncRun.objects.create(
        client=client,
        kind=kind,
        started_by=user,
        stage=WAITING_STAGE,
        approved_preview=approved_preview,
    )
    lease.attach(run)
    try:
        _CustomerSync(
            client, run, lease, full=full, crm_ids=crm_ids, dry_run=dry_run,
            invoice_dates=invoice_dates,
        ).execute()  # fmt: skip
    except (SyncUnavailable, LeaseLost) as error:
        _finish(run, RunStatus.FAILED, str(error))
    except Exception as error:  # recorded and alerted: a run never fails silently
        log.exception("customer sync %s of %s failed", run.pk, client)
        _finish(run, RunStatus.FAILED, _plain_error(error))
    return run


def _plain_error(error: Exception) -> str:
    if isinstance(error, retries.Unauthorised):
        return f"The connection was refused ({error}); it needs to be re-authorised."
    if isinstance(error, retries.ProviderError | retries.Transient | retries.RateLimited):
        return str(error)
    return f"Unexpected error: {type(error).__name__}: {error}"


def _finish(run: SyncRun, status: str, error: str = "") -> SyncRun:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.stage = {RunStatus.FAILED: "Stopped", RunStatus.WAITING: "Not started"}.get(
        status, "Finished"
    )
    run.save()
    if status == RunStatus.FAILED:
        raise_alert(run, error or "failed")
    elif status == RunStatus.SUCCEEDED or (
        status == RunStatus.ATTENTION and not (run.counts or {}).get(Outcome.FAILED)
    ):
        resolve_alerts(run)
    return run


def waiting_words(sure: float) -> str:
    """Why a likely pair waits for a person: the client links on its own only from `sure`
    (its setting, or 99 % while its weights are not yet learnt from its own books)."""
    return f"below the {sure * 100:.1f} % from which syncfirm links on its own"


def active_connection(client: Client, kind: Kind) -> Connection:
    for connection in client.connections.all():
        if provider(connection.system).kind == kind and connection.status == Status.ACTIVE:
            return connection
    what = "accounting system" if kind == Kind.ACCOUNTING else "CRM"
    raise SyncUnavailable(f"{client.name} has no connected {what}; connect it first.")


def crm_types(source: str) -> list[str]:
    return ["contacts"] if source == CrmSource.CONTACTS else ["companies", "contacts"]


def is_customer(record: CrmRecord, source: str) -> bool:
    """Companies are customers; a contact is one when the client syncs contacts, or when it
    belongs to no company (a homeowner)."""
    if record.crm_type == "companies":
        return source != CrmSource.CONTACTS
    if source == CrmSource.CONTACTS:
        return True
    return source == CrmSource.COMPANIES_AND_HOMEOWNERS and not record.company_ids


def properties_for(field_map: dict, crm_type: str) -> list[str]:
    """The properties the client's field map reads (the adapter adds its own)."""
    return sorted({s for rule in field_map.get(crm_type, {}).values() for s in _sources(rule)})


def _sources(rule: dict) -> list[str]:
    return list(rule.get("from", [])) + list(rule.get("first_of", []))


class _CustomerSync:
    def __init__(
        self, client: Client, run: SyncRun, lease: Lease, *, full, crm_ids, dry_run,
        invoice_dates=None,
    ):  # fmt: skip
        self.client, self.run, self.lease = client, run, lease
        self.full, self.crm_ids, self.dry_run = full, crm_ids, dry_run
        self.invoice_dates = invoice_dates or {}
        self.settings = SyncSettings.for_client(client)
        self.direction = self.settings.customer_direction
        self.outcomes: list[RecordOutcome] = []
        self.saved_outcomes = 0
        self.counts: dict[str, int] = {}
        self.reasons: dict[str, int] = {}

    @property
    def books(self) -> Provider:
        """The accounting system, for the words a person reads ("Xero contact “Acme”")."""
        return provider(self.accounting.connection.system)

    # -- the run ---------------------------------------------------------------------
    def execute(self) -> None:
        automatic = self.run.kind in (RunKind.WEBHOOK, RunKind.SCHEDULED)
        if automatic and self.settings.import_done_at is None:
            _finish(self.run, RunStatus.WAITING)
            return
        customers_on = self.direction != Direction.OFF
        invoices_on = self.settings.invoices_on and self.run.kind != RunKind.IMPORT_PREVIEW
        if not customers_on and not invoices_on:
            self.run.stage = "Sync is off for this client"
            _finish(self.run, RunStatus.SUCCEEDED)
            return
        self.accounting = accounting_adapter(
            active_connection(self.client, Kind.ACCOUNTING),
            job_category=self.settings.job_tracking_category,
        )
        self.crm = crm_adapter(active_connection(self.client, Kind.CRM))
        if self._posting() == Posting.AUDIT:
            # Another integration posts: customers are matched and linked (the audit pairs
            # invoices by them), nothing is written to either system.
            self.direction, invoices_on = AUDIT_DIRECTION, False
        started = timezone.now()
        if customers_on:
            self._customers(started)
        if invoices_on and (self.settings.import_done_at or self.run.kind == RunKind.IMPORT):
            InvoiceStep(self, started).execute()
        self._note_unreadable()
        self._save_outcomes()
        self.run.counts = self.counts | {"reasons": self.reasons}
        if self.run.kind == RunKind.IMPORT:
            SyncSettings.objects.filter(pk=self.settings.pk).update(import_done_at=timezone.now())
        failed = sum(v for k, v in self.counts.items() if k in ("failed", "invoices_failed"))
        held = sum(v for k, v in self.counts.items() if k in ("held", "invoices_held"))
        _finish(self.run, RunStatus.ATTENTION if failed or held else RunStatus.SUCCEEDED)
        if failed and not self.dry_run:
            raise_alert(
                self.run,
                f"{failed} record(s) could not be written; the run lists each error.",
            )

    def _posting(self) -> str:
        """Who posts the CRM's invoices: a sales CRM's deals are always syncfirm's; a billing
        CRM's are decided once, at the import, from what the books already hold."""
        if not self.crm.crm_capabilities.issues_invoices:
            return Posting.SYNCFIRM
        if self.settings.posting:
            return self.settings.posting
        if self.run.kind not in (RunKind.IMPORT, RunKind.IMPORT_PREVIEW):
            return Posting.AUDIT  # undecided: write nothing until the import decides
        self._stage("Looking for the CRM's invoices in the books")
        customer_of = dict(CustomerLink.objects.filter(client=self.client)
                           .values_list("crm_id", "accounting_id"))  # fmt: skip
        chosen, why = default_posting(
            self.crm.crm_invoices(), self.accounting.all_invoices(), customer_of,
            provider(self.crm.connection.system).short_name,
        )  # fmt: skip
        self.counts["posting"], self.counts["posting_reason"] = chosen, why
        if not self.dry_run and self.run.kind == RunKind.IMPORT:
            SyncSettings.objects.filter(pk=self.settings.pk).update(posting=chosen)
            self.settings.posting = chosen
        return chosen

    def _customers(self, started: datetime) -> None:
        self._stage("Reading the accounting system's customers")
        changed_accounting = self._refresh_mirror(started)
        self._stage("Reading the CRM")
        records = self._crm_records(started, changed_accounting)
        wanted = [r for r in records if is_customer(r, self.settings.crm_source)]
        # A large batch is mapped and validated on the other core while the books' matcher
        # is built here (sync/checking.py); a small one, here, when asked for.
        # The collector is held off while tens of thousands of records are made (they hold no
        # cycles; each pass would walk every one again): the matcher's own batch does too.
        with collector_paused():
            checking = check_all_meanwhile(
                [(r.properties, self.settings.field_map.get(r.crm_type, {})) for r in wanted],
                self.client.country,
                self._limits(),
            )
            books = learnt.books_matcher(self.client, self.settings, self._books())
            prepared = [
                Prepared(r, *checked) for r, checked in zip(wanted, checking(), strict=True)
            ]
        self.counts["not_customers"] = len(records) - len(prepared)
        self.run.progress_total = len(prepared)
        if self.run.kind in (RunKind.IMPORT, RunKind.IMPORT_PREVIEW):
            self._report_duplicates(prepared)
        self._stage(f"Deciding {len(prepared)} record(s)")
        self._decide_all(prepared, books)
        self._flush()
        if not self.dry_run:
            self._save_cursors(started)

    def sync_customers_now(self, crm_ids: dict[str, list[str]]) -> None:
        """Sync these CRM records as customers now (a deal's customer, before its invoice)."""
        if self.direction == Direction.OFF:
            return
        records = []
        for crm_type, ids in crm_ids.items():
            if ids:
                wanted = properties_for(self.settings.field_map, crm_type)
                records += self.crm.read_records(crm_type, list(dict.fromkeys(ids)), wanted)
        prepared = [self._prepare(r) for r in records]
        self._decide_all(prepared)
        self._flush()

    def _report_duplicates(self, prepared: list[Prepared]) -> None:
        """Within each side, pairs that look like one customer (the import's dedupe)."""
        accounting = [
            party_of(r.external_id, r.display_name, r.values)
            for r in self.mirror.values()
            if r.active
        ]
        search = learnt.duplicate_search(self.client, self.settings)
        for side, parties in (("accounting", accounting), ("crm", [p.party() for p in prepared])):
            # The same model as linking, each side against itself (linkage.duplicates), with
            # the client's own words, kept weights and thresholds.
            found = find_duplicates(parties, country=self.client.country, **search)
            self.counts[f"duplicates_{side}"] = [
                (*d.ids, f"{d.first.name} ~ {d.second.name}: {d.kind}, "
                 f"probability {d.probability:.2f}: {d.reason}")
                for d in found
            ]  # fmt: skip

    def _stage(self, text: str) -> None:
        self.run.stage = text
        self.run.save(update_fields=["stage", "progress_done", "progress_total"])
        self.lease.check()

    # -- reading -----------------------------------------------------------------------
    def _cursor(self, system: str, group: str) -> datetime | None:
        found = SyncCursor.objects.filter(client=self.client, system=system, group=group).first()
        return found.value if found else None

    def _refresh_mirror(self, started: datetime) -> set[str]:
        """Bring the local mirror up to date; the ids of customers that changed since the
        mirror last saw them (a full read returns everyone, most of them unchanged)."""
        system = self.accounting.connection.system
        since = None if self.full else self._cursor(system, ACCOUNTING_GROUP)
        changed = None
        feed = self.accounting.capabilities
        reach = feed.change_feed_reach
        if since is not None and (reach is None or since > started - reach + timedelta(days=1)):
            unread = len(getattr(self.accounting, "unreadable", []))
            changed = self.accounting.customers_changed_since(since - CURSOR_OVERLAP)
            unread = len(getattr(self.accounting, "unreadable", [])) - unread  # left out
            # A feed that stops at its limit may have left changes out: read them all.
            if feed.change_feed_limit and len(changed) + unread >= feed.change_feed_limit:
                changed = None
        if changed is None:
            changed, cursor = [], None
            while True:
                page = self.accounting.customers(cursor)
                changed.extend(page.records)
                if not (cursor := page.next_cursor):
                    break
        self.mirror = {
            m.external_id: m for m in MirroredCustomer.objects.filter(client=self.client)
        }
        fresh, stale, moved = [], [], set()
        for customer in changed:
            values = accounting_values(customer)
            row = self.mirror.get(customer.external_id)
            if row is None or row.version != customer.version or row.values != values:
                moved.add(customer.external_id)
            if row is None:
                row = MirroredCustomer(client=self.client, external_id=customer.external_id)
                fresh.append(row)
            else:
                stale.append(row)
            row.display_name, row.values = customer.display_name[:500], values
            row.version, row.active, row.seen_at = customer.version, customer.active, started
            self.mirror[customer.external_id] = row
        if not self.dry_run:
            MirroredCustomer.objects.bulk_create(fresh, batch_size=1000)
            MirroredCustomer.objects.bulk_update(
                stale, ["display_name", "values", "version", "active", "seen_at"], batch_size=1000
            )
        return moved

    def _crm_records(self, started: datetime, changed_accounting: set[str]) -> list[CrmRecord]:
        field_map = self.settings.field_map
        types = crm_types(self.settings.crm_source)
        system = self.crm.connection.system
        self.links = {
            (link.crm_type, link.crm_id): link
            for link in CustomerLink.objects.filter(client=self.client)
        }
        found: dict[tuple[str, str], CrmRecord] = {}
        pulled: list[CrmRecord] = []
        for crm_type in types:
            wanted = properties_for(field_map, crm_type)
            if self.crm_ids is not None:
                ids = list(dict.fromkeys(self.crm_ids.get(crm_type, [])))
                records = self.crm.read_records(crm_type, ids, wanted) if ids else []
            else:
                since = None if self.full else self._cursor(system, crm_type)
                if since is None:
                    records = self._all(crm_type, wanted)
                else:
                    records = self.crm.records_changed_since(
                        crm_type, since - CURSOR_OVERLAP, wanted
                    )
                    if self.run.kind == RunKind.SCHEDULED:
                        # Changes after the import, from the last pull on (less a webhook's
                        # delay: what was too fresh to judge then is judged now).
                        floor = since - WEBHOOK_DELAY
                        floor = max(floor, self.settings.import_done_at or floor)
                        pulled.extend(r for r in records if r.updated_at and r.updated_at > floor)
            found.update({(r.crm_type, r.external_id): r for r in records})
            # A change on the accounting side reaches the CRM through its link.
            follow = [
                link.crm_id
                for link in self.links.values()
                if link.crm_type == crm_type
                and link.accounting_id in changed_accounting
                and (crm_type, link.crm_id) not in found
            ]
            if follow and plan.allows(self.direction, plan.CRM):
                found.update(
                    {
                        (r.crm_type, r.external_id): r
                        for r in self.crm.read_records(crm_type, follow, wanted)
                    }
                )
        if missed := self._missed_by_webhooks(pulled, started):
            self.counts["missed_by_webhooks"] = missed  # names, for health's words
        return list(found.values())

    def _missed_by_webhooks(self, pulled: list[CrmRecord], started: datetime) -> list[str]:
        """Changes the scheduled pull found that no webhook told of (integration health):
        older than a webhook's usual delay, named by no delivery received since, and not
        written by syncfirm itself. The names of the first few."""
        late = [r for r in pulled if r.updated_at and r.updated_at <= started - WEBHOOK_DELAY]
        if not late:
            return []
        earliest = min(r.updated_at for r in late) - WEBHOOK_DELAY
        connection = self.crm.connection
        told: set[tuple[str, str]] = set()
        for body in WebhookDelivery.objects.filter(
            connection=connection, received_at__gte=earliest
        ).values_list("body", flat=True):
            try:
                told.update(webhook_changes(connection.system, body.encode()))
            except ValueError:
                continue  # unreadable: the receiver said so when it came
        ours = set(
            RecordOutcome.objects.filter(
                run__client=self.client, run__started_at__gte=earliest, side="crm"
            ).values_list("crm_type", "crm_id")
        )
        missed = [r for r in late if (r.crm_type, r.external_id) not in told | ours]
        return [self._record_name(r) for r in missed[:20]]

    def _record_name(self, record: CrmRecord) -> str:
        return record_name(record, self.settings.field_map)

    def _all(self, crm_type: str, wanted: list[str]) -> list[CrmRecord]:
        records, cursor = [], None
        while True:
            page = self.crm.records(crm_type, cursor, wanted)
            records.extend(page.records)
            if not (cursor := page.next_cursor):
                return records

    def _save_cursors(self, started: datetime) -> None:
        pairs = [(self.accounting.connection.system, ACCOUNTING_GROUP)]
        if self.crm_ids is None:
            pairs += [(self.crm.connection.system, t) for t in crm_types(self.settings.crm_source)]
        for system, group in pairs:
            SyncCursor.objects.update_or_create(
                client=self.client, system=system, group=group, defaults={"value": started}
            )

    # -- deciding ------------------------------------------------------------------------
    def _prepare(self, record: CrmRecord) -> Prepared:
        field_map = self.settings.field_map.get(record.crm_type, {})
        checked = check_customer(
            map_record(record.properties, field_map), self.client.country, self._limits()
        )
        return Prepared(record, checked.values, checked.problems)

    def _limits(self) -> dict[str, int] | None:
        return self.accounting.capabilities.field_limits or None

    def _books(self) -> list[Party]:
        """The books' customers the CRM's records are matched with (the active ones)."""
        return [
            party_of(r.external_id, r.display_name, r.values)
            for r in self.mirror.values()
            if r.active
        ]

    def _normalised(self, row: MirroredCustomer) -> dict[str, str]:
        return check_customer(dict(row.values), self.client.country).values

    def _fields(self, crm_type: str) -> list[str]:
        return list(self.settings.field_map.get(crm_type, {}))

    def _decide_all(self, prepared: list[Prepared], books: Matcher | None = None) -> None:
        """`books`: the books' matcher, if already built (`_customers` builds it while the
        records are checked)."""
        linked_to = {link.accounting_id: link for link in self.links.values()}
        self.linked_to = linked_to
        if books is None:
            books = learnt.books_matcher(self.client, self.settings, self._books())
        with collector_paused():  # as while the records were made (`_customers`)
            unlinked = [
                item.party()
                for item in prepared
                if not item.problems
                and (item.record.crm_type, item.record.external_id) not in self.links
            ]
            # Weights learnt from this client's two record sets, or kept from its last run
            # with enough records to learn from (decision 0026); one to one over the batch.
            self.matcher, learnt_now = learnt.matcher_for(
                self.client, self.settings, books, unlinked
            )
            decisions = self.matcher.link_all(unlinked)
        if learnt_now and not self.dry_run:
            learnt.keep(self.client, self.settings, self.run, self.matcher, decisions)
        self.matches = {d.party.external_id: d for d in decisions}
        # Customers this run is about to create: a later record that is the same is reviewed.
        self.creating = self.matcher.for_this_run(len(unlinked))
        self.creating.near = self.matcher.near
        self.run_items: dict[str, Prepared] = {}  # those customers' records, by key
        self.decided = {
            (c.crm_type, c.crm_id): c
            for c in SyncConflict.objects.filter(
                client=self.client,
                status__in=[ConflictStatus.RESOLVED, ConflictStatus.DISMISSED],
                kind__in=[ConflictKind.NEAR_MATCH, ConflictKind.NAME_CLASH],
            )
            .select_related("resolved_by")
            .order_by("resolved_at")
        }
        self.open = set(
            SyncConflict.objects.filter(client=self.client, status=ConflictStatus.OPEN).values_list(
                "crm_type", "crm_id", "kind"
            )
        )
        # Pairs put to a person, and the matching settings they were put under.
        _, words = vocabulary(self.settings.match_abbreviations, self.settings.match_legal_forms)
        self.stamp = settings_stamp(
            self.settings.link_sure_percent, self.settings.review_from_percent, words
        )
        open_near = SyncConflict.objects.filter(
            client=self.client, status=ConflictStatus.OPEN, kind=ConflictKind.NEAR_MATCH
        ).values_list("crm_type", "crm_id", "accounting_id", "crm_value", "evidence", "reason")
        self.asked = {
            (crm_type, crm_id): Asked(accounting_id, values, (weighed or {}).get("settings"), why)
            for crm_type, crm_id, accounting_id, values, weighed, why in open_near
        }
        self.redecided: dict[str, str] = {}  # record key → which settings changed, in words
        self.creates: list[PendingWrite] = []
        self.updates: list[PendingWrite] = []
        self.crm_updates: dict[str, dict[str, dict[str, str]]] = {}
        self.crm_pending: list[tuple[Prepared, LinkChange, dict[str, str]]] = []
        for item in prepared:
            link = self.links.get((item.record.crm_type, item.record.external_id))
            if item.problems:
                self._hold_invalid(item, link)
            elif link is not None:
                self._close_open(item, [ConflictKind.INVALID, ConflictKind.NEAR_MATCH])
                self._merge_linked(item, link)
            else:
                self._close_open(item, [ConflictKind.INVALID])
                self._place_unlinked(item)
            self.run.progress_done += 1

    def _hold_invalid(self, item: Prepared, link: CustomerLink | None) -> None:
        reason = "; ".join(item.problems)
        dismissed = SyncConflict.objects.filter(
            client=self.client,
            kind=ConflictKind.INVALID,
            crm_type=item.record.crm_type,
            crm_id=item.record.external_id,
            status=ConflictStatus.DISMISSED,
            crm_value=item.values,
        )
        if not dismissed.exists():  # unchanged since a person dismissed it: do not ask again
            self._conflict(item, ConflictKind.INVALID, reason, link.accounting_id if link else "")
        self._outcome(item, Outcome.HELD, reason, link.accounting_id if link else "")

    def _merge_linked(self, item: Prepared, link: CustomerLink) -> None:
        row = self.mirror.get(link.accounting_id)
        if row is None or not row.active:
            name = f"“{row.display_name}”" if row else f"(id {link.accounting_id})"
            why = f"its {self.books.customer()} {name} is gone or inactive"
            self._outcome(item, Outcome.HELD, why, link.accounting_id)
            return
        result = plan.merge(
            item.values,
            self._normalised(row),
            link.synced_values or None,
            self.settings.field_owners,
            self.direction,
            self._fields(item.record.crm_type),
        )
        self._conflicts_of(item, link.accounting_id, result)
        field_map = self.settings.field_map.get(item.record.crm_type, {})
        props = {}
        for name, value in list(result.to_crm.items()):
            prop = plan.crm_property(field_map, name)
            if prop is None:  # nowhere to write it: the CRM keeps its value, and its baseline
                del result.to_crm[name]
                result.baseline[plan.CRM][name] = item.values.get(name, "")
            else:
                props[prop] = value
        if not result.changes:
            if not self.dry_run and result.baseline != link.synced_values:
                link.synced_values = result.baseline
                link.save(update_fields=["synced_values"])
            self._outcome(
                item, Outcome.SKIPPED, "no change since the last sync", link.accounting_id
            )
            return
        sides = {s for s, v in (("accounting", result.to_accounting), ("crm", props)) if v}
        change = LinkChange(link, result.baseline, sides)
        if result.to_accounting:
            self.updates.append(PendingWrite(item, result.to_accounting, _customer_of(row), change))
        if props:
            self.crm_pending.append((item, change, result.to_crm))
            self.crm_updates.setdefault(item.record.crm_type, {})[item.record.external_id] = props

    def _place_unlinked(self, item: Prepared) -> None:
        decided = self.decided.get((item.record.crm_type, item.record.external_id))
        if decided is not None and decided.resolution == "link" and decided.accounting_id:
            stale = self._stale_link(item, decided.accounting_id)
            if stale:
                self._review(item, ConflictKind.NEAR_MATCH, stale, decided.accounting_id,
                             decided.evidence)  # fmt: skip
                return
            self._link(item, decided.accounting_id, "linked by a person from the review queue")
            return
        if decided is not None and decided.resolution == "dismiss":
            who = decided.resolved_by.email if decided.resolved_by else "a former member"
            why = f"left unsynced by {who}: {decided.note}"
            self._outcome(item, Outcome.SKIPPED, why)
            return
        match = self.matches.get(item.key) or self.matcher.match(item.party())
        if match.kind == "miss":
            match = self.creating.match(item.party())
        candidate = match.candidate.external_id if match.candidate else ""
        if decided is not None and decided.resolution == "create":
            match_kind, reason = "miss", "created as new by a person from the review queue"
        else:
            match_kind, reason = match.kind, match.reason
        asked = self.asked.get((item.record.crm_type, item.record.external_id))
        changed = ""
        if decided is None and asked is not None and asked.values == item.values:
            # Put to a person, and the record unchanged since: the person decides, not a
            # later run whose weights came out a little surer or less sure (a webhook's
            # single record) -- unless the client changed its matching settings since.
            changed = settings_changed(asked.settings, self.stamp)
            if not changed and match_kind == "sure" and candidate == asked.accounting_id:
                match_kind, match = "near", replace(match, note=STAYS)
            elif not changed and match_kind == "miss":
                self._outcome(
                    item, Outcome.HELD, f"for review: {asked.reason}", asked.accounting_id
                )
                return
        if ":" in candidate:
            # Matched another CRM record of this run that is about to be created.
            first = self.run_items[candidate]
            label = CRM_LABELS.get(first.record.crm_type, first.record.crm_type)
            named = f"CRM {label} “{first.name}” (id {first.record.external_id})"
            held = "held so that one customer is created, not two"
            why = f"looks like {named}, also in this run ({reason}); {held}"
            gist = f"Looks like {named}, also in this run: {held}."
            weighed = evidence.of_decision(match, f"CRM {label} “{first.name}”", gist)
            self._review(item, ConflictKind.NEAR_MATCH, why, "", weighed, first.values)
            return
        if match_kind == "sure" and candidate in self.linked_to:
            other = self.linked_to[candidate]
            known = self.mirror.get(candidate)
            name = f"“{known.display_name}”" if known else f"(id {candidate})"
            label = CRM_LABELS.get(other.crm_type, other.crm_type)
            taken = (
                f"already linked to another CRM {label} (id {other.crm_id}): "
                "a duplicate in the CRM?"
            )
            why = f"matches {self.books.customer()} {name} ({reason}), which is {taken}"
            gist = f"Matches {self.books.customer()} {name}, which is {taken}"
            weighed = evidence.of_decision(match, self.books.short_name, gist)
            self._review(item, ConflictKind.NEAR_MATCH, why, candidate, weighed)
            return
        decision = plan.decide_unlinked([], match_kind, candidate, reason, match.probability)
        if changed and decision.action in ("link", "create"):
            self.redecided[item.key] = (
                f"re-decided: the matching settings changed since it was put to a person "
                f"({changed})"
            )
        if decision.action == "link":
            self._link(item, candidate, f"matched: {reason}")
        elif decision.action == "review":
            self._review_near(item, match)
        elif not plan.allows(self.direction, plan.ACCOUNTING):
            why = (
                "audited only: syncfirm creates nothing for this client"
                if self.direction == AUDIT_DIRECTION
                else "this client syncs accounting → CRM only"
            )
            self._outcome(item, Outcome.SKIPPED, f"not in the accounting system; {why}")
        else:
            self.creating.add(item.party())  # a later record of this run that is the same: review
            self.run_items[item.key] = item
            values = {k: v for k, v in item.values.items() if v}
            self.creates.append(PendingWrite(item, values))

    def _review_near(self, item: Prepared, match: LinkDecision) -> None:
        """A possible existing customer, to a person: the reason in words and each field's
        contribution; where only the name could be compared and other customers bear it,
        the record against each of them too."""
        books = self.books.short_name
        named = self.books.customer(match.candidate.name)
        gist = f"Looks like {named}. Same customer, or a new one?"
        if not match.note:  # why it waits: short of what links without a person
            match = replace(match, note=waiting_words(self.matcher.sure))
        why, also, other = self._near_words(match), [], books
        if match.note == ONLY_NAME:
            namesakes = self.matcher.namesakes(match)
            bearers = ", ".join(f"“{d.candidate.name}” (id {d.candidate.external_id})"
                                for d in namesakes)  # fmt: skip
            also = [
                evidence.of_candidate(d, f"{books} “{d.candidate.name}”", self._values_of(d))
                for d in namesakes
            ]
            if namesakes:
                other = f"{books} “{match.candidate.name}”"
                gist = (
                    f"Looks like {named}, but only the name could be compared, and "
                    f"{'another customer bears' if len(namesakes) == 1 else 'other customers bear'}"
                    f" it too: {bearers}. Same customer as “{match.candidate.name}”, or a "
                    "new one?"
                )
                why += f" Also named so: {bearers}."
        weighed = evidence.of_decision(match, other, gist, also)
        self._review(item, ConflictKind.NEAR_MATCH, why, match.candidate.external_id, weighed)

    def _values_of(self, decision: LinkDecision) -> dict:
        row = self.mirror.get(decision.candidate.external_id)
        return dict(row.values) if row else {}

    def _stale_link(self, item: Prepared, accounting_id: str) -> str:
        """Why a person's "link them" no longer fits, or "": since the decision the customer
        was made inactive (a duplicate's fix) or linked to another CRM record (two cards of
        one company both said "link" before a run acted). The record is asked about again."""
        row = self.mirror.get(accounting_id)
        taken = self.linked_to.get(accounting_id)
        name = f"“{row.display_name}”" if row else f"(id {accounting_id})"
        if (
            row is not None
            and row.active
            and (
                taken is None
                or (taken.crm_type, taken.crm_id) == (item.record.crm_type, item.record.external_id)
            )
        ):
            return ""
        if row is None or not row.active:
            now = f"no longer an active {self.books.customer_word} in {self.books.short_name}"
        else:
            label = CRM_LABELS.get(taken.crm_type, taken.crm_type)
            now = f"already linked to another CRM {label} (id {taken.crm_id})"
        return (
            f"A person chose to link it to {self.books.customer()} {name}, which is {now}; "
            "decide again."
        )

    def _near_words(self, match: LinkDecision) -> str:
        """Why a near match was not linked, in an accountant's words, with what each field
        contributed ("email equal +7.9, name nearly equal (91 % alike) +4.2, ...")."""
        other = match.candidate
        likely = f"{match.probability:.0%} likely the same: {match.reason}"
        return (
            f"Looks like {self.books.customer(other.name)} ({likely}). Same customer, or a new one?"
        )

    def _link(self, item: Prepared, accounting_id: str, how: str) -> None:
        row = self.mirror.get(accounting_id)
        if row is None:
            why = f"the {self.books.customer()} (id {accounting_id}) is not known"
            self._outcome(item, Outcome.HELD, why)
            return
        link = CustomerLink(
            client=self.client,
            crm_type=item.record.crm_type,
            crm_id=item.record.external_id,
            accounting_id=accounting_id,
            accounting_version=row.version,
            how=how[:120],
        )
        self.linked_to[accounting_id] = link
        if not self.dry_run:
            link.save()
            self.links[(link.crm_type, link.crm_id)] = link
        self._outcome(
            item, Outcome.LINKED, self._with_redecided(item, f"{how} — {row.display_name}"),
            accounting_id,
        )  # fmt: skip
        self._settle_redecided(item, "link", accounting_id)
        self._close_open(item, [ConflictKind.NEAR_MATCH, ConflictKind.NAME_CLASH])
        if not self.dry_run:
            self._merge_linked_quietly(item, link)

    def _merge_linked_quietly(self, item: Prepared, link: CustomerLink) -> None:
        """A new link's first merge: fills blanks, settles differing fields by owner."""
        before = len(self.outcomes)
        self._merge_linked(item, link)
        # The merge's own "unchanged" line adds nothing to "linked".
        if len(self.outcomes) > before and self.outcomes[-1].outcome == Outcome.SKIPPED:
            self.outcomes.pop()
            self.counts[Outcome.SKIPPED] -= 1

    def _review(
        self, item: Prepared, kind: str, why: str, accounting_id: str,
        weighed: dict | None = None, other: dict | None = None,
    ) -> None:  # fmt: skip
        """Hold the record for a person, with the weighed evidence for the card's table and
        the values it was compared with (the books' customer unless `other` is given)."""
        if other is None:
            row = self.mirror.get(accounting_id)
            other = dict(row.values) if row else {}
        # The settings it is put to a person under: changed, the next run decides it again.
        weighed = (weighed or {}) | {"settings": self.stamp}
        self._conflict(item, kind, why, accounting_id, other, weighed)
        self._outcome(item, Outcome.HELD, f"for review: {why}", accounting_id)

    def _with_redecided(self, item: Prepared, said: str) -> str:
        words = self.redecided.get(item.key)
        return f"{said}; {words}" if words else said

    def _settle_redecided(self, item: Prepared, action: str, accounting_id: str) -> None:
        """A review item the client's new matching settings decided: closed, saying so, with
        an audit entry (no person answered it)."""
        words = self.redecided.pop(item.key, None)
        if words is None or self.dry_run:
            return
        asked = self.asked.get((item.record.crm_type, item.record.external_id))
        for conflict in SyncConflict.objects.filter(
            client=self.client, crm_type=item.record.crm_type, crm_id=item.record.external_id,
            kind=ConflictKind.NEAR_MATCH, status=ConflictStatus.OPEN,
        ):  # fmt: skip
            conflict.status, conflict.resolution = ConflictStatus.RESOLVED, SETTLED
            conflict.note, conflict.resolved_at = words, timezone.now()
            conflict.save(update_fields=["status", "resolution", "note", "resolved_at"])
            audit(
                self.client.firm, None, "sync.review_redecided", conflict,
                {"status": ConflictStatus.OPEN, "reason": conflict.reason,
                 "settings": asked.settings if asked else None},
                {"decision": action, "accounting_id": accounting_id, "settings": self.stamp,
                 "run": self.run.pk, "why": words},
            )  # fmt: skip

    # -- writing ---------------------------------------------------------------------
    def _flush(self) -> None:
        if self.dry_run:
            for write in self.creates:
                self._outcome(write.prepared, Outcome.CREATED, "would be created (preview)")
            for write in self.updates:
                fields = ", ".join(sorted(write.values))
                self._outcome(
                    write.prepared,
                    Outcome.UPDATED,
                    f"would update {fields} in {self.books.short_name} (preview)",
                    write.current.external_id,
                )
            for item, change, values in self.crm_pending:
                fields = ", ".join(sorted(values))
                self._outcome(
                    item,
                    Outcome.UPDATED,
                    f"would update {fields} in the CRM (preview)",
                    change.link.accounting_id,
                )
            return
        writes = self.creates + self.updates
        batch = self.accounting.capabilities.batch_size
        for start in range(0, len(writes), batch):
            chunk = writes[start : start + batch]
            self._stage(f"Writing customers {start + 1}-{start + len(chunk)} of {len(writes)}")
            self._write_batch(chunk)
        for crm_type, updates in self.crm_updates.items():
            self._stage(f"Writing {len(updates)} change(s) to the CRM")
            self._write_crm(crm_type, updates)

    def _write_batch(self, chunk: list[PendingWrite]) -> None:
        keys = "|".join(w.prepared.key for w in chunk)
        request_id = f"sf-{self.run.pk}-{hashlib.sha256(keys.encode()).hexdigest()[:24]}"
        try:
            results = self.accounting.write_customers(
                [(w.prepared.key, w.values, w.current) for w in chunk], request_id
            )
        except retries.Unauthorised:
            raise
        except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
            # The answer is lost or refused: whether a create landed is unknown, so look.
            results = [
                WriteResult(w.prepared.key, error_code="unknown", error=str(error)) for w in chunk
            ]
        with transaction.atomic():  # one commit per batch, not three per record
            for write, result in zip(chunk, results, strict=True):
                self._settle(write, result)

    def _settle(self, write: PendingWrite, result: WriteResult) -> None:
        item = write.prepared
        if result.ok and write.current is None:
            self._created(write, result.external_id, result.version, "created")
        elif result.ok:
            write.change.link.accounting_version = result.version
            self._side_done(write.change, "accounting")
            self._remember(result.external_id, write.values, result.version, merge=True)
            fields = ", ".join(sorted(write.values))
            self._outcome(
                item, Outcome.UPDATED, f"{self.books.short_name}: {fields}", result.external_id
            )
        elif write.current is None and (
            result.refusal == Refusal.NAME_TAKEN or result.error_code == "unknown"
        ):
            self._look_harder(write, result)
        else:
            books = self.books.short_name
            code = f" ({books} error {result.error_code})" if result.error_code else ""
            accounting_id = write.current.external_id if write.current else ""
            if write.change is not None:
                write.change.failed = True
            self._outcome(item, Outcome.FAILED, f"{result.error}{code}", accounting_id)

    def _side_done(self, change: LinkChange, side: str) -> None:
        change.waiting.discard(side)
        if not change.waiting and not change.failed:
            link = change.link
            link.synced_values, link.synced_at = change.baseline, timezone.now()
            link.save(update_fields=["synced_values", "accounting_version", "synced_at"])

    def _look_harder(self, write: PendingWrite, result: WriteResult) -> None:
        """A create that clashed on the name, or whose answer was lost: is the customer
        there already? Link when it is the same one; otherwise hold it for a person."""
        item = write.prepared
        try:
            named = self.accounting.customers_named(item.name)
        except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
            self._outcome(item, Outcome.FAILED, f"{result.error}; then could not check: {error}")
            return
        key = (item.record.crm_type, item.record.external_id)
        # A customer linked to another CRM record is not this one's, whatever its name: a
        # second link to it would fail the batch (one link per customer).
        taken = {
            c.external_id: link
            for c in named
            if (link := self.linked_to.get(c.external_id)) is not None
            and (link.crm_type, link.crm_id) != key
        }
        weighed = []
        for customer in named:
            if customer.external_id in taken:
                continue
            # The run's weights (learnt from both sides), against this one customer.
            found = self._same_customer(customer, item)
            weighed.append((customer, found))
            if found.kind == "sure" or result.error_code == "unknown":
                how = (
                    "created (its answer was lost)"
                    if result.error_code == "unknown"
                    else (f"the name was taken by the same customer ({found.reason})")
                )
                self._created(write, customer.external_id, customer.version, how)
                return
        if result.error_code == "unknown" and not taken:
            self._outcome(
                item, Outcome.FAILED, f"{result.error}; not created, tried again next sync"
            )
            return
        clash = named[0] if named else None
        books, customer = self.books.short_name, self.books.customer_word
        why = (
            f"the name {item.name!r} is taken in {books} by a record that is not a {customer} "
            "(a supplier, vendor or employee)"
            if clash is None
            else f"{books} already has a {customer} named {item.name!r} (id "
            f"{clash.external_id}), linked to another CRM "
            f"{CRM_LABELS.get(taken[clash.external_id].crm_type, 'record')} (id "
            f"{taken[clash.external_id].crm_id}): rename one of them, or leave this one unsynced"
            if clash.external_id in taken
            else f"{books} already has a {customer} named {item.name!r} (id {clash.external_id}) "
            "that does not look like the same one: link to it, or rename one of them"
        )
        values = accounting_values(clash) if clash else {}
        self._conflict(
            item, ConflictKind.NAME_CLASH, why, clash.external_id if clash else "", values,
            self._clash_evidence(why, weighed),
        )  # fmt: skip
        self._outcome(item, Outcome.HELD, f"for review: {why}", clash.external_id if clash else "")

    def _clash_evidence(self, why: str, weighed: list[tuple[Customer, LinkDecision]]) -> dict:
        """What each field said against each customer holding the name (none when the name is
        a vendor's or an employee's: nothing to compare)."""
        if not weighed:
            return {}
        books = self.books.short_name
        (_, decision), *others = weighed
        also = [
            evidence.of_candidate(d, f"{books} “{c.display_name}”", accounting_values(c))
            for c, d in others
        ]
        # The matcher says why a pair that did not link is short of sure; here the reason is
        # the name the books will not give twice.
        decision = replace(decision, note=f"{books} keeps one {self.books.customer_word} per name")
        return evidence.of_decision(decision, books, why, also)

    def _same_customer(self, customer: Customer, item: Prepared) -> LinkDecision:
        """Whether the customer holding the name is this record: the run's model, the one
        customer its only candidate (a clash on the name is no evidence by itself)."""
        run = getattr(self, "matcher", None)
        if run is None:
            return Matcher([_party_of(customer)], country=self.client.country).match(item.party())
        one = Matcher([_party_of(customer)], vocabulary=run.vocabulary, country=run.country,
                      model=run.model.with_prior(0.5), sure=run.sure)  # fmt: skip
        return one.match(item.party())

    def _created(self, write: PendingWrite, accounting_id: str, version: str, how: str) -> None:
        item = write.prepared
        with transaction.atomic():
            link, made = CustomerLink.objects.get_or_create(
                client=self.client,
                crm_type=item.record.crm_type,
                crm_id=item.record.external_id,
                defaults={
                    "accounting_id": accounting_id,
                    "synced_values": {plan.CRM: item.values, plan.ACCOUNTING: item.values},
                    "accounting_version": version,
                    "how": how[:120],
                },
            )
        self.links[(link.crm_type, link.crm_id)] = link
        self._remember(accounting_id, write.values, version)
        outcome = Outcome.CREATED if how == "created" or "lost" in how else Outcome.LINKED
        said = self._with_redecided(item, how) if made else "already linked by another run"
        self._outcome(item, outcome, said, accounting_id)
        self._settle_redecided(item, "create", accounting_id)
        # A card still asking about this record (its values changed since, and it was new
        # this time) is settled: left open, a "link" on it would be a second customer.
        self._close_open(item, [ConflictKind.NEAR_MATCH, ConflictKind.NAME_CLASH])

    def _remember(
        self, accounting_id: str, values: dict, version: str, merge: bool = False
    ) -> None:
        """Keep the mirror in step with what we wrote, so the next run matches against it."""
        row = self.mirror.get(accounting_id) or MirroredCustomer(
            client=self.client, external_id=accounting_id
        )
        row.values = (dict(row.values) if merge else {}) | values
        row.display_name = row.values.get("display_name", row.display_name)[:500]
        row.version, row.active = version, True
        row.save()
        self.mirror[accounting_id] = row

    def _write_crm(self, crm_type: str, updates: dict[str, dict[str, str]]) -> None:
        pending = {
            i.record.external_id: (i, change, v)
            for i, change, v in self.crm_pending
            if i.record.crm_type == crm_type
        }
        try:
            results = (
                {r.key: r for r in self.crm.update_records(crm_type, updates)} if updates else {}
            )
        except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
            results = {k: WriteResult(k, error=str(error)) for k in updates}
        for crm_id, (item, change, values) in pending.items():
            result = results.get(crm_id)
            fields = ", ".join(sorted(values))
            accounting_id = change.link.accounting_id
            if result is not None and result.ok:
                self._side_done(change, "crm")
                self._outcome(item, Outcome.UPDATED, f"CRM: {fields}", accounting_id)
            else:
                change.failed = True
                error = result.error if result else "no answer"
                self._outcome(item, Outcome.FAILED, f"CRM update failed: {error}", accounting_id)

    # -- records of the run ---------------------------------------------------------
    def _outcome(self, item: Prepared, outcome: str, reason: str, accounting_id: str = "") -> None:
        self.note(
            item.record.crm_type, item.record.external_id, item.name, outcome, reason, accounting_id
        )

    def note(
        self,
        crm_type: str,
        crm_id: str,
        name: str,
        outcome: str,
        reason: str,
        accounting_id: str = "",
        side: str = "accounting",
        counted_as: str = "",
    ) -> None:
        """One record's outcome in this run (saved with the run, counted in its summary,
        under `counted_as` and the outcome when it is not a customer's or an invoice's)."""
        outcome = str(outcome)
        key = (
            f"{counted_as}_{outcome}"
            if counted_as
            else outcome
            if crm_type != "deals"
            else f"invoices_{outcome}"
        )
        self.counts[key] = self.counts.get(key, 0) + 1
        if outcome in (Outcome.HELD, Outcome.FAILED):
            head = reason.split(":", 1)[0] if outcome == Outcome.HELD else "failed"
            self.reasons[head] = self.reasons.get(head, 0) + 1
        self.outcomes.append(
            RecordOutcome(
                outcome=outcome,
                side=side,
                crm_type=crm_type,
                crm_id=crm_id,
                accounting_id=accounting_id,
                name=name[:500],
                reason=reason,
            )
        )

    def _note_unreadable(self) -> None:
        """Records of the books this run could not read (a number that is no number): each
        held with its reason, once, while the rest of the run went on."""
        seen = set()
        for found in getattr(self.accounting, "unreadable", []):
            if (found.kind, found.external_id) in seen:
                continue
            seen.add((found.kind, found.external_id))
            name = f"{found.kind} {found.number or found.external_id}"
            self.note(
                "", "", name, Outcome.HELD, f"could not be read: {found.reason}",
                found.external_id[:64],
            )  # fmt: skip

    def _save_outcomes(self) -> None:
        """Outcomes not yet saved; called as writes go, so a killed worker's failures stay
        in the log."""
        fresh = self.outcomes[self.saved_outcomes :]
        for outcome in fresh:
            outcome.run = self.run
        RecordOutcome.objects.bulk_create(fresh, batch_size=1000)
        self.saved_outcomes = len(self.outcomes)

    def _conflict(
        self, item: Prepared, kind: str, reason: str, accounting_id: str,
        other: dict | None = None, weighed: dict | None = None,
    ) -> None:  # fmt: skip
        if self.dry_run:
            return
        self.open.add((item.record.crm_type, item.record.external_id, kind))
        SyncConflict.objects.update_or_create(
            client=self.client,
            kind=kind,
            crm_type=item.record.crm_type,
            crm_id=item.record.external_id,
            field="",
            status=ConflictStatus.OPEN,
            defaults={
                "accounting_id": accounting_id,
                "crm_value": item.values,
                "accounting_value": other or {},
                "reason": reason,
                "evidence": weighed or {},
            },
        )

    def _conflicts_of(self, item: Prepared, accounting_id: str, result: plan.Merge) -> None:
        if self.dry_run:
            return
        for found in result.conflicts:
            decided = found.winner != plan.REVIEW
            row = {
                "client": self.client,
                "kind": ConflictKind.FIELD,
                "crm_type": item.record.crm_type,
                "crm_id": item.record.external_id,
                "field": found.field,
                "accounting_id": accounting_id,
                "crm_value": {found.field: found.crm},
                "accounting_value": {found.field: found.accounting},
                "winner": found.winner,
                "reason": (
                    f"both sides changed {found.field}; the {found.winner} side owns it"
                    if decided
                    else f"both sides changed {found.field}; this field waits for review"
                ),
            }
            if decided:
                SyncConflict.objects.create(status=ConflictStatus.DECIDED, **row)
            else:
                key = {k: row.pop(k) for k in ("client", "kind", "crm_type", "crm_id", "field")}
                SyncConflict.objects.update_or_create(
                    status=ConflictStatus.OPEN, **key, defaults=row
                )

    def _close_open(self, item: Prepared, kinds: Iterable[str]) -> None:
        kinds = [
            k for k in kinds if (item.record.crm_type, item.record.external_id, k) in self.open
        ]
        if self.dry_run or not kinds:
            return
        SyncConflict.objects.filter(
            client=self.client,
            crm_type=item.record.crm_type,
            crm_id=item.record.external_id,
            kind__in=kinds,
            status=ConflictStatus.OPEN,
        ).update(
            status=ConflictStatus.RESOLVED, resolution="settled by sync", resolved_at=timezone.now()
        )


def _customer_of(row: MirroredCustomer) -> Customer:
    return Customer(external_id=row.external_id, display_name=row.display_name, version=row.version)


def _party_of(customer: Customer) -> Party:
    return party_of(customer.external_id, customer.display_name, accounting_values(customer))
