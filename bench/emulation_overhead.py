"""What the emulation layer adds to every emulator call, in-process (no HTTP, no server).

Times a trivial view bare and wrapped in `sandbox.emulation.emulated` (fault plan lookup
from its cache, call counting in the request log) with no faults planned, the state of
every benchmark and of most tests. Uses a throw-away SQLite sandbox database.

    .venv/bin/python bench/emulation_overhead.py [--calls 100000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="syncfirm.settings.development",
            DATABASE_URL=f"sqlite:///{workdir}/app.sqlite3",
            SANDBOX_DATABASE_URL=f"sqlite:///{workdir}/sandbox.sqlite3",
            LOG_LEVEL="WARNING",
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0", "--database", "sandbox"],
            cwd=ROOT,
            check=True,
        )
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.http import HttpResponse
        from django.test import RequestFactory

        from sandbox import emulation

        def view(request, account: str) -> HttpResponse:
            return HttpResponse(b"{}", content_type="application/json")

        wrapped = emulation.emulated(emulation.QUICKBOOKS, lambda request, account: account)(view)
        request = RequestFactory().get("/sandbox/quickbooks/v3/company/1/customer/1")
        bare = timeit.timeit(lambda: view(request, account="1"), number=args.calls)
        full = timeit.timeit(lambda: wrapped(request, account="1"), number=args.calls)
        per_call = (full - bare) / args.calls * 1e6
        print(
            f"{args.calls} calls: bare view {bare / args.calls * 1e6:.1f} µs, wrapped "
            f"{full / args.calls * 1e6:.1f} µs: the emulation layer adds {per_call:.1f} µs a call"
        )


if __name__ == "__main__":
    main()
