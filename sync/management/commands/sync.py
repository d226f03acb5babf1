import json

from django.core.management.base import BaseCommand, CommandError

from clients.lookup import client_from_slug
from sync.customers import run_customer_sync
from sync.models import RunKind, RunStatus
from sync.report import run_summary, run_text


class Command(BaseCommand):
    help = "Run one customer sync of a client now and print what it did."

    def add_arguments(self, parser) -> None:
        parser.add_argument("client_slug")
        parser.add_argument("--firm", help="Firm slug, when the client slug is in several firms.")
        parser.add_argument(
            "--full", action="store_true", help="Read everything, not just what changed."
        )
        parser.add_argument(
            "--json",
            dest="as_json",
            action="store_true",
            help="Print a JSON summary with per-record outcomes.",
        )

    def handle(self, *args, client_slug: str, firm, full: bool, as_json: bool, **options):
        client = client_from_slug(client_slug, firm)
        run = run_customer_sync(client, kind=RunKind.FULL if full else RunKind.MANUAL, full=full)
        self.stdout.write(_json(run) if as_json else run_text(run))
        if run.status == RunStatus.FAILED:
            raise CommandError(f"sync failed: {run.error}")


def _json(run) -> str:
    return json.dumps(run_summary(run), indent=2, ensure_ascii=False)
