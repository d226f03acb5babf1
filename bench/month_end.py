"""A firm's month-end: K clients' books of M invoices each reconciled through the sandbox by
qcluster workers, the cost per client as clients are added, and the projection for 2,000
clients (the most a QuickBooks Accountant firm holds).

Setup (not timed): the app server as in `bench/multi_worker.py` (gunicorn, one process,
PostgreSQL, Redis); for each client a generated book (`sandbox.generator`, M invoices, about
1.1 M deals, every finding type planted) written into a new QuickBooks company and HubSpot
portal over their HTTP APIs (`sandbox.seed_book.write_book`), its connections written from
the control API's tokens, and its historical import run. Writing a book is the slow part
(about a minute for 1,000 invoices, see "Generated books" in bench/README.md), so the
default 200 x 1,000 takes hours to set up; `--clients` and `--invoices` scale it down.

Each step reconciles the first n clients (n from `--clients`, ascending) of the month before
the book's "today": their reconciliations enqueued at once, `--workers` qcluster processes
drain them, timed to the last one done. Cost per client = wall time x worker processes / n
(worker-seconds; the seconds each reconciliation itself took are printed beside it), and
the CPU seconds per client of the worker processes, of the app server that plays the
providers (the emulators), and of PostgreSQL, read from /proc: on this one machine the
emulators' share is the providers' work, which a real deployment does not run. Every
reconciliation must end "done" (exit 1 otherwise).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sf_month_end \\
        .venv/bin/python bench/month_end.py [--clients 50 100 200] [--invoices 1000]
"""

import argparse
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import multi_worker  # noqa: E402 - beside this file

FIRM_CLIENTS = 2_000
PERIOD = date(2026, 10, 1)  # the month before the generator's "today" (2026-11-15)


def connect_book(firm, base: str, index: int, invoices: int, source=None) -> tuple[int, object]:
    """Client `index`: its book written through the APIs, or a copy of `source`'s."""
    from clients.models import Client
    from connections.actions import do_store_connection
    from connections.tokens import TokenSet
    from sandbox.generator import generate
    from sandbox.hubspot.control import DEFAULT_SCOPES
    from sandbox.quickbooks.oauth import SCOPES
    from sandbox.seed_book import write_book
    from sync.customers import run_customer_sync
    from sync.models import RunKind

    name = f"Contractor {index:04d}"
    if source is None:
        written = write_book(generate(invoices, seed=index + 1), base, name)
    else:
        from book_copies import copy_book  # beside this file; needs Django set up

        written = copy_book(source, base, name)
    client = Client.objects.create(firm=firm, name=name, slug=f"contractor-{index:04d}")
    qbo, hub = written.quickbooks_tokens, written.hubspot_tokens
    do_store_connection(client, "quickbooks", TokenSet(
        qbo["access_token"], qbo["refresh_token"], 3600, 8_726_400, written.realm_id, name,
        list(SCOPES[:1])), actor=None, via_invitation=False)  # fmt: skip
    do_store_connection(client, "hubspot", TokenSet(
        hub["access_token"], hub["refresh_token"], 1800, None, written.portal_id, name,
        list(DEFAULT_SCOPES)), actor=None, via_invitation=False)  # fmt: skip
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    return client.pk, written


def connect_books(base: str, count: int, invoices: int, threads: int, distinct: int) -> list[int]:
    """`distinct` books written through the APIs (their own seeds), then copies of them in
    turn up to `count` (book_copies.py: writing 200 through the APIs takes hours)."""
    from django.db import connections

    from clients.models import Firm

    firm, _ = Firm.objects.get_or_create(slug="month-end", defaults={"name": "Month End LLP"})

    written: dict[int, object] = {}

    def one(index: int) -> int:
        try:
            source = written[index % distinct] if index >= distinct else None
            pk, written[index] = connect_book(firm, base, index, invoices, source)
            return pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(threads) as pool:
        first = list(pool.map(one, range(min(distinct, count))))
        return first + list(pool.map(one, range(len(first), count)))


def cpu_seconds() -> dict[int, tuple[int, str, float]]:
    """Every process's (parent, name, CPU seconds), from /proc (Linux): its own user and
    system time and its ended children's (a PostgreSQL backend or a task process that has
    gone counts in its parent). Read by hand: psutil is not in the locked environment the
    benchmark runs in, and these are two fields of one file."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:  # ended while read
            continue
        name, rest = raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()
        found[int(stat.parent.name)] = (int(rest[1]), name, sum(map(int, rest[11:15])) / ticks)
    return found


def cpu_split(roots: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each named group of process trees, and of PostgreSQL's."""
    table = cpu_seconds()
    out = {"postgres": sum(c for _, n, c in table.values() if n.startswith("postgres"))}
    # A backend that ended is in the postmaster's children's time; one still running, not.
    for label, pids in roots.items():
        tree, grown = set(pids), True
        while grown:
            kids = {p for p, (parent, _, _) in table.items() if parent in tree} - tree
            tree |= kids
            grown = bool(kids)
        out[label] = sum(table[p][2] for p in tree if p in table)
    return out


def reused_books(count: int) -> list[int]:
    """The clients an earlier run set up, in the order it made them."""
    from clients.models import Client

    pks = list(
        Client.objects.filter(firm__slug="month-end").order_by("slug").values_list("pk", flat=True)
    )
    if len(pks) < count:
        raise SystemExit(f"--reuse: {len(pks)} clients set up, {count} asked for")
    print(f"setup: reusing {count} of the {len(pks)} clients set up before; each month is "
          "reconciled again (a re-run)", flush=True)  # fmt: skip
    return pks[:count]


def set_latency(base: str, pks: list[int], latency_ms: int) -> None:
    """Every client's QuickBooks company and HubSpot portal answers `latency_ms` late (the
    sandbox's fault plan: a sleep before the view, the GIL let go), as the real services do
    over the internet; 0 takes it away again (a re-run keeps the plans)."""
    import requests

    from connections.models import Connection

    accounts = Connection.objects.filter(client_id__in=pks).values_list("system", "external_id")
    with requests.Session() as session:
        for system, account in accounts:
            plan = {"system": system, "account": account, "latency_ms": latency_ms}
            session.put(f"{base}/sandbox/control/faults", json=plan, timeout=60).raise_for_status()
    if latency_ms:
        print(f"every provider call answered {latency_ms} ms late", flush=True)


def reconcile_step(
    env: dict, pks: list[int], workers: int, timeout: float, server_pid: int
) -> tuple[float, float, dict, dict]:
    from reconciliation.models import Reconciliation, ReconStatus

    clusters = multi_worker.start_clusters(env, workers)
    try:
        multi_worker.wait_for_clusters(env["REDIS_URL"], workers)
        roots = {"workers": [c.pid for c in clusters], "emulators": [server_pid]}
        cpu_before = cpu_split(roots)
        since = multi_worker._now()
        began = time.perf_counter()
        multi_worker.enqueue(env, pks, 0, PERIOD)
        runs = Reconciliation.objects.filter(client_id__in=pks, started_at__gte=since)
        while runs.exclude(status=ReconStatus.RUNNING).count() < len(pks):
            if time.perf_counter() - began > timeout:
                raise SystemExit(f"not all {len(pks)} reconciliations ended in {timeout:.0f} s")
            time.sleep(0.5)
        seconds = time.perf_counter() - began
        cpu = {k: v - cpu_before[k] for k, v in cpu_split(roots).items()}
    finally:
        multi_worker.stop(*clusters)
    statuses: dict[str, int] = {}
    busy = 0.0  # seconds a worker spent in a reconciliation, summed
    for status, started, finished in runs.values_list("status", "started_at", "finished_at"):
        statuses[status] = statuses.get(status, 0) + 1
        busy += (finished - started).total_seconds() if finished else 0.0
    return seconds, busy, statuses, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 100, 200],
                        help="clients reconciled in each step (books for the largest)")  # fmt: skip
    parser.add_argument("--invoices", type=int, default=1000, help="invoices in each book")
    parser.add_argument("--workers", type=int, default=3, help="qcluster processes")
    parser.add_argument("--q-workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=8130)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--setup-threads", type=int, default=4)
    parser.add_argument("--distinct-books", type=int, default=8,
                        help="books written through the APIs; the rest copy them")  # fmt: skip
    parser.add_argument("--reuse", action="store_true",
                        help="keep the last run's books: each month is re-run")  # fmt: skip
    parser.add_argument("--latency-ms", type=int, default=0,
                        help="provider calls answered this late, as over the internet")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    args = parser.parse_args()
    steps = sorted(args.clients)

    url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sf_month_end")
    sandbox_url = os.environ.setdefault("SANDBOX_DATABASE_URL", f"{url}_sandbox")
    base = f"http://127.0.0.1:{args.port}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="syncfirm.settings.development", DEBUG="false", SANDBOX="on",
        REDIS_URL=args.redis_url, SANDBOX_BASE_URL=base, PUBLIC_BASE_URL=base,
        LOG_LEVEL="WARNING",
    )  # fmt: skip
    if not args.reuse:
        multi_worker.prepare_databases(url, sandbox_url)
    import django
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    django.setup()
    from django.core.management import call_command

    for database in ("default", "sandbox"):
        call_command("migrate", database=database, verbosity=0)
    env = multi_worker.worker_env(base, args.redis_url, args.q_workers)
    server = multi_worker.start_server(env, args.port)
    failed = False
    try:
        began = time.perf_counter()
        if args.reuse:
            pks = reused_books(steps[-1])
        else:
            pks = connect_books(
                base, steps[-1], args.invoices, args.setup_threads, args.distinct_books
            )
            print(f"setup: {len(pks)} books of {args.invoices} invoices ("
                  f"{min(args.distinct_books, len(pks))} written through the APIs, the rest "
                  f"copies), connected and imported in {time.perf_counter() - began:.0f} s",
                  flush=True)  # fmt: skip
        set_latency(base, pks, args.latency_ms)
        costs = []
        for n in steps:
            seconds, busy, statuses, cpu = reconcile_step(
                env, pks[:n], args.workers, args.timeout, server.pid
            )
            cost = seconds * args.workers / n
            costs.append((cost, busy / n, (cpu["workers"] + cpu["postgres"]) / n))
            failed |= statuses.get("done", 0) != n
            print(f"{n:>5} clients x {args.invoices} invoices, {args.workers} worker process(es): "
                  f"{seconds:.1f} s wall, {cost:.2f} worker-s per client ({busy / n:.2f} s "
                  f"of it in the reconciliation), "
                  f"{n / seconds * 60:.1f} clients/min; {statuses}", flush=True)  # fmt: skip
            print(f"      CPU seconds per client: workers {cpu['workers'] / n:.2f}, the "
                  f"emulators' server {cpu['emulators'] / n:.2f}, PostgreSQL (both "
                  f"databases) {cpu['postgres'] / n:.2f}", flush=True)  # fmt: skip
        cost, each, own_cpu = costs[-1]
        hours = cost * FIRM_CLIENTS / 3600
        print(f"projection, {FIRM_CLIENTS} clients x {args.invoices} invoices: {hours:.2f} "
              f"worker-hours ({hours / args.workers:.2f} h wall with {args.workers} worker "
              f"process(es)), at the largest step's cost per client", flush=True)  # fmt: skip
        # A reconciliation mostly waits for answers; more processes overlap the waits while
        # syncfirm's own CPU (workers and PostgreSQL) is what the cores must hold.
        print(f"one hour for {FIRM_CLIENTS}: {math.ceil(FIRM_CLIENTS * each / 3600)} worker "
              f"processes at {each:.2f} s a reconciliation, syncfirm's own CPU "
              f"{FIRM_CLIENTS * own_cpu / 3600:.2f} of a core", flush=True)  # fmt: skip
    finally:
        multi_worker.stop(server)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
