import os
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from clients.demo import DEMO_PEOPLE


class Command(BaseCommand):
    help = "Run the web server and the django-q2 worker together (what `make demo` starts)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, host: str, port: str, **options) -> None:
        password = "the DEMO_PASSWORD you set" if os.environ.get("DEMO_PASSWORD") else "demo"
        url = f"http://{host}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"\nsyncfirm demo: {url}"))
        for person in DEMO_PEOPLE:
            self.stdout.write(f"  log in as {person['email']} / {password}  ({person['role']})")
        self.stdout.write("  Ctrl-C stops the server and the worker.\n")
        # The worker runs beside the server so background jobs (syncs, reconciliations) run.
        worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"])
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
