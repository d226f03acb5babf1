"""How fast the firm dashboard and the findings queue answer with a big firm's data.

Creates a PostgreSQL database of its own (dropped and made again each run unless
`--reuse`), migrates it and seeds one firm: an accountant, 500 clients with their two
connections, sync runs, conflicts, twelve monthly reconciliations each and 100,000 findings
spread unevenly over the clients (mixed types, severities and statuses). Then serves the app
with gunicorn on a free loopback port (DEBUG off, SANDBOX off, persistent database
connections as in production), logs in by writing a session row for the accountant, and
loads each page with `wrk` (10 connections, kept alive) for a bounded time, printing
requests/s and p50/p95/p99 latency, with PASS/FAIL against the p95 target.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/syncfirm_bench_review \\
        .venv/bin/python bench/review_pages.py [--seconds 20] [--connections 10]
        [--workers 4] [--threads 1] [--reuse] [--explain]

Needs `wrk` (Debian: `apt-get install wrk`, as root) and gunicorn (in requirements.lock).
wrk's summary has no p95, so a Lua `done` hook prints latency:percentile(95).
`--explain` skips the load and prints, per page, the queries one request makes with
EXPLAIN ANALYZE timings (in-process, Django's test client), to find what is slow.
"""

import argparse
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/syncfirm_bench_review"
TARGET_P95_MS = 200
EMAIL = "accountant@bench.test"
# A week of the default schedule (a pull every 15 minutes); nothing prunes old runs.
RUNS_PER_CLIENT = 7 * 24 * 4
CODES = {
    # code: (share of findings, fix action)
    "missing_invoice": (0.22, "create_invoice"),
    "paid_but_open": (0.18, "update_crm_payment"),
    "stale_open_invoice": (0.17, "review"),
    "balance_mismatch": (0.13, "review"),
    "partial_invoice": (0.12, "add_missing_lines"),
    "job_revenue_mismatch": (0.10, "review"),
    "duplicate_invoice": (0.08, "void_invoice"),
}
STATUSES = {"open": 0.55, "dismissed": 0.25, "fixed": 0.17, "resolved": 0.03}
TRADES = [
    "Electric", "Plumbing", "Roofing", "Builders", "HVAC", "Landscaping", "Painting",
    "Concrete", "Carpentry", "Flooring", "Masonry", "Drywall", "Glazing", "Solar",
]  # fmt: skip
PLACES = [
    "Northside", "Granite", "Riverbend", "Oakwood", "Summit", "Harbor", "Cedar", "Maple",
    "Lakeside", "Ironwood", "Bluestone", "Prairie", "Redrock", "Westfield", "Pinecrest",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help=">1 uses the gthread worker")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE, no load")
    parser.add_argument("--only", nargs="*", help="measure only these page names")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not urlsplit(url).scheme.startswith("postgres"):
        raise SystemExit("DATABASE_URL must be a PostgreSQL database")
    wrk = shutil.which("wrk")
    if not wrk and not args.explain:
        raise SystemExit(
            "wrk is missing: install it with `apt-get update && apt-get install -y wrk` (as "
            "root; Debian/Ubuntu package `wrk`), then run this again"
        )
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="syncfirm.settings.development",
        DEBUG="false",
        SANDBOX="false",
        LOG_LEVEL="WARNING",
    )
    seeded = prepare_database(url, args.clients, args.findings, args.reuse)
    cookie = session_cookie()
    pages = page_urls(seeded)
    if args.only:
        pages = {name: path for name, path in pages.items() if name in args.only}
    if args.explain:
        explain(pages, cookie)
        return
    run_load(pages, cookie, wrk, args)


# --- the database -------------------------------------------------------------------------


def prepare_database(url: str, clients: int, findings: int, reuse: bool) -> dict:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = f"host={parts.hostname or '127.0.0.1'} port={parts.port or 5432} dbname=postgres"
    if parts.username:
        server += f" user={parts.username}"
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reuse:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        if not exists or not reuse:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from clients.models import Firm

    if reuse and Firm.objects.filter(slug="bench").exists():
        print(f"reusing the seeded database {name}")
    else:
        began = time.perf_counter()
        seed(clients, findings)
        print(f"seeded {name} in {time.perf_counter() - began:.1f} s")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # fresh statistics and visibility map, as autovacuum
    return describe()


def weights(rng: random.Random, n: int) -> list[float]:
    """Uneven shares: a few clients with thousands of findings, many with a handful."""
    return [rng.paretovariate(1.2) for _ in range(n)]


def pick(rng: random.Random, table: dict) -> str:
    return rng.choices(list(table), [v[0] if isinstance(v, tuple) else v for v in table.values()])[
        0
    ]


def seed(n_clients: int, n_findings: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from clients.models import Client, Firm, Membership, Role
    from connections.models import Connection, Status
    from reconciliation import totals
    from reconciliation.models import Finding, Reconciliation, ReconStatus
    from sync.models import (
        ConflictKind,
        ConflictStatus,
        RunKind,
        RunStatus,
        SyncConflict,
        SyncRun,
    )

    rng = random.Random(20261122)  # noqa: S311 - seeded test data, not secrets
    now = datetime.now(UTC)
    user_model = get_user_model()
    with transaction.atomic():
        firm = Firm.objects.create(name="Bench Bookkeeping", slug="bench")
        accountant = user_model.objects.create_user(EMAIL, "bench-password")
        staff = [accountant] + [
            user_model.objects.create_user(f"staff{i}@bench.test", "bench-password")
            for i in range(1, 4)
        ]
        owner = user_model.objects.create_user("owner@bench.test", "bench-password")
        Membership.objects.bulk_create(
            [Membership(firm=firm, user=accountant, role=Role.ACCOUNTANT)]
            + [Membership(firm=firm, user=u, role=Role.ACCOUNTANT) for u in staff[1:]]
            + [Membership(firm=firm, user=owner, role=Role.OWNER)]
        )
        names = set()
        while len(names) < n_clients:
            names.add(f"{rng.choice(PLACES)} {rng.choice(TRADES)} {rng.randint(1, 999)}")
        clients = Client.objects.bulk_create(
            [
                Client(firm=firm, name=name, slug=name.lower().replace(" ", "-"))
                for name in sorted(names)
            ]
        )
        through = Client.assigned_staff.through
        through.objects.bulk_create(
            [
                through(client_id=c.pk, user_id=u.pk)
                for c in clients
                for u in rng.sample(staff, rng.choice([0, 1, 1, 1, 2]))
            ]
        )
        connection_status = {
            Status.ACTIVE: 0.85,
            Status.NEEDS_REAUTH: 0.06,
            Status.ERROR: 0.04,
            Status.PENDING: 0.05,
        }
        Connection.objects.bulk_create(
            [
                Connection(
                    client=c,
                    system=system,
                    status=pick(rng, connection_status),
                    external_id=str(rng.randint(10**9, 10**10)),
                    external_name=f"{c.name} ({system})",
                    # Real tokens are long (Intuit's access tokens ~900 characters) and
                    # stored encrypted: loading a connection decrypts both.
                    access_token=f"{system}-access-{rng.getrandbits(3600):0900x}",
                    refresh_token=f"{system}-refresh-{rng.getrandbits(200):050x}",
                    access_expires_at=now + timedelta(minutes=rng.randint(1, 60)),
                    connected_by=accountant,
                    connected_at=now - timedelta(days=rng.randint(30, 700)),
                    last_success_at=now - timedelta(minutes=rng.randint(1, 600)),
                )
                for c in clients
                for system in ("quickbooks", "hubspot")
            ],
            batch_size=2000,
        )
        run_status = {
            RunStatus.SUCCEEDED: 0.8,
            RunStatus.ATTENTION: 0.12,
            RunStatus.FAILED: 0.06,
            RunStatus.WAITING: 0.02,
        }
        runs = []
        for c in clients:
            for i in range(RUNS_PER_CLIENT):
                started = now - timedelta(minutes=15 * i + rng.random() * 3)
                runs.append(
                    SyncRun(
                        client=c,
                        kind=RunKind.SCHEDULED if i else RunKind.WEBHOOK,
                        status=pick(rng, run_status),
                        started_at=started,
                        finished_at=started + timedelta(seconds=rng.randint(2, 90)),
                        counts={"unchanged": rng.randint(10, 900), "updated": rng.randint(0, 9)},
                        progress_done=100,
                        progress_total=100,
                    )
                )
            if len(runs) >= 20_000:
                SyncRun.objects.bulk_create(runs, batch_size=5000)
                runs = []
        SyncRun.objects.bulk_create(runs, batch_size=5000)
        conflicts = []
        for c in clients:
            for i in range(rng.choice([0, 0, 1, 2, 3, 5, 8, 12])):
                is_open = rng.random() < 0.6
                conflicts.append(
                    SyncConflict(
                        client=c,
                        kind=rng.choice(list(ConflictKind)),
                        status=ConflictStatus.OPEN if is_open else ConflictStatus.RESOLVED,
                        crm_type="companies",
                        crm_id=str(100000 + i),
                        field="email" if rng.random() < 0.3 else "",
                        crm_value={"name": f"Customer {i}"},
                        accounting_value={"name": f"Customer {i} LLC"},
                        reason="Looks like an existing customer.",
                        created_at=now - timedelta(days=rng.randint(0, 60)),
                    )
                )
        SyncConflict.objects.bulk_create(conflicts, batch_size=5000)
        months = [date(2025 + (m // 12), m % 12 + 1, 1) for m in range(10, 22)]  # 12 months
        recons = Reconciliation.objects.bulk_create(
            [
                Reconciliation(
                    client=c,
                    period=month,
                    status=ReconStatus.DONE,
                    started_by=accountant,
                    started_at=datetime(month.year, month.month, 1, 6, tzinfo=UTC)
                    + timedelta(days=32),
                    counts={"invoices": rng.randint(20, 400)},
                )
                for c in clients
                for month in months
            ],
            batch_size=5000,
        )
        by_client = {}
        for r in recons:
            by_client.setdefault(r.client_id, []).append(r)
        shares = weights(rng, len(clients))
        owners = rng.choices(clients, shares, k=n_findings)
        batch = []
        for i, client in enumerate(owners):
            code = pick(rng, CODES)
            status = pick(rng, STATUSES)
            amount = Decimal(min(rng.lognormvariate(5.5, 1.4), 250_000)).quantize(Decimal("0.01"))
            severity = "high" if amount >= 1000 else "medium" if amount >= 100 else "low"
            recon = rng.choice(by_client[client.pk])
            decided = status != "open"
            # Both systems' records, as a reconciliation stores them: the queue shows them
            # side by side (a duplicate has two invoices).
            invoice_ids = [str(5000 + i)] + (
                [f"{5000 + i}b"] if code == "duplicate_invoice" else []
            )
            lines = [["SKU-1", "2", str(amount / 2)], ["SKU-2", "1", str(amount - amount / 2)]]
            txn = recon.period + timedelta(days=rng.randint(0, 27))
            deal_row = [str(1000 + i), f"Job {i}", True, str(amount), "unpaid", "0.00",
                        str(i % 3000), lines, txn.isoformat(), "USD"]  # fmt: skip
            invoice_rows = [
                [number, f"SF-{number}", str(i % 3000), txn.isoformat(), str(amount), str(amount),
                 "USD", str(1000 + i),
                 [["7", "2", str(amount / 2)], ["9", "1", str(amount - amount / 2)]], None, False]
                for number in invoice_ids
            ]  # fmt: skip
            batch.append(
                Finding(
                    client=client,
                    reconciliation=recon,
                    code=code,
                    severity=severity,
                    amount=amount,
                    currency="USD",
                    direction=rng.choice(
                        ["books show less revenue", "books show more revenue", "cash unclear"]
                    ),
                    reason=f"Deal {1000 + i} ({code.replace('_', ' ')}) differs by {amount}.",
                    deal_id=str(1000 + i),
                    invoice_ids=invoice_ids,
                    customer_id=str(rng.randint(1, 3000)),
                    evidence={
                        "links": {
                            "deal": f"https://app.hubspot.com/contacts/1/deal/{1000 + i}",
                            "invoice": f"https://app.qbo.intuit.com/app/invoice?txnId={5000 + i}",
                        }
                    },
                    fix={"action": CODES[code][1], "words": "Create the missing invoice."},
                    fingerprint=f"{rng.getrandbits(128):032x}",
                    key=f"{rng.getrandbits(128):032x}",
                    records={"deal": deal_row, "invoices": invoice_rows},
                    first_period=recon.period,
                    last_period=recon.period,
                    status=status,
                    decided_by=accountant if decided else None,
                    decided_at=recon.started_at + timedelta(days=3) if decided else None,
                    decision_note="Checked with the contractor." if decided else "",
                    created_at=recon.started_at,
                )
            )
            if len(batch) == 5000:
                Finding.objects.bulk_create(batch)
                batch = []
        Finding.objects.bulk_create(batch)
        totals.refresh([c.pk for c in clients])  # bulk_create sends no signals


def describe() -> dict:
    """What the pages will be asked for: the busiest client's slug and a search word."""
    from django.db.models import Count

    from clients.models import Client
    from reconciliation.models import Finding

    busiest = (
        Client.objects.filter(firm__slug="bench")
        .annotate(n=Count("findings"))
        .order_by("-n")
        .values("slug", "n")
        .first()
    )
    counts = {
        "clients": Client.objects.filter(firm__slug="bench").count(),
        "findings": Finding.objects.filter(client__firm__slug="bench").count(),
        "open findings": Finding.objects.filter(client__firm__slug="bench", status="open").count(),
    }
    print(", ".join(f"{v:,} {k}" for k, v in counts.items()))
    print(f"busiest client: {busiest['slug']} ({busiest['n']:,} findings)")
    last_page = -(-counts["open findings"] // 50)  # the queue shows 50 a page
    return {"busiest": busiest["slug"], "search": "electric", "last_page": last_page}


def session_cookie() -> str:
    """A logged-in session for the accountant, written straight into the session table."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from clients.tenancy import SESSION_FIRM_KEY

    user = get_user_model().objects.get(email=EMAIL)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SESSION_FIRM_KEY] = user.memberships.get().firm_id
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def page_urls(seeded: dict) -> dict[str, str]:
    return {
        "dashboard": "/",
        "dashboard page 2": "/?page=2",
        "dashboard search": f"/?q={seeded['search']}",
        "queue": "/review/findings/",
        "queue page 2": "/review/findings/?page=2",
        "queue one client": f"/review/findings/?client={seeded['busiest']}",
        "queue last page": f"/review/findings/?page={seeded['last_page']}",
    }


# --- what a request costs, query by query ---------------------------------------------------


def explain(pages: dict[str, str], cookie: str) -> None:
    from django.db import connection
    from django.test import Client as TestClient
    from django.test.utils import CaptureQueriesContext

    browser = TestClient(HTTP_HOST="127.0.0.1")
    name, value = cookie.split("=", 1)
    browser.cookies[name] = value
    for page, path in pages.items():
        browser.get(path)  # warm caches
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = browser.get(path)
            elapsed = (time.perf_counter() - began) * 1000
        sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
        print(
            f"\n== {page} {path}: {response.status_code}, {elapsed:.0f} ms in all, "
            f"{len(captured)} queries, {sql_ms:.0f} ms in the database"
        )
        for query in captured.captured_queries:
            text = query["sql"]
            if not text.lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {text}")
                plan = [row[0] for row in cursor.fetchall()]
            took = next((line for line in plan if line.startswith("Execution Time")), "")
            print(f"-- {float(query['time']) * 1000:.1f} ms ({took}): {text[:400]}")
            if float(query["time"]) > 0.005:
                print("\n".join("   " + line for line in plan))


# --- the load --------------------------------------------------------------------------------

# wrk's own summary has no p95: a `done` hook prints the figures on one line (microseconds).
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FIGURES %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": with_conn_max_age(os.environ["DATABASE_URL"])}
    command = [
        PYTHON, "-m", "gunicorn", "syncfirm.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--keep-alive", "30", "--log-level", "warning",
    ]  # fmt: skip
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - fixed arguments
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("gunicorn exited; is it installed (requirements.lock)?") from None
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


def with_conn_max_age(url: str) -> str:
    """Persistent connections, as production runs. Production's CONN_MAX_AGE is 60 s; 600
    here keeps each worker's backend alive through the whole run, so its CPU can be read."""
    if "conn_max_age" in url:
        return url
    return url + ("&" if "?" in url else "?") + "conn_max_age=600"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check_page(url: str, cookie: str) -> int:
    """One request: the page must answer 200 to the logged-in accountant (not a redirect)."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 - loopback
    try:
        with opener.open(request, timeout=30) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status, body = error.code, b""
    if status != 200:
        raise SystemExit(f"{url} answered {status}, not 200; the load would measure nothing")
    return len(body)


def wrk_load(wrk: str, url: str, cookie: str, connections: int, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_REPORT)
        script.flush()
        out = subprocess.run(  # noqa: S603 - fixed arguments
            [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
             "-s", script.name, "-H", f"Cookie: {cookie}", url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    line = next(line for line in out.splitlines() if line.startswith("FIGURES"))
    done, micros, p50, p95, p99, top, errors = (int(part) for part in line.split()[1:])
    return {
        "rps": done / (micros / 1e6),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
        "max": top / 1000,
        "requests": done,
        "errors": errors,
    }


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU each process has used (Linux /proc); vanished ones are left out."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return used


def grown(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings; a process new since `before` counts from zero."""
    return sum(now - before.get(pid, 0.0) for pid, now in after.items())


def machine_busy() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


class CpuMeter:
    """Where the CPU went during one load: gunicorn's workers, PostgreSQL's backends for the
    bench database, wrk, and everything else on the machine (other people's work)."""

    def __init__(self, server: subprocess.Popen, database: str):
        import psycopg

        self.server, self.database = server, database
        self.conn = psycopg.connect(server_dsn(os.environ["DATABASE_URL"]), autocommit=True)

    def pids(self) -> tuple[list[int], list[int]]:
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children")
        workers = [int(p) for p in children.read_text().split()]
        backends = [
            row[0]
            for row in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.database],
            )
        ]
        return workers, backends

    def snapshot(self) -> dict:
        workers, backends = self.pids()
        busy, _ = machine_busy()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "app": cpu_seconds(workers),
            "db": cpu_seconds(backends),
            "wrk": children.ru_utime + children.ru_stime,
            "busy": busy,
            "wall": time.monotonic(),
        }

    def since(self, before: dict, requests: int) -> dict:
        after = self.snapshot()
        app = grown(before["app"], after["app"])
        db = grown(before["db"], after["db"])
        wrk = after["wrk"] - before["wrk"]
        wall = after["wall"] - before["wall"]
        others = max(0.0, after["busy"] - before["busy"] - app - db - wrk)
        per = 1000 / max(requests, 1)
        return {"app_ms": app * per, "db_ms": db * per, "others_cores": others / wall}


def server_dsn(url: str) -> str:
    parts = urlsplit(url)
    dsn = f"host={parts.hostname or '127.0.0.1'} port={parts.port or 5432} dbname=postgres"
    return dsn + (f" user={parts.username}" if parts.username else "")


def run_load(pages: dict[str, str], cookie: str, wrk: str, args) -> None:
    from django.db import connections

    connections.close_all()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    kind = f"gthread x{args.threads}" if args.threads > 1 else "sync"
    print(f"gunicorn --workers {args.workers} ({kind}) on {base}")
    load_before = os.getloadavg()
    server = start_gunicorn(port, args.workers, args.threads)
    rows = []
    try:
        for path in pages.values():
            for _ in range(3):  # every worker imports templates and opens its connection
                check_page(base + path, cookie)
        meter = CpuMeter(server, urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/"))
        for name, path in pages.items():
            size = check_page(base + path, cookie)
            before = meter.snapshot()
            figures = wrk_load(wrk, base + path, cookie, args.connections, args.seconds)
            figures.update(meter.since(before, figures["requests"]))
            verdict = "PASS" if figures["p95"] < TARGET_P95_MS and not figures["errors"] else "FAIL"
            rows.append((name, path, size, figures, verdict))
            print(
                f"{name:18} {figures['rps']:7.1f} req/s  p50 {figures['p50']:6.1f} ms  "
                f"p95 {figures['p95']:6.1f} ms  p99 {figures['p99']:6.1f} ms  "
                f"errors {figures['errors']}  {verdict}  CPU/request: app "
                f"{figures['app_ms']:.1f} ms, db {figures['db_ms']:.1f} ms; "
                f"others {figures['others_cores']:.2f} cores",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"\nload average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f};"
        f" after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"{args.connections} connections, {args.seconds} s each, target p95 < {TARGET_P95_MS} ms")
    print(
        "\n| page | URL | bytes | requests/s | p50 | p95 | p99 | errors | p95 < 200 ms "
        "| app CPU/req | db CPU/req | others' load |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for name, path, size, f, verdict in rows:
        print(
            f"| {name} | `{path}` | {size:,} | {f['rps']:.1f} | {f['p50']:.1f} ms "
            f"| {f['p95']:.1f} ms | {f['p99']:.1f} ms | {f['errors']} | {verdict} "
            f"| {f['app_ms']:.1f} ms | {f['db_ms']:.1f} ms | {f['others_cores']:.2f} cores |"
        )
    if any(row[4] == "FAIL" for row in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
