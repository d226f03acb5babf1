"""Workers scale across processes that share nothing but PostgreSQL and Redis: N clients'
scheduled syncs and reconciliations drained by 1, then 2, then 3 `qcluster` processes, with
the invariants checked after each run.

Setup (once): the app server (gunicorn, one process with threads — the emulators keep their
rate-limit windows and request log in that process, so its limits hold over every worker's
calls — DEBUG off, SANDBOX on, PostgreSQL, the Redis cache) serves the sandbox on `--port`.
Each client of one firm gets a QuickBooks company (two service items) and a HubSpot portal
(`--customers` companies) made through the control API; its two Connection rows are
written directly from the tokens the control API issued (the OAuth consent pages cost a
second or more per client and are what `connect_sandbox` and the tests already cover);
then its historical import runs in this process.

Each run: `--deals` new closed-won deals with line items in every client's portal (fresh
work), then every client's scheduled sync enqueued `--syncs-per-client` times (the second
finds the lease taken, or runs after: it is what makes overlap possible) and a
reconciliation of the current month, and W qcluster processes (`Q_WORKERS` each) drain the
Redis queue. Timed from the enqueue to every client settled. Invariants, after each run:
  - every won deal has exactly one QuickBooks invoice (the emulator's own rows, SF-<deal>),
  - no client's sync runs overlap in time (SyncRun started/finished),
  - the providers' rate limits held: the emulator enforces each account's limits over all
    workers' calls; no call was answered 429 (the shared limiter, connections/ratelimit.py,
    kept every account under them), or any 429 was waited out (nothing failed),
  - no sync run or reconciliation left running, none failed, no task failed.
Exits 1 if an invariant fails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sf_mw \\
        .venv/bin/python bench/multi_worker.py [--clients 500] [--workers 1 2 3]

The databases named by DATABASE_URL and SANDBOX_DATABASE_URL (default: `<name>_sandbox`) are
dropped and made again; the Redis database of `--redis-url` is emptied.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from pathlib import Path
from urllib.parse import quote, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
LINE_ITEM_TO_DEAL, DEAL_TO_COMPANY = 20, 5
PRODUCTS = [
    ("Roof inspection", "RF-INSP", "185.00"),
    ("Gutter install (per ft)", "GT-INST", "12.50"),
]
STOP_SECONDS = 30


@dataclass
class BenchClient:
    pk: int
    realm: str
    portal: str
    hub_token: str
    companies: list[str]
    deals: list[str] = field(default_factory=list)


@dataclass
class Round:
    workers: int
    seconds: float
    clients: int
    sync_runs: int = 0
    calls: int = 0
    throttled: int = 0
    busiest: int = 0  # most calls any one account took in the run
    throttled_at: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def per_minute(self) -> float:
        return self.clients / self.seconds * 60


def _database_url(alias: str) -> str:
    from django.conf import settings

    db = settings.DATABASES[alias]
    user = db.get("USER") or "postgres"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def worker_env(base: str, redis_url: str, q_workers: int) -> dict:
    """What every process but this one runs with: the same two databases, Redis as broker
    and cache, the sandbox at `base`."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "syncfirm.settings.development",
        "DEBUG": "false",
        "SANDBOX": "on",
        "DATABASE_URL": _database_url("default"),
        "SANDBOX_DATABASE_URL": _database_url("sandbox"),
        "REDIS_URL": redis_url,
        "SANDBOX_BASE_URL": base,
        "PUBLIC_BASE_URL": base,
        "Q_WORKERS": str(q_workers),
        "LOG_LEVEL": "WARNING",
    }


# -- setup ------------------------------------------------------------------------------


def _control(session: requests.Session, base: str, method: str, path: str, body: dict) -> dict:
    answer = session.request(method, f"{base}/sandbox/control/{path}", json=body, timeout=60)
    answer.raise_for_status()
    return answer.json()


def _api(session, method: str, url: str, token: str, body: dict | None = None) -> dict:
    answer = session.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    answer.raise_for_status()
    return answer.json()


def connect_client(firm, base: str, index: int, customers: int) -> BenchClient:
    """One client of the firm with a sandbox company and portal holding a small book, its
    connections written from the control API's tokens, and its historical import done."""
    from clients.models import Client
    from connections.actions import do_store_connection
    from connections.tokens import TokenSet
    from sandbox.hubspot.control import DEFAULT_SCOPES
    from sandbox.quickbooks.oauth import SCOPES
    from sync.customers import run_customer_sync
    from sync.models import RunKind

    session = requests.Session()
    name = f"Contractor {index:04d}"
    company = _control(session, base, "POST", "quickbooks/companies", {"name": name})
    portal = _control(session, base, "POST", "hubspot/portals", {"name": name})
    realm, portal_id = company["realm_id"], str(portal["portal_id"])
    qbo_path, hub_path = f"quickbooks/companies/{realm}", f"hubspot/portals/{portal_id}"
    for path in (qbo_path, hub_path):  # loading the book is not the measured work
        _control(session, base, "PATCH", path, {"rate_limits": False, "webhook_url": ""})
    qbo_api = f"{base}/sandbox/quickbooks/v3/company/{realm}"
    services = quote("SELECT * FROM Account WHERE Name = 'Services'")
    found = _api(session, "GET", f"{qbo_api}/query?query={services}&minorversion=75",
                 company["access_token"])  # fmt: skip
    account = found["QueryResponse"]["Account"][0]["Id"]
    for item_name, sku, price in PRODUCTS:
        _api(session, "POST", f"{qbo_api}/item?minorversion=75", company["access_token"],
             {"Name": item_name, "Sku": sku, "Type": "Service", "UnitPrice": price,
              "IncomeAccountRef": {"value": account}})  # fmt: skip
    made = _api(session, "POST", f"{base}/sandbox/hubspot/crm/v3/objects/companies/batch/create",
                portal["access_token"],
                {"inputs": [{"properties": {"name": f"{name} customer {n}", "zip": "78701"}}
                            for n in range(customers)]})  # fmt: skip
    client = Client.objects.create(firm=firm, name=name, slug=f"contractor-{index:04d}")
    do_store_connection(client, "quickbooks", TokenSet(
        company["access_token"], company["refresh_token"], 3600, 8_726_400, realm, name,
        list(SCOPES[:1])), actor=None, via_invitation=False)  # fmt: skip
    do_store_connection(client, "hubspot", TokenSet(
        portal["access_token"], portal["refresh_token"], 1800, None, portal_id, name,
        list(DEFAULT_SCOPES)), actor=None, via_invitation=False)  # fmt: skip
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    for path in (qbo_path, hub_path):
        _control(session, base, "PATCH", path, {"rate_limits": True})
    return BenchClient(
        client.pk, realm, portal_id, portal["access_token"], [r["id"] for r in made["results"]]
    )


def connect_clients(base: str, count: int, customers: int, threads: int = 4) -> list:
    from django.db import connections

    from clients.models import Firm

    firm, _ = Firm.objects.get_or_create(slug="month-end", defaults={"name": "Month End LLP"})

    def one(index: int) -> BenchClient:
        try:
            return connect_client(firm, base, index, customers)
        finally:
            connections.close_all()  # this thread's connections

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def add_won_deals(base: str, clients: list[BenchClient], deals: int, tag: str) -> None:
    """`deals` new closed-won deals with two line items in each client's portal."""
    objects = f"{base}/sandbox/hubspot/crm/v3/objects"

    def one(c: BenchClient) -> None:
        session = requests.Session()
        inputs = [
            {
                "properties": {"dealname": f"Job {tag}-{n}", "dealstage": "closedwon",
                               "pipeline": "default", "amount": "395.00",
                               "closedate": f"{date.today():%Y-%m-%d}T15:00:00Z"},
                "associations": [_to(c.companies[n % len(c.companies)], DEAL_TO_COMPANY)],
            }
            for n in range(deals)
        ]  # fmt: skip
        made = _api(session, "POST", f"{objects}/deals/batch/create", c.hub_token,
                    {"inputs": inputs})["results"]  # fmt: skip
        lines = [
            {"properties": {"name": name, "hs_sku": sku, "quantity": "2" if sku == "GT-INST"
                            else "1", "price": price},
             "associations": [_to(d["id"], LINE_ITEM_TO_DEAL)]}
            for d in made
            for name, sku, price in PRODUCTS
        ]  # fmt: skip
        _api(session, "POST", f"{objects}/line_items/batch/create", c.hub_token, {"inputs": lines})
        c.deals += [d["id"] for d in made]

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, clients))


def _to(record_id: str, type_id: int) -> dict:
    return {
        "to": {"id": record_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


# -- processes --------------------------------------------------------------------------


def start_server(env: dict, port: int) -> subprocess.Popen:
    """gunicorn as in production (gunicorn.conf.py), one process with threads."""
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [PYTHON, "-m", "gunicorn", "syncfirm.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env={
            **env,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_WORKERS": "1",
            "WEB_THREADS": "16",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return server
        except requests.RequestException:  # not listening yet, or still loading
            time.sleep(0.3)
        except BaseException:
            stop(server)
            raise
    stop(server)
    raise SystemExit("the app server did not start")


def start_clusters(env: dict, count: int) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(  # noqa: S603 - fixed arguments
            [PYTHON, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def stop(*processes: subprocess.Popen) -> None:
    """TERM to each parent only (qcluster stops its own children; TERM to all of them at
    once can leave it hanging), then KILL what has not ended."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_clusters(redis_url: str, count: int, timeout: float = 60) -> None:
    """Until `count` clusters report to the broker, so the timing starts with them up. Their
    reports live 3 s: the previous run's clusters are gone from the count by then."""
    import redis

    broker = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while len(broker.keys("django_q:syncfirm:cluster:*")) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"{count} qcluster(s) did not come up in {timeout:.0f} s")
        time.sleep(0.2)


def enqueue(env: dict, client_pks: list[int], syncs: int, period: date) -> None:
    """From another process (the web or scheduler's role): each client's scheduled syncs and
    its reconciliation, interleaved so the workers meet clients in the order a tick makes."""
    script = (
        "from django_q.tasks import async_task\n"
        f"for pk in {client_pks!r}:\n"
        f"    for _ in range({syncs}):\n"
        "        async_task('sync.tasks.sync_client', pk, 'scheduled')\n"
        f"    async_task('reconciliation.tasks.reconcile_now', pk, '{period.isoformat()}')\n"
    )
    subprocess.run(  # noqa: S603 - fixed arguments
        [PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


# -- one run ----------------------------------------------------------------------------


def unsettled(client_pks: list[int], since) -> int:
    """Clients whose work of this run is not all done yet."""
    from django.db.models import Q

    from reconciliation.models import Reconciliation, ReconStatus
    from sync.models import RunKind, SyncRun, SyncSettings

    synced = set(
        SyncRun.objects.filter(client_id__in=client_pks, kind=RunKind.SCHEDULED,
                               started_at__gte=since, finished_at__isnull=False)
        .values_list("client_id", flat=True)
    )  # fmt: skip
    reconciled = set(
        Reconciliation.objects.filter(client_id__in=client_pks, started_at__gte=since)
        .exclude(status=ReconStatus.RUNNING)
        .values_list("client_id", flat=True)
    )
    busy = set(
        SyncRun.objects.filter(client_id__in=client_pks, finished_at=None).values_list(
            "client_id", flat=True
        )
    )
    owed = Q(pending_at__isnull=False) | ~Q(claimed_work=[]) | Q(lease_until__gt=_now())
    busy |= set(
        SyncSettings.objects.filter(owed, client_id__in=client_pks).values_list(
            "client_id", flat=True
        )
    )
    return sum(pk not in synced or pk not in reconciled or pk in busy for pk in client_pks)


def _now():
    from django.utils import timezone

    return timezone.now()


def run_round(base: str, env: dict, clients: list[BenchClient], workers: int, syncs: int,
              timeout: float) -> Round:  # fmt: skip
    from django_q.models import Task

    pks = [c.pk for c in clients]
    requests.delete(f"{base}/sandbox/control/requests", timeout=60)  # this run's calls only
    time.sleep(4)  # the last run's clusters' reports expire (wait_for_clusters)
    clusters = start_clusters(env, workers)
    try:
        wait_for_clusters(env["REDIS_URL"], workers)
        since = _now()
        began = time.perf_counter()
        enqueue(env, pks, syncs, date.today().replace(day=1))
        while left := unsettled(pks, since):
            if Task.objects.filter(success=False, started__gte=since).exists():
                break  # a failed task: the invariants say which
            if time.perf_counter() - began > timeout:
                raise SystemExit(f"{left} of {len(pks)} clients unsettled after {timeout:.0f} s")
            time.sleep(0.5)
        seconds = time.perf_counter() - began
    finally:
        stop(*clusters)
    done = Round(workers, seconds, len(clients))
    check(base, clients, since, done)
    return done


# -- invariants -------------------------------------------------------------------------


def check(base: str, clients: list[BenchClient], since, done: Round) -> None:
    from django_q.models import Task

    from reconciliation.models import Reconciliation, ReconStatus
    from sandbox.quickbooks.models import Entity
    from sync.models import RunStatus, SyncRun

    problems = done.problems
    pks = [c.pk for c in clients]
    # Each won deal invoiced exactly once, counted in the emulator's own rows.
    by_realm = {c.realm: c for c in clients}
    counts: dict[tuple[str, str], int] = {}
    rows = Entity.objects.filter(
        company__realm_id__in=list(by_realm), entity_type="Invoice", deleted=False
    ).values_list("company__realm_id", "doc_number")
    for realm, number in rows:
        counts[(realm, number)] = counts.get((realm, number), 0) + 1
    expected = {(c.realm, f"SF-{deal}") for c in clients for deal in c.deals}
    missing = expected - set(counts)
    doubled = {key: n for key, n in counts.items() if n > 1}
    stray = set(counts) - expected
    if missing:
        problems.append(f"{len(missing)} won deal(s) with no invoice, e.g. {sorted(missing)[:3]}")
    if doubled:
        problems.append(f"{len(doubled)} deal(s) invoiced more than once: {list(doubled)[:3]}")
    if stray:
        problems.append(f"{len(stray)} invoice(s) for no won deal: {sorted(stray)[:3]}")
    # Each client's sync runs never overlap (every run so far, the import included).
    runs = SyncRun.objects.filter(client_id__in=pks).order_by("client_id", "started_at")
    spans: dict[int, list] = {}
    for run in runs.values("client_id", "started_at", "finished_at"):
        spans.setdefault(run["client_id"], []).append((run["started_at"], run["finished_at"]))
    overlapping = [
        pk
        for pk, each in spans.items()
        if any(a_end is None or a_end > b_start for (_, a_end), (b_start, _) in pairwise(each))
    ]
    if overlapping:
        problems.append(f"{len(overlapping)} client(s) with overlapping sync runs")
    done.sync_runs = runs.filter(started_at__gte=since).count()
    # Rate limits: what the emulator answered, per account.
    calls = requests.get(f"{base}/sandbox/control/requests", timeout=60).json()["requests"]
    per_account: dict[tuple[str, str], int] = {}
    for row in calls:
        per_account[(row["system"], row["account"])] = (
            per_account.get((row["system"], row["account"]), 0) + row["count"]
        )
        if row["status"] == 429:
            done.throttled += row["count"]
            where = f"{row['system']} {row['method']} {row['route'].rsplit('/', 1)[-1]}"
            done.throttled_at[where] = done.throttled_at.get(where, 0) + row["count"]
    done.calls = sum(per_account.values())
    if os.environ.get("BENCH_CALLS"):  # where one account's calls went
        mine = {k: n for k, n in per_account.items() if k[1]}
        busiest = max(mine, key=mine.get, default=None)
        for row in calls:
            if (row["system"], row["account"]) == busiest or not row["account"]:
                print(f"    {row['method']:<6} {row['route']:<60} {row['status']} x{row['count']}")
    # Discovery documents and the like name no account: no account's limit counts them.
    done.busiest = max((n for (_, account), n in per_account.items() if account), default=0)
    # Nothing left running, nothing failed.
    left = SyncRun.objects.filter(client_id__in=pks, status=RunStatus.RUNNING).count()
    left += Reconciliation.objects.filter(client_id__in=pks, status=ReconStatus.RUNNING).count()
    if left:
        problems.append(f"{left} run(s) left running")
    failed_runs = SyncRun.objects.filter(
        client_id__in=pks, started_at__gte=since, status__in=[RunStatus.FAILED, RunStatus.ATTENTION]
    ).count()
    recons = Reconciliation.objects.filter(client_id__in=pks, started_at__gte=since)
    failed_recons = recons.exclude(status=ReconStatus.DONE).count()
    failed_tasks = Task.objects.filter(success=False, started__gte=since).count()
    if failed_runs or failed_recons or failed_tasks:
        problems.append(
            f"failed: {failed_runs} sync run(s), {failed_recons} reconciliation(s) not done, "
            f"{failed_tasks} task(s)"
        )
    if done.throttled and (failed_runs or failed_tasks):
        problems.append(f"{done.throttled} call(s) answered 429 and not all were waited out")


def report(done: Round) -> None:
    verdict = "all invariants hold" if not done.problems else "; ".join(done.problems)
    print(
        f"{done.workers} worker process(es): {done.clients} clients in {done.seconds:.1f} s = "
        f"{done.per_minute:.0f} clients/min; {done.sync_runs} sync runs, {done.calls} provider "
        f"calls ({done.calls / done.seconds:.0f}/s, busiest account {done.busiest}), "
        f"{done.throttled} answered 429{f' {done.throttled_at}' if done.throttled else ''} "
        f"— {verdict}",
        flush=True,
    )


# -- the script -------------------------------------------------------------------------


def prepare_databases(url: str, sandbox_url: str) -> None:
    for each in (url, sandbox_url):
        parts = urlsplit(each)
        name = parts.path.lstrip("/")
        if name in ("syncfirm", "syncfirm_lead", "postgres") or parts.scheme != "postgres":
            raise SystemExit(f"refusing to drop {each}: name a database of the bench's own")
        admin = each.rsplit("/", 1)[0] + "/postgres"
        for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
            subprocess.run(["psql", admin, "-qc", sql], check=True)  # noqa: S603,S607


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3],
                        help="qcluster processes in each run, in order")  # fmt: skip
    parser.add_argument("--q-workers", type=int, default=1,
                        help="task processes each qcluster forks (Q_WORKERS)")  # fmt: skip
    parser.add_argument("--customers", type=int, default=3)
    parser.add_argument("--deals", type=int, default=3, help="new won deals per client per run")
    parser.add_argument("--syncs-per-client", type=int, default=2)
    parser.add_argument("--port", type=int, default=8130)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--setup-threads", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds a run may take")
    args = parser.parse_args()

    url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sf_mw")
    sandbox_url = os.environ.setdefault("SANDBOX_DATABASE_URL", f"{url}_sandbox")
    base = f"http://127.0.0.1:{args.port}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="syncfirm.settings.development", DEBUG="false", SANDBOX="on",
        REDIS_URL=args.redis_url, SANDBOX_BASE_URL=base, PUBLIC_BASE_URL=base,
        LOG_LEVEL="WARNING",
    )  # fmt: skip
    prepare_databases(url, sandbox_url)
    import django
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    django.setup()
    from django.core.management import call_command

    for database in ("default", "sandbox"):
        call_command("migrate", database=database, verbosity=0)
    env = worker_env(base, args.redis_url, args.q_workers)
    server = start_server(env, args.port)
    try:
        began = time.perf_counter()
        clients = connect_clients(base, args.clients, args.customers, args.setup_threads)
        print(f"setup: {len(clients)} clients connected and imported in "
              f"{time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip
        failed = False
        for n, workers in enumerate(args.workers):
            add_won_deals(base, clients, args.deals, tag=f"r{n}")
            done = run_round(base, env, clients, workers, args.syncs_per_client, args.timeout)
            report(done)
            failed |= bool(done.problems)
    finally:
        stop(server)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
