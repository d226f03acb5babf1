import json

from django.core.management.base import BaseCommand, CommandError

from clients.lookup import client_from_slug
from reconciliation.models import ReconStatus
from reconciliation.periods import PeriodRefused
from reconciliation.report import month_view, send_report
from reconciliation.run import client_period, reconcile


class Command(BaseCommand):
    help = "Reconcile a client's CRM against its books for a month and print the findings."

    def add_arguments(self, parser) -> None:
        parser.add_argument("client_slug")
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--firm", help="Firm slug, when the client slug is in several firms.")
        parser.add_argument("--json", dest="as_json", action="store_true")
        parser.add_argument(
            "--email", action="store_true", help="Email the report to the client's staff."
        )

    def handle(
        self, *args, client_slug: str, period: str, firm, as_json: bool, email: bool, **options
    ):
        client = client_from_slug(client_slug, firm)
        try:
            month = client_period(client, period)
        except PeriodRefused as refused:
            raise CommandError(f"--period: {refused}") from refused
        recon = reconcile(client, month)
        if email and recon.status != ReconStatus.FAILED:
            sent = send_report(recon)
            self.stderr.write(f"report emailed ({sent} message) to the client's staff")
        # The month as the ledger now has it: each problem seen this month, once.
        findings = month_view(client, month) if recon.status != ReconStatus.FAILED else []
        if as_json:
            self.stdout.write(json.dumps(_summary(recon, findings), indent=2, default=str))
        else:
            self.stdout.write(f"{client.name} {month:%Y-%m}: {recon.get_status_display()}")
            for note in recon.not_checked:
                self.stdout.write(f"  not checked: {note}")
            for f in findings:
                self.stdout.write(
                    f"  {f.code:<22} {f.severity:<6} {f.amount:>12} {f.currency}  {f.reason}"
                )
        if recon.status == ReconStatus.FAILED:
            detail = f" ({recon.error_detail})" if recon.error_detail else ""
            raise CommandError(recon.error + detail)  # an operator reads the cause too


def _summary(recon, findings) -> dict:
    return {
        "client": recon.client.slug,
        "period": f"{recon.period:%Y-%m}",
        "status": recon.status,
        "not_checked": recon.not_checked,
        "counts": recon.counts,
        "findings": [
            {
                "code": f.code,
                "severity": f.severity,
                "amount": str(f.amount),
                "currency": f.currency,
                "direction": f.direction,
                "reason": f.reason,
                "deal_id": f.deal_id,
                "invoice_ids": f.invoice_ids,
                "customer_id": f.customer_id,
                "fix": f.fix,
                "status": f.status,
                "first_seen": f"{f.first_period:%Y-%m}",
                "months_open": f.months_open,
            }
            for f in findings
        ],
    }
