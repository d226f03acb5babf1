"""How many simple reads a second the sandbox emulators serve.

Starts the app's own server (runserver, as `make demo` does) on a free loopback port with
throw-away SQLite databases, creates a QuickBooks company and a HubSpot portal through the
control API (rate limits lifted), writes one record in each, then reads it over and over
for a bounded time at several concurrencies, and prints requests/s and latency.

The load comes from `wrk` when it is installed (Debian package `wrk`: a C client, so the
measurement is of the server, not the client), else from a Python thread pool.

    .venv/bin/python bench/sandbox_reads.py [--seconds 8] [--concurrency 1 2 4 8]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method: str, url: str, body: dict | None = None, token: str = "") -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read() or b"{}")


SERVERS = {
    # What `make demo` runs: Django's threaded development server, one process.
    "runserver": lambda port: [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
    # One process too (the emulators keep their request log and token caches in memory),
    # with gunicorn's threaded worker in place of wsgiref. Needs `pip install gunicorn`.
    "gunicorn": lambda port: [
        PYTHON, "-m", "gunicorn", "syncfirm.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--worker-class", "gthread", "--threads", "16", "--keep-alive", "30",
    ],
}  # fmt: skip


def start_server(workdir: Path, port: int, kind: str = "runserver") -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "syncfirm.settings.development",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite:///{workdir / 'app.sqlite3'}",
        "SANDBOX_DATABASE_URL": f"sqlite:///{workdir / 'sandbox.sqlite3'}",
    }
    for database in ("default", "sandbox"):
        subprocess.run(  # noqa: S603 - fixed arguments
            [PYTHON, "manage.py", "migrate", "-v0", "--database", database],
            cwd=ROOT,
            env=env,
            check=True,
        )
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        SERVERS[kind](port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the server did not start")


def targets(base: str) -> dict[str, tuple[str, str]]:
    """One readable record in a fresh QuickBooks company and HubSpot portal: URL and token."""
    company = call("POST", f"{base}/sandbox/control/quickbooks/companies", {"name": "Bench Co"})
    realm, qbo_token = company["realm_id"], company["access_token"]
    call("PATCH", f"{base}/sandbox/control/quickbooks/companies/{realm}", {"rate_limits": False})
    customer = call(
        "POST",
        f"{base}/sandbox/quickbooks/v3/company/{realm}/customer?minorversion=75",
        {"DisplayName": "Bench Customer"},
        qbo_token,
    )["Customer"]
    portal = call("POST", f"{base}/sandbox/control/hubspot/portals", {"name": "Bench Portal"})
    call(
        "PATCH",
        f"{base}/sandbox/control/hubspot/portals/{portal['portal_id']}",
        {"rate_limits": False},
    )
    company_object = call(
        "POST",
        f"{base}/sandbox/hubspot/crm/v3/objects/companies",
        {"properties": {"name": "Bench Builders"}},
        portal["access_token"],
    )
    return {
        "quickbooks customer read": (
            f"{base}/sandbox/quickbooks/v3/company/{realm}/customer/{customer['Id']}?minorversion=75",
            qbo_token,
        ),
        "hubspot company read": (
            f"{base}/sandbox/hubspot/crm/v3/objects/companies/{company_object['id']}",
            portal["access_token"],
        ),
    }


# wrk's own summary has no p95 and hides error counts when there are none: a `done` hook
# prints the figures on one line in the same units as the thread pool's.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FIGURES %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def with_wrk(url: str, token: str, connections: int, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_REPORT)
        script.flush()
        out = subprocess.run(  # noqa: S603 - fixed arguments
            [
                shutil.which("wrk") or "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "-s",
                script.name,
                "-H",
                f"Authorization: Bearer {token}",
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    line = next(line for line in out.splitlines() if line.startswith("FIGURES"))
    done, micros, p50, p95, p99, errors = (int(part) for part in line.split()[1:])
    return {
        "tool": "wrk",
        "rps": round(done / (micros / 1e6), 1),
        "p50": f"{p50 / 1000:.1f}ms",
        "p95": f"{p95 / 1000:.1f}ms",
        "p99": f"{p99 / 1000:.1f}ms",
        "errors": errors,
    }


def with_threads(url: str, token: str, connections: int, seconds: int) -> dict:
    """The load from Python threads, one kept-alive connection each (when wrk is missing)."""
    import http.client

    parts = urllib.request.urlparse(url)
    path = f"{parts.path}?{parts.query}" if parts.query else parts.path
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                response = conn.getresponse()
                response.read()
            except OSError:
                errors[0] += 1
                conn.close()
                continue
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                errors[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()

    def percentile(p: int) -> str:
        return f"{latencies[min(len(latencies) - 1, len(latencies) * p // 100)] * 1000:.1f}ms"

    return {
        "tool": "python threads",
        "rps": round(len(latencies) / seconds, 1),
        "p50": percentile(50),
        "p95": percentile(95),
        "p99": percentile(99),
        "errors": errors[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--server", choices=sorted(SERVERS), default="runserver")
    parser.add_argument(
        "--python-load", action="store_true", help="load from Python threads even if wrk is there"
    )
    args = parser.parse_args()
    load = with_wrk if shutil.which("wrk") and not args.python_load else with_threads
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = start_server(Path(workdir), port, args.server)
        try:
            for name, (url, token) in targets(f"http://127.0.0.1:{port}").items():
                for connections in args.concurrency:
                    figures = load(url, token, connections, args.seconds)
                    print(f"{name:28} concurrency {connections}: {json.dumps(figures)}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
