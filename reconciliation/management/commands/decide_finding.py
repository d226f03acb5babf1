from django.core.management.base import BaseCommand, CommandError

from clients.models import User
from reconciliation.fixes import FixRefused, do_approve, do_dismiss
from reconciliation.models import Finding


class Command(BaseCommand):
    help = "Approve a finding's proposed fix, or dismiss it with a reason (as a staff member)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("finding_id", type=int)
        parser.add_argument("--as", dest="email", required=True, help="The deciding staff member.")
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--approve", action="store_true")
        what.add_argument("--dismiss", metavar="REASON")
        parser.add_argument(
            "--confirm-large",
            action="store_true",
            help="Confirm a fix above the firm's amount (the pages ask for it twice).",
        )

    def handle(
        self, *args, finding_id: int, email: str, approve: bool, dismiss, confirm_large, **options
    ):
        user = User.objects.filter(email__iexact=email).first()
        finding = Finding.objects.filter(pk=finding_id).select_related("client__firm").first()
        if finding is None:
            raise CommandError(f"No finding {finding_id}.")
        if user is None or not finding.client.firm.memberships.filter(user=user).exists():
            raise CommandError(f"{email} is not a member of {finding.client.firm}.")
        try:
            decided = (
                do_approve(user, finding, confirmed_large=confirm_large)
                if approve
                else do_dismiss(user, finding, dismiss)
            )
        except FixRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{decided.code} {decided.amount}: {decided.get_status_display()}. "
                          f"{decided.decision_note}")  # fmt: skip
        if approve and decided.fix_error:
            raise CommandError(f"the fix failed; the finding stays open: {decided.fix_error}")
