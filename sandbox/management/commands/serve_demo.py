import json
import os
import subprocess
import sys
import time
import urllib.request
from urllib.error import URLError

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clients.models import Client
from connections.models import Connection, Status
from reconciliation.run import reconcile
from sandbox.demo import DEMO_CLIENTS, DEMO_FIRM, DEMO_PEOPLE, PENDING_CLIENT
from sandbox.demo_books import write_demo_book, write_jobber_audit_book
from sync.customers import run_customer_sync
from sync.models import RunKind, SyncSettings


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own loopback URL
                return
        except (URLError, OSError):
            time.sleep(0.3)
    raise CommandError(f"The web server did not answer at {url} within {seconds:.0f}s.")


def _books_still_there(record, base: str) -> bool:
    """True when the recorded sandbox company still exists (the sandbox may have been reset)."""
    if not record.exists():
        return False
    kept = json.loads(record.read_text())
    realm = kept["realm_id"]
    path = "xero/organisations" if kept.get("books") == "xero" else "quickbooks/companies"
    try:
        url = f"{base}/sandbox/control/{path}/{realm}"
        with urllib.request.urlopen(url, timeout=10):  # noqa: S310 - our own loopback URL
            return True
    except (URLError, OSError):
        return False


class Command(BaseCommand):
    help = (
        "Run the web server and the django-q2 worker together, and connect the demo clients to "
        "their sandbox company and portal (what `make demo` starts)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, host: str, port: str, **options) -> None:
        url = f"http://{host}:{port}"
        # The emulators are served by this same server; OAuth redirects come back to it.
        os.environ["PUBLIC_BASE_URL"] = os.environ["SANDBOX_BASE_URL"] = url
        server = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "manage.py", "runserver", "--noreload", f"{host}:{port}"]
        )
        worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"])
        try:
            wait_until_up(f"{url}/accounts/login/")
            self.connect_demo_clients()
            self.announce(url)
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for process in (server, worker):
                process.terminate()
            for process in (server, worker):
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()

    def connect_demo_clients(self) -> None:
        """Give each demo client a sandbox company and portal filled with a generated book
        (planted discrepancies included, answer key in var/demo_books/; customers the CRM
        spells another way; pairs for a person to decide), and connect all but one through
        the real OAuth flow."""
        from django.conf import settings

        settings.PUBLIC_BASE_URL = settings.SANDBOX_BASE_URL = os.environ["PUBLIC_BASE_URL"]
        books_dir = settings.BASE_DIR / "var" / "demo_books"
        books_dir.mkdir(parents=True, exist_ok=True)
        for number, spec in enumerate(DEMO_CLIENTS, start=1):
            client = Client.objects.get(firm__slug=DEMO_FIRM["slug"], slug=spec["slug"])
            record = books_dir / f"{client.slug}.json"
            books, crm = spec.get("books", "quickbooks"), spec.get("crm", "hubspot")
            if not _books_still_there(record, settings.SANDBOX_BASE_URL):
                name = f"{client.name} (sandbox)"
                if crm == "jobber":
                    _, written = write_jobber_audit_book(number, settings.SANDBOX_BASE_URL, name)
                else:
                    _, written = write_demo_book(number, settings.SANDBOX_BASE_URL, name, books)
                accounts = {
                    "realm_id": written.realm_id,
                    "portal_id": written.portal_id,
                    "books": books,
                    "crm": crm,
                }
                record.write_text(
                    json.dumps({**accounts, "answer_key": written.answer_key}, indent=2)
                )
                self.stdout.write(
                    f"{client.name}: sandbox books written ({len(written.answer_key)} planted)."
                )
            if spec["slug"] == PENDING_CLIENT:
                continue  # left unconnected so the invitation flow can be tried
            accounts = json.loads(record.read_text())
            active = set(
                Connection.objects.filter(client=client, status=Status.ACTIVE).values_list(
                    "system", flat=True
                )
            )
            option = "tenant_id" if books == "xero" else "realm_id"
            crm_option = "jobber_account" if crm == "jobber" else "portal_id"
            for system, given, kept in (
                (books, option, "realm_id"),
                (crm, crm_option, "portal_id"),
            ):
                if system in active:
                    continue
                try:
                    call_command(
                        "connect_sandbox",
                        client.slug,
                        firm=DEMO_FIRM["slug"],
                        only=system,
                        **{given: str(accounts[kept])},
                    )
                except CommandError as error:
                    self.stderr.write(self.style.WARNING(f"{client.name}: not connected: {error}"))
            if books == "xero":  # a new organisation's standard revenue account
                SyncSettings.objects.filter(pk=SyncSettings.for_client(client).pk).update(
                    income_account="Sales"
                )
            self.import_customers(client)
            self.reconcile(client)

    def reconcile(self, client: Client) -> None:
        """This month's reconciliation, so the demo opens with a report to read."""
        if client.reconciliations.exists():
            return
        month = timezone.now().astimezone(client.tzinfo).date().replace(day=1)
        recon = reconcile(client, month)
        counts = recon.counts.get("by_code", {})
        found = ", ".join(f"{n} {code}" for code, n in sorted(counts.items())) or "nothing"
        self.stdout.write(f"{client.name}: reconciled {month:%B %Y}: {found}.")

    def import_customers(self, client: Client) -> None:
        """The historical import, previewed then approved, as an accountant would; later
        changes then flow by webhook and schedule (the worker is running)."""
        if SyncSettings.for_client(client).import_done_at is not None:
            return
        preview = run_customer_sync(client, kind=RunKind.IMPORT_PREVIEW, full=True, dry_run=True)
        done = run_customer_sync(client, kind=RunKind.IMPORT, full=True, approved_preview=preview)
        counts = done.counts or {}
        self.stdout.write(
            f"{client.name}: customers imported ({done.get_status_display()}: "
            f"{counts.get('linked', 0)} linked, {counts.get('held', 0)} held for review)."
        )

    def announce(self, url: str) -> None:
        password = "the DEMO_PASSWORD you set" if os.environ.get("DEMO_PASSWORD") else "demo"
        self.stdout.write(self.style.SUCCESS(f"\nsyncfirm demo: {url}/"))
        for person in DEMO_PEOPLE:
            self.stdout.write(f"  log in as {person['email']} / {password}  ({person['role']})")
        self.stdout.write(
            "  Each connected client's books hold one planted problem of every kind: after\n"
            '  logging in, press "Review … findings" on the dashboard to see each with a fix\n'
            "  to approve or dismiss.\n"
            f"  {PENDING_CLIENT} is left unconnected: open it and send an invitation.\n"
            "  Act as HubSpot or QuickBooks (stop webhooks, add a company, key an invoice by\n"
            f"  hand): {url}/sandbox/control/page\n"
            "  Ctrl-C stops the server and the worker.\n"
        )
