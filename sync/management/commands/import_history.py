import json

from django.core.management.base import BaseCommand, CommandError

from clients.lookup import client_from_slug
from sync.customers import run_customer_sync
from sync.models import FINISHED_STATUSES, RunKind, RunStatus, SyncRun
from sync.report import run_summary, run_text


class Command(BaseCommand):
    help = (
        "One-time historical import of a client's customers: read both sides, find "
        "duplicates within each, match across them. Run with --dry-run first to see what it "
        "will do; running without it approves the latest preview and writes."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("client_slug")
        parser.add_argument("--firm", help="Firm slug, when the client slug is in several firms.")
        parser.add_argument("--dry-run", action="store_true", help="Preview only; write nothing.")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="Print a JSON summary."
        )

    def handle(self, *args, client_slug: str, firm, dry_run: bool, as_json: bool, **options):
        client = client_from_slug(client_slug, firm)
        preview = (
            SyncRun.objects.filter(
                client=client,
                kind=RunKind.IMPORT_PREVIEW,
                status__in=FINISHED_STATUSES,
            )
            .order_by("-started_at")
            .first()
        )
        if not dry_run and preview is None:
            raise CommandError(
                f"No preview of {client.name}'s import yet: run with --dry-run first, read "
                "what it will do, then run again without it."
            )
        run = run_customer_sync(
            client,
            kind=RunKind.IMPORT_PREVIEW if dry_run else RunKind.IMPORT,
            full=True,
            dry_run=dry_run,
            approved_preview=None if dry_run else preview,
        )
        if as_json:
            self.stdout.write(_dumps(run_summary(run)))
        else:
            self.stdout.write(run_text(run, preview=dry_run))
            if dry_run and run.status != RunStatus.FAILED:
                self.stdout.write("Nothing was written. Run again without --dry-run to import.")
        if run.status == RunStatus.FAILED:
            raise CommandError(f"import failed: {run.error}")


def _dumps(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
