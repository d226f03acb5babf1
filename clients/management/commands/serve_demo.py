import os
import subprocess
import sys
import time
import urllib.request
from urllib.error import URLError

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from clients.demo import DEMO_CLIENTS, DEMO_FIRM, DEMO_PEOPLE, PENDING_CLIENT
from clients.models import Client
from connections.models import Connection, Status


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own loopback URL
                return
        except (URLError, OSError):
            time.sleep(0.3)
    raise CommandError(f"The web server did not answer at {url} within {seconds:.0f}s.")


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
        from django.conf import settings

        settings.PUBLIC_BASE_URL = settings.SANDBOX_BASE_URL = os.environ["PUBLIC_BASE_URL"]
        spec_firm = DEMO_FIRM["slug"]
        for spec in DEMO_CLIENTS:
            if spec["slug"] == PENDING_CLIENT:
                continue  # left unconnected so the invitation flow can be tried
            client = Client.objects.get(firm__slug=DEMO_FIRM["slug"], slug=spec["slug"])
            active = set(
                Connection.objects.filter(client=client, status=Status.ACTIVE).values_list(
                    "system", flat=True
                )
            )
            for system in ("quickbooks", "hubspot"):
                if system in active:
                    continue
                try:
                    call_command("connect_sandbox", client.slug, firm=spec_firm, only=system)
                except CommandError as error:
                    self.stderr.write(self.style.WARNING(f"{client.name}: not connected: {error}"))

    def announce(self, url: str) -> None:
        password = "the DEMO_PASSWORD you set" if os.environ.get("DEMO_PASSWORD") else "demo"
        self.stdout.write(self.style.SUCCESS(f"\nsyncfirm demo: {url}/"))
        for person in DEMO_PEOPLE:
            self.stdout.write(f"  log in as {person['email']} / {password}  ({person['role']})")
        self.stdout.write(
            f"  {PENDING_CLIENT} is left unconnected: open it and send an invitation.\n"
            "  Ctrl-C stops the server and the worker.\n"
        )
