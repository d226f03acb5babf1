import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.generator import generate
from sandbox.jobber.seed_book import write_jobber_book
from sandbox.seed_book import write_book
from sandbox.xero.seed_book import write_xero_book


class Command(BaseCommand):
    help = (
        "Generate a contractor's book (with planted discrepancies unless --clean) and write it "
        "into a new sandbox QuickBooks company and HubSpot portal through their APIs. The app "
        "server must be running with SANDBOX on."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--base-url", default=None, help="Where the sandbox answers.")
        parser.add_argument("--invoices", type=int, default=40)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--clean", action="store_true", help="Plant no discrepancies.")
        parser.add_argument("--name", default="Sandbox books")
        parser.add_argument("--answer-key", type=Path, help="Write the answer key here (JSON).")
        parser.add_argument(
            "--xero", action="store_true", help="Also write the books into a Xero organisation."
        )
        parser.add_argument(
            "--jobber",
            action="store_true",
            help="Also write the CRM side into a Jobber account (clients, jobs, invoices).",
        )

    def handle(
        self, *args, base_url, invoices, seed, clean, name, answer_key, xero, jobber, **options
    ):
        if not settings.SANDBOX:
            raise CommandError("SANDBOX is off: there are no emulators to write into.")
        if invoices < 1:
            raise CommandError("--invoices must be at least 1.")
        base = (base_url or settings.SANDBOX_BASE_URL).rstrip("/")
        try:
            book = generate(invoices, seed=seed, discrepancies=not clean)
        except ValueError as error:
            raise CommandError(str(error)) from error
        written = write_book(book, base, name)
        summary = {
            "realm_id": written.realm_id,
            "portal_id": written.portal_id,
            "invoices": len(book.invoices),
            "deals": len(book.deals),
            "planted": len(written.answer_key),
        }
        if xero:
            summary["xero_tenant_id"] = write_xero_book(book, base, name).tenant_id
        if jobber:
            summary["jobber_account_id"] = write_jobber_book(book, base, name).account_id
        if answer_key:
            answer_key.write_text(json.dumps(written.answer_key, indent=2))
        self.stdout.write(json.dumps(summary))
